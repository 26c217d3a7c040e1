"""The lab's runner: every job of a whole run, each trained once, over one process pool.

``run_lab(request, data)`` takes one ``Request`` (experiments, their settings, seeds, quick
mode, workers, figure formats) and the data set, loaded once by the caller, and yields each
experiment's ``ExperimentResult`` (or a ``Failure``) as soon as it is ready:

1. every experiment lists its jobs for every seed (jobs.py); a deterministic one (no job with a
   seed) for the first seed only; the report's grid (``Experiment.grid``) is the first seed's;
2. equal jobs are one job, and a training equal to a longer one but for its length is the
   longer one's beginning (jobs.longest, jobs.prefix);
3. the distinct jobs run over ``workers`` forked processes, the costliest first (jobs.cost), so
   that the cores end together; each process gets one BLAS thread, so no number depends on
   the worker count;
4. when an experiment's jobs are done, its ``run`` turns their results into its numbers, its
   claim is judged and its figures drawn, in a worker too (runner.judge_and_draw).

A job that raises fails the experiments that need it, named with their seeds; the others
finish. So does a job whose worker process dies under it (a SIGKILL from the out-of-memory
killer): each worker says which piece of work it starts through a pipe, and the parent, when
no outcome has come for half a second, looks for a worker gone with its work unfinished (a
``multiprocessing.Pool`` replaces a dead worker silently, and its task never ends). An
interrupted run (Ctrl-C) ends its workers before it leaves. Asked to
(``job_events=True``), the lab also yields a ``JobDone`` as each distinct job ends, for a caller
that shows progress (``dlfs run`` draws a bar from them; the lab draws nothing).
"""

from __future__ import annotations

import io
import itertools
import json
import multiprocessing
import os
import queue
import signal
import struct
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass, field
from typing import Any

from dlfs._said import run_lang
from dlfs.catalogue import LANGS
from dlfs.experiments import jobs as jobs_
from dlfs.experiments import learner
from dlfs.experiments.base import Experiment, can_fork, plain
from dlfs.experiments.runner import ExperimentResult, check_seeds, new_record

FORMATS = ("png", "svg")


@dataclass
class Request:
    """One run of the lab: ``experiments``, each with its ``overrides`` (name -> settings),
    over ``seeds``. ``formats``: the figures rendered to these file formats in the workers
    (``ExperimentResult.rendered``); None: drawn as matplotlib Figures here."""

    experiments: list[Experiment]
    overrides: dict[str, dict] = field(default_factory=dict)
    seeds: list[int] = field(default_factory=lambda: [0])
    quick: bool = False
    workers: int = 1
    langs: tuple[str, ...] = LANGS
    formats: tuple[str, ...] | None = ("png",)
    optimizer_timeout: float = 300.0  # seconds for a job that runs a learner's optimizer
    explore: bool = False  # the report's finer grids (dlfs run --explore): explore_params


@dataclass
class Failure:
    """An experiment that could not finish: ``seeds`` the runs that failed, ``error`` the
    exception and where it was raised."""

    name: str
    seeds: list[int]
    error: str


@dataclass
class JobDone:
    """One distinct job of the run ended: trained (``ok``) or raised (its experiments then
    end in a Failure), in ``wall_s`` seconds of wall time and ``cpu_s`` of CPU time. Yielded
    by ``run_lab(..., job_events=True)``: as many as ``plan(request).distinct`` has jobs."""

    job: Any
    ok: bool
    wall_s: float
    cpu_s: float


@dataclass
class Plan:
    """What a Request trains: each experiment's parameters, its jobs per seed, and the job
    actually run for each (itself, or a longer one it is the beginning of)."""

    params: dict[str, dict[str, Any]]
    jobs: dict[tuple[str, int], list]  # (experiment, seed) -> its jobs, in its order
    trained: dict[Any, Any]  # job -> the job run for it
    # experiment -> {setting: {"default", "used"}}: default sample counts above what the data
    # set holds, run with what it holds (Data.capped_defaults)
    capped: dict[str, dict] = field(default_factory=dict)

    @property
    def distinct(self) -> list:
        return list(dict.fromkeys(self.trained.values()))

    def seeds_of(self, name: str) -> list[int]:
        return [seed for (each, seed) in self.jobs if each == name]


