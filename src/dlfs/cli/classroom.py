"""dlfs check --class DIR|ZIP: a whole study group checked at once, its results into --out.

    dlfs check --class submissions/ --out class-results [--rubric rubric.toml] [--force]
    dlfs check --class /autograder/submission --gradescope /autograder/results/results.json
    dlfs check --autograder-bundle bundle/ [--rubric rubric.toml]

The learners are checked by ``dlfs.check.classroom``; this writes what comes back, through
``dlfs.io.atomic_dir``: --out is the old folder or the finished new one, never half of one.
Written: summary.html, grades.csv, feedback/LEARNER.md, results.json (also printed with
--json). Exit status 0 when
every learner's code passed, 1 when something failed or a learner was not fully checked, 2
for a usage error, 130 when interrupted (the results of the learners done are written).
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import sys
import tempfile
import time
from pathlib import Path

from dlfs import __version__
from dlfs.catalogue import LANGS
from dlfs.check import CheckError
from dlfs.cli.check_options import limits
from dlfs.cli.text import CliError
from dlfs.cli.text import say as _say

RESULT_FILES = ("results.json", "summary.html", "grades.csv")


def _options(args) -> tuple[float, int, int]:
    timeout, memory = limits(args)  # as one file's check has them
    if args.workers < 0:
        raise CliError(_say("classroom.bad_workers", args.lang, value=args.workers))
    return timeout, memory, args.workers


def _out_folder(out: Path, force: bool, lang: str) -> None:
    """Refuses an --out that is a file, a folder of something else, or another run's results
    without --force."""
    if out.is_symlink() or (out.exists() and not out.is_dir()):
        raise CliError(_say("classroom.out_not_folder", lang, out=out))
    if out.is_dir() and any(out.iterdir()):
        if not (out / "results.json").is_file():
            raise CliError(_say("classroom.out_not_results", lang, out=out))
        if not force:
            raise CliError(_say("classroom.out_exists", lang, out=out))


def cmd_class(args) -> int:
    from dlfs.check import classroom, classroom_pages
    from dlfs.check import rubric as rubrics
    from dlfs.io import atomic_dir, atomic_file, writable_folder, write_text

    lang = args.lang
    timeout, memory, workers = _options(args)
    out = Path(args.out)
    _out_folder(out, args.force, lang)
    feedback_langs = (LANGS if args.feedback_lang == "both"
                      else (args.feedback_lang or lang,))
    try:
        rubric = rubrics.load_rubric(args.rubric) if args.rubric else None
    except CheckError as error:
        raise CliError(error.text(lang)) from None
    scratch = Path(tempfile.mkdtemp(prefix="dlfs-class-"))
    try:
        try:
            if args.gradescope is not None:  # the folder is one learner's submission
                learners = [_submission(Path(args.class_dir), lang)]
            else:
                learners = classroom.find_learners(args.class_dir, scratch / "class")
        except CheckError as error:
            raise CliError(error.text(lang)) from None
        bar = _progress(len(learners), not args.no_progress)
        began = time.monotonic()

        def done(record) -> None:
            if bar is not None:
                bar.set_postfix_str(record.id, refresh=False)
                bar.update(1)

        try:
            run = classroom.check_class(learners, timeout=timeout, memory=memory,
                                        workers=workers, on_done=done)
        finally:
            if bar is not None:
                bar.close()
    finally:
        shutil.rmtree(scratch, ignore_errors=True)
    seconds = time.monotonic() - began
    rubric = classroom_pages.rubric_for(run, rubric)
    grades = classroom_pages.grades(run, rubric)
    writable_folder(out.parent if str(out.parent) else Path("."))
    results = classroom_pages.dumps(classroom_pages.results_json(run, rubric))
    with atomic_dir(out) as folder:
        write_text(folder / "results.json", results)
        write_text(folder / "summary.html", classroom_pages.summary_html(run, rubric, lang))
        with atomic_file(folder / "grades.csv", "w") as handle:
            handle.write(classroom_pages.grades_csv(run, rubric))
        (folder / "feedback").mkdir()
        for name, record in zip(_file_names([r.id for r in run.learners]), run.learners):
            write_text(folder / "feedback" / f"{name}.md",
                       classroom_pages.feedback_md(record, grades[record.id], feedback_langs))
    if args.gradescope is not None and run.learners:
        record = run.learners[0]
        target = Path(args.gradescope)
        target.parent.mkdir(parents=True, exist_ok=True)
        write_text(target, classroom_pages.dumps(classroom_pages.gradescope_json(
            record, rubric, grades[record.id], feedback_langs[0])))
    totals = run.totals()
    if args.json:  # what results.json holds, for a script reading stdout
        sys.stdout.write(results)
    if run.interrupted:
        print(_say("classroom.interrupted", lang, out=out, done=totals["done"],
                   total=totals["learners"]), file=sys.stderr)
        return 130
    if not args.json:
        print(_say("classroom.done", lang, done=totals["done"], total=totals["learners"],
                   seconds=seconds, out=out))
    failed = totals["codes"] or set(totals["statuses"]) - {"checked"} or any(
        entry["verdict"] == "fail" for record in run.learners
        for entry in record.objects().values())
    return 1 if failed else 0


def _submission(folder: Path, lang: str):
    """A Gradescope submission folder as one learner, "submission"."""
    from dlfs.check import classroom

    if not folder.is_dir():
        raise CheckError("classroom.no_class", path=str(folder))
    folder = folder.resolve()
    return classroom.Learner("submission", str(folder), classroom._sources(folder, folder))


def _file_names(ids: list[str]) -> list[str]:
    """A file name for each learner id: unsafe characters replaced, each distinct."""
    names, seen = [], set()
    for learner in ids:
        name = re.sub(r"[^\w.-]", "_", learner).lstrip(".") or "learner"
        base, number = name, 2
        while name.lower() in seen:
            name, number = f"{base}-{number}", number + 1
        seen.add(name.lower())
        names.append(name)
    return names


def _progress(total: int, wanted: bool):
    from dlfs._progress import progress_bar

    if wanted and sys.stderr.isatty():
        try:
            from tqdm.auto import tqdm
        except ImportError:
            return None
        tqdm.monitor_interval = 0  # no monitor thread in the process the learners fork from
    return progress_bar(total, wanted and sys.stderr.isatty(), unit="learner")


# -- Gradescope's autograder bundle -------------------------------------------------------------

SETUP = """#!/usr/bin/env bash
# Gradescope runs this once, when it builds the autograder's image: it installs dlfs.
set -euo pipefail
apt-get update
apt-get install -y python3 python3-pip
python3 -m pip install --break-system-packages "dlfs-lab=={version}" \\
  || python3 -m pip install "dlfs-lab=={version}"
