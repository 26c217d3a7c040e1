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

A results.json may come from someone else, so nothing in it is trusted: ``load_record`` (which
``dlfs show`` reads through too) reads only a regular file of at most MAX_RECORD_BYTES and checks
the type of every field the page and the terminal show; every value and key reaches the page
escaped; a figure is embedded only when it resolves inside its experiment's folder and is a
regular PNG file of at most MAX_FIGURE_BYTES. A bad results.json or figure is handed to
``on_skip`` and left out; the rest of the report stands."""

from __future__ import annotations

import base64
import errno
import html
import json
import os
import re
import stat
import warnings
from collections.abc import Callable
from pathlib import Path

from dlfs import catalogue
from dlfs.catalogue import LANGS
from dlfs.experiments import quick_settings, verdict_state

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
.banner { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px;
          padding: .5rem .8rem; }
figure { margin: .5rem 0; } figure img { max-width: 100%; height: auto; }
table { border-collapse: collapse; font-size: .85rem; }
td { border-top: 1px solid #eaeef2; padding: .15rem .6rem; vertical-align: top; }
.meta { color: #59636e; font-size: .9rem; }
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


# -- where a data set came from ------------------------------------------------------------------

# dlfs.data.describe_location's 'FOLDER (place)' and ' (Debian package NAME)'
_SOURCE = re.compile(r"(?P<folder>.*) \((?P<place>root|\$DLFS_DATA|user cache|system)\)"
                     r"(?: \(Debian package (?P<package>[^)]+)\))?")
_PLACES = {"root": "place_root", "$DLFS_DATA": "place_env", "user cache": "place_cache",
           "system": "place_system"}


def source_in(source: str, lang: str) -> str:
    """Where a data set came from, as dlfs.data.describe_location says it (and results.json
    records it), in ``lang``; a text of another form as it is."""
    found = _SOURCE.fullmatch(source)
    if found is None:
        return source
    place = catalogue.text(f"output.{_PLACES[found['place']]}", lang)
    fields = {"folder": found["folder"], "place": place}
    if found["package"]:
        return catalogue.text("output.where_package", lang, package=found["package"], **fields)
    return catalogue.text("output.where", lang, **fields)


def _dataset(dataset: dict) -> dict[str, str]:
    """'TITLE — SOURCE' of a recorded data set, in every language."""
    return {lang: f"{dataset['title']} — {source_in(dataset['source'], lang)}" for lang in LANGS}




# -- reading what someone else may have written ---------------------------------------------------

MAX_RECORD_BYTES = 20 * 2**20  # a results.json: the lab's largest is well under 1 MB
MAX_FIGURE_BYTES = 20 * 2**20  # a figure: the lab's PNGs are about 100 kB
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"


class RecordError(ValueError):
    """A results.json (``what`` = "record") or a figure it names ("figure") that the lab will
    not read. ``key`` is its text in the catalogue's [report_files] table and ``fields`` that
    text's fields, so the command can say it in any language; str() is the English."""

    def __init__(self, key: str, what: str = "record", **fields):
        self.key, self.what, self.fields = key, what, fields
        super().__init__(self.message("en"))

    def message(self, lang: str) -> str:
        fields = dict(self.fields)
        if "expected" in fields:  # a kind of value: text, whole number, …, in ``lang``
            fields["expected"] = catalogue.text(f"report_files.{fields['expected']}", lang,
                                                langs=", ".join(LANGS))
        if "errno" in fields:  # the system's reason, in ``lang`` where the catalogue has it
            key = f"errors.os_{errno.errorcode.get(fields['errno'], '')}"
            if key in catalogue.CATALOGUE.keys("en"):
                fields["reason"] = catalogue.text(key, lang)
        return catalogue.text(f"report_files.{self.key}", lang, **fields)


