"""The lab's report: one self-contained HTML page, in every language of the catalogue.

Every figure is embedded as a data URI, so the page can be mailed or opened offline. One button
per language switches it; ``?lang=ko`` opens it in Korean. The page's own words are the
catalogue's ``report`` and ``words`` entries; an experiment's come from its results.json. Opened
with ``#selftest`` the page checks itself (every figure decoded, the switch shows one language
and hides the others, no script error) and writes the result into
``<pre id="selftest-result">``: the tests read it from a headless browser.

A claim is held (green), not held (red) or, for a quick run whose settings are too small to
judge it, not judged (grey: never a red ✘ for a claim that may hold at full size). A result run
with quick settings wears a "quick settings" badge, and the page then has a banner saying what
that means.

A result run over several seeds (``dlfs run --seeds``) says beside its verdict in how many of
them the claim held, names each seed where it did not and shows that seed's numbers; a
deterministic experiment says that one run stands for every seed. A record written before
several seeds existed renders as it always did.

A results.json may come from someone else, so nothing in it is trusted: it is read through
dlfs.records (a bounded, checked reader that ``dlfs show`` uses too); every value and key reaches
the page escaped, and a password in a URL (a PostgreSQL storage) masked; a figure is embedded only
when dlfs.records.read_png accepts it. A bad results.json or figure is handed to ``on_skip`` and
left out; the rest of the report stands.

The page stays small (a full ``dlfs run all`` under 5 MB): it embeds a copy of each figure with
the same pixels in a palette of 256 colours (``page_png``, about a third of the PNG's size); the
files in the results folders keep every colour. Vega's scripts and the live figures' numbers are
in the page once, for both languages. A figure with a live view (dlfs.explore) has as its still
image that view's own Vega-Lite spec at its default controls, drawn by vl-convert: one
definition serves both, and the page's script hides the still once the live view is drawn
(without JavaScript the still stays). The lab's PNG file of such an experiment is still drawn by
matplotlib in the book's layout (every rule, rate or scale side by side, the contour lines, the
AdaDelta zoom, the notes on divergence), which the spec, one setting at a time, does not show;
the page links to it."""

from __future__ import annotations

import base64
import html
import io
import json
import struct
import warnings
from collections.abc import Callable
from pathlib import Path
from urllib.parse import quote

from dlfs import catalogue, explore
from dlfs.catalogue import LANGS
from dlfs.data.locations import source_in
from dlfs.experiments import is_deterministic, quick_settings, verdict_state
from dlfs.records import RecordError, load_record, mask_passwords, read_png

STYLE = """
body { font-family: "Noto Sans CJK KR", "NanumGothic", "Apple SD Gothic Neo", "Malgun Gothic",
       system-ui, sans-serif; margin: 0 auto; max-width: 1100px; padding: 1rem 1.5rem;
       color: #1f2328; line-height: 1.5; }
header { border-bottom: 2px solid #d0d7de; margin-bottom: 1rem; }
.switch button { font-size: 1rem; padding: .3rem .8rem; margin-right: .3rem; cursor: pointer; }
.switch button.active { background: #0969da; color: white; border-color: #0969da; }
nav ul { columns: 2; padding-left: 1.2rem; }
section { border: 1px solid #d0d7de; border-radius: 8px; padding: .5rem 1.2rem 1rem;
          margin: 1.5rem 0; }
.badge { display: inline-block; border-radius: 1em; padding: 0 .7em; font-size: .85rem;
         color: white; }
.held { background: #1a7f37; } .not-held { background: #cf222e; }
.not-judged { background: #6e7781; } .quick { background: #9a6700; }
.banner, .note { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px;
          padding: .5rem .8rem; }
figure { margin: .5rem 0; } figure img { max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: .85rem; }
td { border-top: 1px solid #eaeef2; padding: .15rem .6rem; vertical-align: top; }
.meta { color: #59636e; font-size: .9rem; }
.badge.seeds { background: white; color: #1f2328; border: 1px solid #8c959f; }
ul.failed { margin: .2rem 0; }
.explore { border-top: 1px dashed #d0d7de; margin-top: .8rem; padding-top: .4rem; }
.explore .vega-bind { display: block; margin: .2rem 0; }
.explore .vega-bind-name { display: inline-block; min-width: 14rem; }
.explore-view { overflow-x: auto; }
/* every slider moves over a grid's positions: the figure says the value (η = 0.1), and the
   position beside the slider (4 of 0…14) only misleads */
.explore-view input[type="range"] + span { display: none; }
"""

