"""Studies shared by worker processes: storage, the claim lock, heartbeats, the worker loop.

Trials live in an Optuna storage: an SQLite file by default, or any RDB URL such as
``postgresql://user@host/db``, so that worker processes on one machine (``workers``) or on many
(each started with the same ``study`` and ``storage``) share one study. Workers claim trials
under a lock (a file lock for SQLite, a PostgreSQL advisory lock), so the study ends with
exactly ``n_trials`` finished trials; a killed worker's trial stops sending heartbeats, is
failed after ``grace_period`` seconds and re-queued with the same parameters for the next
worker. A trial whose loss diverges is recorded as failed with its reason, and counts.
"""

from __future__ import annotations

import contextlib
import fcntl
import hashlib
import multiprocessing
import threading
import time
import warnings
from pathlib import Path

import numpy as np

from dlfs import _checks
from dlfs.search.config import SearchConfig
from dlfs.search.objective import DIVERGED, Split, make_split, resolve_data, run_trial


def default_storage(out) -> str:
    """The SQLite storage URL of a search whose output folder is ``out``: out/search.db."""
    return f"sqlite:///{Path(out).resolve() / 'search.db'}"


def _storage(url: str, config: SearchConfig):
    import optuna

    engine_kwargs = {"connect_args": {"timeout": 60}} if url.startswith("sqlite") else {}
    return optuna.storages.RDBStorage(
        url, engine_kwargs=engine_kwargs, heartbeat_interval=config.heartbeat_interval,
        grace_period=config.grace_period,
        heartbeat_stale_trial_callback=optuna.storages.RetryHeartbeatStaleTrialCallback(
            max_retry=3))


@contextlib.contextmanager
def _claim_lock(url: str, study_name: str):
    """Serialises 'count the trials, then claim one' across every worker of the study."""
    if url.startswith("sqlite:///"):
        path = Path(url.removeprefix("sqlite:///") + ".lock")
        with open(path, "a") as handle:
            fcntl.flock(handle, fcntl.LOCK_EX)
            try:
                yield
            finally:
                fcntl.flock(handle, fcntl.LOCK_UN)
    elif url.startswith("postgresql"):
        import sqlalchemy

        key = int.from_bytes(hashlib.sha256(study_name.encode()).digest()[:8], "big", signed=True)
        engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
        try:
            with engine.connect() as connection:
                connection.execute(sqlalchemy.text("SELECT pg_advisory_lock(:k)"), {"k": key})
                try:
                    yield
                finally:
                    connection.execute(sqlalchemy.text("SELECT pg_advisory_unlock(:k)"),
                                       {"k": key})
        finally:
            engine.dispose()
    else:
        raise ValueError(f"storage {url!r}: use sqlite:///PATH or postgresql://…, whose "
                         "locks keep the trial count exact across workers")


def _sampler(config: SearchConfig, worker_seed: int):
    import optuna

    return {"random": optuna.samplers.RandomSampler,
            "tpe": optuna.samplers.TPESampler,
            "qmc": optuna.samplers.QMCSampler}[config.sampler](seed=worker_seed)


def _pruner(config: SearchConfig):
    import optuna

    if config.pruner == "median":
        return optuna.pruners.MedianPruner(n_startup_trials=5, n_warmup_steps=5)
    if config.pruner == "sha":
        return optuna.pruners.SuccessiveHalvingPruner()
    if config.pruner == "hyperband":
        return optuna.pruners.HyperbandPruner(min_resource=1, max_resource=config.epochs)
    return optuna.pruners.NopPruner()


def trial_seed(seed: int, number: int) -> int:
    """The sampler seed for trial ``number``. Seeding per trial, not per worker, means workers
    never draw the same values (they never share a trial number), and a study's trials are the
    same whatever the number of workers or machines."""
    return int(np.random.SeedSequence([seed, number]).generate_state(1)[0])


def _counts(study) -> tuple[int, int, bool]:
    from optuna.trial import TrialState

    done = pending = 0
    waiting = False
    for trial in study.get_trials(deepcopy=False):
        if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
            done += 1
        elif trial.state == TrialState.FAIL and DIVERGED in str(
                trial.user_attrs.get("fail_reason", "")):
            done += 1
        elif trial.state in (TrialState.RUNNING, TrialState.WAITING):
            pending += 1
            waiting = waiting or trial.state == TrialState.WAITING
    return done, pending, waiting


