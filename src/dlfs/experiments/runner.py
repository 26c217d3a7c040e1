"""One experiment's record: its parameters, runs, verdict and figures (lab.py runs the jobs).

``run_experiment`` runs one experiment through the lab and returns what it produced, the
record and the figures, and prints and writes nothing: saving is the caller's business
(``dlfs run`` writes results.json and the figures; a notebook may show them instead).
"""

from __future__ import annotations

import platform
import warnings
from collections.abc import Sequence
from dataclasses import dataclass, field
from importlib import metadata
from typing import TYPE_CHECKING, Any

import numpy as np

from dlfs.catalogue import LANGS
from dlfs.experiments.base import Context, Experiment, plain
from dlfs.experiments.figures import close as close_figure
from dlfs.experiments.figures import figure_lang, stamp

if TYPE_CHECKING:
    from matplotlib.figure import Figure


@dataclass
class ExperimentResult:
    """One experiment's run: ``record``, every number and word of it as JSON-able data (what
    results.json holds), and ``figures``, one matplotlib Figure per language, drawn but not
    saved, or ``rendered``, each figure as the bytes of a file per format, where the lab drew
    it in a worker. ``record["figures"][lang]["labels"]`` is the language a figure is labelled
    in: English where no Korean font is installed."""

    record: dict[str, Any]
    figures: dict[str, Figure]  # lang -> figure
    rendered: dict[str, dict[str, bytes]] = field(default_factory=dict)  # lang -> fmt -> file

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
    """Runs ``experiment`` once per seed of ``seeds`` (default: ``ctx``'s seed alone) through
    the lab (lab.run_lab, over ``ctx.workers`` processes, on ``ctx.data``), judges its claim on
    each run and draws its figure in every language of ``langs``.

    ``overrides`` changes parameters ({"lr": 0.5}, what ``dlfs run --set`` passes), checked
    by ``Experiment.parameters`` before anything runs; the record holds them as "overrides"
    beside the "parameters" actually used. A deterministic experiment (no job of it draws from
    a seed) runs once, for the first seed, and its record says so. The claim is judged on every
    run; the record's verdict holds in how many runs it held, and held only when it held in all
    (``aggregate_verdicts``). With more than one run the figure is ``experiment.plot_runs``
    (the mean and the spread), where the experiment has one, else ``plot`` of the first run.
    An error in a job is raised as a RuntimeError naming the experiment and seeds.
    """
    from dlfs.experiments.lab import Failure, Request, run_lab

    _check_langs(langs)
    request = Request([experiment], {experiment.name: dict(overrides or {})},
                      check_seeds([ctx.seed] if seeds is None else seeds), ctx.quick,
                      ctx.workers, tuple(langs), formats=None)
    (outcome,) = run_lab(request, ctx.data)
    if isinstance(outcome, Failure):
        raise RuntimeError(f"{outcome.name} (seeds {outcome.seeds}) failed:\n{outcome.error}")
    return outcome


def new_record(experiment: Experiment, params: dict, overrides: dict | None, seeds: list[int],
               quick: bool, workers: int, data, runs: list[dict]) -> dict:
    """The record of a run of ``experiment`` before its results: every word and setting of it.
    ``runs``: one {"seed", "wall_time_s", "cpu_time_s"} per run (one alone for a
    deterministic one)."""
    return {
        "name": experiment.name,
        "chapter": experiment.chapter,
        "section": experiment.section,
        **experiment.texts(params),
        "parameters": plain(params),
        "overrides": plain(dict(overrides or {})),
        "seed": seeds[0],  # kept for readers older than "seeds"
        "seeds": seeds,
        "deterministic": len(runs) < len(seeds) or experiment.deterministic,
        "quick": quick,
        # Quick mode shrank the settings (an experiment without quick_params runs the book's).
        "quick_settings": quick and bool(experiment.quick_params),
        "workers": workers,
        "dataset": data.info() if experiment.needs_data else None,
        "versions": versions(),
        # The seconds its jobs took, wall and CPU, a job two experiments share in each.
        "wall_time_s": round(sum(run["wall_time_s"] for run in runs), 3),
        "cpu_time_s": round(sum(run["cpu_time_s"] for run in runs), 3),
        "runs": runs,
    }


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
             "deterministic": (record["deterministic"] if "deterministic" in record
                               else experiment.deterministic),
             "runs": [{key: run[key] for key in ("seed", "results", "wall_time_s", "cpu_time_s")
                       if key in run}
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

    A run whose claim did not hold in quick settings is not judged (Experiment.judge), nor one
    whose baseline claim could not be judged, so the whole is not judged when it has such runs
    and no judged failure: the claim held in k of k judged runs, and the others cannot tell."""
    verdicts = [run["verdict"] for run in runs]
    failed = [v for v in verdicts if not v["held"]]
    judged_failures = [v for v in failed if v["judged"]]
    shown = (judged_failures or failed or verdicts)[0]
    return {
        "held": not failed,
        # A claim that held where its baseline could not be judged is not judged either.
        "judged": bool(judged_failures) or all(v["judged"] for v in verdicts),
        "detail": shown["detail"],
        "numbers": shown["numbers"],
        "held_in": sum(v["held"] and v["judged"] for v in verdicts),
        "of": sum(v["judged"] for v in verdicts),
        "seeds": [{"seed": run["seed"], "held": run["verdict"]["held"],
                   "judged": run["verdict"]["judged"]} for run in runs],
    }


def _check_langs(langs) -> None:
    unknown = [lang for lang in langs if lang not in LANGS]
    if unknown:
        raise ValueError(f"langs must be drawn from {LANGS}, got {unknown[0]!r}")
