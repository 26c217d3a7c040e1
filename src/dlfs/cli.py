"""The ``dlfs`` command: the only place that parses arguments, prints or writes files.

    dlfs list                              the experiments
    dlfs run NAME… | all [options]         run, plot and judge experiments into --out
    dlfs report [--out DIR]                one self-contained HTML page of every result
    dlfs data [NAME…] [--root DIR] [--fetch]   where each data set is, or would be put
"""

from __future__ import annotations

import argparse
import json
import platform
import shutil
import sys
import tempfile
import time
import warnings
from importlib import metadata
from pathlib import Path

from dlfs.data.lab import DATASET_CHOICES
from dlfs.io import write_text

LANGS = ("en", "ko")


class CliError(Exception):
    """A bad argument or environment: printed as one line, exit status 2."""


# -- data -----------------------------------------------------------------------------------


def load_lab_data(dataset: str, root, quiet: bool = False):
    """dlfs.data.load_lab_data, its note printed and its failure turned into a CliError."""
    from dlfs.data import DatasetError
    from dlfs.data import load_lab_data as load

    try:
        data = load(dataset, root, progress=not quiet)
    except DatasetError as error:
        raise CliError(str(error)) from None
    if data.note and not quiet:
        print(f"dlfs: {data.note}", file=sys.stderr)
    return data


# -- running experiments --------------------------------------------------------------------


def _versions() -> dict[str, str]:
    versions = {"python": platform.python_version()}
    for package in ("dlfs-lab", "numpy", "matplotlib"):
        try:
            versions[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            versions[package] = "not installed"
    return versions


def _check_out(out: Path) -> Path:
    try:
        out.mkdir(parents=True, exist_ok=True)
        probe = tempfile.NamedTemporaryFile(dir=out, prefix=".write-test-", delete=True)
        probe.close()
    except OSError as error:
        raise CliError(f"--out {out} is not a writable folder: {error.strerror or error}") from None
    return out


def _replace_dir(tmp: Path, final: Path) -> None:
    """Moves a finished result folder into place, so no half-written result is ever seen."""
    old = None
    if final.exists():
        old = final.with_name(f".{final.name}.old")
        shutil.rmtree(old, ignore_errors=True)
        final.rename(old)
    tmp.rename(final)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)


def run_one(experiment, ctx, out: Path, dataset_info: dict | None) -> dict:
    """Runs, judges and plots one experiment into out/NAME/ (results.json, figures)."""
    from dlfs.experiments import figures
    from dlfs.experiments.base import plain

    start = time.perf_counter()
    results = json.loads(json.dumps(plain(experiment.run(ctx, experiment.parameters(ctx.quick)))))
    wall = time.perf_counter() - start
    verdict = experiment.check(results)
    record = {
        "name": experiment.name,
        "chapter": experiment.chapter,
        "section": experiment.section,
        **experiment.texts(experiment.parameters(ctx.quick)),
        "parameters": plain(experiment.parameters(ctx.quick)),
        "seed": ctx.seed,
        "quick": ctx.quick,
        "workers": ctx.workers,
        "dataset": dataset_info,
        "versions": _versions(),
        "wall_time_s": round(wall, 3),
        "verdict": verdict.as_dict(),
        "figures": {},
        "results": results,
    }
    out.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{experiment.name}.", dir=out))
    try:
        for lang in LANGS:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore", RuntimeWarning)
                drawn_lang = figures.figure_lang(lang)
            fig = experiment.plot(results, drawn_lang)
            record["figures"][lang] = {"png": f"figure.{lang}.png", "svg": f"figure.{lang}.svg",
                                       "labels": drawn_lang}
            fig.savefig(tmp / f"figure.{lang}.png", dpi=110)
            fig.savefig(tmp / f"figure.{lang}.svg")
            figures.close(fig)
        write_text(tmp / "results.json", json.dumps(record, ensure_ascii=False, indent=1))
        _replace_dir(tmp, out / experiment.name)
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    return record


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
    from dlfs.experiments import Context
    from dlfs.experiments.base import default_workers

    experiments = _resolve_names(args.names)
    out = _check_out(Path(args.out))
    from dlfs.experiments import figures

    if figures.korean_font() is None:
        print("dlfs: warning: no Korean font found (install fonts-noto-cjk or fonts-nanum); "
              "the Korean figures are labelled in English", file=sys.stderr)
    data_holder = {}

    def load():
        data = load_lab_data(args.dataset, args.data_root)
        data_holder["info"] = {"name": data.name, "title": data.title, "source": data.source}
        return data

    workers = args.workers or default_workers()
    ctx = Context(seed=args.seed, quick=args.quick, workers=workers, load_data=load,
                  progress=sys.stderr.isatty())
    total_start = time.perf_counter()
    summary = []
    for i, experiment in enumerate(experiments, start=1):
        title = experiment.texts(experiment.parameters(ctx.quick))["title"][args.lang]
        print(f"[{i}/{len(experiments)}] {experiment.name}: {title} …", flush=True)
        record = run_one(experiment, ctx, out,
                         data_holder.get("info") if experiment.needs_data else None)
        held = record["verdict"]["held"]
        verdict = {"en": ("claim held" if held else "claim NOT held"),
                   "ko": ("주장 성립" if held else "주장 불성립")}[args.lang]
        print(f"    {record['wall_time_s']:.1f} s, {verdict}: "
              f"{record['verdict']['detail'][args.lang]}", flush=True)
        summary.append((experiment.name, held, record["wall_time_s"]))
    total = time.perf_counter() - total_start
    write_text(out / "run.json", json.dumps({
        "experiments": [{"name": n, "held": h, "wall_time_s": w} for n, h, w in summary],
        "total_wall_time_s": round(total, 3), "quick": args.quick, "seed": args.seed,
        "workers": workers, "dataset": data_holder.get("info")}, indent=1))
    held = sum(h for _, h, _ in summary)
    print(f"{len(summary)} experiments in {total:.1f} s; {held} claims held, "
          f"{len(summary) - held} not; results in {out}")
    return 0


