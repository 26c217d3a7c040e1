"""What every experiment shares: its description, its context, plotting helpers.

An experiment is four functions over plain data:

    jobs(params, seed) -> [job, ...]     the trainings (or tasks) it needs (jobs.py)
    run(histories, params) -> results    every number the figure and the claim need
                                         (JSON-able), from its jobs' results in their order
    plot(results, lang) -> matplotlib Figure
    check(results) -> Verdict            the book's claim tested on those numbers

so a result file can be re-plotted and re-judged without training again, and how the jobs
are shared, scheduled and run side by side is the lab's business (lab.py).
"""

from __future__ import annotations

import multiprocessing
import os
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dlfs import catalogue
from dlfs.data import Data
from dlfs.experiments.settings import (  # noqa: F401  (settings_for: importable from here)
    SettingError,
    as_toml,
    check_setting,
    set_dotted,
    setting_of,
    settings_for,
    unknown_setting,
)

VERDICT_STATES = ("held", "not_held", "not_judged")


@dataclass
class Verdict:
    """Whether the book's claim held on this run's numbers, and the numbers behind it.

    ``judged`` is False for a quick run whose claim did not hold where quick settings are too
    small to tell (see Experiment.judge): its ``held`` is kept as computed, but it is neither a
    success nor a failure of the claim. ``state`` is one of VERDICT_STATES.
    """

    held: bool
    detail: dict[str, str]  # lang -> sentence quoting the numbers
    numbers: dict[str, Any] = field(default_factory=dict)
    judged: bool = True

    @property
    def state(self) -> str:
        return verdict_state({"held": self.held, "judged": self.judged})

    def as_dict(self) -> dict:
        return {"held": bool(self.held), "judged": bool(self.judged), "detail": self.detail,
                "numbers": plain(self.numbers)}


def verdict_state(verdict: dict) -> str:
    """'held', 'not_held' or 'not_judged' for a verdict as results.json holds it (one written
    before verdicts had ``judged`` was judged)."""
    if not verdict.get("judged", True):
        return "not_judged"
    return "held" if verdict["held"] else "not_held"


def quick_settings(record: dict) -> bool:
    """Whether a result (results.json's record) ran with quick settings that differ from the
    book's; for a record older than that field, whether it ran with --quick."""
    return bool(record.get("quick_settings", record.get("quick")))


@dataclass
class Context:
    """What ``run_experiment`` gets: the seed, quick mode, the worker count and the data set
    (None: no experiment needing one can run)."""

    seed: int = 0
    quick: bool = False
    workers: int = 1
    data: Data | None = None