def plan(request: Request, data=None) -> Plan:
    """The jobs of ``request``; a SettingError for a setting an experiment does not take.
    With ``data``, a default sample count above what it holds is what it holds (``capped``)."""
    seeds = check_seeds(request.seeds)
    params = {e.name: e.parameters(request.quick, request.overrides.get(e.name), request.explore)
              for e in request.experiments}
    capped = {name: data.capped_defaults(params[name], request.overrides.get(name))
              for name in params} if data is not None else {}
    capped = {name: caps for name, caps in capped.items() if caps}
    for name, caps in capped.items():  # recorded as used
        params[name] = {**params[name], **{key: cap["used"] for key, cap in caps.items()}}
    listed = {}
    for experiment in request.experiments:
        first = experiment.jobs(params[experiment.name], seeds[0])
        deterministic = not any(jobs_.is_random(job) for job in first)
        for seed in seeds[:1] if deterministic else seeds:
            listed[experiment.name, seed] = (first if seed == seeds[0] else experiment.jobs(
                experiment.for_seed(params[experiment.name], first=False), seed))
    every = list(dict.fromkeys(job for each in listed.values() for job in each))
    return Plan(params, listed, jobs_.longest(every), capped)


def needs_data(request: Request) -> bool:
    """Whether any job of ``request`` reads the data set."""
    return any(jobs_.needs_data(job) for job in plan(request).distinct)


# -- the workers ----------------------------------------------------------------------------

_DATA: dict[str, Any] = {}  # the data set, reaching forked workers by fork (not pickled)
_STARTED = struct.Struct("qq")  # (token, pid): a worker starting a piece of work, in one write


def _single_threaded(func, *args):
    from threadpoolctl import threadpool_limits

    # Processes share the cores, so each job gets one BLAS thread. Serial runs get one too:
    # the BLAS thread count changes float32 summation order, and no number may depend on the
    # worker count.
    with threadpool_limits(1):
        return func(*args)


def _do(kind: str, payload, token: int | None = None) -> tuple[str, Any, tuple[float, float]]:
    """("ok", result, seconds) or ("error", traceback, seconds) of one piece of work; seconds:
    (wall, CPU) time it took. In a worker, ``token`` names the work to the parent first."""
    if token is not None and "started" in _DATA:
        # One write of 16 bytes to a pipe is whole (under PIPE_BUF), so no lock is needed.
        os.write(_DATA["started"], _STARTED.pack(token, os.getpid()))
    start, cpu = time.perf_counter(), time.process_time()
    try:
        if kind == "job" and learner.names_in(payload):  # a learner's code: under limits
            children = sum(os.times()[2:4])
            status, result = learner.run_bounded(
                learner.names_in(payload),
                lambda: _single_threaded(jobs_.run_job, payload, _DATA.get("data")),
                _DATA.get("optimizer_timeout", learner.TIMEOUT), _told(), _one_line)
            cpu -= sum(os.times()[2:4]) - children  # the child's CPU time counts as the job's
            return status, result, (time.perf_counter() - start, time.process_time() - cpu)
        if kind == "job":
            result = _single_threaded(jobs_.run_job, payload, _DATA.get("data"))
        else:
            result = _single_threaded(_finish, *payload)
        status = "ok"
    except _told() as error:  # a refusal that says what to do: its line, not a traceback
        status, result = "error", _one_line(error)
    except Exception:  # noqa: BLE001  reported with the experiments it fails
        status, result = "error", traceback.format_exc(limit=-4)
    return status, result, (time.perf_counter() - start, time.process_time() - cpu)


def _told() -> tuple[type[BaseException], ...]:
    """The errors that are messages to the person running the lab (a learner's optimizer that
    raised, a run estimated to take hours, a setting or data set refused): said in one line."""
    from dlfs._said import Said
    from dlfs.experiments.learner import LearnerError
    from dlfs.experiments.settings import SettingError
    from dlfs.train import TrainingTooLong

    return Said, LearnerError, SettingError, TrainingTooLong


def _one_line(error: BaseException) -> str:
    """``error``'s message in the run's language (dlfs._said.run_lang)."""
    text = getattr(error, "text", None)
    message = text(run_lang()) if callable(text) else str(error)
    return " ".join(message.split("\n"))


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True


