"""The ``dlfs`` command: the only place that parses arguments, prints or writes files.

    dlfs list                              the experiments
    dlfs run NAME… | all [options]         run, plot and judge experiments into --out
    dlfs show NAME [--out DIR]             one result's claim, verdict and numbers
    dlfs report [--out DIR]                one self-contained HTML page of every result
    dlfs open [--out DIR]                  that page in the web browser
    dlfs search [options]                  hyperparameter search (book 6.5) into --out
    dlfs data [NAME…] [--root DIR] [--fetch]   where each data set is, or would be put

The work happens below: ``dlfs.experiments.run_experiment`` runs an experiment and returns its
record and figures, ``dlfs.search`` runs a study. This module prints what they did and writes
it through ``dlfs.io``, whose atomic writers keep a reader from ever seeing half a file.

Results go to ``results``, and to ``results-quick`` with ``--quick``, so a quick check never
replaces the book's numbers; show, report and open read ``results``, else ``results-quick``.
Every line printed comes from ``dlfs.catalogue`` in ``--lang`` (default: the locale's language,
see ``dlfs.cli_text``), the help included.
"""

from __future__ import annotations

import argparse
import functools
import json
import sys
import time
import warnings
from pathlib import Path

from dlfs import __version__, catalogue
from dlfs.catalogue import LANGS
from dlfs.cli_results import (
    FULL_OUT,
    QUICK_OUT,
    cmd_open,
    cmd_report,
    cmd_show,
    refuse_quick_over_full,
    verdict_words,
)
from dlfs.cli_text import CliError, argparse_in, locale_lang, os_reason, wanted_lang
from dlfs.cli_text import say as _say
from dlfs.data.lab import DATASET_CHOICES
from dlfs.io import atomic_dir, atomic_file, writable_folder, write_text

# -- data -----------------------------------------------------------------------------------


def load_lab_data(dataset: str, root, lang: str = "en", quiet: bool = False):
    """dlfs.data.load_lab_data, a substitute data set said in ``lang`` and a failure turned
    into a CliError."""
    from dlfs.data import DatasetError
    from dlfs.data import load_lab_data as load
    from dlfs.report import source_in

    try:
        data = load(dataset, root, progress=not quiet)
    except DatasetError as error:
        raise CliError(str(error)) from None
    if data.substitute_for and not quiet:
        print("dlfs: " + catalogue.text("cli.data_note", lang, wanted=data.substitute_for,
                                        used=data.title, source=source_in(data.source, lang)),
              file=sys.stderr)
    return data


# -- what a run changes: settings (--set, --config) and the data set (--dataset) ---------------


def run_overrides(args, experiments: list) -> dict[str, dict]:
    """The --config file's settings, then --set's (which win), checked against the named
    experiments' parameters before anything runs: {experiment name: its overrides}. Prints
    which experiments each setting applies to."""
    from dlfs.experiments import settings

    try:
        given = settings.read_settings(args.config) if args.config else {}
    except settings.SettingError as error:
        raise CliError(f"--config {error}") from None
    try:
        given.update(settings.parse_setting(item) for item in args.set)
        chosen = settings.settings_for(experiments, given, args.quick)
    except settings.SettingError as error:
        raise CliError(str(error)) from None
    for key in given:
        names = [name for name, changed in chosen.items() if key in changed]
        value = json.dumps(chosen[names[0]][key], ensure_ascii=False)
        print(catalogue.text("settings.applies", args.lang, setting=key, value=value,
                             names=", ".join(names)), flush=True)
    return chosen


def run_data(args, experiments: list):
    """ctx.load_data for --dataset: a named data set loads on first use; the learner's own
    (a folder or an .npz) is read now, so a bad file stops the run before anything ran."""
    load = functools.partial(load_lab_data, args.dataset, args.data_root, args.lang)
    if args.dataset in DATASET_CHOICES:
        return load
    if not Path(args.dataset).exists():
        raise CliError(f"--dataset {args.dataset!r}: choose {', '.join(DATASET_CHOICES)}, or "
                       "give a folder of MNIST-layout IDX files or an .npz file that exists")
    if args.data_root is not None:
        raise CliError(f"--data-root is where the named data sets are looked for; --dataset "
                       f"{args.dataset} is read where it is, so leave --data-root out")
    if not any(experiment.needs_data for experiment in experiments):
        return load
    data = load()
    return lambda: data