SCRIPT = """
(function () {
  var errors = [];
  window.addEventListener('error', function (e) { errors.push(String(e.message)); });
  function setLang(lang) {
    document.body.setAttribute('data-lang', lang);
    document.documentElement.setAttribute('lang', lang);
    document.querySelectorAll('.switch button').forEach(function (b) {
      b.classList.toggle('active', b.getAttribute('data-set-lang') === lang);
    });
  }
  document.querySelectorAll('.switch button').forEach(function (b) {
    b.addEventListener('click', function () { setLang(b.getAttribute('data-set-lang')); });
  });
  var langs = Array.prototype.map.call(document.querySelectorAll('.switch button'),
    function (b) { return b.getAttribute('data-set-lang'); });
  var wanted = new URLSearchParams(location.search).get('lang');
  setLang(langs.indexOf(wanted) >= 0 ? wanted : document.body.getAttribute('data-lang'));
  function visible(selector) {
    return Array.prototype.filter.call(document.querySelectorAll(selector),
      function (el) { return el.getClientRects().length > 0; }).length;
  }
  function selftest() {
    var images = document.querySelectorAll('figure img');
    var decoded = Array.prototype.filter.call(images,
      function (img) { return img.complete && img.naturalWidth > 0; }).length;
    var result = { images: images.length, decoded: decoded, switch: {} };
    langs.forEach(function (lang) {
      document.querySelector('[data-set-lang="' + lang + '"]').click();
      result.switch[lang] = { shown: visible('section [lang="' + lang + '"]'),
                              hidden_other: visible('section [lang]:not([lang="' + lang + '"])')
                                === 0,
                              html_lang: document.documentElement.getAttribute('lang') };
    });
    result.errors = errors;
    var out = document.createElement('pre');
    out.id = 'selftest-result';
    out.textContent = JSON.stringify(result);
    document.body.appendChild(out);
  }
  if (location.hash === '#selftest') {
    window.addEventListener('load', function () { setTimeout(selftest, 0); });
  }
})();
"""


