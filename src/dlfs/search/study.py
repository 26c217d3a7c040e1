"""Studies shared by worker processes: settings, heartbeats, stale trials, the worker loop.

Trials live in an Optuna storage: an SQLite file by default, or any RDB URL such as
``postgresql://user@host/db``, so that worker processes on one machine (``workers``) or on many
(each started with the same ``study`` and ``storage``) share one study. Workers claim trials
under a lock (a file lock for SQLite, a PostgreSQL advisory lock), so the study ends with
exactly ``n_trials`` finished trials. A trial's heartbeat is recorded from the moment it is
claimed; a killed worker's trial stops sending them, is failed after ``grace_period`` seconds
(every worker looks for such trials on a timer) and re-queued with the same parameters for
the next worker. SIGTERM or SIGINT fails and re-queues a worker's trial at once (a watchdog
delivers the signal again should its raise be lost), then the worker stops. A worker
paused past the grace period drops its trial, which another has taken over. A trial whose
loss diverges is recorded as failed with its reason, and counts. Every wait has a deadline,
``wait_timeout``, and a SearchError says what it waited for. A storage that stops answering
(a database server gone) is retried with backoff for ``storage_retry`` seconds, then a
SearchError names it (password masked); a trial it cut short is re-queued once it is back.

Stop points, for fault tests: a worker can be made to stop at a named point of its trial
(``stop_point``), so that a test kills it exactly there instead of guessing the moment.
"""

from __future__ import annotations

import os
import signal
import threading
import time
import warnings

import numpy as np

from dlfs.search.config import STUDY_SETTINGS, SearchConfig
from dlfs.search.objective import (
    DIVERGED,
    Split,
    prepare,
    run_trial,
    suggest,
)
from dlfs.search.storage import (
    SearchError,
    claim_lock,
    default_storage,
    mask,
    rdb_storage,
    scrub,
)

__all__ = ["SearchError", "SearchStopped", "default_storage", "open_study", "trial_seed", "work"]


class SearchStopped(BaseException):
    """SIGTERM or SIGINT reached a worker: its trial was failed and re-queued, and it stops.
    A BaseException, like KeyboardInterrupt, so that no ``except Exception`` swallows it."""

    def __init__(self, signum: int):
        self.signum = signum
        super().__init__(f"stopped by {signal.Signals(signum).name}")


# A stop must not hang on one raise landing. Python runs a signal's handler in the main thread
# at its next bytecode boundary, wherever that is: inside a __del__ or a weakref callback run by
# the garbage collector, where CPython prints "Exception ignored in ..." and drops the
# exception, or inside a C function that clears errors; and the worker would train on. So a
# watchdog thread hears of every SIGTERM and SIGINT from the C level (signal.set_wakeup_fd,
# written to whether or not the Python handler then runs, or raises to any effect); until the
# worker has caught its SearchStopped (stop_caught), it delivers the signal to the main thread
# again every REDELIVER seconds. The worker loop and the training (each epoch) look too.
REDELIVER = 0.5
_SIGNALS = (signal.SIGTERM, signal.SIGINT)


class _Stop:
    signum: int | None = None  # the signal that asked this worker to stop
    caught = False  # its SearchStopped reached the worker loop: the stop is under way
    watchdog: threading.Event | None = None  # set to end the watchdog thread
    wakeup_fd = -1  # the wakeup fd there was before ours, for restore
    lock = threading.Lock()  # no repeat from the watchdog once restore has begun


def _stop(signum, frame):
    if _Stop.caught:  # a stop under way (its trial being re-queued): a repeat, or a 2nd Ctrl-C
        return
    _Stop.signum = signum
    raise SearchStopped(signum)


def stop_caught(error: BaseException) -> None:
    """Called where the worker catches an exception: a SearchStopped is now being handled, so
    no repeat of its signal is raised into the trial's re-queue."""
    if isinstance(error, SearchStopped):
        _Stop.caught = True


def raise_if_stopped() -> None:
    """Raises SearchStopped when a signal asked this worker to stop and its raise was lost."""
    if _Stop.signum is not None and not _Stop.caught:
        raise SearchStopped(_Stop.signum)


