"""The search under faults: workers killed before their first heartbeat, stopped by SIGTERM or
SIGINT, dying inside ``--workers N``, paused past the grace period; waits with deadlines;
studies resumed with other settings; storage URLs and passwords. Every fault is real: a real
signal to a real worker process, on SQLite and PostgreSQL. The signal lands at a named point
of the worker's trial: the worker stops there (dlfs.search.study.stop_point) and says so with
a file, so nothing here guesses a moment with a sleep."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import optuna
import pytest

# Shared with test_search: the worker process, its stop points, the SQL count and state.
from test_search import (
    WORKER,
    _count,
    _fresh_database,
    _output,
    _reached,
    _release,
    _state,
    _worker,
)

from dlfs import search
from dlfs.search import SearchError

SETTINGS = "n_trials = 1\nhidden_sizes = [8]\ntrain_samples = 120\n"


@pytest.fixture
def data_file(tmp_path):
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((3, 20)) * 3
    t = rng.integers(0, 3, 200)
    x = (centres[t] + 0.5 * rng.standard_normal((200, 20))).astype(np.float32)
    path = tmp_path / "tiny.npz"
    np.savez(path, x=x, t=t)
    return path


def _wait_for(condition, process, what, timeout=300.0):
    deadline = time.monotonic() + timeout
    while not condition():
        if process.poll() is not None:
            pytest.fail(f"the worker ended before {what}:\n{process.communicate()[0]}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"waited {timeout} s for {what}:\n{process.communicate()[0]}")
        time.sleep(0.05)


def _trials(url, study):
    storage = optuna.storages.RDBStorage(url)
    return optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)


def _finish(process, timeout):
    output = _output(process, timeout)
    assert process.returncode == 0, output
    return output


def _retry_of(trial):
    """The number of the trial that ``trial`` runs again, or None. Optuna's "failed_trial" is the
    first trial of a retry chain (a retry that fails in turn is retried with the same
    "failed_trial"); the last entry of "retry_history" is the one right before it."""
    history = trial.system_attrs.get("retry_history") or [None]
    return history[-1]


def _retried_once(url, study):
    """The study's one trial failed once and ran again, with the same values, to completion."""
    trials = _trials(url, study)
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    failed = [t for t in trials if t.state.name == "FAIL"]
    assert len(complete) == 1 and len(failed) == 1, [t.state.name for t in trials]
    assert complete[0].system_attrs.get("failed_trial") == failed[0].number
    assert complete[0].params == failed[0].params
    return failed[0]


# -- liveness from the claim ---------------------------------------------------------------


@pytest.mark.slow
def test_a_worker_killed_before_its_first_heartbeat_has_its_trial_failed_and_rerun_at_once(
        tmp_path, data_file):
    # A grace period of 60 s and a wait_timeout of 10: the trial must be re-queued by the next
    # claim because it has no heartbeat at all, not because it went stale.
    settings = SETTINGS + "heartbeat_interval = 1\ngrace_period = 60\nwait_timeout = 10\n"
    (tmp_path / "endless.toml").write_text(settings + "epochs = 1000000000\n")
    (tmp_path / "short.toml").write_text(settings + "epochs = 1\n")
    url = search.default_storage(tmp_path)
    first = _worker(tmp_path / "endless.toml", "k", url, data_file,
                    stop_at=("before-first-heartbeat", tmp_path))
    trial_id = _reached(tmp_path, "before-first-heartbeat", first)
    # Claimed: RUNNING with its values drawn (both searched values recorded), no heartbeat.
    assert _count(url, "SELECT count(*) FROM trials t JOIN trial_params p ON "
                       "p.trial_id = t.trial_id WHERE t.state = 'RUNNING'") == 2
    assert _count(url, "SELECT count(*) FROM trial_heartbeats") == 0
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert _state(url, trial_id) == "RUNNING"
    # The same study with fewer epochs: a resume with other settings, forced.
    assert search.work(search.load_config(tmp_path / "short.toml"), "k", url, _tiny(data_file),
                       poll=0.1, force_resume=True) == 1
    assert _retried_once(url, "k")._trial_id == trial_id