EXPLORE_SCRIPT = """
(function () {
  var state = window.dlfsExplore = { views: {}, defaults: {}, ready: false, errors: [],
                                     fallback: null };
  var found = document.getElementById('explore-controls');
  var controls = found ? JSON.parse(found.textContent) : {};
  var data = found ? JSON.parse(document.getElementById('explore-data').textContent) : {};
  var note = document.getElementById('explore-note');
  function views(name) {
    var byLang = state.views[name] || {};
    return Object.keys(byLang).map(function (lang) { return byLang[lang]; });
  }
  function choices(name, key, chosen) {
    var ctl = controls[name][key];
    if (!ctl.by) { return ctl.values; }
    var by = chosen[ctl.by] !== undefined ? chosen[ctl.by]
      : views(name)[0].signal(controls[name][ctl.by].signal);
    return ctl.values[by] || [];
  }
  function fragmentOf(name) {
    var view = views(name)[0], chosen = {}, parts = [];
    Object.keys(controls[name]).forEach(function (key) {
      var value = view.signal(controls[name][key].signal);
      var hit = choices(name, key, chosen).filter(function (v) { return v[1] === value; })[0];
      chosen[key] = value;
      if (hit) { parts.push(key + '=' + hit[0]); }
    });
    return name + ':' + parts.join(',');
  }
  function same(text, choice) {
    var a = Number(text), b = Number(choice);
    if (text !== '' && isFinite(a) && isFinite(b)) {
      return Math.abs(a - b) <= 1e-6 * Math.max(Math.abs(a), Math.abs(b));
    }
    return text.toLowerCase() === String(choice).toLowerCase();
  }
  // '#NAME:key=value,…' as [[signal, value], …]; null for an address that names no view
  // (a section's anchor, #selftest); {bad: text} for one this page cannot show.
  function parse(hash) {
    var text;
    try { text = decodeURIComponent(hash.replace(/^#/, '')); } catch (e) { text = hash; }
    var colon = text.indexOf(':');
    if (colon < 0) { return null; }
    var name = text.slice(0, colon);
    if (!Object.prototype.hasOwnProperty.call(controls, name) || !views(name).length) {
      return { bad: text };
    }
    var given = {}, ok = true;
    text.slice(colon + 1).split(',').filter(Boolean).forEach(function (pair) {
      var eq = pair.indexOf('='), key = pair.slice(0, eq);
      if (eq < 1 || !Object.prototype.hasOwnProperty.call(controls[name], key) ||
          given[key] !== undefined) { ok = false; return; }
      given[key] = pair.slice(eq + 1);
    });
    var settings = [], chosen = {};
    Object.keys(controls[name]).forEach(function (key) {
      if (!ok || given[key] === undefined) { return; }
      var hit = choices(name, key, chosen).filter(function (v) {
        return same(given[key], v[0]); })[0];
      if (!hit) { ok = false; return; }
      chosen[key] = hit[1];
      settings.push([controls[name][key].signal, hit[1]]);
    });
    return ok ? { name: name, settings: settings } : { bad: text };
  }
  function set(name, settings) {
    views(name).forEach(function (view) {
      settings.forEach(function (s) { view.signal(s[0], s[1]); });
      view.runAsync();
    });
  }
  function apply() {
    var parsed = parse(location.hash);
    state.fallback = null;
    if (note) { note.hidden = true; }
    if (parsed === null) { return; }
    if (parsed.bad !== undefined) {
      Object.keys(state.defaults).forEach(function (name) { set(name, state.defaults[name]); });
      state.fallback = parsed.bad;
      if (note) {
        note.querySelectorAll('code').forEach(function (c) { c.textContent = parsed.bad; });
        note.hidden = false;
      }
      return;
    }
    set(parsed.name, parsed.settings);
    var section = document.getElementById(parsed.name);
    var live = section && section.querySelector('.explore');
    if (live) { live.scrollIntoView(); }
  }
  function follow(name, view) {
    Object.keys(controls[name]).forEach(function (key) {
      var signal = controls[name][key].signal;
      view.addSignalListener(signal, function (_, value) {
        views(name).forEach(function (other) {
          if (other !== view && other.signal(signal) !== value) {
            other.signal(signal, value).runAsync();
          }
        });
        history.replaceState(null, '', '#' + fragmentOf(name));
        if (note) { note.hidden = true; }
        state.fallback = null;
      });
    });
  }
  var embeds = Array.prototype.map.call(document.querySelectorAll('.explore-view'),
    function (div) {
      var name = div.getAttribute('data-name'), lang = div.getAttribute('lang');
      var spec = JSON.parse(document.getElementById(div.getAttribute('data-spec')).textContent);
      spec.datasets = data[name];
      return vegaEmbed(div, spec, { mode: 'vega-lite', actions: false, renderer: 'svg' })
        .then(function (result) {
          (state.views[name] = state.views[name] || {})[lang] = result.view;
          state.defaults[name] = Object.keys(controls[name]).map(function (key) {
            var signal = controls[name][key].signal;
            return [signal, result.view.signal(signal)];
          });
        });
    });
  Promise.all(embeds).then(function () {
    Object.keys(state.views).forEach(function (name) {
      views(name).forEach(function (view) { follow(name, view); });
      // the still image is the live view at its default controls: drawn, it stands for it
      document.querySelectorAll('figure[data-live="' + name + '"]').forEach(function (f) {
        f.hidden = true;
      });
    });
    apply();
    window.addEventListener('hashchange', apply);
    state.ready = true;
  }).catch(function (error) { state.errors.push(String(error)); state.ready = true; });
})();
"""


