"""The lab's runner: one experiment end to end (parameters, data, run, check, plot).

``run_experiment`` returns what a run produced, the record and the figures, and prints and
writes nothing: saving is the caller's business (``dlfs run`` writes results.json and the
figures; a notebook may show them instead).
"""

from __future__ import annotations

import json
import platform
import time
import warnings
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any

import numpy as np

from dlfs.catalogue import LANGS
from dlfs.experiments.base import Context, Experiment, can_fork, parallel_map, plain
from dlfs.experiments.figures import close as close_figure
from dlfs.experiments.figures import figure_lang, stamp

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass
class ExperimentResult:
    """One experiment's run: ``record``, every number and word of it as JSON-able data (what
    results.json holds), and ``figures``, one matplotlib Figure per language, drawn but not
    saved. ``record["figures"][lang]["labels"]`` is the language a figure is labelled in:
    English where no Korean font is installed."""

    record: dict[str, Any]
    figures: dict[str, Figure]  # lang -> figure

    def close(self) -> None:
        """Frees the figures (pyplot keeps every figure it made until it is closed)."""
        for fig in self.figures.values():
            close_figure(fig)


def versions() -> dict[str, str]:
    """The versions a result was computed with: Python, dlfs-lab, NumPy, Matplotlib."""
    found = {"python": platform.python_version()}
    for package in ("dlfs-lab", "numpy", "matplotlib"):
        try:
            found[package] = metadata.version(package)
        except metadata.PackageNotFoundError:
            found[package] = "not installed"
    return found


def check_seeds(seeds) -> list[int]:
    """``seeds`` as a list of distinct whole numbers >= 0, at least one; else a ValueError
    naming what is wrong (the command line checks its --seeds before this, in its language)."""
    seeds = list(seeds)
    if not seeds:
        raise ValueError("seeds must name at least one seed, got none")
    for seed in seeds:
        if isinstance(seed, bool) or not isinstance(seed, int | np.integer) or seed < 0:
            raise ValueError(f"seeds must be whole numbers >= 0, got {seed!r}")
    seeds = [int(seed) for seed in seeds]
    twice = [seed for i, seed in enumerate(seeds) if seed in seeds[:i]]
    if twice:
        raise ValueError(f"seeds must differ, got {twice[0]} twice")
    return seeds


def run_experiment(experiment: Experiment, ctx: Context, langs=LANGS,
                   overrides: dict[str, Any] | None = None,
                   seeds: Sequence[int] | None = None) -> ExperimentResult:
    """Runs ``experiment`` once per seed of ``seeds`` (default: ``ctx``'s seed alone), judges
    its claim on each run and draws its figure in every language of ``langs``.

    ``overrides`` changes parameters ({"lr": 0.5}, what ``dlfs run --set`` passes), checked
    by ``Experiment.parameters`` before anything runs; the record holds them as "overrides"
    beside the "parameters" actually used.

    Each seed's run is ``experiment.run`` with a Context of that seed, and its numbers are the
    same whether it runs alone or among other seeds: every run gets one BLAS thread and draws
    only from its own seed (see ``run_seeds``). A deterministic experiment (it draws nothing)
    runs once, for the first seed, and its record says so. The claim is judged on every run;
    the record's verdict holds in how many runs it held, and held only when it held in all
    (``aggregate_verdicts``). With more than one run the figure is ``experiment.plot_runs``
    (the mean and the spread), where the experiment has one, else ``plot`` of the first run.

    The results pass through JSON before they are judged and plotted, so the verdict and the
    figures are exactly what results.json will let anyone recompute. A quick run whose claim
    did not hold is "not judged" where the quick settings are too small to judge it
    (Experiment.judge). The data set is recorded after the run, from ``ctx.data``, for every
    experiment that needs data.
    """
    _check_langs(langs)
    seeds = check_seeds([ctx.seed] if seeds is None else seeds)
    params = experiment.parameters(ctx.quick, overrides)
    if experiment.needs_data and overrides:
        ctx.data.check_sample_settings(overrides)  # never more samples than exist
    start = time.perf_counter()
    runs = run_seeds(experiment, ctx, params, seeds[:1] if experiment.deterministic else seeds)
    wall = time.perf_counter() - start
    record = {
        "name": experiment.name,
        "chapter": experiment.chapter,
        "section": experiment.section,
        **experiment.texts(params),
        "parameters": plain(params),
        "overrides": plain(dict(overrides or {})),
        "seed": seeds[0],  # kept for readers older than "seeds"
        "seeds": seeds,
        "deterministic": experiment.deterministic,
        "quick": ctx.quick,
        # Quick mode shrank the settings (an experiment without quick_params runs the book's).
        "quick_settings": ctx.quick and bool(experiment.quick_params),
        "workers": ctx.workers,
        "dataset": ctx.data.info() if experiment.needs_data else None,
        "versions": versions(),
        "wall_time_s": round(wall, 3),
        "runs": runs,
    }
    return judge_and_draw(experiment, record, langs)


def replot(experiment: Experiment, record: dict, langs=LANGS) -> ExperimentResult:
    """The figures (and the verdict) of a saved record drawn again from its results, without
    training: the record of ``run_experiment`` with its texts, verdicts and figures made by
    today's code, and every number it ran with kept. A record older than several seeds (no
    "runs") is one run of its "seed"."""
    _check_langs(langs)
    if record.get("name") != experiment.name:
        raise ValueError(f"the record is of {record.get('name')!r}, not of {experiment.name!r}")
    runs = record.get("runs") or [{"seed": record["seed"], "results": record["results"]}]
    params = record["parameters"]
    saved = {**record, **experiment.texts(params),
             "seeds": record.get("seeds", [run["seed"] for run in runs]),
             "deterministic": record.get("deterministic", experiment.deterministic),
             "runs": [{key: run[key] for key in ("seed", "results", "wall_time_s") if key in run}
                      for run in runs]}
    return judge_and_draw(experiment, saved, langs)