# -- writing results --------------------------------------------------------------------------


def _writable(out: Path, lang: str = "en") -> Path:
    try:
        return writable_folder(out)
    except OSError as error:
        raise CliError(_say("errors.not_writable", lang, out=out,
                            reason=os_reason(error, lang))) from None


def _save_figure(fig, folder: Path, stem: str) -> dict[str, str]:
    """Writes ``fig`` as STEM.png and STEM.svg in ``folder`` and closes it; returns the names."""
    from dlfs.experiments import figures

    names = {"png": f"{stem}.png", "svg": f"{stem}.svg"}
    for fmt, name in names.items():
        with atomic_file(folder / name) as handle:
            fig.savefig(handle, format=fmt, **({"dpi": 110} if fmt == "png" else {}))
    figures.close(fig)
    return names


def write_result(result, out: Path) -> dict:
    """Writes one experiment's result into out/NAME/ (results.json, figure.{en,ko}.{png,svg})
    in one swap, so no half-written result is ever seen; returns the record as saved."""
    record = result.record
    with atomic_dir(out / record["name"]) as folder:
        saved = {**record, "figures": {
            lang: {**_save_figure(fig, folder, f"figure.{lang}"), **record["figures"][lang]}
            for lang, fig in result.figures.items()}}
        write_text(folder / "results.json", json.dumps(saved, ensure_ascii=False, indent=1))
    return saved


# -- commands -------------------------------------------------------------------------------


def _resolve_names(names: list[str], lang: str = "en") -> list:
    from dlfs.experiments import EXPERIMENTS

    if not names:
        raise CliError(_say("errors.no_names", lang))
    if "all" in names:
        return list(EXPERIMENTS.values())
    unknown = [name for name in names if name not in EXPERIMENTS]
    if unknown:
        raise CliError(_say("errors.unknown_experiment", lang, name=unknown[0],
                            names=", ".join(EXPERIMENTS)))
    return [EXPERIMENTS[name] for name in dict.fromkeys(names)]


def cmd_run(args) -> int:
    from dlfs.experiments import VERDICT_STATES, Context, figures, run_experiment, verdict_state
    from dlfs.experiments.base import default_workers

    experiments = _resolve_names(args.names, args.lang)
    overrides = run_overrides(args, experiments)
    load_data = run_data(args, experiments)
    out = Path(args.out or (QUICK_OUT if args.quick else FULL_OUT))
    if args.quick and not args.force:
        refuse_quick_over_full(experiments, out, args.lang)
    out = _writable(out, args.lang)
    if figures.korean_font() is None:
        print("dlfs: " + catalogue.text("cli.no_font", args.lang), file=sys.stderr)
    workers = args.workers or default_workers()
    ctx = Context(seed=args.seed, quick=args.quick, workers=workers,
                  load_data=load_data, progress=sys.stderr.isatty())
    total_start = time.perf_counter()
    records = []
    for i, experiment in enumerate(experiments, start=1):
        params = experiment.parameters(ctx.quick, overrides[experiment.name])
        title = experiment.texts(params)["title"][args.lang]
        print(catalogue.text("cli.run_line", args.lang, index=i, count=len(experiments),
                             name=experiment.name, title=title), flush=True)
        record = write_result(run_experiment(experiment, ctx,
                                             overrides=overrides[experiment.name]), out)
        print(catalogue.text("cli.result_line", args.lang, seconds=record["wall_time_s"],
                             verdict=verdict_words(record, args.lang),
                             detail=record["verdict"]["detail"][args.lang]), flush=True)
        if verdict_state(record["verdict"]) == "not_judged":
            print(_say("output.not_judged_line", args.lang), flush=True)
        records.append(record)
    total = time.perf_counter() - total_start
    states = [verdict_state(r["verdict"]) for r in records]
    counts = {state: states.count(state) for state in VERDICT_STATES}
    write_text(out / "run.json", json.dumps({
        "experiments": [{"name": r["name"], "verdict": state, "held": r["verdict"]["held"],
                         "judged": r["verdict"]["judged"], "wall_time_s": r["wall_time_s"]}
                        for r, state in zip(records, states)],
        "verdicts": counts,
        "total_wall_time_s": round(total, 3), "quick": args.quick, "seed": args.seed,
        "workers": workers,
        "dataset": next((r["dataset"] for r in records if r["dataset"]), None)}, indent=1))
    summary = "output.summary_not_judged" if counts["not_judged"] else "cli.summary"
    print(_say(summary, args.lang, count=len(records), seconds=total, held=counts["held"],
               not_held=counts["not_held"], not_judged=counts["not_judged"], out=out))
    return 0