def _running_with_heartbeat(url, n=1):
    return lambda: _count(url, "SELECT count(*) FROM trials t JOIN trial_heartbeats h ON "
                               "h.trial_id = t.trial_id WHERE t.state = 'RUNNING'") >= n


@pytest.mark.slow
def test_stale_trials_are_looked_for_while_every_worker_is_busy(tmp_path, data_file):
    # Two endless trials: the survivor never claims another, yet re-queues the dead one's.
    # A grace period of 10 s: a live worker's heartbeats may come seconds late on a machine
    # loaded five times over, and its trial must not go stale meanwhile.
    settings = "n_trials = 2\nhidden_sizes = [8]\nheartbeat_interval = 1\ngrace_period = 10\n"
    (tmp_path / "endless.toml").write_text(settings + "epochs = 1000000000\n")
    url = search.default_storage(tmp_path)
    doomed, survivor = (_worker(tmp_path / "endless.toml", "k", url, data_file,
                                stop_at=("after-first-heartbeat", tmp_path)) for _ in range(2))
    try:
        # Each in its trial, its heartbeat thread beating.
        doomed_trial = _reached(tmp_path, "after-first-heartbeat", doomed)
        survivor_trial = _reached(tmp_path, "after-first-heartbeat", survivor)
        doomed.kill()
        doomed.wait()
        _wait_for(lambda: _state(url, doomed_trial) == "FAIL" and
                  _count(url, "SELECT count(*) FROM trials WHERE state = 'WAITING'") == 1,
                  survivor, "the killed worker's trial was re-queued")
        assert _state(url, survivor_trial) == "RUNNING"  # by its heartbeat thread, mid-trial
    finally:
        for process in (doomed, survivor):
            if process.poll() is None:
                process.kill()
            process.communicate()


# -- stopped by a signal -----------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize(("signum", "point"), [
    (signal.SIGTERM, "before-first-heartbeat"),  # inside the claim, under its lock
    (signal.SIGINT, "after-claim"),
    (signal.SIGTERM, "after-first-heartbeat"),  # mid-trial, training
    (signal.SIGINT, "before-tell"),  # trained, not yet told
], ids=["SIGTERM-before-first-heartbeat", "SIGINT-after-claim", "SIGTERM-after-first-heartbeat",
        "SIGINT-before-tell"])
def test_a_stopped_worker_requeues_its_trial_at_once_and_a_rerun_finishes_the_study(
        tmp_path, data_file, signum, point):
    # A grace period of 60 s and a wait_timeout of 10: the trial must be re-queued by the
    # stopped worker itself.
    settings = SETTINGS + "heartbeat_interval = 1\ngrace_period = 60\nwait_timeout = 10\n"
    (tmp_path / "endless.toml").write_text(settings + "epochs = 1000000000\n")
    (tmp_path / "short.toml").write_text(settings + "epochs = 1\n")
    url = search.default_storage(tmp_path)
    first = _worker(tmp_path / ("short.toml" if point == "before-tell" else "endless.toml"),
                    "k", url, data_file, "force", stop_at=(point, tmp_path))
    trial_id = _reached(tmp_path, point, first)
    first.send_signal(signum)
    output = _output(first, 30)
    assert first.returncode != 0 and "SearchStopped" in output, output
    assert _state(url, trial_id) == "FAIL"
    assert _count(url, "SELECT count(*) FROM trials WHERE state = 'WAITING'") == 1
    assert search.work(search.load_config(tmp_path / "short.toml"), "k", url, _tiny(data_file),
                       poll=0.1, force_resume=True) == 1
    assert _retried_once(url, "k")._trial_id == trial_id