def _read_regular(path: Path, limit: int, what: str) -> bytes:
    """The bytes of ``path``, a regular file of at most ``limit`` bytes; else a RecordError.

    Checked on the open file itself, not the name before opening it: the name may change in
    between. O_NONBLOCK lets a FIFO be opened (and refused) without waiting for a writer;
    O_NOFOLLOW refuses a symbolic link (to /dev/zero, say); at most limit + 1 bytes are read,
    so a file that grows after the check cannot exhaust memory either."""
    flags = os.O_RDONLY | getattr(os, "O_NONBLOCK", 0) | getattr(os, "O_NOFOLLOW", 0)
    try:
        if path.is_symlink():
            raise RecordError("not_regular", what, path=path)
        descriptor = os.open(path, flags)
    except OSError as error:
        if error.errno == errno.ELOOP:
            raise RecordError("not_regular", what, path=path) from None
        raise RecordError("unreadable", what, path=path, errno=error.errno,
                          reason=error.strerror or str(error)) from None
    except ValueError:  # a NUL in the name
        raise RecordError("not_regular", what, path=path) from None
    info = os.fstat(descriptor)
    if not stat.S_ISREG(info.st_mode) or info.st_size > limit:
        os.close(descriptor)
        if not stat.S_ISREG(info.st_mode):
            raise RecordError("not_regular", what, path=path)
        raise RecordError("too_large", what, path=path, size=info.st_size, limit=limit)
    with os.fdopen(descriptor, "rb") as handle:
        data = handle.read(limit + 1)
    if len(data) > limit:
        raise RecordError("too_large", what, path=path, size=len(data), limit=limit)
    return data


def _is(value, kind: str) -> bool:
    if kind == "type_text":
        return isinstance(value, str)
    if kind == "type_whole":
        return isinstance(value, int) and not isinstance(value, bool)
    if kind == "type_number":
        return isinstance(value, int | float) and not isinstance(value, bool)
    if kind == "type_bool":
        return isinstance(value, bool)
    if kind == "type_languages":  # a text in every language of the catalogue, texts only
        return (isinstance(value, dict) and all(isinstance(v, str) for v in value.values())
                and all(lang in value for lang in LANGS))
    return isinstance(value, dict)  # type_table


# field: kind; a field of a table is "table.field"; those in OPTIONAL may be absent or null
_FIELDS = {"name": "type_text", "chapter": "type_whole", "section": "type_text",
           "seed": "type_whole", "wall_time_s": "type_number", "title": "type_languages",
           "claim": "type_languages", "about": "type_languages", "parameters": "type_table",
           "overrides": "type_table", "quick": "type_bool", "quick_settings": "type_bool",
           "figures": "type_table", "verdict": "type_table", "verdict.held": "type_bool",
           "verdict.judged": "type_bool", "verdict.detail": "type_languages",
           "dataset": "type_table", "dataset.title": "type_text", "dataset.source": "type_text"}
_OPTIONAL = {"overrides", "quick", "quick_settings", "verdict.judged", "dataset"}


def _check(record, path: Path) -> None:
    """A RecordError naming the first field of ``record`` that the report or show cannot use."""
    if not isinstance(record, dict):
        raise RecordError("not_object", path=path)
    for field, kind in _FIELDS.items():
        table, _, name = field.rpartition(".")
        holder = record.get(table) if table else record
        if not isinstance(holder, dict):
            continue  # an optional table that is absent
        value = holder.get(name)
        if value is None:
            if field in _OPTIONAL:
                continue
            raise RecordError("missing", path=path, field=field)
        if kind == "type_languages" and isinstance(value, dict):
            for lang in LANGS:
                if lang not in value:
                    raise RecordError("missing", path=path, field=f"{field}.{lang}")
        if not _is(value, kind):
            raise RecordError("wrong_type", path=path, field=field, expected=kind)
    for lang, files in record["figures"].items():
        if not isinstance(files, dict) or not isinstance(files.get("png"), str):
            raise RecordError("wrong_type", path=path, field=f"figures.{lang}.png",
                              expected="type_text")


def load_record(path: str | Path) -> dict:
    """The record of one results.json, checked: a regular file of at most MAX_RECORD_BYTES,
    UTF-8 JSON, an object whose fields the report and ``dlfs show`` use have their types.
    Anything else raises a RecordError naming the file and what is wrong."""
    path = Path(path)
    data = _read_regular(path, MAX_RECORD_BYTES, "record")
    try:
        record = json.loads(data.decode("utf-8"))
    except UnicodeDecodeError:
        raise RecordError("not_utf8", path=path) from None
    except json.JSONDecodeError as error:
        raise RecordError("not_json", path=path, line=error.lineno,
                          column=error.colno) from None
    except RecursionError:  # nested deeper than the parser's stack
        raise RecordError("too_deep", path=path) from None
    _check(record, path)
    return record