def _died() -> str:
    """What is said of the work of a worker process that died under it, in the run's
    language."""
    from dlfs import catalogue

    return catalogue.text("lab_run.worker_died", run_lang())


def _quiet_worker() -> None:
    # Ctrl-C reaches the whole process group: the parent ends the workers, they do not each
    # print a traceback.
    signal.signal(signal.SIGINT, signal.SIG_IGN)


# -- an experiment's end: numbers, verdict, figures -------------------------------------------


def _finish(experiment: Experiment, record: dict, histories: dict[int, list], langs,
            formats) -> ExperimentResult:
    """The record of ``experiment`` with each seed's results from its jobs' ``histories``, its
    verdict and its figures (rendered to ``formats``, or drawn where None)."""
    from dlfs.experiments.runner import judge_and_draw

    params = record["parameters"]
    for run in record["runs"]:
        results = experiment.results(histories[run["seed"]], experiment.for_seed(
            params, first=run["seed"] == record["seeds"][0]))
        run["results"] = json.loads(json.dumps(plain(results)))
    result = judge_and_draw(experiment, record, langs)
    if formats is not None:
        result.rendered = {lang: render(fig, formats) for lang, fig in result.figures.items()}
        result.close()
        result.figures = {}
    return result


def render(fig, formats) -> dict[str, bytes]:
    rendered = {}
    for fmt in formats:
        buffer = io.BytesIO()
        fig.savefig(buffer, format=fmt, **({"dpi": 110} if fmt == "png" else {}))
        rendered[fmt] = buffer.getvalue()
    return rendered


# -- the run ----------------------------------------------------------------------------------


def run_lab(request: Request, data=None, job_events: bool = False,
            ) -> Iterator[ExperimentResult | Failure | JobDone]:
    """Each experiment of ``request`` run (see the module's doc), yielded as it ends: an
    ExperimentResult, or a Failure naming its seeds and the error. ``data``: the data set,
    needed where a job reads it (``needs_data``). ``job_events``: a JobDone is yielded too as
    each distinct job ends, before the experiments it completes."""
    if request.formats is not None:
        unknown = [fmt for fmt in request.formats if fmt not in FORMATS]
        if unknown or not request.formats:
            raise ValueError(f"formats must be drawn from {', '.join(FORMATS)}, got "
                             f"{unknown[0] if unknown else 'none'!r}")
    made = plan(request, data)
    if data is None and any(jobs_.needs_data(job) for job in made.distinct):
        raise ValueError("these experiments train on a data set, but none was given")
    if data is not None:  # never more samples than exist: a record holds what was used
        for settings in request.overrides.values():
            data.check_sample_settings(settings or {})
    by_name = {e.name: e for e in request.experiments}
    # Costliest first; equal costs in the order asked for.
    pending = sorted(made.distinct, key=lambda job: -jobs_.cost(job, data) if data else 0)
    waiting = {name: {made.trained[job] for (each, _), listed in made.jobs.items()
                      if each == name for job in listed} for name in by_name}
    done: dict[Any, Any] = {}
    seconds: dict[Any, float] = {}
    ready: list[str] = [name for name, needed in waiting.items() if not needed]
    failed: dict[str, list] = {}  # experiment -> (job, error) of each job of it that raised
    pooled = request.workers > 1 and len(made.distinct) + len(by_name) > 1 and can_fork()
    _DATA["data"] = data
    _DATA["optimizer_timeout"] = request.optimizer_timeout
    # ((kind, key, token), outcome) of each piece of work done
    outcomes: queue.Queue = queue.Queue()
    pool = started = None
    if pooled:
        started, _DATA["started"] = os.pipe()  # the workers' (token, pid) as they start work
        os.set_blocking(started, False)
        pool = multiprocessing.get_context("fork").Pool(request.workers, _quiet_worker)
    in_flight = 0
    tokens = itertools.count()
    unfinished: dict[int, tuple] = {}  # token of each piece of work in flight -> (kind, key)
    last: dict[int, int] = {}  # a worker's pid -> the token of the work it started last

    def submit(kind: str, key, payload) -> None:
        nonlocal in_flight
        in_flight += 1
        token = next(tokens)
        unfinished[token] = kind, key
        if pool is None or (kind == "finish" and request.formats is None):
            outcomes.put(((kind, key, token), _do(kind, payload)))  # here: Figures stay here
            return
        pool.apply_async(_do, (kind, payload, token),
                         callback=lambda outcome: outcomes.put(((kind, key, token), outcome)),
                         error_callback=lambda error: outcomes.put(
                             ((kind, key, token), ("error", f"{type(error).__name__}: {error}",
                                                   (0.0, 0.0)))))

    def lost() -> tuple | None:
        """(kind, key, token) of a piece of work whose worker died before it ended, if any: a
        worker runs one piece at a time, so only the last one it started can be lost."""
        while True:
            try:
                chunk = os.read(started, _STARTED.size * 64)
            except BlockingIOError:
                break
            last.update((pid, token) for token, pid in _STARTED.iter_unpack(chunk))
        for pid, token in list(last.items()):
            if token in unfinished and not _alive(pid):
                del last[pid]
                return (*unfinished[token], token)
        return None

    try:
        while True:
            while (ready or pending) and in_flight < (request.workers if pooled else 1):
                if ready:  # an experiment whose jobs are done ends first
                    name = ready.pop(0)
                    submit("finish", name, _finish_payload(by_name[name], made, done, seconds,
                                                           request, data))
                else:
                    job = pending.pop(0)
                    submit("job", job, job)
            if not in_flight:
                break
            try:
                (kind, key, token), (status, value, took) = outcomes.get(
                    timeout=None if pool is None else 0.5)
            except queue.Empty:
                gone = lost()
                if gone is None:
                    continue
                (kind, key, token), (status, value, took) = gone, ("error", _died(), (0., 0.))
            if unfinished.pop(token, None) is None:
                continue  # its worker was found dead before this outcome came
            in_flight -= 1
            if kind == "finish":
                yield value if status == "ok" else Failure(key, made.seeds_of(key), value)
                continue
            seconds[key] = took
            if status == "ok":
                done[key] = value
            if job_events:
                yield JobDone(key, status == "ok", *took)
            for name, needed in waiting.items():
                if key not in needed:
                    continue
                needed.discard(key)
                if status != "ok":
                    failed.setdefault(name, []).append((key, value))
                if needed:
                    continue
                if name not in failed:
                    ready.append(name)
                    continue
                # Once all its jobs have ended: the seeds whose jobs raised, the first error.
                bad = {job for job, _ in failed[name]}
                seeds = [seed for (each, seed), listed in made.jobs.items() if each == name
                         and any(made.trained[job] in bad for job in listed)]
                yield Failure(name, seeds, failed[name][0][1])
    finally:
        written = _DATA.get("started")
        _DATA.clear()
        if pool is not None:
            pool.terminate()
            pool.join()
            os.close(started)
            os.close(written)