def _watch(done: threading.Event, read_fd: int | None, write_fd: int | None) -> None:
    import _thread
    import select

    since = None  # when the watchdog first saw the stop not yet caught
    try:
        while not done.is_set():
            if read_fd is None:
                done.wait(REDELIVER)
            elif select.select([read_fd], [], [], REDELIVER)[0]:
                for signum in os.read(read_fd, 64):
                    if signum in _SIGNALS and _Stop.signum is None:
                        _Stop.signum = signum
            if _Stop.signum is None or _Stop.caught or done.is_set():
                since = None
            elif since is None:
                since = time.monotonic()  # the handler's own raise has REDELIVER s to land
            elif time.monotonic() - since >= REDELIVER:
                since = time.monotonic()
                with _Stop.lock:
                    if not _Stop.caught:  # runs _stop again in the main thread
                        _thread.interrupt_main(_Stop.signum)
    finally:
        for fd in (read_fd, write_fd):
            if fd is not None:
                os.close(fd)


def stopping_on_signals():
    """Installs handlers that turn SIGTERM and SIGINT into SearchStopped (in the main thread
    only, where Python runs handlers), and the watchdog that repeats a signal whose raise was
    lost; returns the previous handlers for ``restore``."""
    if threading.current_thread() is not threading.main_thread():
        return {}
    _Stop.signum, _Stop.caught = None, False
    if _Stop.watchdog is None:
        read_fd, write_fd = os.pipe()
        os.set_blocking(write_fd, False)
        _Stop.wakeup_fd = signal.set_wakeup_fd(write_fd, warn_on_full_buffer=False)
        if _Stop.wakeup_fd != -1:  # someone else's (an event loop's): theirs, left alone
            signal.set_wakeup_fd(_Stop.wakeup_fd)
            os.close(read_fd)
            os.close(write_fd)
            read_fd = write_fd = None
        _Stop.watchdog = threading.Event()
        threading.Thread(target=_watch, args=(_Stop.watchdog, read_fd, write_fd), daemon=True,
                         name="dlfs-search-stop-watchdog").start()
    return {signum: signal.signal(signum, _stop) for signum in _SIGNALS}


def restore(handlers) -> None:
    if handlers:
        with _Stop.lock:
            _Stop.caught = True  # no repeat once the worker is done
        if _Stop.watchdog is not None:
            signal.set_wakeup_fd(_Stop.wakeup_fd)  # before the watchdog closes ours
            _Stop.watchdog.set()
            _Stop.watchdog = None
    for signum, handler in handlers.items():
        signal.signal(signum, handler)


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


# -- stop points, for fault tests ------------------------------------------------------------
STOP_AT = "DLFS_SEARCH_STOP_AT"
STOP_DIR = "DLFS_SEARCH_STOP_DIR"
STOP_POINTS = ("before-first-heartbeat", "after-claim", "after-first-heartbeat", "before-tell")
STOP_LIMIT = 60.0  # seconds a stopped worker waits before it carries on by itself
_stopped: set[str] = set()


def stop_point(point: str, trial_id: int, wait: bool = True) -> None:
    """Where a fault test kills a worker. When the environment variable DLFS_SEARCH_STOP_AT
    names ``point`` (a comma-separated list of STOP_POINTS), the first time this process
    reaches it, it writes the file DLFS_SEARCH_STOP_DIR/POINT.PID holding ``trial_id`` and
    waits while that file exists (at most STOP_LIMIT seconds): the test kills it there
    (SIGKILL, SIGTERM, SIGSTOP) or deletes the file to let it go on. Unset, it costs one
    look-up in os.environ. The points, in the order a trial passes them:

    - before-first-heartbeat: inside the claim, under the claim lock, the trial RUNNING with
      its values drawn but no heartbeat yet;
    - after-claim: the claim (and its first heartbeat) done, the lock released, the heartbeat
      thread not yet started; inside the block that re-queues the trial on SIGTERM or SIGINT;
    - after-first-heartbeat: the heartbeat thread has recorded its first beat. Only said, not
      waited at (``wait`` False): the trial trains on and its heartbeats go on, as mid-trial;
    - before-tell: trained, its value not yet told; the heartbeats go on while it waits.
    """
    names = os.environ.get(STOP_AT)
    if not names or point not in names.split(",") or point in _stopped:
        return
    _stopped.add(point)
    path = os.path.join(os.environ[STOP_DIR], f"{point}.{os.getpid()}")
    with open(path + ".part", "w", encoding="utf-8") as file:
        file.write(str(trial_id))
    os.replace(path + ".part", path)  # whole, or not there
    deadline = time.monotonic() + STOP_LIMIT
    while wait and os.path.exists(path) and time.monotonic() < deadline:
        time.sleep(0.01)