def judge_and_draw(experiment: Experiment, record: dict, langs) -> ExperimentResult:
    """``record`` (its "runs" hold each seed's results) with each run's verdict, the verdict
    over all runs, the first run's results as "results", and the figures in ``langs``."""
    runs = record.pop("runs")
    for run in runs:
        run["verdict"] = experiment.judge(run["results"], record["quick"]).as_dict()
    drawn = {}
    for lang in langs:
        with warnings.catch_warnings():
            # No Korean font: the caller has the figures' labels in the record to tell people.
            warnings.simplefilter("ignore", RuntimeWarning)
            labels = figure_lang(lang)
        if len(runs) > 1 and experiment.plot_runs is not None:
            fig = experiment.plot_runs([run["results"] for run in runs], labels)
        else:
            fig = experiment.plot(runs[0]["results"], labels)
        stamp(fig, experiment.name, labels, record.get("dataset"))  # the book's figure number
        drawn[lang] = (labels, fig)
    record.update({
        "verdict": aggregate_verdicts(runs),
        "figures": {lang: {"labels": labels} for lang, (labels, _) in drawn.items()},
        "results": runs[0]["results"],  # the first seed's, where readers before "runs" look
        "runs": runs,
    })
    return ExperimentResult(record, {lang: fig for lang, (_, fig) in drawn.items()})


def aggregate_verdicts(runs: list[dict]) -> dict:
    """The verdict over several runs, each ``{"seed", "verdict"}``: held only when the claim
    held in every run; "held_in" k of "of" n, the runs judged; "detail" and "numbers" those of
    the first run that did not hold (one judged first), else of the first run.

    A run whose claim did not hold in quick settings is not judged (Experiment.judge), so the
    whole is not judged when its only failures are such runs: the claim held in k of k
    judged runs, and the others cannot tell."""
    verdicts = [run["verdict"] for run in runs]
    failed = [v for v in verdicts if not v["held"]]
    judged_failures = [v for v in failed if v["judged"]]
    shown = (judged_failures or failed or verdicts)[0]
    return {
        "held": not failed,
        "judged": not failed or bool(judged_failures),
        "detail": shown["detail"],
        "numbers": shown["numbers"],
        "held_in": sum(v["held"] for v in verdicts),
        "of": sum(v["judged"] for v in verdicts),
        "seeds": [{"seed": run["seed"], "held": run["verdict"]["held"],
                   "judged": run["verdict"]["judged"]} for run in runs],
    }


# -- several seeds -----------------------------------------------------------------------------


def run_seeds(experiment: Experiment, ctx: Context, params: dict, seeds: list[int]) -> list[dict]:
    """``experiment.run`` once per seed: [{"seed", "results", "wall_time_s"}, ...] in the order
    of ``seeds``, each results passed through JSON.

    Several seeds run side by side over ``ctx.workers`` processes (base.parallel_map), each
    run serial inside, when there are at least as many seeds as workers; else one after
    another, each run spreading its own independent runs over the workers. Either way a seed's
    numbers are the same: every experiment's numbers are independent of its worker count.
    A pool's worker cannot start a pool of its own, hence one level of processes, not two.

    ``ctx.cache`` keeps one cache per seed, so what an experiment shares with a later one of
    the same ``dlfs run`` (overfit's baseline, which weight-decay reuses) is shared per seed,
    also when a seed ran in a worker process: the worker's cache comes back with its results.
    """
    if experiment.needs_data:
        ctx.data  # noqa: B018  loaded once, here, before any worker process is forked
    caches = ctx.cache.setdefault(SEED_CACHES, {})
    side_by_side = 1 < len(seeds) and ctx.workers <= len(seeds) and can_fork()
    inner = 1 if side_by_side else ctx.workers
    shared = {"experiment": experiment, "ctx": ctx, "params": params, "caches": caches}
    runs = parallel_map(_run_seed, [(seed, inner, side_by_side) for seed in seeds],
                        ctx.workers if side_by_side else 1, shared,
                        ctx.progress and side_by_side)
    for run in runs:
        caches[run["seed"]] = run.pop("cache")
    return runs


SEED_CACHES = "runner.seeds"  # ctx.cache[SEED_CACHES][seed]: the cache of that seed's runs


def _run_seed(shared: dict, seed: int, workers: int, in_worker: bool) -> dict:
    experiment, base = shared["experiment"], shared["ctx"]
    ctx = Context(seed=seed, quick=base.quick, workers=workers,
                  load_data=lambda: base.data, progress=base.progress and not in_worker,
                  cache=shared["caches"].get(seed, {}), planned=base.planned)
    start = time.perf_counter()
    results = json.loads(json.dumps(plain(experiment.run(ctx, shared["params"]))))
    return {"seed": seed, "results": results,
            "wall_time_s": round(time.perf_counter() - start, 3), "cache": ctx.cache}


def _check_langs(langs) -> None:
    unknown = [lang for lang in langs if lang not in LANGS]
    if unknown:
        raise ValueError(f"langs must be drawn from {LANGS}, got {unknown[0]!r}")