# A worker whose training, once, runs a __del__ that says so with the file in-del.PID and then
# waits (at most 60 s) in time.sleep. A signal that arrives meanwhile has its Python handler run
# right there, inside __del__, where CPython prints "Exception ignored in" and drops the
# SearchStopped it raises: what the garbage collector's finalizers (SQLAlchemy's, Optuna's) do
# now and then to a worker under load, made certain.
DROPPING_WORKER = """
import os
import time
from dlfs import train

class Lingering:
    def __del__(self):
        path = os.path.join(os.environ["DLFS_TEST_DEL_DIR"], f"in-del.{os.getpid()}")
        with open(path + ".part", "w") as file:
            file.write("0")
        os.replace(path + ".part", path)
        deadline = time.monotonic() + 60
        while os.path.exists(path) and time.monotonic() < deadline:
            time.sleep(0.01)

step = train.Trainer._step
def step_once_through_del(self, *args):
    if not getattr(train, "lingered", False):
        train.lingered = True
        Lingering()  # made and dropped: its __del__ runs now, in the main thread, mid-trial
    return step(self, *args)
train.Trainer._step = step_once_through_del
""" + WORKER


@pytest.mark.slow
def test_a_sigterm_whose_raise_is_dropped_inside_a_del_still_stops_the_worker_and_requeues(
        tmp_path, data_file):
    settings = SETTINGS + "heartbeat_interval = 1\ngrace_period = 60\nwait_timeout = 10\n"
    (tmp_path / "endless.toml").write_text(settings + "epochs = 1000000000\n")
    (tmp_path / "short.toml").write_text(settings + "epochs = 1\n")
    url = search.default_storage(tmp_path)
    env = dict(os.environ, DLFS_TIME_LIMIT="0", DLFS_TEST_DEL_DIR=str(tmp_path))
    worker = subprocess.Popen(
        [sys.executable, "-X", "faulthandler", "-c", DROPPING_WORKER,
         str(tmp_path / "endless.toml"), "k", url, str(data_file), "force"],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)
    _reached(tmp_path, "in-del", worker)
    trial_id = _count(url, "SELECT trial_id FROM trials WHERE state = 'RUNNING'")
    worker.send_signal(signal.SIGTERM)
    output = _output(worker, 30)
    # The first raise was dropped inside __del__ (so the fault really happened), yet the worker
    # stopped with SearchStopped, its trial failed and re-queued.
    assert "Exception ignored in: <function Lingering.__del__" in output, output
    assert worker.returncode != 0, output
    assert output.strip().splitlines()[-1].startswith("dlfs.search.study.SearchStopped"), output
    assert _state(url, trial_id) == "FAIL"
    assert _count(url, "SELECT count(*) FROM trials WHERE state = 'WAITING'") == 1
    assert search.work(search.load_config(tmp_path / "short.toml"), "k", url, _tiny(data_file),
                       poll=0.1, force_resume=True) == 1
    assert _retried_once(url, "k")._trial_id == trial_id


@pytest.mark.slow
def test_a_sigterm_after_another_worker_failed_the_trial_as_stale_still_stops_the_worker(
        tmp_path, data_file):
    # What made the three-worker test flaky under load: heartbeats a second late, the stopped
    # worker's trial failed as stale (grace period 2 s) by another worker, then SIGTERM. Its
    # SearchStopped was replaced, in run_trial's finally, by the UpdateFinishedTrialError of
    # recording the curves of a finished trial, which reads as "paused past the grace period":
    # the worker dropped the trial and trained the re-queued one, endlessly.
    from dlfs.search.storage import claim_lock

    settings = SETTINGS + "heartbeat_interval = 1\ngrace_period = 60\nwait_timeout = 10\n"
    (tmp_path / "endless.toml").write_text(settings + "epochs = 1000000000\n")
    config = search.load_config(tmp_path / "endless.toml")
    url = search.default_storage(tmp_path)
    worker = _worker(tmp_path / "endless.toml", "k", url, data_file, "force",
                     stop_at=("after-first-heartbeat", tmp_path))
    trial_id = _reached(tmp_path, "after-first-heartbeat", worker)
    study = search.open_study(config, "k", url, force_resume=True)
    with claim_lock(url, "k", config.wait_timeout):  # as another worker's look for stale ones
        assert search.study.fail_and_requeue(study, trial_id)
    worker.send_signal(signal.SIGTERM)
    output = _output(worker, 30)
    assert worker.returncode != 0, output
    assert output.strip().splitlines()[-1].startswith("dlfs.search.study.SearchStopped"), output
    # Its trial failed, the copy queued again and left for the next worker, not taken.
    assert _state(url, trial_id) == "FAIL"
    assert _count(url, "SELECT count(*) FROM trials WHERE state = 'WAITING'") == 1
    assert _count(url, "SELECT count(*) FROM trials WHERE state = 'RUNNING'") == 0