def _json_script(element_id: str, value) -> str:
    """``value`` as JSON in a ``<script type="application/json">`` (every ``<`` escaped, so no
    text in it can close the element)."""
    text = json.dumps(value, ensure_ascii=False, allow_nan=False).replace("<", "\\u003c")
    return f'<script type="application/json" id="{html.escape(element_id)}">{text}</script>'


def _made(record: dict) -> dict[str, tuple[dict, dict]] | None:
    """{lang: (its Vega-Lite spec, its fragment controls)} of a record with a live figure whose
    results hold the grids, in every language; else None."""
    made = {lang: explore.view(record, lang) for lang in LANGS}
    return None if any(value is None for value in made.values()) else made


def _live(record: dict, folder: Path, made: dict | None, views: dict, on_skip: Callable) -> str:
    """The record's live figure, one view per language, its spec inline (its numbers go to
    ``views`` and reach the page once), and a link to the lab's figure file in the book's
    layout; a note where the results hold no grid."""
    name = record["name"]
    if made is None:
        return f'<p class="explore meta">{_ui("explore.no_grid")}</p>' \
            if name in explore.VIEWS else ""
    blocks = ""
    for lang, (spec, controls) in made.items():
        spec = dict(spec)
        datasets = spec.pop("datasets")  # numbers without words: the same in every language
        views[name] = {"controls": controls, "data": datasets}
        spec_id = f"explore-spec-{name}-{lang}"
        blocks += (f'<div class="explore-view" lang="{lang}" data-name="{html.escape(name)}" '
                   f'data-spec="{html.escape(spec_id)}"></div>{_json_script(spec_id, spec)}')
    book = _book_figure(record, folder, on_skip)
    return f"""<div class="explore"><h3 class="live-only">{_ui("explore.heading")}</h3>
  <p class="meta live-only">{_ui("explore.hint")}</p>{blocks}{book}</div>"""


def _book_figure(record: dict, folder: Path, on_skip: Callable) -> str:
    """A line per language linking to the lab's figure file (figure.LANG.png beside the page,
    in the book's layout: every rule, rate or scale side by side), where read_png accepts it."""
    lines = ""
    for lang, files in record["figures"].items():
        if lang not in LANGS:
            continue
        try:
            read_png(folder, files["png"])
        except RecordError as error:
            on_skip(error)
            continue
        href = html.escape(f"{quote(folder.name)}/{quote(files['png'])}")
        link = f'<a href="{href}">{html.escape(folder.name + "/" + files["png"])}</a>'
        text = html.escape(catalogue.text("report_size.book_figure", lang, link="\0"))
        lines += f'<p lang="{lang}" class="meta">{text.replace(chr(0), link)}</p>'
    return lines


def _style() -> str:
    """STYLE, plus: with the page in one language, every element in another is hidden."""
    hide = "".join(f'body[data-lang="{lang}"] [lang]:not([lang="{lang}"]) {{ display: none; }}\n'
                   for lang in LANGS)
    return STYLE + hide


def _both(texts: dict[str, str], tag: str = "span") -> str:
    """One element per language of ``texts``, each marked with its lang."""
    return "".join(f'<{tag} lang="{lang}">{html.escape(texts[lang])}</{tag}>'
                   for lang in LANGS if lang in texts)


def _ui(key: str, **fields) -> str:
    """The catalogue's entry ``key`` (report.title, words.held) in every language."""
    return _both(catalogue.both(key, **fields))


def _dataset(dataset: dict) -> dict[str, str]:
    """'TITLE — SOURCE' of a recorded data set, in every language."""
    return {lang: f"{dataset['title']} — {source_in(dataset['source'], lang)}" for lang in LANGS}