def trial_seed(seed: int, number: int) -> int:
    """The sampler seed for trial ``number``. Seeding per trial, not per worker, means workers
    never draw the same values (they never share a trial number), and a study's trials are the
    same whatever the number of workers or machines."""
    return int(np.random.SeedSequence([seed, number]).generate_state(1)[0])


def _counts(study) -> tuple[int, list[int], bool]:
    """Finished trials, the numbers of those running or queued, and whether any is queued."""
    from optuna.trial import TrialState

    done = 0
    pending = []
    waiting = False
    for trial in study.get_trials(deepcopy=False):
        if trial.state in (TrialState.COMPLETE, TrialState.PRUNED):
            done += 1
        elif trial.state == TrialState.FAIL and DIVERGED in str(
                trial.user_attrs.get("fail_reason", "")):
            done += 1
        elif trial.state in (TrialState.RUNNING, TrialState.WAITING):
            pending.append(trial.number)
            waiting = waiting or trial.state == TrialState.WAITING
    return done, pending, waiting


class _Heartbeat:
    """While a trial runs: its heartbeat every interval, and a look for other workers' stale
    trials every grace period (so a dead worker's trial is re-queued within about one grace
    period, not only when some worker next claims a trial)."""

    def __init__(self, study, storage_url: str, trial_id: int, config: SearchConfig):
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._beat, daemon=True,
                                        args=(study, storage_url, trial_id, config))

    def _beat(self, study, storage_url, trial_id, config):
        last_look = time.monotonic()
        while not self._stop.wait(config.heartbeat_interval):
            try:
                study._storage.record_heartbeat(trial_id)
                stop_point("after-first-heartbeat", trial_id, wait=False)
                if time.monotonic() - last_look >= config.grace_period:
                    last_look = time.monotonic()
                    with claim_lock(storage_url, study.study_name, config.wait_timeout):
                        fail_stale_trials(study)
            except Exception:  # noqa: BLE001  a busy or absent database: the next beat tries
                continue

    def __enter__(self):
        self._thread.start()
        return self

    def __exit__(self, *exc):
        self._stop.set()
        self._thread.join()


def fail_stale_trials(study) -> None:
    """Optuna's: trials whose heartbeat is older than the grace period are failed and queued
    again with the same values. And ours: a running trial with no heartbeat at all, seen under
    the claim lock, is one whose worker died between claiming it and recording its first
    heartbeat (both happen under the lock); it is failed and queued again now. Call under the
    claim lock."""
    import optuna
    import sqlalchemy

    optuna.storages.fail_stale_trials(study)
    unclaimed = sqlalchemy.text(
        "SELECT t.trial_id FROM trials t LEFT JOIN trial_heartbeats h ON h.trial_id = t.trial_id"
        " WHERE t.study_id = :study AND t.state = 'RUNNING' AND h.trial_id IS NULL")
    engine = getattr(study._storage, "_backend", study._storage).engine  # under the cache
    with engine.connect() as connection:
        orphans = [row[0] for row in connection.execute(unclaimed, {"study": study._study_id})]
    for trial_id in orphans:
        fail_and_requeue(study, trial_id)


def fail_and_requeue(study, trial_id: int) -> bool:
    """Fails the running trial ``trial_id`` now and queues its values again, as a stale trial
    is; False when it had finished already. Call under the claim lock."""
    import copy

    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    storage = study._storage
    try:
        if not storage.set_trial_state_values(trial_id, state=TrialState.FAIL):
            return False
    except UpdateFinishedTrialError:
        return False
    storage.get_heartbeat_stale_trial_callback()(study, copy.deepcopy(storage.get_trial(trial_id)))
    return True


