"""The ``dlfs`` command: the only place that parses arguments, prints or writes files.

    dlfs list                              the experiments
    dlfs run NAME… | all [options]         run, plot and judge experiments into --out
    dlfs report [--out DIR]                one self-contained HTML page of every result
    dlfs search [options]                  hyperparameter search (book 6.5) into --out
    dlfs data [NAME…] [--root DIR] [--fetch]   where each data set is, or would be put

The work happens below: ``dlfs.experiments.run_experiment`` runs an experiment and returns its
record and figures, ``dlfs.search`` runs a study. This module prints what they did and writes
it through ``dlfs.io``, whose atomic writers keep a reader from ever seeing half a file.
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
from dlfs.data.lab import DATASET_CHOICES
from dlfs.io import atomic_dir, atomic_file, writable_folder, write_text


class CliError(Exception):
    """A bad argument or environment: printed as one line, exit status 2."""


# -- data -----------------------------------------------------------------------------------


def load_lab_data(dataset: str, root, lang: str = "en", quiet: bool = False):
    """dlfs.data.load_lab_data, a substitute data set said in ``lang`` and a failure turned
    into a CliError."""
    from dlfs.data import DatasetError
    from dlfs.data import load_lab_data as load

    try:
        data = load(dataset, root, progress=not quiet)
    except DatasetError as error:
        raise CliError(str(error)) from None
    if data.substitute_for and not quiet:
        print("dlfs: " + catalogue.text("cli.data_note", lang, wanted=data.substitute_for,
                                        used=data.title, source=data.source), file=sys.stderr)
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


def _writable(out: Path) -> Path:
    try:
        return writable_folder(out)
    except OSError as error:
        raise CliError(f"--out {out} is not a writable folder: {error.strerror or error}") from None


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


def _resolve_names(names: list[str]) -> list:
    from dlfs.experiments import EXPERIMENTS

    if not names:
        raise CliError("name at least one experiment, or all (see: dlfs list)")
    if "all" in names:
        return list(EXPERIMENTS.values())
    unknown = [name for name in names if name not in EXPERIMENTS]
    if unknown:
        raise CliError(f"unknown experiment {unknown[0]!r}; choose from: "
                       f"{', '.join(EXPERIMENTS)}, or all")
    return [EXPERIMENTS[name] for name in dict.fromkeys(names)]


def cmd_run(args) -> int:
    from dlfs.experiments import Context, figures, run_experiment
    from dlfs.experiments.base import default_workers

    experiments = _resolve_names(args.names)
    overrides = run_overrides(args, experiments)
    load_data = run_data(args, experiments)
    out = _writable(Path(args.out))
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
        verdict = catalogue.word("held" if record["verdict"]["held"] else "not_held", args.lang)
        print(catalogue.text("cli.result_line", args.lang, seconds=record["wall_time_s"],
                             verdict=verdict, detail=record["verdict"]["detail"][args.lang]),
              flush=True)
        records.append(record)
    total = time.perf_counter() - total_start
    write_text(out / "run.json", json.dumps({
        "experiments": [{"name": r["name"], "held": r["verdict"]["held"],
                         "wall_time_s": r["wall_time_s"]} for r in records],
        "total_wall_time_s": round(total, 3), "quick": args.quick, "seed": args.seed,
        "workers": workers,
        "dataset": next((r["dataset"] for r in records if r["dataset"]), None)}, indent=1))
    held = sum(r["verdict"]["held"] for r in records)
    print(catalogue.text("cli.summary", args.lang, count=len(records), seconds=total,
                         held=held, not_held=len(records) - held, out=out))
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


def cmd_report(args) -> int:
    from dlfs.report import build_report

    out = Path(args.out)
    if not out.is_dir():
        raise CliError(f"--out {out} is not a folder; run experiments first (dlfs run all)")
    html, count = build_report(out, default_lang=args.lang)
    if count == 0:
        raise CliError(f"no results in {out}; run experiments first (dlfs run all --out {out})")
    target = out / "report.html"
    write_text(target, html)
    print(f"report of {count} experiments: {target}")
    return 0


def cmd_data(args) -> int:
    from dlfs.data import DATASETS, DatasetError, describe_location, download, find_dataset
    from dlfs.data.datasets import download_dir, get_spec

    names = args.names or list(DATASETS)
    for name in names:
        try:
            spec = get_spec(name)
        except ValueError as error:
            raise CliError(str(error)) from None
        location = find_dataset(spec.name, args.root)
        if location is None and args.fetch:
            try:
                download(spec.name, args.root)
            except DatasetError as error:
                raise CliError(str(error)) from None
            location = find_dataset(spec.name, args.root)
        if location is None:
            print(f"{spec.title}: not found; a download would go to "
                  f"{download_dir(spec, args.root)} (dlfs data {spec.name} --fetch)")
        else:
            print(f"{spec.title}: {describe_location(spec.name, location)}")
    return 0


def _require(module: str, extra: str, purpose: str) -> None:
    """A CliError with the pip command that adds ``module``, when it is not installed."""
    import importlib

    try:
        importlib.import_module(module)
    except ImportError:
        raise CliError(f"{purpose} needs the package {module}, which is not installed; add it "
                       f"with: pip install 'dlfs-lab[{extra}]'") from None


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
    out = _writable(Path(args.out))
    default = search.default_storage(out)
    storage = args.storage or default
    if not storage.startswith(("sqlite:///", "postgresql")):
        raise CliError(f"--storage {storage!r}: use sqlite:///PATH or postgresql://USER@HOST/DB")
    if storage.startswith("postgresql"):
        _require("psycopg", "postgres", "a PostgreSQL --storage")
    data = load_lab_data(config.dataset, config.data_root)
    start = time.perf_counter()
    print(f"study {args.study!r} in {storage}: {config.n_trials} trials, {config.sampler} "
          f"sampler, {config.pruner} pruner, {args.workers} worker(s)", flush=True)
    try:
        ran = search.search(config, args.study, storage, args.workers, data=data,
                            progress=sys.stderr.isatty())
    except optuna.exceptions.StorageInternalError as error:
        raise CliError(f"the storage {storage} failed: {error}") from None
    study = search.open_study(config, args.study, storage)
    summary = search.summarize(study)
    write_text(out / "trials.json", json.dumps(
        {"config": config.as_dict(), "study": args.study, "dataset": data.info(), **summary},
        indent=1, default=str))
    if summary["best"] is None:
        raise CliError("no trial completed; every trial failed (see trials.json)")
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
            print(f"dlfs: no {stem} plot: {error}", file=sys.stderr)
            continue
        axes.figure.tight_layout()
        _save_figure(axes.figure, out, stem)
    best = summary["best"]
    print(f"{ran} trials run here in {time.perf_counter() - start:.1f} s; best validation "
          f"accuracy {best['value']:.3f} (trial {best['number']}) with "
          + ", ".join(f"{k}={v:.3g}" for k, v in best["params"].items()) + f"; results in {out}")
    return 0


# -- argument parsing -----------------------------------------------------------------------


def _positive_int(value: str) -> int:
    try:
        number = int(value)
    except ValueError:
        raise argparse.ArgumentTypeError(f"expected a whole number, got {value!r}") from None
    if number < 0:
        raise argparse.ArgumentTypeError(f"expected a number >= 0, got {value}")
    return number


def build_parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dlfs", description="Deep Learning from Scratch, chapters 4-6: the experiment lab.")
    parser.add_argument("--version", action="version", version=f"dlfs {__version__}")
    parser.add_argument("--traceback", action="store_true",
                        help="show the full traceback of an unexpected error")
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="list the experiments")
    listing.add_argument("--lang", choices=LANGS, default="en")
    listing.set_defaults(func=cmd_list)

    run = commands.add_parser("run", help="run experiments: names, or all")
    run.add_argument("names", nargs="*", metavar="NAME")
    run.add_argument("--dataset", default="auto", metavar="NAME|DIR|FILE.npz",
                     help="auto: MNIST where available, else Fashion-MNIST (default); mnist; "
                          "fashion-mnist; or your own: a folder of MNIST-layout IDX files, or "
                          "an .npz with x_train, t_train, x_test, t_test")
    run.add_argument("--data-root", default=None, help="a folder holding the data set's files")
    run.add_argument("--seed", type=_positive_int, default=0)
    run.add_argument("--out", default="results", help="result folder (default: results)")
    run.add_argument("--quick", action="store_true", help="small settings, for a fast check")
    run.add_argument("--lang", choices=LANGS, default="en", help="language of the messages")
    run.add_argument("--workers", type=_positive_int, default=0,
                     help="processes for independent runs (default: one per core)")
    run.add_argument("--set", action="append", default=[], metavar="KEY=VALUE",
                     help="change a parameter, e.g. --set lr=0.5 --set hidden_sizes=[50,50] "
                          "(TOML values; a wrong KEY lists the valid ones)")
    run.add_argument("--config", default=None, metavar="FILE.toml",
                     help="a TOML file of KEY = VALUE settings; --set wins")
    run.set_defaults(func=cmd_run)

    report = commands.add_parser("report", help="write report.html from the results in --out")
    report.add_argument("--out", default="results")
    report.add_argument("--lang", choices=LANGS, default="en", help="the page's first language")
    report.set_defaults(func=cmd_report)

    find = commands.add_parser("search", help="hyperparameter search (book 6.5) on Optuna")
    find.add_argument("--config", default=None, help="a TOML file of search settings")
    find.add_argument("--study", default="dlfs-search", help="study name (rerun to resume)")
    find.add_argument("--storage", default=None,
                      help="Optuna RDB URL, e.g. postgresql://user@host/db (default: "
                           "sqlite in --out)")
    find.add_argument("--workers", type=_positive_int, default=1,
                      help="worker processes on this machine")
    find.add_argument("--n-trials", type=_positive_int, default=None)
    find.add_argument("--sampler", choices=("random", "tpe", "qmc"), default=None)
    find.add_argument("--pruner", choices=("none", "median", "sha", "hyperband"), default=None)
    find.add_argument("--epochs", type=_positive_int, default=None)
    find.add_argument("--seed", type=_positive_int, default=None)
    find.add_argument("--dataset", choices=DATASET_CHOICES, default=None)
    find.add_argument("--data-root", default=None)
    find.add_argument("--out", default="search")
    find.add_argument("--quick", action="store_true", help="8 trials of 5 epochs on 784-50-50-10")
    find.set_defaults(func=cmd_search)

    data = commands.add_parser("data", help="where each data set is, or would be downloaded")
    data.add_argument("names", nargs="*", metavar="NAME")
    data.add_argument("--root", default=None)
    data.add_argument("--fetch", action="store_true", help="download what is missing")
    data.set_defaults(func=cmd_data)
    return parser


def main(argv=None) -> int:
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    parser = build_parser()
    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except CliError as error:
        print(f"dlfs: error: {error}", file=sys.stderr)
        return 2
    except KeyboardInterrupt:
        print("dlfs: interrupted", file=sys.stderr)
        return 130
    except Exception as error:  # an unexpected failure: one line unless --traceback
        if args.traceback:
            raise
        print(f"dlfs: error: {type(error).__name__}: {error} (rerun with --traceback for "
              "details)", file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