# -- waits with a deadline --------------------------------------------------------------------


@pytest.mark.slow
def test_a_worker_waiting_for_others_gives_up_at_its_deadline_naming_what_it_waited_for(
        tmp_path, data_file):
    # A grace period of 60 s: the busy worker's trial stays alive however loaded the machine.
    settings = SETTINGS + "heartbeat_interval = 1\ngrace_period = 60\nepochs = 1000000000\n"
    (tmp_path / "endless.toml").write_text(settings)
    url = search.default_storage(tmp_path)
    busy = _worker(tmp_path / "endless.toml", "k", url, data_file,
                   stop_at=("after-claim", tmp_path))
    try:
        _reached(tmp_path, "after-claim", busy)
        _release(tmp_path, "after-claim", busy.pid)
        started = time.monotonic()
        with pytest.raises(SearchError, match=r"waited 2 s \(wait_timeout\) for trial\(s\) 0 of "
                                              r"study 'k', running in other workers"):
            search.work(search.load_config(tmp_path / "endless.toml", wait_timeout=2), "k", url,
                        _tiny(data_file), poll=0.1)
        assert 2 <= time.monotonic() - started < 30
    finally:
        busy.kill()
        busy.communicate()


# -- worker processes of one search ------------------------------------------------------------

PARENT = """
import ctypes
import signal
import sys
import numpy as np
from dlfs import search
from dlfs.data import Data
ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: it dies with the test process
url, arrays = sys.argv[1:]
with np.load(arrays, allow_pickle=False) as a:
    data = Data("tiny", "Tiny", arrays, a["x"], a["t"], a["x"][:50], a["t"][:50])
config = search.load_config(n_trials=4, epochs=20, hidden_sizes=[8], train_samples=120,
                            heartbeat_interval=1, grace_period=60, wait_timeout=10)
print(search.search(config, "p", url, workers=2, data=data), "trials run")
"""


