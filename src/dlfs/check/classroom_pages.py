"""What ``dlfs check --class`` writes, as texts (the CLI writes them, atomically): the summary
page, grades.csv, each learner's feedback, results.json and Gradescope's results.json.

The summary page is one self-contained HTML file in every language of the catalogue, one
switch button per language (``?lang=ko`` opens it in Korean), as the lab's report; its grid
sorts by a click on a header (a few lines of inline JavaScript); a Content-Security-Policy
forbids loading anything, and every learner's word on it is escaped.
"""

from __future__ import annotations

import csv
import html
import io
import json

from dlfs import __version__, catalogue
from dlfs.catalogue import LANGS
from dlfs.check.classroom import ClassRun, LearnerRecord
from dlfs.check.rubric import Rubric, default_rubric

VERDICT_COLOURS = {"pass": "#1a7f37", "variant": "#0969da", "warn": "#9a6700",
                   "fail": "#cf222e", "missing": "#8c959f", "unchecked": "#d0d7de"}


def rubric_for(run: ClassRun, rubric: Rubric | None) -> Rubric:
    return rubric if rubric is not None else default_rubric(run.objects())


def grades(run: ClassRun, rubric: Rubric) -> dict[str, dict]:
    """learner -> {"objects": {rubric object: points}, "total", "max", "missing": [...]}."""
    found = {}
    for learner in run.learners:
        objects = learner.objects()
        earned, total = rubric.score(objects)
        # a learner not fully checked is not told it lacks what was never reached
        missing = rubric.missing(objects) if learner.status == "checked" else []
        found[learner.id] = {"objects": earned, "total": total, "max": rubric.maximum(),
                             "missing": missing}
    return found


def results_json(run: ClassRun, rubric: Rubric) -> dict:
    """Every learner's record (its documents as dlfs check --json wrote them), its grade, and
    the class's totals."""
    points = grades(run, rubric)
    return {"dlfs": __version__, "rubric": rubric.path,
            "objects": list(rubric.objects), "totals": run.totals(),
            "learners": [{**learner.as_dict(), "grade": points[learner.id],
                          "objects": {ref: {"verdict": entry["verdict"],
                                            "codes": entry["codes"], "file": entry["file"]}
                                      for ref, entry in learner.objects().items()}}
                         for learner in run.learners]}


def grades_csv(run: ClassRun, rubric: Rubric) -> str:
    """One row per learner: its id, status, points per rubric object, total, maximum."""
    points = grades(run, rubric)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["learner", "status", *rubric.objects, "total", "max"])
    for learner in run.learners:
        grade = points[learner.id]
        writer.writerow([learner.id, learner.status,
                         *(f"{grade['objects'][name]:g}" for name in rubric.objects),
                         f"{grade['total']:g}", f"{grade['max']:g}"])
    return out.getvalue()


def _message(entry: dict, lang: str) -> str:
    message = entry.get("message") or {}
    return message.get(lang) or message.get("en") or ""


def feedback_md(learner: LearnerRecord, grade: dict, langs: tuple[str, ...]) -> str:
    """The learner's feedback in each of ``langs``: points, each object's verdict and its
    diagnoses with their lines, the notes about its files, the required objects it lacks."""
    parts = []
    for lang in langs:
        def say(key: str, lang=lang, **fields) -> str:
            return catalogue.text(f"classroom.{key}", lang, **fields)

        lines = [f"# {say('feedback_title', learner=learner.id)}", "",
                 say("feedback_points", points=grade["total"], max=grade["max"]), ""]
        objects = learner.objects()
        for reference, entry in objects.items():
            verdict = say(f"verdict_{entry['verdict']}")
            lines.append(f"## {reference} ({entry['file']}): {verdict}")
            for diagnosis in entry["diagnoses"]:
                where = (f" ({say('feedback_line', line=diagnosis['line'])})"
                         if diagnosis.get("line") else "")
                lines.append(f"- `{diagnosis.get('code')}`{where}: {_message(diagnosis, lang)}")
            lines.append("")
        if objects and not learner.codes() and not learner.notes and not grade["missing"]:
            lines += [say("feedback_clean"), ""]
        notes = [*learner.notes, *({"message": catalogue.both("classroom.note_missing",
                                                               name=name)}
                                   for name in grade["missing"])]
        if notes:
            lines += [f"## {say('feedback_notes')}", ""]
            lines += [f"- {_message(note, lang)}" for note in notes]
            lines.append("")
        parts.append("\n".join(lines))
    return "\n---\n\n".join(parts)