def _figure(record: dict, folder: Path, lang: str, name: str, on_skip: Callable) -> str:
    """``<img>`` of the figure ``name`` (the record's figures[lang].png) when read_png accepts
    it; else a note in its place, and the RecordError to ``on_skip``."""
    try:
        data = read_png(folder, name)
    except RecordError as error:
        on_skip(error)
        note = catalogue.text("report_files.no_figure", lang if lang in LANGS else "en")
        return f'<p lang="{html.escape(lang)}">{html.escape(note)}</p>'
    alt = html.escape(record["title"].get(lang, record["name"]))
    return f'<img lang="{html.escape(lang)}" alt="{alt}" src="{_data_uri(page_png(data))}">' \
        + _labels_note(record, lang)


def _still(record: dict, spec: dict, lang: str) -> str:
    """``<img>`` of a live figure's still image in ``lang``: its spec at the default controls,
    drawn by vl-convert at STILL_SCALE pixels per CSS pixel and shown at the live view's size
    (the page's script hides it once the live view is drawn; without JavaScript it stays)."""
    png = page_png(explore.still(spec, "png", scale=STILL_SCALE))
    width, height = (round(size / STILL_SCALE) for size in struct.unpack(">II", png[16:24]))
    alt = html.escape(record["title"].get(lang, record["name"]))
    return (f'<img lang="{lang}" alt="{alt}" width="{width}" height="{height}" '
            f'src="{_data_uri(png)}">')


def _still_labels(lang: str) -> str:
    """The language a live figure's still is labelled in: ``lang``, or English where ``lang``'s
    script needs a font (Korean) that vl-convert cannot find here."""
    if catalogue.text("font", lang) == "cjk" and explore.still_font() is None:
        return "en"
    return lang


def _stills(record: dict, made: dict) -> str:
    """The live figure's still image in every language, with the note under one drawn with
    another language's labels."""
    images = ""
    for lang in LANGS:
        labels = _still_labels(lang)
        images += _still(record, made[labels][0], lang)
        if labels != lang:
            note = catalogue.text("bounds.figure_labels_fallback", lang,
                                  labels=catalogue.text("language", labels))
            images += f'<p lang="{lang}" class="meta">{html.escape(note)}</p>'
    return images


# -- the figures' copies in the page: smaller files, the same pixels ----------------------------

STILL_SCALE = 2  # a live figure's still: sharp on a screen of 2 pixels per CSS pixel
PAGE_COLOURS = 256  # a palette: a plot's flat colours and their anti-aliased edges fit in it
PAGE_PIXELS = 16_000_000  # a larger figure (a crafted file; the lab's are ~2 Mpx) stays as is


def _data_uri(png: bytes) -> str:
    return "data:image/png;base64," + base64.b64encode(png).decode("ascii")


def page_png(data: bytes) -> bytes:
    """The copy of a PNG figure that the page embeds: the same pixels in a palette of
    PAGE_COLOURS colours, a PNG of about a third of the size. The lab's files keep every
    colour; only the page's copy changes. A PNG that Pillow cannot read, or one too large to
    decode here, is embedded as it is, as is a copy that would not be smaller."""
    from PIL import Image

    try:
        with Image.open(io.BytesIO(data)) as image:
            if image.width * image.height > PAGE_PIXELS:
                return data
            image.load()
            if image.mode != "RGB":
                image = image.convert("RGBA")
                if image.getchannel("A").getextrema()[0] == 255:
                    image = image.convert("RGB")  # opaque (matplotlib's white page): no alpha
            # Fast octree: 8 times quicker than median cut and a smaller file; a colour moves
            # by at most 15 of 255 in a channel (white by 1), which the eye does not see.
            small = image.quantize(PAGE_COLOURS, method=Image.Quantize.FASTOCTREE,
                                   dither=Image.Dither.NONE)
            # ... but the background (the corner's colour) exactly: white, not 252 on the page
            palette = small.getpalette(rawmode=image.mode)
            index, width = small.getpixel((0, 0)), len(image.mode)
            palette[index * width:(index + 1) * width] = image.getpixel((0, 0))
            small.putpalette(palette, rawmode=image.mode)
            buffer = io.BytesIO()
            small.save(buffer, format="PNG")
    except (OSError, ValueError, SyntaxError, EOFError, struct.error,
            Image.DecompressionBombError):  # a broken PNG: Pillow's errors for one
        return data
    copy = buffer.getvalue()
    return copy if len(copy) < len(data) else data