def _children(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as handle:
        return [int(child) for child in handle.read().split()]


@pytest.mark.slow
def test_a_worker_process_that_dies_has_its_trial_requeued_by_the_parent_which_carries_on(
        tmp_path, data_file):
    # A grace period of 60 s and a wait_timeout of 10: only the parent can re-queue the trial
    # in time. Every worker process stops once, after its first claim.
    url = search.default_storage(tmp_path)
    stops = tmp_path / "stops"
    stops.mkdir()
    parent = subprocess.Popen(
        [sys.executable, "-X", "faulthandler", "-c", PARENT, url, str(data_file)],
        stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        env=os.environ | {"DLFS_SEARCH_STOP_AT": "after-claim", "DLFS_SEARCH_STOP_DIR": str(stops)})
    try:
        _wait_for(lambda: len(list(stops.glob("after-claim.*"))) == 2, parent,
                  "both worker processes claimed a trial")
        first, second = sorted(stops.glob("after-claim.*"))
        victim = int(first.name.split(".")[1])
        assert {victim, int(second.name.split(".")[1])} <= set(_children(parent.pid))
        victim_trial = int(first.read_text())
        os.kill(victim, signal.SIGKILL)
        second.unlink()
        # The worker started in the victim's place stops too: let it (and any other) go on.
        deadline = time.monotonic() + 120
        while parent.poll() is None and time.monotonic() < deadline:
            for path in stops.glob("after-claim.*"):
                if path != first:
                    path.unlink(missing_ok=True)
            time.sleep(0.01)
        output = _finish(parent, timeout=5)
    finally:
        if parent.poll() is None:
            parent.kill()
            parent.communicate()
    assert "4 trials run" in output, output
    trials = _trials(url, "p")
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    assert len(complete) == 4 and len({t.number for t in complete}) == 4
    assert len({tuple(sorted(t.params.items())) for t in complete}) == 4
    failed, = (t for t in trials if t.state.name == "FAIL")
    assert failed._trial_id == victim_trial
    assert [_retry_of(t) for t in complete].count(failed.number) == 1


def test_more_workers_than_the_machine_can_run_are_refused(tmp_path):
    with pytest.raises(ValueError, match=rf"workers must be at most {search.max_workers()} "
                                         r"\(the cores this machine gives the search\), got"):
        search.search(search.load_config(n_trials=1), "s", search.default_storage(tmp_path),
                      workers=search.max_workers() + 1, data=lambda: pytest.fail("loaded"))


# -- settings -----------------------------------------------------------------------------------


def _tiny(data_file):
    from dlfs.data import Data

    with np.load(data_file, allow_pickle=False) as arrays:
        x, t = arrays["x"], arrays["t"]
    return Data("tiny", "Tiny", "test", x, t, x[:50], t[:50])


@pytest.mark.slow
def test_resuming_a_study_with_other_settings_is_refused_naming_the_differences(tmp_path,
                                                                               data_file):
    url = search.default_storage(tmp_path)
    tiny = dict(n_trials=1, hidden_sizes=[8], train_samples=120)
    search.work(search.load_config(**tiny, epochs=3), "s", url, _tiny(data_file))
    with pytest.raises(ValueError, match=r"study 's' on sqlite:///.* was run with other settings "
                                         r"\(epochs 3 then, 2 now\): .* Give a new study name "
                                         r"\(--study\), or force the resume \(--force-resume\)"):
        search.work(search.load_config(**tiny, epochs=2), "s", url, _tiny(data_file))
    # More trials of the same search is a resume, and a forced one goes on.
    assert search.work(search.load_config(**{**tiny, "n_trials": 2}, epochs=3), "s", url,
                       _tiny(data_file)) == 1
    assert search.work(search.load_config(**{**tiny, "n_trials": 3}, epochs=2), "s", url,
                       _tiny(data_file), force_resume=True) == 1


@pytest.mark.parametrize(("toml", "message"), [
    ('[space.lr]\nlow = 1e-4\nhigh = 1e-1\nlog = "no"\n',
     "a search range's log must be true or false, got 'no'"),
    ('n_trials = "3"\n', "n_trials must be an integer, got '3'"),
    ("epochs = 2.5\n", "epochs must be an integer, got 2.5"),
    ("val_ratio = true\n", "val_ratio must be a number, got True"),
    ('hidden_sizes = "100"\n', "hidden_sizes must be a list of positive integers, got '100'"),
    ("space = 3\n", "space must be a table of"),
    ("heartbeat_interval = 30\n", "grace_period must exceed heartbeat_interval"),
], ids=["log-string", "count-string", "count-float", "ratio-bool", "sizes-string",
        "space-number", "grace-below-heartbeat"])
def test_toml_values_of_the_wrong_type_are_errors(tmp_path, toml, message):
    path = tmp_path / "search.toml"
    path.write_text(toml)
    with pytest.raises(ValueError, match=message):
        search.load_config(path)


@pytest.mark.slow
@pytest.mark.parametrize("name", ["what?", "100%", "two words", "%3F and ?x=1#y"])
def test_out_folders_with_url_characters_hold_their_own_sqlite_storage(tmp_path, data_file,
                                                                      name):
    folder = tmp_path / name
    folder.mkdir()
    url = search.default_storage(folder)
    assert search.work(search.load_config(n_trials=1, epochs=1, hidden_sizes=[8]), "s", url,
                       _tiny(data_file)) == 1
    assert (folder / "search.db").is_file() and sorted(p.name for p in tmp_path.iterdir()) == \
        sorted(["tiny.npz", name])


@pytest.mark.slow
def test_dlfs_search_refuses_bad_settings_before_loading_any_data(tmp_path):
    (tmp_path / "bad.toml").write_text('log = "no"\n')
    for args, message in ((["--config", str(tmp_path / "bad.toml")], "unknown search setting"),
                          (["--workers", "100000"], "workers must be at most"),
                          (["--storage", "mysql://u:hunter2@h/db"], "use sqlite:///PATH")):
        done = subprocess.run([sys.executable, "-m", "dlfs.cli", "search", "--out",
                               str(tmp_path / "out"), "--data-root", str(tmp_path / "none"),
                               *args], capture_output=True, text=True, timeout=60)
        assert done.returncode == 2 and message in done.stderr, done.stderr
        assert "hunter2" not in done.stderr + done.stdout
        assert not (tmp_path / "none").exists()


# -- the fault test: three workers, one killed, one stopped ---------------------------------------



def _storage(kind, tmp_path, request):
    if kind == "sqlite":
        return search.default_storage(tmp_path)
    name = "faults_" + request.node.callspec.id.replace("-", "_")
    return _fresh_database(request.getfixturevalue("postgres_url"), name)


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "moment"), [
    ("sqlite", "before-first-heartbeat"), ("sqlite", "after-claim"),
    ("sqlite", "after-first-heartbeat"), ("sqlite", "before-tell"),
    ("postgres", "before-first-heartbeat"), ("postgres", "after-first-heartbeat")],
    ids=lambda value: value)