def gradescope_json(learner: LearnerRecord, rubric: Rubric, grade: dict,
                    lang: str = "en") -> dict:
    """Gradescope's autograder results.json (the gradescope-utils format): the score, and one
    test per rubric object with its score, max_score, status and output (the verdict and
    diagnoses); the learner's notes as the top-level output."""
    objects = learner.objects()
    tests = []
    for name, rule in rubric.objects.items():
        found = rubric.match(name, list(objects))
        if found is None:
            output = catalogue.text("classroom.gradescope_missing", lang, name=name)
            status = "failed"
        else:
            entry = objects[found]
            verdict = catalogue.text(f"classroom.verdict_{entry['verdict']}", lang)
            output = "\n".join([f"{found} ({entry['file']}): {verdict}",
                                *(f"- {d.get('code')}"
                                  + (" (" + catalogue.text("classroom.feedback_line", lang,
                                                           line=d["line"]) + ")"
                                     if d.get("line") else "")
                                  + f": {_message(d, lang)}" for d in entry["diagnoses"])])
            status = "passed" if entry["verdict"] in ("pass", "variant") else "failed"
        tests.append({"name": name, "score": grade["objects"][name],
                      "max_score": rule.points if rule.required else 0.0,
                      "status": status, "output": output, "visibility": "visible"})
    return {"score": grade["total"], "tests": tests,
            "output": "\n".join(_message(note, lang) for note in learner.notes),
            "visibility": "visible", "stdout_visibility": "hidden"}


# -- the summary page ---------------------------------------------------------------------------

STYLE = """
body { font-family: "Noto Sans CJK KR", "NanumGothic", "Apple SD Gothic Neo", "Malgun Gothic",
       system-ui, sans-serif; margin: 0 auto; max-width: 1200px; padding: 1rem 1.5rem;
       color: #1f2328; line-height: 1.5; }
.switch button { font-size: 1rem; padding: .3rem .8rem; margin-right: .3rem; cursor: pointer; }
.switch button.active { background: #0969da; color: white; border-color: #0969da; }
section { border: 1px solid #d0d7de; border-radius: 8px; padding: .5rem 1.2rem 1rem;
          margin: 1.5rem 0; overflow-x: auto; }
table { border-collapse: collapse; font-size: .85rem; }
th, td { border: 1px solid #eaeef2; padding: .15rem .5rem; vertical-align: top; }
#grid th { cursor: pointer; background: #f6f8fa; }
.banner { background: #fff8c5; border: 1px solid #d4a72c; border-radius: 6px;
          padding: .5rem .8rem; }
td.v { color: white; text-align: center; }
""" + "".join(f"td.v-{verdict} {{ background: {colour}; }}\n"
              for verdict, colour in VERDICT_COLOURS.items())