def cmd_list(args) -> int:
    from dlfs.experiments import EXPERIMENTS

    for experiment in EXPERIMENTS.values():
        data = catalogue.text("cli.needs_data", args.lang) if experiment.needs_data else ""
        print(catalogue.text("cli.list_line", args.lang, name=experiment.name,
                             chapter=experiment.chapter, section=experiment.section,
                             title=experiment.texts(experiment.params)["title"][args.lang],
                             data=data))
    return 0


def cmd_data(args) -> int:
    from dlfs.data import DATASETS, DatasetError, describe_location, download, find_dataset
    from dlfs.data.datasets import download_dir, get_spec
    from dlfs.report import source_in

    names = args.names or list(DATASETS)
    for name in names:
        try:
            spec = get_spec(name)
        except ValueError:
            raise CliError(_say("errors.unknown_dataset", args.lang, name=name,
                                names=", ".join(DATASETS))) from None
        location = find_dataset(spec.name, args.root)
        if location is None and args.fetch:
            try:
                download(spec.name, args.root)
            except DatasetError as error:
                raise CliError(str(error)) from None
            location = find_dataset(spec.name, args.root)
        if location is None:
            print(_say("output.data_missing", args.lang, title=spec.title, name=spec.name,
                       folder=download_dir(spec, args.root)))
        else:
            print(_say("output.data_found", args.lang, title=spec.title,
                       where=source_in(describe_location(spec.name, location), args.lang)))
    return 0


def _require(module: str, extra: str, purpose: str, lang: str = "en") -> None:
    """A CliError with the pip command that adds ``module``, when it is not installed."""
    import importlib

    try:
        importlib.import_module(module)
    except ImportError:
        raise CliError(_say("errors.missing_package", lang, purpose=purpose, module=module,
                            extra=extra)) from None