def test_three_workers_one_killed_one_stopped_finish_exactly_the_requested_trials(
        tmp_path, data_file, request, kind, moment):
    n = 3
    url = _storage(kind, tmp_path, request)
    stops = tmp_path / "stops"
    stops.mkdir()
    settings = (f"n_trials = {n}\nhidden_sizes = [8]\ntrain_samples = 120\n"
                # 5 s: the survivor, held with its heartbeats going on, stays alive under load
                "heartbeat_interval = 1\ngrace_period = 5\nwait_timeout = 60\n")
    (tmp_path / "s.toml").write_text(settings + "epochs = 20\n")
    # Trials that never end on their own, so that a worker is still in its trial, training,
    # when its heartbeat thread has beaten; the others resume the study with finite trials.
    (tmp_path / "endless.toml").write_text(settings + "epochs = 1000000000\n")
    # All three at once: the victim, killed at its point; the stopped one, stopped by SIGTERM
    # mid-trial; the survivor, held once trained (its heartbeats going on) until both are done.
    victim = _worker(tmp_path / ("s.toml" if moment == "before-tell" else "endless.toml"),
                     "f", url, data_file, "force", stop_at=(moment, stops))
    stopped = _worker(tmp_path / "endless.toml", "f", url, data_file, "force",
                      stop_at=("after-first-heartbeat", stops))
    survivor = _worker(tmp_path / "s.toml", "f", url, data_file, "force",
                       stop_at=("before-tell", stops))
    try:
        # The victim first: stopped before its first heartbeat, it holds the claim lock.
        victim_trial = _reached(stops, moment, victim)
        assert _state(url, victim_trial) == "RUNNING"
        heartbeats = _count(url, f"SELECT count(*) FROM trial_heartbeats WHERE trial_id = "
                                 f"{victim_trial}")
        assert heartbeats == (0 if moment == "before-first-heartbeat" else 1)
        victim.kill()
        victim.wait()
        stopped_trial = _reached(stops, "after-first-heartbeat", stopped)
        stopped.send_signal(signal.SIGTERM)
        output = _output(stopped, 30)
        assert stopped.returncode != 0 and "SearchStopped" in output, output
        assert _state(url, stopped_trial) == "FAIL"  # and re-queued at once
        _reached(stops, "before-tell", survivor)
        _release(stops, "before-tell", survivor.pid)
        _finish(survivor, timeout=300)
    finally:
        for process in (victim, stopped, survivor):
            if process.poll() is None:
                process.kill()
                process.communicate()
    # A rerun finds the study ended.
    assert search.work(search.load_config(tmp_path / "s.toml"), "f", url, _tiny(data_file),
                       force_resume=True) == 0
    trials = _trials(url, "f")
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    failed = [t for t in trials if t.state.name == "FAIL"]
    assert len(complete) == n and len({t.number for t in complete}) == n
    assert len({tuple(sorted(t.params.items())) for t in complete}) == n
    assert {victim_trial, stopped_trial} <= {t._trial_id for t in failed}
    assert not [t for t in trials if t.state.name not in ("COMPLETE", "FAIL")]
    for trial in failed:  # each failed trial ran again exactly once, with its values
        again = [t for t in trials if _retry_of(t) == trial.number]
        assert len(again) == 1 and again[0].params == trial.params, trial.number