SCRIPT = """
(function () {
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
  // sort the grid by a column: numbers as numbers, else text; a second click reverses
  var grid = document.getElementById('grid');
  function sortBy(column) {
    var body = grid.tBodies[0];
    var rows = Array.prototype.slice.call(body.rows);
    var header = grid.tHead.rows[0].cells[column];
    var down = header.getAttribute('data-sorted') !== 'up';
    Array.prototype.forEach.call(grid.tHead.rows[0].cells,
      function (cell) { cell.removeAttribute('data-sorted'); });
    header.setAttribute('data-sorted', down ? 'up' : 'down');
    rows.sort(function (a, b) {
      var x = a.cells[column].getAttribute('data-key');
      var y = b.cells[column].getAttribute('data-key');
      var nx = parseFloat(x), ny = parseFloat(y);
      var order = (!isNaN(nx) && !isNaN(ny)) ? nx - ny : x.localeCompare(y);
      return down ? order : -order;
    });
    rows.forEach(function (row) { body.appendChild(row); });
  }
  if (grid) {
    Array.prototype.forEach.call(grid.tHead.rows[0].cells, function (cell, column) {
      cell.addEventListener('click', function () { sortBy(column); });
    });
  }
  if (location.hash === '#selftest') {
    window.addEventListener('load', function () {
      var result = {};
      var column = grid.tHead.rows[0].cells.length - 1;
      sortBy(column); sortBy(column);
      result.sorted = Array.prototype.map.call(grid.tBodies[0].rows,
        function (row) { return row.cells[0].getAttribute('data-key'); });
      result.counts = {};
      document.querySelectorAll('[data-code]').forEach(function (row) {
        result.counts[row.getAttribute('data-code')] = parseInt(row.getAttribute('data-count'));
      });
      var out = document.createElement('pre');
      out.id = 'selftest-result';
      out.textContent = JSON.stringify(result);
      document.body.appendChild(out);
    });
  }
})();
"""


def _both(key: str, tag: str = "span", **fields) -> str:
    """The catalogue's ``classroom.KEY`` in every language, each element marked with its lang."""
    return "".join(f'<{tag} lang="{lang}">'
                   f'{html.escape(catalogue.text(f"classroom.{key}", lang, **fields))}</{tag}>'
                   for lang in LANGS)


def _esc(text) -> str:
    return html.escape(str(text), quote=True)


