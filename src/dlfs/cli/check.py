"""dlfs check FILE [NAME…]: a learner's optimizers, layers and functions against dlfs.

The file runs in a child process with a time limit and a memory limit, every process it starts
ending with it (``dlfs.check.load``, ``dlfs.check.sandbox``); this prints what
came back: which notebook cells ran (or which top-level statements of a .py did not: a
script's training and plots), one line per object with its verdict and then its
diagnoses, what was not checked and why. ``--json`` prints one document,

    {"results": [Result.as_dict(), …], "skipped": [{"name": …, "why": {"en": …, "ko": …}}],
     "cells": {"ran": [1, 2], "skipped": [{"cell": 3, "line": 2, "code": "…"}]},
     (a .py is cell 1; its skipped entries are its top-level statements that were not run)
     "error": null or {"code": "no_file", "message": {"en": …, "ko": …}}}

Hangul as UTF-8, not \\u escapes; the document is printed for a usage error too. Exit status 0
when nothing failed, 1 when something failed, 2 for a usage error.
"""

from __future__ import annotations

import json

from dlfs.check import CheckError
from dlfs.check.load import Outcome, check_file
from dlfs.cli.check_options import limits
from dlfs.cli.text import CliError
from dlfs.cli.text import say as _say

SHOWN_STATEMENTS = 3  # a script's skipped top-level statements shown; --json has them all


def cmd_check(args) -> int:
    lang = args.lang
    timeout, memory = limits(args)
    outcome = Outcome()
    try:
        check_file(args.file, args.names, timeout=timeout, outcome=outcome, memory=memory)
    except CheckError as error:
        if args.json:
            _print_json(outcome.as_dict(error))
        raise CliError(error.text(lang)) from None
    failed = any(result.failed for result in outcome.results)
    if args.json:
        _print_json(outcome.as_dict())
        return 1 if failed else 0
    if outcome.notebook:
        ran = ", ".join(map(str, outcome.cells_ran)) or _say("check.none", lang)
        print(_say("check.cells_ran", lang, cells=ran))
        if outcome.cells_skipped:
            cells = "; ".join(_say("check.cell_skip", lang, cell=number, line=line, code=code)
                              for number, line, code in outcome.cells_skipped)
            print(_say("check.cells_skipped", lang, cells=cells))
    elif outcome.cells_skipped:  # a script's training and plotting at the top level
        shown = "; ".join(_say("check.statement_skip", lang, line=line, code=code)
                          for _, line, code in outcome.cells_skipped[:SHOWN_STATEMENTS])
        more = len(outcome.cells_skipped) - SHOWN_STATEMENTS
        if more > 0:
            shown = _say("check.statements_more", lang, shown=shown, count=more)
        print(_say("check.statements_skipped", lang, statements=shown))
    if not outcome.results and not outcome.skipped:
        print(_say("check.nothing_defined", lang, file=args.file))
    for result in outcome.results:
        print(result.text(lang))
    for entry in outcome.skipped:
        why = entry["why"].get(lang) or entry["why"].get("en", "")
        print(_say("check.skipped_one", lang, name=entry["name"], why=why))
    if outcome.descendants:
        print(_say("check.descendants_killed", lang, count=outcome.descendants))
    verdicts = [r.verdict for r in outcome.results]
    print(_say("check.summary", lang, count=len(verdicts),
               passed=verdicts.count("pass") + verdicts.count("variant"),
               warned=verdicts.count("warn"), failed=verdicts.count("fail")))
    return 1 if failed else 0


def _print_json(document: dict) -> None:
    print(json.dumps(document, ensure_ascii=False, indent=2, allow_nan=False))