class _Heartbeat:
    """Records the trial's heartbeat every interval while the trial runs."""

    def __init__(self, storage, trial_id: int, interval: int):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, args=(storage, trial_id, interval),
                                        daemon=True)

    def _beat(self, storage, trial_id, interval):
        while not self._stop.wait(interval):
            storage.record_heartbeat(trial_id)

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def open_study(config: SearchConfig, study_name: str, storage_url: str):
    """Creates or loads the study. Under the claim lock: workers starting together on a new
    storage would otherwise race to create its tables."""
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Heartbeats and fail_stale_trials are marked experimental; they are what we rely on.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    with _claim_lock(storage_url, study_name):
        return optuna.create_study(
            study_name=study_name, storage=_storage(storage_url, config),
            direction="maximize", sampler=_sampler(config, config.seed),
            pruner=_pruner(config), load_if_exists=True)


def work(config: SearchConfig, study_name: str, storage_url: str, data,
         poll: float = 1.0) -> int:
    """One worker: claims and runs trials until the study has ``n_trials`` finished ones.

    ``data``: a dlfs.data.Data, or a zero-argument callable returning one. Returns the number
    of trials this worker ran.
    """
    split = make_split(config, resolve_data(data))
    return _work(config, open_study(config, study_name, storage_url), storage_url, split, poll)


def _work(config: SearchConfig, study, storage_url: str, split: Split, poll: float) -> int:
    import optuna
    from optuna.trial import TrialState

    from dlfs.train import TrainingDiverged

    ran = 0
    while True:
        with _claim_lock(storage_url, study.study_name):
            optuna.storages.fail_stale_trials(study)
            done, pending, waiting = _counts(study)
            if done >= config.n_trials:
                return ran
            with warnings.catch_warnings():
                # Optuna expects heartbeats from Study.optimize; _Heartbeat sends them here.
                warnings.filterwarnings("ignore", message="Heartbeat of storage")
                trial = study.ask() if done + pending < config.n_trials or waiting else None
        if trial is None:  # others are running the last trials; one may yet be re-queued
            time.sleep(poll)
            continue
        if config.sampler != "qmc":  # QMC indexes its sequence by trial number already
            study.sampler = _sampler(config, trial_seed(config.seed, trial.number))
        ran += 1
        with _Heartbeat(study._storage, trial._trial_id, config.heartbeat_interval):
            try:
                value = run_trial(trial, config, split)
            except optuna.TrialPruned:
                study.tell(trial, state=TrialState.PRUNED)
            except TrainingDiverged:
                study.tell(trial, state=TrialState.FAIL)
            except BaseException:
                study.tell(trial, state=TrialState.FAIL)
                raise
            else:
                study.tell(trial, value)


def _work_in_process(args) -> int:
    from threadpoolctl import threadpool_limits

    config, study_name, storage_url, split = args
    with threadpool_limits(1):  # the workers share the cores
        return _work(config, open_study(config, study_name, storage_url), storage_url, split,
                     poll=1.0)


@contextlib.contextmanager
def _finished_trials_bar(study, total: int, enabled: bool, poll: float = 0.5):
    """While the block runs, a bar of the study's finished trials (those of every worker, on
    any machine), counted by a thread of this process every ``poll`` seconds."""
    import optuna

    from dlfs._progress import progress_bar

    bar = progress_bar(total, enabled, unit="trial", desc="search")
    if bar is None:
        yield
        return
    stop = threading.Event()

    def show():
        try:
            bar.n = min(_counts(study)[0], total)
        except optuna.exceptions.StorageInternalError:
            return  # a busy database: the next poll counts again
        bar.refresh()

    def keep_showing():
        while not stop.wait(poll):
            show()

    show()  # at once, with the trials a resumed study already has
    thread = threading.Thread(target=keep_showing, daemon=True)
    thread.start()
    try:
        yield
    finally:
        stop.set()
        thread.join()
        show()
        bar.close()


def search(config: SearchConfig, study_name: str, storage_url: str, workers: int = 1, *,
           data, progress: bool = False) -> int:
    """Runs ``workers`` worker processes (or this one, for 1) until the study is complete.

    ``data`` is what every trial trains on: a dlfs.data.Data, or a zero-argument callable
    returning one, called once, here. The search never chooses a data set itself; the
    network's input width and class count are the data's. Only the study's split (the first
    ``train_samples`` samples) travels to the worker processes. Rerunning with the same study
    and storage resumes it. ``progress`` shows a bar of finished trials on stderr; without it
    the search prints nothing. Returns the number of trials run by this call.
    """
    _checks.positive_int("workers", workers)
    split = make_split(config, resolve_data(data))
    # Creating the tables and the study here, once, keeps workers from racing to do it.
    study = open_study(config, study_name, storage_url)
    with _finished_trials_bar(study, config.n_trials, progress):
        if workers == 1:
            return _work(config, study, storage_url, split, poll=1.0)
        context = multiprocessing.get_context("spawn")
        with context.Pool(workers) as pool:
            return sum(pool.map(_work_in_process,
                                [(config, study_name, storage_url, split)] * workers))