def open_study(config: SearchConfig, study_name: str, storage_url: str, *,
               force_resume: bool = False, durable: bool = True):
    """Creates or loads the study. Under the claim lock: workers starting together on a new
    storage would otherwise race to create its tables. ``durable``: see rdb_storage.

    A new study records its settings; loading one whose settings differ (in STUDY_SETTINGS) is
    refused with a ValueError naming the differences, unless ``force_resume``.
    """
    import optuna

    optuna.logging.set_verbosity(optuna.logging.WARNING)
    # Heartbeats and fail_stale_trials are marked experimental; they are what we rely on.
    warnings.filterwarnings("ignore", category=optuna.exceptions.ExperimentalWarning)
    settings = {name: config.as_dict()[name] for name in STUDY_SETTINGS}
    with claim_lock(storage_url, study_name, config.wait_timeout):
        study = optuna.create_study(
            study_name=study_name, storage=rdb_storage(storage_url, config, durable),
            direction="maximize", sampler=_sampler(config, config.seed),
            pruner=_pruner(config), load_if_exists=True)
        recorded = study.user_attrs.get("settings")
        if recorded is None:
            study.set_user_attr("settings", settings)
        elif recorded != settings and not force_resume:
            from dlfs._said import Phrase, SaidValueError

            differences = [Phrase("said.search_difference", name=name,
                                  then=repr(recorded.get(name)), now=repr(settings[name]))
                           for name in STUDY_SETTINGS if recorded.get(name) != settings[name]]
            raise SaidValueError(key="said.search_other_settings", study=repr(study_name),
                                 storage=mask(storage_url), differences=_Joined(differences))
    return study


class _Joined:
    """Phrases said one after another, separated by "; ", in the language of the line."""

    def __init__(self, phrases):
        self.phrases = phrases

    def text(self, lang: str) -> str:
        return "; ".join(phrase.text(lang) for phrase in self.phrases)


def work(config: SearchConfig, study_name: str, storage_url: str, data,
         poll: float = 1.0, *, force_resume: bool = False) -> int:
    """One worker: claims and runs trials until the study has ``n_trials`` finished ones.

    ``data``: a dlfs.data.Data, or a zero-argument callable returning one. Returns the number
    of trials this worker ran. SIGTERM or SIGINT fails and re-queues its trial at once, then
    raises SearchStopped.
    """
    config, split = prepare(config, data)  # the train_samples used, recorded by the study
    study = open_study(config, study_name, storage_url, force_resume=force_resume)
    handlers = stopping_on_signals()
    try:
        return _work(config, study, storage_url, split, poll)
    finally:
        restore(handlers)


def _storage_errors() -> tuple[type[BaseException], ...]:
    """What an unreachable or failing database raises, through SQLAlchemy or Optuna."""
    import optuna
    import sqlalchemy

    return sqlalchemy.exc.SQLAlchemyError, optuna.exceptions.StorageInternalError


class _Outage:
    """Backoff while the storage does not answer: waits of 0.25 s doubling up to 8 s, and a
    SearchError naming the storage once it has not answered for ``storage_retry`` seconds."""

    def __init__(self, config: SearchConfig, storage_url: str):
        self._limit = config.storage_retry
        self._url = storage_url
        self.over()

    def over(self) -> None:
        self._since, self._delay = None, 0.25

    def wait(self, error: BaseException) -> None:
        now = time.monotonic()
        self._since = self._since or now
        left = self._since + self._limit - now
        if left <= 0:
            reason = scrub(str(error).strip().splitlines()[0] if str(error).strip() else
                           type(error).__name__, self._url)
            raise SearchError(key="said.search_storage_gone", storage=mask(self._url),
                              seconds=self._limit, reason=reason) from None
        time.sleep(min(self._delay, left))
        self._delay = min(2 * self._delay, 8.0)