def _labels_note(record: dict, lang: str) -> str:
    """A note under a figure drawn with another language's labels (no font for ``lang``'s
    script where it was drawn, e.g. English labels in the Korean view), saying how to fix it."""
    labels = record["figures"].get(lang, {}).get("labels")
    if lang not in LANGS or labels in (None, lang) or labels not in LANGS:
        return ""
    note = catalogue.text("bounds.figure_labels_fallback", lang,
                          labels=catalogue.text("language", labels))
    return f'<p lang="{html.escape(lang)}" class="meta">{html.escape(note)}</p>'


def _parameters(params: dict, overrides: dict) -> str:
    """The parameters a run used; those changed by --set/--config in bold."""
    def cell(key, value):
        text = html.escape(json.dumps(value))
        changed = key in overrides or any(str(o).startswith(f"{key}.") for o in overrides)
        return f"<strong>{text}</strong>" if changed else text

    rows = "".join(f"<tr><td>{html.escape(str(k))}</td><td>{cell(k, v)}</td></tr>"
                   for k, v in params.items())
    return f"<table>{rows}</table>"


MARKS = {"held": "✔", "not_held": "✘", "not_judged": "–"}  # the contents' mark of each state


def _badges(record: dict) -> str:
    """The verdict's badge (held, not held, not judged), and "quick settings" on a quick run."""
    state = verdict_state(record["verdict"])
    badges = f'<span class="badge {state.replace("_", "-")}">{_ui("words." + state)}</span>'
    if quick_settings(record):
        badges += f' <span class="badge quick">{_ui("words.quick")}</span>'
    return badges


