"""``search``: a study run by this process or by worker processes that a parent watches.

The parent starts ``workers`` processes, each running the worker loop of dlfs.search.study on
the study's split, and waits on them, never on a task: a worker that dies (SIGKILL, out of
memory) has its running trial failed and re-queued at once by the parent, and is replaced;
after as many deaths as workers the parent stops the rest and raises SearchError. SIGTERM or
SIGINT to the parent stops every worker cleanly (their trials re-queued) and raises
SearchStopped. Every wait has a deadline.

Why these workers are not the lab's pool (dlfs.experiments.lab), though both are local
processes with one BLAS thread each: the lab hands short, pure jobs to a
``multiprocessing.Pool`` of forked processes and takes their results back through its pipes.
Forking lets the data set reach the workers without pickling it, and a job lost with its
worker only fails its experiments (the lab notices the death through a pipe of (token, pid);
the Pool itself replaces a dead worker silently and its task never ends). These workers are
long-lived loops that take their trials from the study's storage themselves, the queue they
share with workers on other machines; the parent hands them nothing and gets nothing back but
an exit code. What the search needs and the pool cannot give: to know which process died and
which trial it held (``current``, a shared value per process), so that this trial is failed
and re-queued at once for the other workers, here and elsewhere, and the process replaced up
to a bound; workers that handle SIGTERM themselves, re-queueing their trial before they exit
(the Pool's ``terminate`` ends them at once); and ``spawn``, not fork, because the parent
holds open database connections (the study's SQLAlchemy engine, a PostgreSQL socket) and a
progress thread when its workers start, which a forked child would inherit mid-use. What both
share is small: ``threadpool_limits(1)`` in each process, and a parent that ends every
process it started.
"""

from __future__ import annotations

import contextlib
import multiprocessing
import multiprocessing.connection
import os
import threading

from dlfs import _checks
from dlfs._said import SaidValueError
from dlfs.search.config import SearchConfig
from dlfs.search.objective import prepare
from dlfs.search.storage import SearchError, claim_lock
from dlfs.search.study import (
    SearchStopped,
    _counts,
    _work,
    fail_and_requeue,
    open_study,
    restore,
    stop_caught,
    stopping_on_signals,
)


def max_workers() -> int:
    """The most worker processes ``search`` starts: one per core this process may use (at
    least 4); more only slow each other down, and each holds its own copy of the split."""
    try:
        cores = len(os.sched_getaffinity(0))
    except AttributeError:  # not Linux
        cores = os.cpu_count() or 1
    return max(4, cores)


def check_workers(workers) -> int:
    """``workers`` as an int between 1 and max_workers(); a ValueError naming it otherwise."""
    _checks.positive_int("workers", workers)
    if workers > max_workers():
        raise SaidValueError(key="said.search_workers", most=max_workers(), workers=workers)
    return workers


def _work_in_process(config, study_name, storage_url, split, current, ran, errors, durable):
    from threadpoolctl import threadpool_limits

    handlers = stopping_on_signals()
    try:
        with threadpool_limits(1):  # the workers share the cores
            study = open_study(config, study_name, storage_url, force_resume=True,
                               durable=durable)
            ran.value = _work(config, study, storage_url, split, poll=1.0, current=current)
    except SearchStopped:
        raise SystemExit(3) from None
    except Exception as error:  # noqa: BLE001  told to the parent, which reports it once
        errors.put(f"{type(error).__name__}: {error}")
        raise SystemExit(2) from None
    finally:
        restore(handlers)


def _supervise(config: SearchConfig, study, storage_url: str, split, workers: int,
               poll: float = 1.0, durable: bool = True) -> int:
    context = multiprocessing.get_context("spawn")
    errors = context.SimpleQueue()
    ran = 0
    deaths = []

    def start():
        current, count = context.Value("q", -1), context.Value("q", 0)
        process = context.Process(
            target=_work_in_process, daemon=True,
            args=(config, study.study_name, storage_url, split, current, count, errors,
                  durable))
        process.start()
        return process, current, count

    running = [start() for _ in range(workers)]
    try:
        while running:
            multiprocessing.connection.wait([p.sentinel for p, _, _ in running], timeout=poll)
            for entry in [e for e in running if e[0].exitcode is not None]:
                process, current, count = entry
                running.remove(entry)
                ran += count.value
                if process.exitcode == 0:
                    continue
                if process.exitcode == 2:
                    raise SearchError(key="said.search_worker_stopped", error=errors.get())
                trial_id = current.value
                if trial_id >= 0:  # its trial: failed and re-queued now, not after the grace
                    with claim_lock(storage_url, study.study_name, config.wait_timeout):
                        fail_and_requeue(study, trial_id)
                deaths.append(process.exitcode)
                if len(deaths) >= workers:
                    raise SearchError(key="said.search_workers_died", count=len(deaths),
                                      codes=", ".join(map(str, deaths)))
                if _counts(study)[0] < config.n_trials:
                    running.append(start())
    except BaseException as error:
        stop_caught(error)  # a stop under way: no repeat of its signal while workers end
        raise
    finally:
        for process, _, _ in running:  # each fails and re-queues its trial on SIGTERM
            process.terminate()
        for process, _, _ in running:
            process.join(timeout=config.wait_timeout)
            if process.exitcode is None:
                process.kill()
    return ran


@contextlib.contextmanager
def _finished_trials_bar(study, total: int, enabled: bool, poll: float = 0.5):
    """While the block runs, a bar of the study's finished trials (those of every worker, on
    any machine), counted by a thread of this process every ``poll`` seconds."""
    from dlfs._progress import progress_bar

    bar = progress_bar(total, enabled, unit="trial", desc="search")
    if bar is None:
        yield
        return
    stop = threading.Event()

    def show():
        try:
            bar.n = min(_counts(study)[0], total)
        except Exception:  # noqa: BLE001  a busy or absent database: the next poll counts again
            return
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
           data, progress: bool = False, force_resume: bool = False,
           durable: bool = True) -> int:
    """Runs ``workers`` worker processes (or this one, for 1) until the study is complete.

    ``data`` is what every trial trains on: a dlfs.data.Data, or a zero-argument callable
    returning one, called once, here. The search never chooses a data set itself; the
    network's input width and class count are the data's. Only the study's split (the first
    ``train_samples`` samples) travels to the worker processes. Rerunning with the same study
    and storage resumes it (refused when the settings differ, unless ``force_resume``).
    ``progress`` shows a bar of finished trials on stderr; without it the search prints
    nothing. ``durable=False`` (SQLite) does not wait for the disk at each commit, for a study
    thrown away after the run (dlfs.search.storage.rdb_storage). Returns the number of trials
    run by this call. Raises SearchStopped on SIGTERM or SIGINT (every running trial
    re-queued) and SearchError when it cannot go on.
    """
    check_workers(workers)
    config, split = prepare(config, data)  # the train_samples used, recorded by the study
    # Creating the tables and the study here, once, keeps workers from racing to do it.
    study = open_study(config, study_name, storage_url, force_resume=force_resume,
                       durable=durable)
    handlers = stopping_on_signals()
    try:
        with _finished_trials_bar(study, config.n_trials, progress):
            if workers == 1:
                return _work(config, study, storage_url, split, poll=1.0)
            return _supervise(config, study, storage_url, split, workers, durable=durable)
    finally:
        restore(handlers)