@pytest.mark.slow
@pytest.mark.parametrize(("kind", "point"), [
    ("sqlite", "after-claim"), ("sqlite", "before-tell"), ("postgres", "after-claim")],
    ids=lambda value: value)
def test_a_worker_paused_past_the_grace_period_drops_its_failed_trial_and_carries_on(
        tmp_path, data_file, request, kind, point):
    n = 2
    url = _storage(kind, tmp_path, request)
    (tmp_path / "s.toml").write_text(
        f"n_trials = {n}\nepochs = 20\nhidden_sizes = [8]\ntrain_samples = 120\n"
        "heartbeat_interval = 1\ngrace_period = 5\nwait_timeout = 60\n")
    # Paused before it trains (its trial's attributes are then refused) or once trained,
    # before it tells its value (the tell is then skipped): it must not overwrite the failure.
    paused = _worker(tmp_path / "s.toml", "p", url, data_file, stop_at=(point, tmp_path))
    other = None
    try:
        paused_trial = _reached(tmp_path, point, paused)
        paused.send_signal(signal.SIGSTOP)  # a closed laptop lid
        _release(tmp_path, point, paused.pid)  # it goes on once continued
        other = _worker(tmp_path / "s.toml", "p", url, data_file)
        _wait_for(lambda: _state(url, paused_trial) == "FAIL", other,
                  "the paused worker's trial was failed")
        paused.send_signal(signal.SIGCONT)
        outputs = [_finish(process, timeout=300) for process in (paused, other)]
    finally:
        for process in (paused, other):
            if process is not None and process.poll() is None:
                process.send_signal(signal.SIGCONT)
                process.kill()
                process.communicate()
    assert not [o for o in outputs if "Traceback" in o or "Cannot tell" in o], outputs
    trials = _trials(url, "p")
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    assert len(complete) == n and len({tuple(sorted(t.params.items())) for t in complete}) == n
    failed = [t for t in trials if t.state.name == "FAIL"]
    # The paused worker did not overwrite it, and ran none of the trials that completed
    assert [t._trial_id for t in failed] == [paused_trial]
    again = [t for t in complete if t.system_attrs.get("failed_trial") == failed[0].number]
    assert len(again) == 1 and again[0].params == failed[0].params


