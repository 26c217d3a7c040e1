"""dlfs search: a study run by dlfs.search, its results and figures written to --out."""

from __future__ import annotations

import json
import signal
import sys
import time
import warnings
from pathlib import Path

from dlfs._said import said_in
from dlfs.cli.run import _save_figure, _writable, load_lab_data
from dlfs.cli.text import CliError
from dlfs.cli.text import say as _say
from dlfs.io import write_text


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
    import sqlalchemy

    from dlfs import search
    from dlfs.experiments import hyperparameter_search as lab

    overrides = {"n_trials": args.n_trials, "sampler": args.sampler, "pruner": args.pruner,
                 "epochs": args.epochs, "seed": args.seed, "dataset": args.dataset,
                 "data_root": args.data_root}
    if args.quick:
        overrides = {"n_trials": 8, "epochs": 5, "hidden_sizes": [50] * 2} | {
            k: v for k, v in overrides.items() if v is not None}
    # Every setting is checked before the data set is loaded or the storage created.
    try:
        config = search.load_config(args.config, **overrides)
        search.workers.check_workers(args.workers)
    except ValueError as error:
        raise CliError(said_in(error, args.lang)) from None
    out = _writable(Path(args.out), args.lang)
    storage = args.storage or search.default_storage(out)
    shown = search.mask(storage)  # a PostgreSQL password is never printed
    try:
        search.storage.parse(storage)
    except ValueError:
        raise CliError(_say("errors.bad_storage", args.lang, storage=shown)) from None
    if storage.startswith("postgresql"):
        _require("psycopg", "postgres", _say("errors.postgres_storage", args.lang), args.lang)
    data = load_lab_data(config.dataset, config.data_root, args.lang)
    from dlfs.data.idx import DatasetError

    try:  # a default train_samples above what the data set holds: what it holds, said
        config, capped = search.objective.fit_samples(config, data)
    except DatasetError as error:
        raise CliError(error.text(args.lang)) from None
    if capped is not None:
        print("dlfs: " + _say("said.samples_capped_search", args.lang, title=data.title,
                              **capped), file=sys.stderr)
    start = time.perf_counter()
    print(_say("output.search_start", args.lang, study=args.study, storage=shown,
               n_trials=config.n_trials, sampler=config.sampler, pruner=config.pruner,
               workers=args.workers), flush=True)
    force = getattr(args, "force_resume", False)
    try:
        ran = search.search(config, args.study, storage, args.workers, data=data,
                            progress=sys.stderr.isatty(), force_resume=force)
        study = search.open_study(config, args.study, storage, force_resume=True)
    except search.SearchStopped as stopped:
        print(_say("errors.line", args.lang, message=_say(
            "search.stopped", args.lang, signal=signal.Signals(stopped.signum).name,
            study=args.study)),
            file=sys.stderr)
        return 128 + stopped.signum
    except ValueError as error:  # the study was run with other settings
        raise CliError(search.storage.scrub(said_in(error, args.lang), storage)) from None
    except (search.SearchError, optuna.exceptions.OptunaError,
            sqlalchemy.exc.SQLAlchemyError) as error:
        message = " ".join(search.storage.scrub(said_in(error, args.lang), storage).split())
        raise CliError(_say("errors.storage_failed", args.lang, storage=shown,
                            error=message)) from None
    summary = search.summarize(study)
    write_text(out / "trials.json", json.dumps(
        {"config": config.as_dict(), "study": args.study, "storage": shown,
         "dataset": data.info(), **summary},
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
