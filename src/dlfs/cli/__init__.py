"""The ``dlfs`` command: the only place that parses arguments, prints or writes files.

    dlfs list                              the experiments
    dlfs run NAME… | all [options]         run, plot and judge experiments into --out
                                           (--seeds N: over N seeds; --replot: draw again)
    dlfs show NAME [--out DIR]             one result's claim, verdict and numbers
    dlfs report [--out DIR]                one self-contained HTML page of every result
    dlfs open [--out DIR]                  that page in the web browser
    dlfs search [options]                  hyperparameter search (book 6.5) into --out
    dlfs data [NAME…] [--root DIR] [--fetch]   where each data set is, or would be put
    dlfs check FILE [NAME…] [--json]       a learner's own optimizers, layers, functions

The work happens below: ``dlfs.experiments.run_experiment`` runs an experiment and returns its
record and figures, ``dlfs.search`` runs a study. This module prints what they did and writes
it through ``dlfs.io``, whose atomic writers keep a reader from ever seeing half a file.

Results go to ``results``, and to ``results-quick`` with ``--quick``, so a quick check never
replaces the book's numbers; show, report and open read ``results``, else ``results-quick``.
Every line printed comes from ``dlfs.catalogue`` in ``--lang`` (default: the locale's language,
see ``dlfs.cli.text``), the help included.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import importlib
import os
import signal
import sys
import threading

from dlfs import __version__, catalogue
from dlfs.catalogue import LANGS
from dlfs.cli.check_options import DEFAULT_TIMEOUT
from dlfs.cli.check_options import add_arguments as add_class_arguments
from dlfs.cli.text import CliError, argparse_in, locale_lang, wanted_lang
from dlfs.cli.text import say as _say

__all__ = ["CliError", "build_parser", "load_lab_data", "main", "write_result"]


def _lazy(module: str, name: str):
    """The command function ``name`` of ``dlfs.cli.MODULE``, imported when the command runs,
    so that each command pays for its own imports only (dlfs check never imports the lab's
    experiments, data sets or matplotlib)."""
    def command(args):
        return getattr(importlib.import_module(f"dlfs.cli.{module}"), name)(args)

    command.__name__ = command.__qualname__ = name
    return command


cmd_list, cmd_run, cmd_data = (_lazy("run", n) for n in ("cmd_list", "cmd_run", "cmd_data"))
cmd_show, cmd_report, cmd_open = (_lazy("results", n) for n in ("cmd_show", "cmd_report",
                                                                "cmd_open"))
cmd_search, cmd_check = _lazy("search", "cmd_search"), _lazy("check", "cmd_check")


class _DatasetChoices:
    """dlfs.data.lab.DATASET_CHOICES for argparse, read when a --dataset is checked or shown:
    dlfs.data (and its downloader's urllib) is imported by the commands that use data only."""

    def _names(self) -> tuple[str, ...]:
        from dlfs.data.lab import DATASET_CHOICES

        return DATASET_CHOICES

    def __contains__(self, name) -> bool:
        return name in self._names()

    def __iter__(self):
        return iter(self._names())


def __getattr__(name: str):
    """``dlfs.cli.load_lab_data`` and ``write_result``, from dlfs.cli.run when first asked."""
    if name in ("load_lab_data", "write_result"):
        return getattr(importlib.import_module("dlfs.cli.run"), name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def _positive_int(value: str, lang: str = "en") -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(_say("errors.whole_number", lang, value=value)) from None
    if number < 0:
        raise argparse.ArgumentTypeError(_say("errors.not_negative", lang, value=value))
    return number


def _seconds(value: str, lang: str = "en") -> float:
    """--optimizer-timeout: a number of seconds above 0."""
    try:
        number = float(value)
    except ValueError:
        number = float("nan")
    if not 0 < number < float("inf"):
        raise argparse.ArgumentTypeError(_say("bounds.optimizer_timeout_bad", lang, value=value))
    return number


MAX_SEEDS = 100  # --seeds: more runs of every experiment than any spread needs


def _seeds(value: str, lang: str = "en") -> int | tuple[int, ...]:
    """--seeds: a number of seeds N >= 1 (``5``: --seed, --seed + 1, …), or distinct seeds
    >= 0 separated by commas (``3,7,11``), returned as a tuple."""
    if "," not in value:
        try:
            count = int(value)
        except ValueError:
            count = 0
        if count < 1:
            raise argparse.ArgumentTypeError(_say("errors.seeds_count", lang, value=value))
        if count > MAX_SEEDS:  # each seed runs every experiment once more
            raise argparse.ArgumentTypeError(_say("bounds.seeds_too_many", lang, value=value,
                                                  most=MAX_SEEDS))
        return count
    seeds: list[int] = []
    for item in value.split(","):
        try:
            seed = int(item)
        except ValueError:
            seed = -1
        if seed < 0:
            raise argparse.ArgumentTypeError(_say("errors.seeds_item", lang, value=value,
                                                  item=item.strip()))
        if seed in seeds:
            raise argparse.ArgumentTypeError(_say("errors.seeds_twice", lang, value=value,
                                                  seed=seed))
        seeds.append(seed)
    if len(seeds) > MAX_SEEDS:
        raise argparse.ArgumentTypeError(_say("bounds.seeds_too_many", lang, value=value,
                                              most=MAX_SEEDS))
    return tuple(seeds)


def build_parser(lang: str = "en") -> argparse.ArgumentParser:
    """The command's parser, its help in ``lang`` (argparse's own words too, inside
    ``dlfs.cli.text.argparse_in(lang)``); every --lang defaults to ``lang``."""
    def say(key: str, **fields) -> str:
        return catalogue.text(f"help.{key}", lang, **fields).replace("%", "%%")

    # Each --lang defaults to the command line's language: `dlfs --lang ko run` is Korean.
    def lang_option(command, key: str = "lang") -> None:
        command.add_argument("--lang", choices=LANGS, default=lang,
                             help=say(key, default=locale_lang()))

    count = functools.partial(_positive_int, lang=lang)
    parser = argparse.ArgumentParser(prog="dlfs", description=say("description"))
    parser.add_argument("--version", action="version", version=f"dlfs {__version__}",
                        help=say("version"))
    parser.add_argument("--traceback", action="store_true", help=say("traceback"))
    lang_option(parser)
    commands = parser.add_subparsers(dest="command", required=True)

    def command(name: str, func):
        sub = commands.add_parser(name, help=say(name), description=say(name))
        sub.set_defaults(func=func)
        return sub

    listing = command("list", cmd_list)
    lang_option(listing)

    run = command("run", cmd_run)
    run.add_argument("names", nargs="*", metavar="NAME", help=say("names"))
    run.add_argument("--dataset", default="auto", metavar="NAME|DIR|FILE.npz",
                     help=say("run_dataset"))
    run.add_argument("--data-root", default=None, help=say("data_root"))
    run.add_argument("--seed", type=count, default=0, help=say("seed"))
    run.add_argument("--seeds", type=functools.partial(_seeds, lang=lang), default=None,
                     metavar="N|S1,S2,…", help=say("seeds"))
    run.add_argument("--out", default=None, help=say("run_out"))
    run.add_argument("--quick", action="store_true", help=say("quick"))
    run.add_argument("--force", action="store_true", help=say("force"))
    lang_option(run)
    run.add_argument("--workers", type=count, default=0, help=say("workers"))
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help=say("set"))
    run.add_argument("--config", default=None, metavar="FILE.toml", help=say("run_config"))
    run.add_argument("--replot", action="store_true", help=say("replot"))
    run.add_argument("--formats", default=None, metavar="png,svg",
                     help=catalogue.text("lab.formats_help", lang).replace("%", "%%"))
    run.add_argument("--explore", action="store_true",
                     help=catalogue.text("live.explore_help", lang).replace("%", "%%"))
    run.add_argument("--optimizer", action="append", default=[],
                     metavar="NAME=FILE::CLASS[:lr=…]", help=say("optimizer"))
    run.add_argument("--optimizer-timeout", type=functools.partial(_seconds, lang=lang),
                     default=300.0, metavar="SECONDS",
                     help=catalogue.text("bounds.optimizer_timeout_help", lang,
                                         default="300").replace("%", "%%"))

    show = command("show", cmd_show)
    show.add_argument("name", metavar="NAME", help=say("show_name"))
    show.add_argument("--out", default=None, help=say("read_out"))
    lang_option(show)

    report = command("report", cmd_report)
    report.add_argument("--out", default=None, help=say("read_out"))
    lang_option(report, "report_lang")

    browse = command("open", cmd_open)
    browse.add_argument("--out", default=None, help=say("read_out"))
    lang_option(browse)

    find = command("search", cmd_search)
    find.add_argument("--config", default=None, help=say("search_config"))
    find.add_argument("--study", default="dlfs-search", help=say("study"))
    find.add_argument("--storage", default=None, help=say("storage"))
    find.add_argument("--workers", type=count, default=1, help=say("search_workers"))
    find.add_argument("--n-trials", type=count, default=None, help=say("n_trials"))
    find.add_argument("--sampler", choices=("random", "tpe", "qmc"), default=None,
                      help=say("sampler"))
    find.add_argument("--pruner", choices=("none", "median", "sha", "hyperband"), default=None,
                      help=say("pruner"))
    find.add_argument("--epochs", type=count, default=None, help=say("epochs"))
    find.add_argument("--seed", type=count, default=None, help=say("search_seed"))
    find.add_argument("--dataset", choices=_DatasetChoices(), default=None, metavar="NAME",
                      help=say("search_dataset"))
    find.add_argument("--data-root", default=None, help=say("data_root"))
    find.add_argument("--out", default="search", help=say("search_out"))
    find.add_argument("--quick", action="store_true", help=say("search_quick"))
    find.add_argument("--force-resume", action="store_true",
                      help=catalogue.text("search.force_resume", lang).replace("%", "%%"))
    lang_option(find)

    data = command("data", cmd_data)
    data.add_argument("names", nargs="*", metavar="NAME", help=say("data_names"))
    data.add_argument("--root", default=None, help=say("data_folder"))
    data.add_argument("--fetch", action="store_true", help=say("fetch"))
    lang_option(data)

    check = commands.add_parser("check", help=catalogue.text("check.help", lang),
                                description=catalogue.text("check.help", lang))
    check.set_defaults(func=cmd_check)
    check.add_argument("file", metavar="FILE", help=catalogue.text("check.help_file", lang))
    check.add_argument("names", nargs="*", metavar="NAME",
                       help=catalogue.text("check.help_names", lang))
    check.add_argument("--json", action="store_true", help=catalogue.text("check.help_json", lang))
    check.add_argument("--timeout", type=float, default=DEFAULT_TIMEOUT, metavar="SECONDS",
                       help=catalogue.text("check.help_timeout", lang,
                                           default=f"{DEFAULT_TIMEOUT:g}").replace("%", "%%"))
    lang_option(check)
    add_class_arguments(check, lang)  # dlfs check --class DIR: a whole class (cli/classroom.py)
    return parser


@contextlib.contextmanager
def _interrupt_in_this_process_only():
    """Ctrl-C interrupts this process only: worker processes forked meanwhile (--workers)
    inherit a SIGINT handler that does nothing, so they print no traceback, and this process,
    interrupted, ends them as it leaves the pool. Only here, in the main thread."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return
    pid = os.getpid()

    def interrupt(signum, frame):
        if os.getpid() == pid:
            raise KeyboardInterrupt

    previous = signal.signal(signal.SIGINT, interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGINT, previous)


def _reader_gone() -> int:
    """The reader of stdout left (``dlfs list | head -1``): end quietly with the status a
    process killed by SIGPIPE has, as other commands in a pipe do. What Python still holds for
    stdout goes to /dev/null, so it cannot complain at exit."""
    devnull = os.open(os.devnull, os.O_WRONLY)
    os.dup2(devnull, sys.stdout.fileno())
    os.close(devnull)
    return 128 + getattr(signal, "SIGPIPE", 13)


@contextlib.contextmanager
def _lang_for_progress_bars(lang: str):
    """DLFS_LANG set to ``lang`` for the command (and the workers it starts), so progress bars
    speak it (dlfs._progress); restored after."""
    from dlfs._progress import LANG_ENV

    before = os.environ.get(LANG_ENV)
    os.environ[LANG_ENV] = lang
    try:
        yield
    finally:
        if before is None:
            os.environ.pop(LANG_ENV, None)
        else:
            os.environ[LANG_ENV] = before


@contextlib.contextmanager
def _warnings_said(lang: str):
    """dlfs's own warnings (a collapsed training, a capped sample count, an unreadable cache)
    printed as one line, "dlfs: warning: …" in ``lang``, not as Python's "FILE:LINE: Category:
    …" with the source line under it; others as Python prints them. Forked workers inherit it;
    restored after."""
    import warnings

    package = os.path.dirname(os.path.dirname(os.path.abspath(__file__))) + os.sep
    before = warnings.formatwarning

    def said(message, category, filename, lineno, line=None):
        if os.path.abspath(filename).startswith(package) or category.__module__.startswith(
                "dlfs"):
            return _say("cli_warnings.line", lang, message=message) + "\n"
        return before(message, category, filename, lineno, line)

    warnings.formatwarning = said
    try:
        yield
    finally:
        warnings.formatwarning = before


def main(argv=None) -> int:
    # Files only, never a window: matplotlib is imported by the commands that draw, and reads
    # its backend from here then (so do the lab's forked workers). The variable is put back
    # afterwards, so that a process calling main() (a test, a notebook) does not hand Agg to
    # what it starts later, such as a Jupyter kernel that must draw inline.
    previous = os.environ.get("MPLBACKEND")
    os.environ["MPLBACKEND"] = "Agg"
    try:
        return _main(argv)
    finally:
        if previous is None:
            os.environ.pop("MPLBACKEND", None)
        else:
            os.environ["MPLBACKEND"] = previous


def _main(argv) -> int:
    if "matplotlib" in sys.modules:  # imported already: switched
        sys.modules["matplotlib"].use("Agg")
    argv = sys.argv[1:] if argv is None else list(argv)
    lang = wanted_lang(argv)
    with argparse_in(lang):
        args = build_parser(lang).parse_args(argv)
    try:
        with (_interrupt_in_this_process_only(), _lang_for_progress_bars(args.lang),
              _warnings_said(args.lang)):
            status = args.func(args)
            sys.stdout.flush()  # a closed pipe shows here, not at exit
        return status
    except BrokenPipeError:
        return _reader_gone()
    except CliError as error:
        print(_say("errors.line", args.lang, message=error), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(_say("errors.interrupted", args.lang), file=sys.stderr)
        return 130
    except Exception as error:  # an unexpected failure: one line unless --traceback
        if args.traceback:
            raise
        if callable(getattr(error, "text", None)):  # said by the catalogue (dlfs._said)
            print(_say("errors.line", args.lang, message=error.text(args.lang)),
                  file=sys.stderr)
            return 1
        print(_say("errors.unexpected", args.lang, kind=type(error).__name__, message=error),
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