def cmd_list(args) -> int:
    from dlfs.experiments import EXPERIMENTS

    for experiment in EXPERIMENTS.values():
        data = " (data)" if experiment.needs_data else ""
        print(f"{experiment.name:24} ch.{experiment.chapter} §{experiment.section:6} "
              f"{experiment.texts(experiment.params)['title'][args.lang]}{data}")
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


def _save_figure(fig, folder: Path, stem: str) -> None:
    from dlfs.experiments import figures

    fig.savefig(folder / f"{stem}.png", dpi=110)
    fig.savefig(folder / f"{stem}.svg")
    figures.close(fig)


def cmd_search(args) -> int:
    import optuna

    from dlfs import search

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
    out = _check_out(Path(args.out))
    default = search.default_storage(out)
    storage = args.storage or default
    if not storage.startswith(("sqlite:///", "postgresql")):
        raise CliError(f"--storage {storage!r}: use sqlite:///PATH or postgresql://USER@HOST/DB")
    start = time.perf_counter()
    print(f"study {args.study!r} in {storage}: {config.n_trials} trials, {config.sampler} "
          f"sampler, {config.pruner} pruner, {args.workers} worker(s)", flush=True)
    try:
        ran = search.search(config, args.study, storage, workers=args.workers)
    except optuna.exceptions.StorageInternalError as error:
        raise CliError(f"the storage {storage} failed: {error}") from None
    study = search.open_study(config, args.study, storage)
    summary = search.summarize(study)
    write_text(out / "trials.json", json.dumps(
        {"config": config.as_dict(), "study": args.study, **summary}, indent=1, default=str))
    if summary["best"] is None:
        raise CliError("no trial completed; every trial failed (see trials.json)")
    write_text(out / "best.json", json.dumps(
        {"value": summary["best"]["value"], "params": summary["best"]["params"],
         "trial": summary["best"]["number"]}, indent=1))
    write_text(out / "top_trials.md", search.top_trials_markdown(summary))
    _save_figure(search.plot_best(summary, "en"), out, "best")
    _save_figure(search.plot_space(summary, "en"), out, "space")
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
    parser.add_argument("--traceback", action="store_true",
                        help="show the full traceback of an unexpected error")
    commands = parser.add_subparsers(dest="command", required=True)

    listing = commands.add_parser("list", help="list the experiments")
    listing.add_argument("--lang", choices=LANGS, default="en")
    listing.set_defaults(func=cmd_list)

    run = commands.add_parser("run", help="run experiments: names, or all")
    run.add_argument("names", nargs="*", metavar="NAME")
    run.add_argument("--dataset", choices=DATASET_CHOICES, default="auto",
                     help="auto: MNIST where available, else Fashion-MNIST (default)")
    run.add_argument("--data-root", default=None, help="a folder holding the data set's files")
    run.add_argument("--seed", type=_positive_int, default=0)
    run.add_argument("--out", default="results", help="result folder (default: results)")
    run.add_argument("--quick", action="store_true", help="small settings, for a fast check")
    run.add_argument("--lang", choices=LANGS, default="en", help="language of the messages")
    run.add_argument("--workers", type=_positive_int, default=0,
                     help="processes for independent runs (default: one per core)")
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