def _whole(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def _texts(value) -> dict[str, str] | None:
    """``value`` when it is a text in every language of the catalogue, else None."""
    if isinstance(value, dict) and all(isinstance(value.get(lang), str) for lang in LANGS):
        return value
    return None


def seed_summary(record: dict) -> dict | None:
    """What a record of several seeds says of them (dlfs run --seeds): ``held_in`` and ``of``
    (runs where the claim held, runs judged), ``failed`` (the seeds where a judged claim did
    not hold, in order), ``not_judged`` (runs not judged), ``details`` ({seed: its verdict's
    text in every language}) and ``seeds`` (the seeds asked for). None for a record written
    before these fields, or whose fields are not what they must be (the file may be anyone's):
    the report then shows it as it did before."""
    verdict = record["verdict"]
    held_in, of = verdict.get("held_in"), verdict.get("of")
    if not (_whole(held_in) and _whole(of) and 0 <= held_in <= of):
        return None
    entries = verdict.get("seeds")
    entries = [entry for entry in entries if isinstance(entry, dict)
               and _whole(entry.get("seed")) and isinstance(entry.get("held"), bool)
               and isinstance(entry.get("judged", True), bool)] \
        if isinstance(entries, list) else []
    failed = [entry["seed"] for entry in entries if entry.get("judged", True) and
              not entry["held"]]
    details = {}
    for run in record.get("runs") if isinstance(record.get("runs"), list) else []:
        if isinstance(run, dict) and _whole(run.get("seed")) and \
                isinstance(run.get("verdict"), dict):
            texts = _texts(run["verdict"].get("detail"))
            if texts is not None:
                details.setdefault(run["seed"], texts)
    asked = record.get("seeds")
    asked = asked if isinstance(asked, list) and asked and all(map(_whole, asked)) \
        else [record["seed"]]
    return {"held_in": held_in, "of": of, "failed": failed, "details": details,
            "not_judged": sum(not entry.get("judged", True) for entry in entries),
            "seeds": asked}


def _shown_seed(record: dict, summary: dict | None) -> int | None:
    """The seed whose numbers the verdict's detail quotes, when several seeds ran."""
    if summary is None or len(summary["details"]) < 2:
        return None
    detail = _texts(record["verdict"].get("detail"))
    return next((seed for seed, texts in summary["details"].items() if texts == detail), None)


def _held_in(record: dict, summary: dict | None) -> str:
    """The badge "held in k of n seeds", or "deterministic: one run stands for every seed";
    nothing for an old record or when no run was judged."""
    if is_deterministic(record):
        return f' <span class="badge seeds">{_ui("report.deterministic")}</span>'
    if summary is None or summary["of"] == 0:
        return ""
    key = "report.held_in_one" if summary["of"] == 1 else "report.held_in"
    return f' <span class="badge seeds">{_ui(key, held_in=summary["held_in"], of=summary["of"])}' \
        "</span>"


def _seed_lines(summary: dict | None, shown: int | None) -> str:
    """The seeds where the claim did not hold, each with its numbers (those the verdict above
    already quotes are not repeated), and how many runs were not judged."""
    if summary is None:
        return ""
    lines = ""
    if summary["failed"]:
        seeds = ", ".join(map(str, summary["failed"]))
        key = "report.failed_seeds" if len(summary["failed"]) > 1 else "report.failed_seeds_one"
        lines += f'<p class="seeds">{_ui(key, seeds=seeds)}'
        items = "".join(
            "<li>" + _both({lang: catalogue.text("report.seed_detail", lang, seed=seed,
                                                 detail=summary["details"][seed][lang])
                            for lang in LANGS}) + "</li>"
            for seed in summary["failed"] if seed != shown and seed in summary["details"])
        lines += f'</p><ul class="failed">{items}</ul>' if items else "</p>"
    if summary["not_judged"]:
        count = summary["not_judged"]
        lines += f'<p class="seeds">{_ui("report.seeds_not_judged", count=count)}</p>'
    return lines


def _section(record: dict, folder: Path, on_skip: Callable, views: dict) -> str:
    verdict = record["verdict"]
    why = (f"<br>{_ui('report.not_judged_why')}" if verdict_state(verdict) == "not_judged"
           else "")
    summary = seed_summary(record)
    shown = _shown_seed(record, summary)
    heading = (_ui("report.verdict") if shown is None
               else _ui("report.verdict_of_seed", seed=shown))
    made = _made(record)
    images = _stills(record, made) if made is not None else "".join(
        _figure(record, folder, lang, files["png"], on_skip)
        for lang, files in record["figures"].items())
    live = f' data-live="{html.escape(record["name"])}"' if made is not None else ""
    dataset = record.get("dataset")
    dataset_text = _both(_dataset(dataset)) if dataset else _ui("report.none")
    overrides = record.get("overrides") or {}
    quick = " · " + _ui("report.quick") if quick_settings(record) else ""
    changed = (" · " + _ui("settings.changed", settings=", ".join(
        f"{k} = {json.dumps(v)}" for k, v in overrides.items()))
        if overrides else "")
    return f"""
<section id="{html.escape(record['name'])}">
  <h2>{_both(record['title'])} {_badges(record)}{_held_in(record, summary)}</h2>
  <p class="meta">{_ui('report.chapter', chapter=record['chapter'])},
    §{html.escape(record['section'])}
    · <code>{html.escape(record['name'])}</code> · {_ui('report.time')}:
    {record['wall_time_s']:.1f} s{quick}{changed}</p>
  <p><strong>{_ui('report.claim')}:</strong> {_both(record['claim'])}</p>
  <p><strong>{heading}:</strong> {_both(verdict['detail'])}{why}</p>
  {_seed_lines(summary, shown)}
  <figure{live}>{images}</figure>{_live(record, folder, made, views, on_skip)}
  <p><strong>{_ui('report.about')}:</strong> {_both(record['about'])}</p>
  <p><strong>{_ui('report.dataset')}:</strong> {dataset_text}</p>
  <details><summary>{_ui('report.parameters')}</summary>
    {_parameters(record['parameters'], overrides)}</details>
</section>"""


def _warn(error: RecordError) -> None:
    """What build_report does with a file it leaves out unless told: a Python warning."""
    warnings.warn(str(error), stacklevel=3)


def load_records(out: Path, on_skip: Callable[[RecordError], None] = _warn
                 ) -> list[tuple[dict, Path]]:
    """(results.json record, its folder) for every experiment folder in ``out``, in the
    registry's order; a results.json that load_record refuses goes to ``on_skip``."""
    from dlfs.experiments import EXPERIMENTS

    order = {name: i for i, name in enumerate(EXPERIMENTS)}
    records = []
    for path in sorted(Path(out).glob("*/results.json")):
        if path.parent.name.startswith("."):
            continue
        try:
            records.append((load_record(path), path.parent))
        except RecordError as error:
            on_skip(error)
    records.sort(key=lambda item: order.get(item[0]["name"], len(order)))
    return records


def build_report(out: Path, default_lang: str = "en",
                 on_skip: Callable[[RecordError], None] = _warn) -> tuple[str, int]:
    """The report's HTML and the number of experiments in it. Every results.json or figure
    left out goes to ``on_skip`` (a RecordError whose ``what`` says which)."""
    records = load_records(out, on_skip)
    states = [verdict_state(record["verdict"]) for record, _ in records]
    judged = len(states) - states.count("not_judged")
    summary = f"{states.count('held')} / {judged}" + (
        f" · {_ui('report.not_judged_count', count=len(states) - judged)}"
        if judged < len(states) else "")
    banner = (f'<p class="banner">{_ui("report.quick_banner")}</p>'
              if any(quick_settings(record) for record, _ in records) else "")
    datasets = {json.dumps(r["dataset"], sort_keys=True): r["dataset"]
                for r, _ in records if r.get("dataset")}
    seeds = sorted({seed for r, _ in records
                    for seed in (seed_summary(r) or {"seeds": [r["seed"]]})["seeds"]})
    nav = "".join(
        f'<li><a href="#{html.escape(r["name"])}">{_both(r["title"])}</a> '
        f'{MARKS[state]}</li>' for (r, _), state in zip(records, states))
    views: dict[str, dict] = {}  # the live figures' controls and numbers, by experiment
    sections = "".join(_section(record, folder, on_skip, views) for record, folder in records)
    live = ""
    if views:
        live = (_json_script("explore-controls", {k: v["controls"] for k, v in views.items()})
                + _json_script("explore-data", {k: v["data"] for k, v in views.items()})
                + f"<script>{explore.bundle()}</script><script>{EXPLORE_SCRIPT}</script>")
    fragment_note = "".join(
        f'<span lang="{lang}">' + html.escape(catalogue.text(
            "explore.bad_fragment", lang, fragment="\0")).replace("\0", "<code></code>")
        + "</span>" for lang in LANGS)
    dataset_line = "; ".join(_both(_dataset(datasets[key])) for key in sorted(datasets)) \
        or _ui("report.none")
    switch = "".join(f'<button type="button" data-set-lang="{lang}">'
                     f'{html.escape(catalogue.text("language", lang))}</button>'
                     for lang in LANGS)
    page = f"""<!doctype html>
<html lang="{default_lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(catalogue.text('report.title', default_lang))}</title>
<style>{_style()}</style>
<noscript><style>.live-only {{ display: none; }}</style></noscript></head>
<body data-lang="{default_lang}">
<header>
  <h1>{_ui('report.title')}</h1>
  <p class="switch">{switch}</p>
  <p><strong>{_ui('report.dataset')}:</strong> {dataset_line} · {_ui('report.seed')}
    {html.escape(', '.join(map(str, seeds)))} · {_ui('report.summary')}: {summary}</p>
  {banner}
  <p id="explore-note" class="note" role="status" hidden>{fragment_note}</p>
</header>
<nav><ul>{nav}</ul></nav>
{sections}
<script>{SCRIPT}</script>
{live}
</body></html>
"""
    return mask_passwords(page), len(records)