def summary_html(run: ClassRun, rubric: Rubric, lang: str = "en") -> str:
    """The class's summary page, opening in ``lang``."""
    totals = run.totals()
    points = grades(run, rubric)
    done, total = totals["done"], totals["learners"]
    hide = "".join(f'body[data-lang="{code}"] [lang]:not([lang="{code}"]) {{ display: none; }}\n'
                   for code in LANGS)
    switch = "".join(f'<button type="button" data-set-lang="{code}">'
                     f'{_esc(catalogue.text("language", code))}</button>' for code in LANGS)
    parts = [f'<!DOCTYPE html>\n<html lang="{_esc(lang)}">\n<head>\n<meta charset="utf-8">\n'
             "<meta http-equiv=\"Content-Security-Policy\" content=\"default-src 'none'; "
             "style-src 'unsafe-inline'; script-src 'unsafe-inline'\">\n"
             f"<title>{_esc(catalogue.text('classroom.title', lang))}</title>\n"
             f"<style>{STYLE}{hide}</style>\n</head>\n<body data-lang=\"{_esc(lang)}\">\n"
             f'<header><div class="switch">{switch}</div>'
             f"<h1>{_both('title')}</h1>"
             f'<p id="learners" data-done="{done}" data-total="{total}">'
             f"{_both('learners_line', done=done, total=total)}</p>"]
    if run.interrupted:
        parts.append(f'<p class="banner" id="interrupted">'
                     f"{_both('interrupted_banner', done=done)}</p>")
    parts.append("</header>")
    # objects: how many got each right
    rows = "".join(f'<tr data-object="{_esc(ref)}" data-right="{count["right"]}">'
                   f"<td>{_esc(ref)}</td><td>{_both('count', count=count['right'], total=done)}"
                   f"</td><td>{count['defined']}</td></tr>"
                   for ref, count in totals["objects"].items())
    parts.append(f"<section><h2>{_both('objects_heading')}</h2><table><thead><tr>"
                 f"<th>{_both('object')}</th><th>{_both('right')}</th>"
                 f"<th>{_both('defined')}</th></tr></thead><tbody>{rows}</tbody></table>"
                 "</section>")
    # the diagnosis codes, most frequent first
    if totals["codes"]:
        rows = "".join(f'<tr data-code="{_esc(code)}" data-count="{len(ids)}">'
                       f"<td><code>{_esc(code)}</code></td>"
                       f"<td>{_both('count', count=len(ids), total=done)}</td>"
                       f"<td>{_esc(', '.join(ids))}</td></tr>"
                       for code, ids in totals["codes"].items())
        body = (f"<table><thead><tr><th>{_both('code')}</th><th>{_both('learners')}</th>"
                f"<th></th></tr></thead><tbody>{rows}</tbody></table>")
    else:
        body = f"<p>{_both('nothing_found')}</p>"
    parts.append(f"<section><h2>{_both('codes_heading')}</h2>{body}</section>")
    # learners not fully checked
    others = {status: ids for status, ids in totals["statuses"].items() if status != "checked"}
    if others:
        rows = "".join(f'<tr data-status="{_esc(status)}" data-count="{len(ids)}">'
                       f"<td>{_both(f'status_{status}')}</td>"
                       f"<td>{_both('count', count=len(ids), total=total)}</td>"
                       f"<td>{_esc(', '.join(ids))}</td></tr>" for status, ids in others.items())
        parts.append(f"<section><h2>{_both('statuses_heading')}</h2><table><thead><tr>"
                     f"<th>{_both('status')}</th><th>{_both('learners')}</th><th></th></tr>"
                     f"</thead><tbody>{rows}</tbody></table></section>")
    # the grid: learners × objects, coloured by verdict, sortable
    objects = list(rubric.objects)
    head = (f"<th>{_both('learner')}</th><th>{_both('status')}</th>"
            + "".join(f"<th>{_esc(name)}</th>" for name in objects)
            + f"<th>{_both('points')}</th>")
    body_rows = []
    for learner in run.learners:
        found = learner.objects()
        cells = [f'<td data-key="{_esc(learner.id)}">{_esc(learner.id)}</td>',
                 f'<td data-key="{_esc(learner.status)}">'
                 f"{_both('status_' + learner.status)}</td>"]
        for name in objects:
            reference = rubric.match(name, list(found))
            if reference is not None:
                verdict = found[reference]["verdict"]
            else:  # not handed in, or not reached within the learner's limits
                verdict = "missing" if learner.status == "checked" else "unchecked"
            codes = ", ".join(found[reference]["codes"]) if reference is not None else ""
            label = ("verdict_" + verdict) if verdict in VERDICT_ORDER_KEY and verdict not in (
                "missing", "unchecked") else verdict
            cells.append(f'<td class="v v-{verdict}" data-key="{VERDICT_ORDER_KEY[verdict]}" '
                         f'title="{_esc(codes)}">{_both(label)}</td>')
        grade = points[learner.id]
        cells.append(f'<td data-key="{grade["total"]:g}">{grade["total"]:g} / '
                     f'{grade["max"]:g}</td>')
        body_rows.append(f'<tr data-learner="{_esc(learner.id)}">{"".join(cells)}</tr>')
    parts.append(f"<section><h2>{_both('grid_heading')}</h2><table id=\"grid\"><thead><tr>"
                 f"{head}</tr></thead><tbody>{''.join(body_rows)}</tbody></table></section>")
    parts.append(f"<script>{SCRIPT}</script>\n</body>\n</html>\n")
    return "".join(parts)


VERDICT_ORDER_KEY = {"pass": 0, "variant": 1, "warn": 2, "fail": 3, "missing": 4,
                     "unchecked": 5}


def dumps(data) -> str:
    return json.dumps(data, ensure_ascii=False, indent=1, allow_nan=False, default=str) + "\n"
