"""The commands that read saved results, without training again: show, report and open; and
the rule that a quick run never replaces a full-size result unasked.

    dlfs show NAME [--out DIR]   one experiment's claim, verdict and numbers in the terminal
    dlfs report [--out DIR]      report.html, every result on one page
    dlfs open [--out DIR]        that page in the web browser, written first when out of date

Without --out they read ``results``, else ``results-quick`` (where ``dlfs run --quick`` writes).
Every results.json is read through dlfs.report.load_record: a bad one (someone else's, a FIFO, a
link to /dev/zero, 20 MB of JSON) is one line from show and one warning from report.
"""

from __future__ import annotations

import json
import shutil
import sys
import unicodedata
from pathlib import Path

from dlfs import catalogue
from dlfs.cli.text import CliError, did_you_mean, say
from dlfs.io import write_text
from dlfs.records import RecordError, load_record, mask_passwords

FULL_OUT, QUICK_OUT = "results", "results-quick"  # dlfs run's folders, without and with --quick


def results_folder(out: str | None, lang: str, name: str | None = None) -> Path:
    """``out`` when given, else the first of results and results-quick holding a result (of
    ``name``); a CliError when there is none."""
    folders = [Path(out)] if out is not None else [Path(FULL_OUT), Path(QUICK_OUT)]
    pattern = f"{name}/results.json" if name else "*/results.json"
    for folder in folders:
        if any(not path.parent.name.startswith(".") for path in folder.glob(pattern)):
            return folder
    if out is None:
        raise CliError(say("errors.no_result_default", lang, name=name) if name
                       else say("errors.no_results_default", lang))
    if not folders[0].is_dir():
        raise CliError(say("errors.not_a_folder", lang, out=out))
    if name:
        raise CliError(say("errors.no_result", lang, name=name, out=out))
    raise CliError(say("errors.no_results", lang, out=out))


def refuse_quick_over_full(experiments, out: Path, lang: str) -> None:
    """A CliError when ``out`` holds a full-size result that a quick run of ``experiments``
    would replace (a full run may replace a quick one)."""
    full = []
    for experiment in (e for e in experiments if e.quick_params):  # others run the same
        try:
            record = load_record(out / experiment.name / "results.json")
        except RecordError:
            continue  # no result, or none worth keeping
        if record.get("quick") is False:
            full.append(experiment.name)
    if full:
        raise CliError(say("errors.quick_over_full", lang, out=out, names=", ".join(full)))


def verdict_words(record: dict, lang: str) -> str:
    """'claim held', 'claim not held' or 'not judged in quick mode', with '(quick settings)'
    after a quick result's held or not held."""
    from dlfs.experiments import quick_settings, verdict_state

    state = verdict_state(record["verdict"])
    words = catalogue.word(state, lang)
    if quick_settings(record) and state != "not_judged":
        words = say("output.verdict_quick", lang, verdict=words)
    return words


# -- dlfs show ----------------------------------------------------------------------------------


def _columns(text: str) -> int:
    """Terminal columns ``text`` takes: two for each wide (Hangul, CJK) character."""
    return sum(2 if unicodedata.east_asian_width(char) in "WF" else 1 for char in text)


def _wrap(text: str, width: int, indent: str = "  ", first: str | None = None) -> list[str]:
    """``text`` in lines of at most ``width`` columns (a longer word stands alone), each
    after ``indent``, the first after ``first`` when given."""
    lines, line, prefix = [], "", indent if first is None else first
    for word in text.split():
        longer = f"{line} {word}" if line else word
        if line and _columns(prefix + longer) > width:
            lines.append(prefix + line)
            longer, prefix = word, indent
        line = longer
    return lines + ([prefix + line] if line else [])