@dataclass
class Experiment:
    """One figure of the book: what it is (name, chapter, section), what it computes (jobs,
    run), how it is drawn and judged, and its parameters. Whether it needs the data set and
    whether it is deterministic follow from its jobs."""

    name: str
    chapter: int
    section: str
    jobs: Callable[[dict, int], list]  # jobs(params, seed) -> [Training | Task, ...]
    plot: Callable[[dict, str], Any]
    check: Callable[[dict], Verdict]
    # run(histories, params) -> results, from its jobs' results in their order. None: the
    # results are those of its one job (a Task computing the figure's numbers).
    run: Callable[[list, dict], dict] | None = None
    params: dict[str, Any] = field(default_factory=dict)  # the book's parameters, full mode
    quick_params: dict[str, Any] = field(default_factory=dict)
    fixed: tuple[str, ...] = ()  # parameters the claim is stated for, which no setting changes
    # Whether a quick run's claim that does not hold counts as "not held". False: quick settings
    # are too small to judge the claim, so such a run is "not judged". True where the shrunken
    # settings test the claim as well as the full ones (a gradient check on a smaller net). An
    # experiment without quick_params runs the same in both modes and is always judged.
    judged_when_quick: bool = False
    # plot_runs(runs_results, lang) draws n > 1 runs (one results per seed): the mean curve of
    # each series with its spread. None: the runner draws plot() of the first run.
    plot_runs: Callable[[list[dict], str], Any] | None = None
    # The experiment whose claim this one's rests on (weight-decay and dropout compare
    # against overfit's baseline): where that claim is not judged, neither is this one.
    rests_on: Callable[[dict], Verdict] | None = None
    # The report's grids made finer (dlfs run --explore, or explore = true in a --config file):
    # parameters set over the book's (and over quick mode's) when asked for.
    explore_params: dict[str, Any] = field(default_factory=dict)
    # The parameters of a grid that only the report's live view reads (weight-decay's λ
    # slider). The live view shows the first seed, so only the first seed's run has them; the
    # other seeds' runs repeat the book's figure without the grid (``for_seed``), and the
    # cost of `dlfs run --seeds N` does not grow with the grid N times.
    grid: tuple[str, ...] = ()

    @property
    def needs_data(self) -> bool:
        """Whether a job of it reads the data set."""
        from dlfs.experiments.jobs import needs_data

        return any(needs_data(job) for job in self.jobs(self.params, 0))

    @property
    def deterministic(self) -> bool:
        """Whether it draws nothing random (no job of it has a seed): one run stands for every
        seed, and dlfs run --seeds runs it once."""
        from dlfs.experiments.jobs import is_random

        return not any(is_random(job) for job in self.jobs(self.params, 0))

    def for_seed(self, params: dict, first: bool) -> dict:
        """``params`` as the run of one seed has them: the first seed's with the report's
        grid (``grid``), the others' without it."""
        return params if first else {key: value for key, value in params.items()
                                     if key not in self.grid}

    def results(self, histories: list, params: dict) -> dict:
        """run(histories, params), or the results of its one job."""
        return histories[0] if self.run is None else self.run(histories, params)

    def parameters(self, quick: bool, overrides: dict[str, Any] | None = None,
                   explore: bool = False) -> dict[str, Any]:
        """The book's parameters, shrunk by ``quick_params`` in quick mode, with the finer
        grids of ``explore_params`` where ``explore`` asks for them, then changed by
        ``overrides`` ({"lr": 0.5}), each checked by ``check_setting``; SettingError names a
        key this experiment does not declare and a value unlike its default."""
        params = {**self.params, **(self.quick_params if quick else {}),
                  **(self.explore_params if explore else {})}
        for key, value in (overrides or {}).items():
            if key not in self.params:  # a dotted key, optimizers.SGD.lr, or none of its
                params = set_dotted(self, params, key, value)
                continue
            if key == "optimizers" and isinstance(self.params[key], dict):
                params[key] = _with_learners(self.name, value, params[key])
                continue
            if key in self.fixed:
                raise SettingError("setting_fixed", setting=key, experiment=self.name,
                                   value=as_toml(self.params[key]))
            params[key] = check_setting(setting_of(key, self.name), value, self.params[key])
        return params

    def judge(self, results: dict, quick: bool) -> Verdict:
        """check(results), not judged when ``quick`` settings are too small to judge a claim
        that did not hold (a claim that held in quick mode still held), nor when the claim it
        rests on (``rests_on``) is not judged on the same results: a remedy's smaller gap means
        nothing where the baseline's overfitting could not be judged."""
        verdict = self.check(results)
        if quick and self.quick_params and not self.judged_when_quick:
            if not verdict.held:
                verdict.judged = False
            elif self.rests_on is not None:
                base = self.rests_on(results)
                verdict.judged = base.held  # quick: a baseline that did not hold is not judged
        return verdict

    def texts(self, params: dict[str, Any]) -> dict[str, dict[str, str]]:
        """Title, claim and about, in every language, for a run with ``params``: the
        catalogue's entries NAME.title, NAME.claim and NAME.about, formatted from ``params``."""
        fields = catalogue.fields(params)
        return {part: catalogue.both(f"{self.name}.{part}", **fields)
                for part in ("title", "claim", "about")}


def _with_learners(name: str, value, reference: dict) -> dict:
    """An experiment's "optimizers" with a learner's added (dlfs run --optimizer): every
    reference entry as it was, and more entries, each ["file:…::CLASS", lr > 0]. The reference
    rules themselves cannot be changed (the claim is stated for them)."""
    from dlfs.experiments import learner

    if not isinstance(value, dict) or any(value.get(k) != v for k, v in reference.items()):
        raise SettingError("optimizers_table", experiment=name)
    for label, entry in value.items():
        if label in reference:
            continue
        if not (isinstance(entry, list | tuple) and len(entry) == 2
                and learner.is_learner(entry[0]) and isinstance(entry[1], int | float)
                and not isinstance(entry[1], bool) and entry[1] > 0):
            raise SettingError("optimizers_entry", experiment=name, label=repr(label),
                               entry=repr(entry))
    return {**reference, **{k: list(v) for k, v in value.items() if k not in reference}}


def plain(value):
    """Numbers and containers as JSON-able Python values."""
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [plain(v) for v in value]
    if isinstance(value, np.ndarray):
        return plain(value.tolist())
    if isinstance(value, np.generic):
        return plain(value.item())  # np.float64(nan) must become None like a float nan
    if isinstance(value, float) and not np.isfinite(value):
        return None if np.isnan(value) else ("inf" if value > 0 else "-inf")
    return value


# -- processes ---------------------------------------------------------------------------------


def rng(seed: int, *stream: int) -> np.random.Generator:
    """A Generator for one named stream of a run's seed: the same (seed, stream) always gives
    the same draws, whatever ran before it."""
    return np.random.default_rng([seed, *stream])


def can_fork() -> bool:
    """Whether the lab can run jobs in worker processes here (it forks them)."""
    return "fork" in multiprocessing.get_all_start_methods()


def default_workers() -> int:
    return max(1, len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity")
               else os.cpu_count() or 1)


# -- small numeric helpers ---------------------------------------------------------------------


def smooth_curve(x):
    """The book's smooth_curve (common/util.py): an 11-point Kaiser-window (β = 2) moving
    average with the ends reflected, so the curve keeps its length."""
    x = np.asarray(x, dtype=np.float64)
    window = 11
    if len(x) < window:
        return x.copy()
    s = np.r_[x[window - 1:0:-1], x, x[-1:-window:-1]]
    w = np.kaiser(window, 2)
    y = np.convolve(w / w.sum(), s, mode="valid")
    return y[5:len(y) - 5]