def _finish_payload(experiment: Experiment, made: Plan, done: dict, seconds: dict,
                    request: Request, data) -> tuple:
    seeds = made.seeds_of(experiment.name)
    histories = {seed: [jobs_.prefix(job, made.trained[job], done[made.trained[job]])
                        for job in made.jobs[experiment.name, seed]] for seed in seeds}
    runs = []
    for seed in seeds:
        took = [seconds[job] for job in {made.trained[job] for job in made.jobs[
            experiment.name, seed]}]
        runs.append({"seed": seed, "wall_time_s": round(sum(wall for wall, _ in took), 3),
                     "cpu_time_s": round(sum(cpu for _, cpu in took), 3)})
    record = new_record(experiment, made.params[experiment.name],
                        request.overrides.get(experiment.name), check_seeds(request.seeds),
                        request.quick, request.workers, data, runs)
    if experiment.name in made.capped:  # the defaults the data set was too small for
        record["samples_capped"] = made.capped[experiment.name]
    return experiment, record, histories, request.langs, request.formats


def results_of(experiment: Experiment, params: dict, seed: int = 0, data=None) -> dict:
    """``experiment``'s results for ``params`` and ``seed``, computed here, one job after
    another (each equal job once), as JSON-able values: for a notebook or a test that wants the
    numbers without records or figures."""
    listed = experiment.jobs(params, seed)
    trained = jobs_.longest(listed)
    done = {job: _single_threaded(jobs_.run_job, job, data)
            for job in dict.fromkeys(trained.values())}
    histories = [jobs_.prefix(job, trained[job], done[trained[job]]) for job in listed]
    return json.loads(json.dumps(plain(experiment.results(histories, params))))
