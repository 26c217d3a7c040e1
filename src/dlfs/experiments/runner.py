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
from dataclasses import dataclass
from importlib import metadata
from typing import TYPE_CHECKING, Any

from dlfs.catalogue import LANGS
from dlfs.experiments.base import Context, Experiment, plain
from dlfs.experiments.figures import close as close_figure
from dlfs.experiments.figures import figure_lang

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


def run_experiment(experiment: Experiment, ctx: Context, langs=LANGS,
                   overrides: dict[str, Any] | None = None) -> ExperimentResult:
    """Runs ``experiment`` with ``ctx``'s seed, mode and data, judges its claim and draws its
    figure in every language of ``langs``.

    ``overrides`` changes parameters ({"lr": 0.5}, what ``dlfs run --set`` passes), checked
    by ``Experiment.parameters`` before anything runs; the record holds them as "overrides"
    beside the "parameters" actually used.

    The results pass through JSON before they are judged and plotted, so the verdict and the
    figures are exactly what results.json will let anyone recompute. A quick run whose claim
    did not hold is "not judged" where the quick settings are too small to judge it
    (Experiment.judge). The data set is recorded after the run, from ``ctx.data``, for every
    experiment that needs data.
    """
    unknown = [lang for lang in langs if lang not in LANGS]
    if unknown:
        raise ValueError(f"langs must be drawn from {LANGS}, got {unknown[0]!r}")
    params = experiment.parameters(ctx.quick, overrides)
    start = time.perf_counter()
    results = json.loads(json.dumps(plain(experiment.run(ctx, params))))
    wall = time.perf_counter() - start
    verdict = experiment.judge(results, ctx.quick)
    drawn = {}
    for lang in langs:
        with warnings.catch_warnings():
            # No Korean font: the caller has the figures' labels in the record to tell people.
            warnings.simplefilter("ignore", RuntimeWarning)
            labels = figure_lang(lang)
        drawn[lang] = (labels, experiment.plot(results, labels))
    record = {
        "name": experiment.name,
        "chapter": experiment.chapter,
        "section": experiment.section,
        **experiment.texts(params),
        "parameters": plain(params),
        "overrides": plain(dict(overrides or {})),
        "seed": ctx.seed,
        "quick": ctx.quick,
        # Quick mode shrank the settings (an experiment without quick_params runs the book's).
        "quick_settings": ctx.quick and bool(experiment.quick_params),
        "workers": ctx.workers,
        "dataset": ctx.data.info() if experiment.needs_data else None,
        "versions": versions(),
        "wall_time_s": round(wall, 3),
        "verdict": verdict.as_dict(),
        "figures": {lang: {"labels": labels} for lang, (labels, _) in drawn.items()},
        "results": results,
    }
    return ExperimentResult(record, {lang: fig for lang, (_, fig) in drawn.items()})