def _figure(record: dict, folder: Path, lang: str, name: str, on_skip: Callable) -> str:
    """``<img>`` of the figure ``name`` (the record's figures[lang].png) when it resolves inside
    ``folder`` and is a regular PNG file of sane size; else a note in its place, and the
    RecordError to ``on_skip``."""
    try:
        base = folder.resolve()
        target = (folder / name).resolve()
        if not target.is_relative_to(base) or target == base:
            raise RecordError("figure_outside", "figure", path=folder / "results.json",
                              name=name)
        data = _read_regular(target, MAX_FIGURE_BYTES, "figure")
        if not data.startswith(PNG_SIGNATURE):
            raise RecordError("not_png", "figure", path=target)
    except (OSError, ValueError) as error:
        if not isinstance(error, RecordError):  # resolve(): a loop of links, a NUL in the name
            error = RecordError("figure_outside", "figure", path=folder / "results.json",
                                name=name)
        on_skip(error)
        note = catalogue.text("report_files.no_figure", lang if lang in LANGS else "en")
        return f'<p lang="{html.escape(lang)}">{html.escape(note)}</p>'
    source = "data:image/png;base64," + base64.b64encode(data).decode("ascii")
    alt = html.escape(record["title"].get(lang, record["name"]))
    return f'<img lang="{html.escape(lang)}" alt="{alt}" src="{source}">'


def _parameters(params: dict, overrides: dict) -> str:
    """The parameters a run used; those changed by --set/--config in bold."""
    def cell(key, value):
        text = html.escape(json.dumps(value))
        return f"<strong>{text}</strong>" if key in overrides else text

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


def _section(record: dict, folder: Path, on_skip: Callable) -> str:
    verdict = record["verdict"]
    why = (f"<br>{_ui('report.not_judged_why')}" if verdict_state(verdict) == "not_judged"
           else "")
    images = "".join(_figure(record, folder, lang, files["png"], on_skip)
                     for lang, files in record["figures"].items())
    dataset = record.get("dataset")
    dataset_text = _both(_dataset(dataset)) if dataset else _ui("report.none")
    overrides = record.get("overrides") or {}
    quick = " · " + _ui("report.quick") if quick_settings(record) else ""
    changed = (" · " + _ui("settings.changed", settings=", ".join(
        f"{k} = {json.dumps(v)}" for k, v in overrides.items()))
        if overrides else "")
    return f"""
<section id="{html.escape(record['name'])}">
  <h2>{_both(record['title'])} {_badges(record)}</h2>
  <p class="meta">{_ui('report.chapter', chapter=record['chapter'])},
    §{html.escape(record['section'])}
    · <code>{html.escape(record['name'])}</code> · {_ui('report.time')}:
    {record['wall_time_s']:.1f} s{quick}{changed}</p>
  <p><strong>{_ui('report.claim')}:</strong> {_both(record['claim'])}</p>
  <p><strong>{_ui('report.verdict')}:</strong> {_both(verdict['detail'])}{why}</p>
  <figure>{images}</figure>
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
    seeds = sorted({r["seed"] for r, _ in records})
    nav = "".join(
        f'<li><a href="#{html.escape(r["name"])}">{_both(r["title"])}</a> '
        f'{MARKS[state]}</li>' for (r, _), state in zip(records, states))
    sections = "".join(_section(record, folder, on_skip) for record, folder in records)
    dataset_line = "; ".join(_both(_dataset(datasets[key])) for key in sorted(datasets)) \
        or _ui("report.none")
    switch = "".join(f'<button type="button" data-set-lang="{lang}">'
                     f'{html.escape(catalogue.text("language", lang))}</button>'
                     for lang in LANGS)
    page = f"""<!doctype html>
<html lang="{default_lang}">
<head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(catalogue.text('report.title', default_lang))}</title>
<style>{_style()}</style></head>
<body data-lang="{default_lang}">
<header>
  <h1>{_ui('report.title')}</h1>
  <p class="switch">{switch}</p>
  <p><strong>{_ui('report.dataset')}:</strong> {dataset_line} · {_ui('report.seed')}
    {html.escape(', '.join(map(str, seeds)))} · {_ui('report.summary')}: {summary}</p>
  {banner}
</header>
<nav><ul>{nav}</ul></nav>
{sections}
<script>{SCRIPT}</script>
</body></html>
"""
    return page, len(records)