def show_text(record: dict, lang: str, width: int = 80) -> str:
    """One results.json record as terminal text in ``lang``: title, chapter, seed and wall
    time, the claim, the verdict and its numbers, the data set and the parameters."""
    from dlfs.data.locations import source_in
    from dlfs.experiments import is_deterministic, quick_settings, verdict_state

    verdict = record["verdict"]
    dataset = record.get("dataset")
    meta = say("output.show_meta_deterministic" if is_deterministic(record) else
               "output.show_meta", lang, chapter=record["chapter"], section=record["section"],
               seed=record["seed"], seconds=record["wall_time_s"])
    if quick_settings(record):
        meta += f" · {catalogue.word('quick', lang)}"

    def heading(text: str) -> list[str]:  # its overflow indented, as the text under it is
        return _wrap(text, width, first="")

    lines = [*heading(say("output.show_heading", lang, name=record["name"],
                          title=record["title"][lang])),
             *heading(meta), "", *heading(f"{say('report.claim', lang)}:"),
             *_wrap(record["claim"][lang], width),
             *heading(f"{say('report.verdict', lang)}: {verdict_words(record, lang)}")]
    lines += _wrap(verdict["detail"][lang], width)
    if verdict_state(verdict) == "not_judged":
        lines += _wrap(say("report.not_judged_why", lang), width)
    lines += [f"{say('report.dataset', lang)}:",
              *_wrap(f"{dataset['title']} — {source_in(dataset['source'], lang)}" if dataset
                     else say("report.none", lang), width),
              f"{say('report.parameters', lang)}:"]
    name_width = max(map(len, record["parameters"]), default=0)
    changed = _changed(record)
    for name, value in record["parameters"].items():
        indent = " " * (name_width + 4)
        wrapped = _wrap(json.dumps(value, ensure_ascii=False), width, indent=indent,
                        first=f"  {name:{name_width}}  ")
        if name in changed:  # the mark is kept whole: after the value, or on a line of its own
            mark = (say("output.show_set_some", lang, keys=", ".join(changed[name]))
                    if changed[name] else say("output.show_set", lang))
            if _columns(f"{wrapped[-1]}  {mark}") <= width:
                wrapped[-1] += f" {mark}"
            else:
                wrapped.append(indent + mark)
        lines += wrapped
    return _visible(mask_passwords("\n".join(lines)))


def _changed(record: dict) -> dict[str, list[str]]:
    """The parameters the run's settings changed (its "overrides"): {name: []} for one set
    whole, {name: ["SGD.lr", …]} for a table set by dotted keys (optimizers.SGD.lr)."""
    overrides = record.get("overrides")
    changed: dict[str, list[str]] = {}
    for key in overrides if isinstance(overrides, dict) else ():
        name, _, part = str(key).partition(".")
        if name in record["parameters"]:
            parts = changed.setdefault(name, [])
            if part and part not in parts:
                parts.append(part)
    return changed


def _visible(text: str) -> str:
    """``text`` with every control character but the newline written as \\xNN: a
    results.json from someone else must not send the terminal escape sequences."""
    return "".join(char if char == "\n" or unicodedata.category(char) != "Cc"
                   else f"\\x{ord(char):02x}" for char in text)


def cmd_show(args) -> int:
    from dlfs.experiments import EXPERIMENTS

    if args.name not in EXPERIMENTS:
        raise CliError(say("errors.unknown_to_show", args.lang, name=args.name,
                           hint=did_you_mean(args.name, EXPERIMENTS, args.lang),
                           names=", ".join(EXPERIMENTS)))
    path = results_folder(args.out, args.lang, args.name) / args.name / "results.json"
    try:
        record = load_record(path)
    except RecordError as error:
        raise CliError(error.message(args.lang)) from None
    print(show_text(record, args.lang, min(shutil.get_terminal_size().columns, 100)))
    print(say("output.show_result", args.lang, path=path))
    return 0


# -- dlfs report, dlfs open ---------------------------------------------------------------------


def write_report(out: Path, lang: str) -> Path:
    """Writes out/report.html, the page first in ``lang``; returns its path."""
    from dlfs.report import build_report

    def warn(error: RecordError) -> None:
        key = "report_files.skipped" if error.what == "record" else "report_files.figure_skipped"
        print(say(key, lang, message=error.message(lang)), file=sys.stderr)

    html, count = build_report(out, default_lang=lang, on_skip=warn)
    target = out / "report.html"
    write_text(target, html)
    print(say("report_size.written", lang, count=count, path=target,
              megabytes=target.stat().st_size / 1e6))
    return target


def cmd_report(args) -> int:
    write_report(results_folder(args.out, args.lang), args.lang)
    return 0


def cmd_open(args) -> int:
    import webbrowser

    out = results_folder(args.out, args.lang)
    target = out / "report.html"
    newest = max(path.lstat().st_mtime for path in out.glob("*/results.json"))
    if not target.is_file() or target.stat().st_mtime < newest:
        write_report(out, args.lang)
    url = f"{target.resolve().as_uri()}?lang={args.lang}"
    print(say("output.opening", args.lang, url=url))
    if not webbrowser.open(url):
        print(say("output.no_browser", args.lang, path=target), file=sys.stderr)
    return 0