@pytest.mark.slow
def test_workers_retry_a_vanished_database_for_a_bounded_time_and_a_rerun_completes(
        tmp_path, data_file, postgres_server):
    n = 3
    secret = "s3cr3t-pa55"  # the server trusts every login; the password must appear nowhere
    (tmp_path / "s.toml").write_text(
        f"n_trials = {n}\nepochs = 20\nhidden_sizes = [8]\ntrain_samples = 120\n"
        "heartbeat_interval = 1\ngrace_period = 2\nwait_timeout = 60\nstorage_retry = 3\n")
    server, ctl = postgres_server
    url = _fresh_database(server, "vanishing").replace("dlfs@", f"dlfs:{secret}@")
    # Both trained, each about to tell its value, when the server goes away.
    workers = [_worker(tmp_path / "s.toml", "v", url, data_file,
                       stop_at=("before-tell", tmp_path)) for _ in range(2)]
    try:
        trial_ids = [_reached(tmp_path, "before-tell", w) for w in workers]
        ctl("stop")
        try:
            stopped_at = time.monotonic()
            for worker in workers:
                _release(tmp_path, "before-tell", worker.pid)
            outputs = [_output(w, 60) for w in workers]
            # the 3 s of retries, not the 60 s of wait_timeout
            assert time.monotonic() - stopped_at < 30
        finally:
            ctl("start")
    finally:
        for process in workers:
            if process.poll() is None:
                process.kill()
                process.communicate()
    for worker, output in zip(workers, outputs, strict=True):
        assert worker.returncode != 0, output
        assert secret not in output, output
        assert "SearchError: the storage postgresql://dlfs:***@127.0.0.1:" in output, output
        assert "did not answer for 3 s (storage_retry)" in output, output
    assert [_state(url, trial_id) for trial_id in trial_ids] == ["RUNNING", "RUNNING"]
    # Once it is back, a rerun re-queues the two trials the outage cut short and completes.
    assert search.work(search.load_config(tmp_path / "s.toml"), "v", url, _tiny(data_file),
                       poll=0.1) == n
    trials = _trials(url, "v")
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    assert len(complete) == n and len({t.number for t in complete}) == n
    assert len({tuple(sorted(t.params.items())) for t in complete}) == n
    assert sorted(t._trial_id for t in trials if t.state.name == "FAIL") == sorted(trial_ids)
    for trial in (t for t in trials if t.state.name == "FAIL"):
        again = [t for t in trials if _retry_of(t) == trial.number]
        assert len(again) == 1 and again[0].params == trial.params, trial.number


@pytest.mark.slow
def test_a_trial_whose_worker_died_before_drawing_its_values_is_rerun_with_those_it_would_draw(
        tmp_path):
    from optuna.storages import RetryHeartbeatStaleTrialCallback
    from optuna.trial import TrialState

    from dlfs.search.study import _claim

    config = search.load_config(n_trials=2)
    fresh_url = search.default_storage(tmp_path / "fresh")
    (tmp_path / "fresh").mkdir()
    fresh = search.open_study(config, "s", fresh_url)
    expected, _ = _claim(config, fresh, fresh_url)  # trial 0, claimed without a fault

    url = search.default_storage(tmp_path)
    study = search.open_study(config, "s", url)
    with pytest.warns(UserWarning, match="Heartbeat of storage"):
        dead = study.ask()  # claimed, then its worker died before any value was drawn
    study.tell(dead, state=TrialState.FAIL)
    # What fail_stale_trials does with a stale trial: re-queue its (here: no) values.
    RetryHeartbeatStaleTrialCallback(max_retry=3)(study,
                                                  study._storage.get_trial(dead._trial_id))
    retried, _ = _claim(config, study, url)
    assert retried.number == 1
    assert retried.params == expected.params and len(expected.params) == 2


@pytest.mark.slow
def test_a_worker_stopped_inside_its_claim_requeues_the_trial_it_had_just_created(
        tmp_path, monkeypatch):
    import dlfs.search.study as study_module
    from dlfs.search.study import SearchStopped, _work

    config = search.load_config(n_trials=1)
    url = search.default_storage(tmp_path)
    study = search.open_study(config, "s", url)

    def signal_arrives(trial, config):  # SIGTERM lands after ask(), before the values exist
        raise SearchStopped(signal.SIGTERM)

    monkeypatch.setattr(study_module, "suggest", signal_arrives)
    with pytest.raises(SearchStopped), pytest.warns(UserWarning, match="Heartbeat"):
        _work(config, study, url, split=None, poll=0.1)
    states = sorted(t.state.name for t in study.get_trials(deepcopy=False))
    assert states == ["FAIL", "WAITING"]  # failed and queued again at once, not left running