def cmd_search(args) -> int:
    import optuna

    from dlfs import search
    from dlfs.experiments import hyperparameter_search as lab

    overrides = {"n_trials": args.n_trials, "sampler": args.sampler, "pruner": args.pruner,
                 "epochs": args.epochs, "seed": args.seed, "dataset": args.dataset,
                 "data_root": args.data_root}
    if args.quick:
        overrides = {"n_trials": 8, "epochs": 5, "hidden_sizes": [50] * 2} | {
            k: v for k, v in overrides.items() if v is not None}
    try:
        config = search.load_config(args.config, **overrides)
    except ValueError as error:
        raise CliError(str(error)) from None
    out = _writable(Path(args.out), args.lang)
    default = search.default_storage(out)
    storage = args.storage or default
    if not storage.startswith(("sqlite:///", "postgresql")):
        raise CliError(_say("errors.bad_storage", args.lang, storage=storage))
    if storage.startswith("postgresql"):
        _require("psycopg", "postgres", _say("errors.postgres_storage", args.lang), args.lang)
    data = load_lab_data(config.dataset, config.data_root, args.lang)
    start = time.perf_counter()
    print(_say("output.search_start", args.lang, study=args.study, storage=storage,
               n_trials=config.n_trials, sampler=config.sampler, pruner=config.pruner,
               workers=args.workers), flush=True)
    try:
        ran = search.search(config, args.study, storage, args.workers, data=data,
                            progress=sys.stderr.isatty())
    except optuna.exceptions.StorageInternalError as error:
        raise CliError(_say("errors.storage_failed", args.lang, storage=storage,
                            error=error)) from None
    study = search.open_study(config, args.study, storage)
    summary = search.summarize(study)
    write_text(out / "trials.json", json.dumps(
        {"config": config.as_dict(), "study": args.study, "dataset": data.info(), **summary},
        indent=1, default=str))
    if summary["best"] is None:
        raise CliError(_say("errors.no_trial", args.lang))
    write_text(out / "best.json", json.dumps(
        {"value": summary["best"]["value"], "params": summary["best"]["params"],
         "trial": summary["best"]["number"]}, indent=1))
    write_text(out / "top_trials.md", search.top_trials_markdown(summary))
    _save_figure(lab.plot_best(summary, "en"), out, "best")
    _save_figure(lab.plot_space(summary, "en"), out, "space")
    for stem, plot in (("history", optuna.visualization.matplotlib.plot_optimization_history),
                       ("importance", optuna.visualization.matplotlib.plot_param_importances)):
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                axes = plot(study)
        except (ValueError, RuntimeError) as error:  # e.g. too few completed trials
            print("dlfs: " + _say("output.search_no_plot", args.lang, stem=stem, error=error),
                  file=sys.stderr)
            continue
        axes.figure.tight_layout()
        _save_figure(axes.figure, out, stem)
    best = summary["best"]
    print(_say("output.search_done", args.lang, ran=ran, seconds=time.perf_counter() - start,
               value=best["value"], number=best["number"], out=out,
               params=", ".join(f"{k}={v:.3g}" for k, v in best["params"].items())))
    return 0


# -- argument parsing -----------------------------------------------------------------------


def _positive_int(value: str, lang: str = "en") -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(_say("errors.whole_number", lang, value=value)) from None
    if number < 0:
        raise argparse.ArgumentTypeError(_say("errors.not_negative", lang, value=value))
    return number


def build_parser(lang: str = "en") -> argparse.ArgumentParser:
    """The command's parser, its help in ``lang`` (argparse's own words too, inside
    ``cli_text.argparse_in(lang)``); every --lang defaults to ``lang``."""
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
    run.add_argument("--out", default=None, help=say("run_out"))
    run.add_argument("--quick", action="store_true", help=say("quick"))
    run.add_argument("--force", action="store_true", help=say("force"))
    lang_option(run)
    run.add_argument("--workers", type=count, default=0, help=say("workers"))
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help=say("set"))
    run.add_argument("--config", default=None, metavar="FILE.toml", help=say("run_config"))

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
    find.add_argument("--dataset", choices=DATASET_CHOICES, default=None,
                      help=say("search_dataset"))
    find.add_argument("--data-root", default=None, help=say("data_root"))
    find.add_argument("--out", default="search", help=say("search_out"))
    find.add_argument("--quick", action="store_true", help=say("search_quick"))
    lang_option(find)

    data = command("data", cmd_data)
    data.add_argument("names", nargs="*", metavar="NAME", help=say("data_names"))
    data.add_argument("--root", default=None, help=say("data_folder"))
    data.add_argument("--fetch", action="store_true", help=say("fetch"))
    lang_option(data)
    return parser


def main(argv=None) -> int:
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    argv = sys.argv[1:] if argv is None else list(argv)
    lang = wanted_lang(argv)
    with argparse_in(lang):
        args = build_parser(lang).parse_args(argv)
    try:
        return args.func(args)
    except CliError as error:
        print(_say("errors.line", args.lang, message=error), file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print(_say("errors.interrupted", args.lang), file=sys.stderr)
        return 130
    except Exception as error:  # an unexpected failure: one line unless --traceback
        if args.traceback:
            raise
        print(_say("errors.unexpected", args.lang, kind=type(error).__name__, message=error),
              file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
