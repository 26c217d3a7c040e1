"""What every experiment shares: its description, its context, parallel runs, plotting helpers.

An experiment is three functions over plain data:

    run(ctx, params) -> results  every number the figure and the claim need (JSON-able)
    plot(results, lang) -> matplotlib Figure
    check(results) -> Verdict  the book's claim tested on those numbers

so a result file can be re-plotted and re-judged without training again.
"""

from __future__ import annotations

import multiprocessing
import os
import warnings
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dlfs import catalogue
from dlfs.data import Data
from dlfs.experiments.settings import (  # noqa: F401  (settings_for: importable from here)
    SettingError,
    as_toml,
    check_setting,
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
    """What a run gets: the seed, quick mode, worker count, the data (loaded on first use by
    ``load_data``) and ``cache``, a place for work that experiments of one run share.

    One ``dlfs run`` makes one Context for all its experiments. ``cache`` lives and dies with
    it, so an experiment can reuse what an earlier one of the same run computed (overfit and
    weight-decay train one unregularised baseline) without a module-level cache that would
    outlive the run. Key it by the module's name and everything the value depends on.
    ``planned`` holds the parameters of every experiment the run will run (name -> params),
    so that shared work is done once at the size the largest of them needs (dropout's
    301-epoch baseline serves overfit's 201 epochs too).
    """

    seed: int = 0
    quick: bool = False
    workers: int = 1
    load_data: Callable[[], Data] | None = None
    progress: bool = False  # progress bars on stderr for long runs
    cache: dict[Any, Any] = field(default_factory=dict)
    planned: dict[str, dict[str, Any]] = field(default_factory=dict)
    _data: Data | None = field(default=None, init=False, repr=False)

    @property
    def data(self) -> Data:
        if self._data is None:
            if self.load_data is None:
                raise RuntimeError("this experiment needs a data set, but none was given")
            self._data = self.load_data()
        return self._data

    def rng(self, *stream: int) -> np.random.Generator:
        """A Generator for one named stream of this run: the same (seed, stream) always gives
        the same draws, whatever ran before it."""
        return np.random.default_rng([self.seed, *stream])


@dataclass
class Experiment:
    name: str
    chapter: int
    section: str
    run: Callable[[Context, dict], dict]  # run(ctx, params) -> results
    plot: Callable[[dict, str], Any]
    check: Callable[[dict], Verdict]
    needs_data: bool = False
    params: dict[str, Any] = field(default_factory=dict)  # the book's parameters, full mode
    quick_params: dict[str, Any] = field(default_factory=dict)
    fixed: tuple[str, ...] = ()  # parameters the claim is stated for, which no setting changes
    # Whether a quick run's claim that does not hold counts as "not held". False: quick settings
    # are too small to judge the claim, so such a run is "not judged". True where the shrunken
    # settings test the claim as well as the full ones (a gradient check on a smaller net). An
    # experiment without quick_params runs the same in both modes and is always judged.
    judged_when_quick: bool = False
    # It draws nothing random: one run stands for every seed (dlfs run --seeds runs it once).
    deterministic: bool = False
    # plot_runs(runs_results, lang) draws n > 1 runs (one results per seed): the mean curve of
    # each series with its spread. None: the runner draws plot() of the first run.
    plot_runs: Callable[[list[dict], str], Any] | None = None
    # About how many seconds one full-mode run takes on one core, figures included (measured on
    # the README's 2-core machine). dlfs run, running experiments side by side, starts the
    # costliest first so that both cores end together; it orders the work, and no number
    # depends on it.
    cost: float = 1.0
    # Its chain: experiments of one chain run one after another in one dlfs run and may share
    # work through Context.cache. None: the module of its run (overfit, weight-decay and dropout
    # share a baseline).
    chain: str | None = None

    @property
    def chain_key(self) -> str:
        return self.chain or self.run.__module__

    def parameters(self, quick: bool, overrides: dict[str, Any] | None = None) -> dict[str, Any]:
        """The book's parameters, shrunk by ``quick_params`` in quick mode, then changed by
        ``overrides`` ({"lr": 0.5}), each checked by ``check_setting``; SettingError names a
        key this experiment does not declare and a value unlike its default."""
        params = {**self.params, **(self.quick_params if quick else {})}
        for key, value in (overrides or {}).items():
            if key not in self.params:
                raise SettingError(unknown_setting(key, [self]))
            if key == "optimizers" and isinstance(self.params[key], dict):
                params[key] = _with_learners(self.name, value, params[key])
                continue
            if key in self.fixed:
                raise SettingError(f"{key} of {self.name} is fixed: the claim is stated for "
                                   f"{key} = {as_toml(self.params[key])}")
            params[key] = check_setting(f"{key} of {self.name}", value, self.params[key])
        return params

    def judge(self, results: dict, quick: bool) -> Verdict:
        """check(results), not judged when ``quick`` settings are too small to judge a claim
        that did not hold (a claim that held in quick mode still held)."""
        verdict = self.check(results)
        if quick and self.quick_params and not self.judged_when_quick and not verdict.held:
            verdict.judged = False
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
        raise SettingError(f"optimizers of {name} cannot be set: it is a table of settings, not "
                           "one value (add your own with --optimizer NAME=FILE::CLASS)")
    for label, entry in value.items():
        if label in reference:
            continue
        if not (isinstance(entry, list | tuple) and len(entry) == 2
                and learner.is_learner(entry[0]) and isinstance(entry[1], int | float)
                and not isinstance(entry[1], bool) and entry[1] > 0):
            raise SettingError(f"optimizers of {name}: {label!r} must be "
                               f"[\"file:PATH::CLASS\", lr > 0], got {entry!r}")
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


# -- parallel runs -----------------------------------------------------------------------------

_SHARED: dict[str, Any] = {}


def _call(job):
    func, args = job
    return _single_threaded(func, _SHARED, *args)


def _single_threaded(func, *args):
    from threadpoolctl import threadpool_limits

    # Processes share the cores, so each job gets one BLAS thread. Serial runs get one too:
    # the BLAS thread count changes float32 summation order, and a run's numbers must not
    # depend on --workers.
    with threadpool_limits(1):
        return func(*args)


def parallel_map(func: Callable, jobs: Sequence[tuple], workers: int, shared: dict,
                 progress: bool = False) -> list:
    """[func(shared, *job) for job in jobs], over ``workers`` forked processes.

    ``shared`` (the data set, say) reaches the workers by fork, not by pickling. Results come
    back in the order of ``jobs``, and equal whatever the number of workers. ``progress`` shows
    a bar of finished jobs.
    """
    from dlfs._progress import progress_bar

    bar = progress_bar(len(jobs), progress and len(jobs) > 1, unit="run")

    def tick(result):
        if bar is not None:
            bar.update()
        return result

    pooled = workers > 1 and len(jobs) > 1 and can_fork()
    try:
        if not pooled:
            return [tick(_single_threaded(func, shared, *job)) for job in jobs]
        _SHARED.clear()
        _SHARED.update(shared)
        context = multiprocessing.get_context("fork")
        with warnings.catch_warnings(), context.Pool(min(workers, len(jobs))) as pool:
            # Python 3.12+ warns that fork in a threaded process may deadlock; the pool is
            # created before any thread of ours exists.
            warnings.simplefilter("ignore", DeprecationWarning)
            return [tick(result) for result in
                    pool.imap(_call, [(func, job) for job in jobs], chunksize=1)]
    finally:
        if pooled:  # a serial map inside a pool's job leaves the pool's shared values be
            _SHARED.clear()
        if bar is not None:
            bar.close()


def can_fork() -> bool:
    """Whether parallel_map can run jobs in worker processes here (it forks them)."""
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