"""

RUN_AUTOGRADER = """#!/usr/bin/env bash
# Gradescope runs this for every submission: the learner's files are in
# $ROOT/submission, this bundle in $ROOT/source, the score goes to $ROOT/results/results.json.
# DLFS_AUTOGRADER_ROOT (default /autograder) and DLFS (default: dlfs) serve tests.
set -uo pipefail
ROOT="${{DLFS_AUTOGRADER_ROOT:-/autograder}}"
DLFS="${{DLFS:-dlfs}}"
mkdir -p "$ROOT/results"
RUBRIC=()
if [ -f "$ROOT/source/rubric.toml" ]; then
  RUBRIC=(--rubric "$ROOT/source/rubric.toml")
fi
$DLFS check --class "$ROOT/submission" --gradescope "$ROOT/results/results.json" \\
  --out "$ROOT/dlfs-check" --force --no-progress --timeout {timeout:g} --memory {memory:g} \\
  --lang {lang} --feedback-lang {feedback} "${{RUBRIC[@]}}"
status=$?
if [ ! -f "$ROOT/results/results.json" ]; then
  printf '{{"score": 0, "output": "dlfs check ended with exit status %s"}}\\n' "$status" \\
    > "$ROOT/results/results.json"
fi
exit 0
"""


def cmd_bundle(args) -> int:
    from dlfs.check import rubric as rubrics
    from dlfs.io import write_text

    lang = args.lang
    timeout, _, _ = _options(args)
    out = Path(args.autograder_bundle)
    if out.exists() and (not out.is_dir() or any(out.iterdir())):
        raise CliError(_say("classroom.bundle_exists", lang, out=out))
    if args.rubric:
        try:
            rubrics.load_rubric(args.rubric)
        except CheckError as error:
            raise CliError(error.text(lang)) from None
    out.mkdir(parents=True, exist_ok=True)
    feedback = args.feedback_lang or lang
    files = {"setup.sh": SETUP.format(version=__version__),
             "run_autograder": RUN_AUTOGRADER.format(timeout=timeout, memory=args.memory,
                                                     lang=lang, feedback=feedback)}
    for name, text in files.items():
        write_text(out / name, text)
        os.chmod(out / name, os.stat(out / name).st_mode | stat.S_IXUSR | stat.S_IXGRP
                 | stat.S_IXOTH)
    if args.rubric:
        write_text(out / "rubric.toml", Path(args.rubric).read_text(encoding="utf-8"))
    print(_say("classroom.bundle_written", lang, out=out,
               rubric=", rubric.toml" if args.rubric else ""))
    return 0