def _claim(config: SearchConfig, study, storage_url: str, claimed: dict | None = None):
    """Under the claim lock: the next trial (its heartbeat recorded at once, so that it is
    failed and re-queued however early its worker dies), None while the study's last trials
    run elsewhere, or "done"; and the pending trial numbers. ``claimed["trial_id"]`` is set
    the moment the trial exists, so a signal that stops the worker even inside the claim finds
    the trial to re-queue."""
    with claim_lock(storage_url, study.study_name, config.wait_timeout):
        fail_stale_trials(study)
        done, pending, waiting = _counts(study)
        if done >= config.n_trials:
            return "done", pending
        if not (done + len(pending) < config.n_trials or waiting):
            return None, pending
        with warnings.catch_warnings():
            # Optuna expects heartbeats from Study.optimize; _Heartbeat sends them here.
            warnings.filterwarnings("ignore", message="Heartbeat of storage")
            trial = study.ask()
        if claimed is not None:
            claimed["trial_id"] = trial._trial_id
        if config.sampler != "qmc":  # QMC indexes its sequence by trial number already
            # A re-queued trial is seeded by the number of the trial it repeats: one whose
            # worker died before its values were drawn then draws the values it would have.
            original = study._storage.get_trial_system_attrs(trial._trial_id).get(
                "failed_trial", trial.number)
            study.sampler = _sampler(config, trial_seed(config.seed, original))
        # Every value drawn now, so that a trial re-queued after its worker died carries them
        # all (run_trial's suggest then reads them back).
        suggest(trial, config)
        stop_point("before-first-heartbeat", trial._trial_id)
        study._storage.record_heartbeat(trial._trial_id)
        return trial, pending


def _work(config: SearchConfig, study, storage_url: str, split: Split, poll: float,
          current=None) -> int:
    """The worker loop. ``current``, when given, is a shared value set to the id of the trial
    being run (-1 between trials), for a parent process that watches this one."""
    ran = 0
    waited_since = None
    outage = _Outage(config, storage_url)
    while True:
        raise_if_stopped()
        claimed: dict = {}
        try:
            trial, pending = _claim(config, study, storage_url, claimed)
        except _storage_errors() as error:
            outage.wait(error)
            continue
        except BaseException as error:  # stopped (SIGTERM, SIGINT) inside the claim
            stop_caught(error)
            _requeue_on_stop(config, study, storage_url, claimed)
            raise
        outage.over()
        if trial == "done":
            return ran
        if trial is None:  # others are running the last trials; one may yet be re-queued
            waited_since = waited_since or time.monotonic()
            if time.monotonic() - waited_since > config.wait_timeout:
                raise SearchError(key="said.search_wait_timeout", seconds=config.wait_timeout,
                                  trials=", ".join(map(str, pending)),
                                  study=repr(study.study_name))
            time.sleep(poll)
            continue
        try:
            waited_since = None
            if current is not None:
                current.value = trial._trial_id
            stop_point("after-claim", trial._trial_id)
            with _Heartbeat(study, storage_url, trial._trial_id, config):
                ran += _run(config, study, storage_url, split, trial)
        except _storage_errors() as error:
            # The storage went away during the trial, which cannot be told: it stays
            # running, goes stale and is re-queued once the storage is back.
            outage.wait(error)
        except BaseException as error:  # stopped (SIGTERM, SIGINT) or failed: re-queued at once
            stop_caught(error)
            _requeue_on_stop(config, study, storage_url, claimed)
            raise
        finally:
            if current is not None:
                current.value = -1


def _requeue_on_stop(config: SearchConfig, study, storage_url: str, claimed: dict) -> None:
    """Fails and re-queues the trial this worker claimed, if it has not finished; a storage
    that is gone leaves it to go stale instead."""
    if "trial_id" not in claimed:
        return
    try:
        with claim_lock(storage_url, study.study_name, config.wait_timeout):
            fail_and_requeue(study, claimed["trial_id"])
    except _storage_errors():
        pass


def _run(config: SearchConfig, study, storage_url: str, split: Split, trial) -> int:
    """Runs and tells one claimed trial: 1, or 0 when it was dropped."""
    import optuna
    from optuna.exceptions import UpdateFinishedTrialError
    from optuna.trial import TrialState

    from dlfs.train import TrainingDiverged

    try:
        value = run_trial(trial, config, split, each_epoch=raise_if_stopped)
        stop_point("before-tell", trial._trial_id)
        study.tell(trial, value, skip_if_finished=True)
    except optuna.TrialPruned:
        study.tell(trial, state=TrialState.PRUNED, skip_if_finished=True)
    except TrainingDiverged:
        study.tell(trial, state=TrialState.FAIL, skip_if_finished=True)
    except UpdateFinishedTrialError:
        # Paused past the grace period (SIGSTOP, a closed laptop): the trial was failed and
        # re-queued meanwhile; another worker runs it, this one drops it.
        return 0
    return 1
