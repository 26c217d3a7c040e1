"""The search under faults: workers killed before their first heartbeat, stopped by SIGTERM or
SIGINT, dying inside ``--workers N``, paused past the grace period; waits with deadlines;
studies resumed with other settings; storage URLs and passwords. Every fault is real: a real
signal to a real worker process, on SQLite (and PostgreSQL in tests/test_search.py)."""

import os
import signal
import subprocess
import sys
import time

import numpy as np
import optuna
import pytest

# Shared with test_search: the worker process, the SQL count and the private PostgreSQL server
# (postgres_url is a fixture, used by name).
from test_search import _count, _fresh_database, _worker, postgres_url  # noqa: F401

from dlfs import search

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


def _wait_for(condition, process, what, timeout=60.0):
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
    try:
        output = process.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        process.kill()
        pytest.fail(f"the worker did not finish in {timeout} s:\n{process.communicate()[0]}")
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


def test_a_worker_killed_before_its_first_heartbeat_has_its_trial_failed_and_rerun(
        tmp_path, data_file):
    # A heartbeat every 3 s: the worker is killed long before it would send its first one.
    settings = SETTINGS + "heartbeat_interval = 3\ngrace_period = 4\n"
    (tmp_path / "endless.toml").write_text(settings + "epochs = 1000000000\n")
    (tmp_path / "short.toml").write_text(settings + "epochs = 1\n")
    url = search.default_storage(tmp_path)
    first = _worker(tmp_path / "endless.toml", "k", url, data_file)
    # Claimed: RUNNING with its values drawn (both searched values recorded).
    _wait_for(lambda: _count(url, "SELECT count(*) FROM trials t JOIN trial_params p ON "
                                  "p.trial_id = t.trial_id WHERE t.state = 'RUNNING'") == 2,
              first, "its trial claimed")
    first.send_signal(signal.SIGKILL)
    first.wait()
    # The same study with fewer epochs: a resume with other settings, forced.
    second = _worker(tmp_path / "short.toml", "k", url, data_file, "force")
    _finish(second, timeout=60)
    _retried_once(url, "k")


def _running_with_heartbeat(url, n=1):
    return lambda: _count(url, "SELECT count(*) FROM trials t JOIN trial_heartbeats h ON "
                               "h.trial_id = t.trial_id WHERE t.state = 'RUNNING'") >= n


def test_stale_trials_are_looked_for_while_every_worker_is_busy(tmp_path, data_file):
    # Two endless trials: the survivor never claims another, yet re-queues the dead one's.
    settings = "n_trials = 2\nhidden_sizes = [8]\nheartbeat_interval = 1\ngrace_period = 2\n"
    (tmp_path / "endless.toml").write_text(settings + "epochs = 1000000000\n")
    url = search.default_storage(tmp_path)
    doomed = _worker(tmp_path / "endless.toml", "k", url, data_file)
    _wait_for(_running_with_heartbeat(url), doomed, "its trial started")
    survivor = _worker(tmp_path / "endless.toml", "k", url, data_file)
    try:
        _wait_for(_running_with_heartbeat(url, 2), survivor, "its trial started")
        doomed.kill()
        doomed.wait()
        _wait_for(lambda: _count(url, "SELECT count(*) FROM trials WHERE state = 'WAITING'")
                  == 1, survivor, "the killed worker's trial was re-queued", timeout=10)
    finally:
        survivor.kill()
        survivor.wait()


# -- stopped by a signal -----------------------------------------------------------------------


@pytest.mark.parametrize("signum", [signal.SIGTERM, signal.SIGINT], ids=["SIGTERM", "SIGINT"])
def test_a_stopped_worker_requeues_its_trial_at_once_and_a_rerun_finishes_the_study(
        tmp_path, data_file, signum):
    # A grace period of 60 s: the trial must be re-queued by the stopped worker itself.
    settings = SETTINGS + "heartbeat_interval = 1\ngrace_period = 60\n"
    (tmp_path / "endless.toml").write_text(settings + "epochs = 1000000000\n")
    (tmp_path / "short.toml").write_text(settings + "epochs = 1\n")
    url = search.default_storage(tmp_path)
    first = _worker(tmp_path / "endless.toml", "k", url, data_file)
    _wait_for(_running_with_heartbeat(url), first, "its trial started")
    first.send_signal(signum)
    output = first.communicate(timeout=30)[0]
    assert first.returncode != 0 and "SearchStopped" in output, output
    assert _count(url, "SELECT count(*) FROM trials WHERE state = 'WAITING'") == 1
    second = _worker(tmp_path / "short.toml", "k", url, data_file, "force")
    _finish(second, timeout=30)  # far less than the grace period
    _retried_once(url, "k")


# -- waits with a deadline --------------------------------------------------------------------


def test_a_worker_waiting_for_others_gives_up_at_its_deadline_naming_what_it_waited_for(
        tmp_path, data_file):
    settings = SETTINGS + "heartbeat_interval = 1\ngrace_period = 2\nepochs = 1000000000\n"
    (tmp_path / "endless.toml").write_text(settings)
    (tmp_path / "impatient.toml").write_text(settings + "wait_timeout = 2\n")
    url = search.default_storage(tmp_path)
    busy = _worker(tmp_path / "endless.toml", "k", url, data_file)
    try:
        _wait_for(_running_with_heartbeat(url), busy, "its trial started")
        waiter = _worker(tmp_path / "impatient.toml", "k", url, data_file)
        try:
            output = waiter.communicate(timeout=30)[0]
        except subprocess.TimeoutExpired:
            waiter.kill()
            pytest.fail("the waiting worker never gave up")
    finally:
        busy.kill()
        busy.wait()
    assert waiter.returncode != 0
    assert "SearchError: waited 2 s (wait_timeout) for trial(s) 0 of study 'k'" in output


# -- worker processes of one search ------------------------------------------------------------

PARENT = """
import sys
import numpy as np
from dlfs import search
from dlfs.data import Data
url, arrays = sys.argv[1:]
with np.load(arrays, allow_pickle=False) as a:
    data = Data("tiny", "Tiny", arrays, a["x"], a["t"], a["x"][:50], a["t"][:50])
config = search.load_config(n_trials=4, epochs=3000, hidden_sizes=[8], train_samples=120,
                            heartbeat_interval=1, grace_period=60)
print(search.search(config, "p", url, workers=2, data=data), "trials run")
"""


def _children(pid):
    with open(f"/proc/{pid}/task/{pid}/children") as handle:
        return [int(child) for child in handle.read().split()]


def test_a_worker_process_that_dies_has_its_trial_requeued_by_the_parent_which_carries_on(
        tmp_path, data_file):
    url = search.default_storage(tmp_path)
    parent = subprocess.Popen([sys.executable, "-c", PARENT, url, str(data_file)],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    _wait_for(_running_with_heartbeat(url), parent, "a trial started")
    # spawn's resource tracker is a child too; the workers are those running a trial's code
    workers = [c for c in _children(parent.pid)
               if b"multiprocessing.spawn" in open(f"/proc/{c}/cmdline", "rb").read()
               and b"resource_tracker" not in open(f"/proc/{c}/cmdline", "rb").read()]
    assert len(workers) == 2
    os.kill(workers[0], signal.SIGKILL)
    _finish(parent, timeout=120)  # far less than the grace period: the parent re-queued it
    trials = _trials(url, "p")
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    assert len(complete) == 4 and len({t.number for t in complete}) == 4
    assert len({tuple(sorted(t.params.items())) for t in complete}) == 4


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


@pytest.mark.parametrize("moment", ["before-first-heartbeat", "mid-trial"])
@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_three_workers_one_killed_one_stopped_finish_exactly_the_requested_trials(
        tmp_path, data_file, request, kind, moment):
    n = 3
    url = _storage(kind, tmp_path, request)
    settings = (f"n_trials = {n}\nhidden_sizes = [8]\ntrain_samples = 120\n"
                "heartbeat_interval = 1\ngrace_period = 2\nwait_timeout = 60\n")
    (tmp_path / "s.toml").write_text(settings + "epochs = 8000\n")
    # The victim's trial never ends on its own, so the kill always lands inside it however
    # fast this machine is; the others resume its study with finite trials (forced).
    (tmp_path / "endless.toml").write_text(settings + "epochs = 1000000000\n")
    rng = np.random.default_rng([15, len(kind), len(moment)])
    victim = _worker(tmp_path / "endless.toml", "f", url, data_file)
    others = []
    try:
        # Alone at first, so the first running trial is the victim's.
        _wait_for(lambda: _count(url, "SELECT count(*) FROM trials WHERE state = 'RUNNING'")
                  == 1, victim, "its trial started")
        others = [_worker(tmp_path / "s.toml", "f", url, data_file, "force")
                  for _ in range(2)]
        # The heartbeat thread beats after 1 s: killed before it, or after a beat or two.
        time.sleep(rng.uniform(0.0, 0.3) if moment == "before-first-heartbeat"
                   else rng.uniform(1.2, 1.6))
        victim.kill()
        victim.wait()
        assert _count(url, "SELECT count(*) FROM trials WHERE number = 0 AND state = 'RUNNING'")
        stopped, survivor = others
        _wait_for(lambda: _count(url, "SELECT count(*) FROM trials WHERE number > 0 AND "
                                      "state = 'RUNNING'") == 2, stopped, "both held a trial")
        time.sleep(rng.uniform(0.0, 0.5))
        stopped.send_signal(signal.SIGTERM)
        output = stopped.communicate(timeout=30)[0]
        assert stopped.returncode != 0 and "SearchStopped" in output, output
        _finish(survivor, timeout=60)
    finally:
        for process in (victim, *others):
            if process.poll() is None:
                process.kill()
                process.communicate()
    # A rerun finds the study ended.
    assert "0 trials run" in _finish(_worker(tmp_path / "s.toml", "f", url, data_file, "force"),
                                     60)
    trials = _trials(url, "f")
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    failed = [t for t in trials if t.state.name == "FAIL"]
    assert len(complete) == n and len({t.number for t in complete}) == n
    assert len({tuple(sorted(t.params.items())) for t in complete}) == n
    assert len(failed) >= 2 and not [t for t in trials if t.state.name not in
                                     ("COMPLETE", "FAIL")]
    for trial in failed:  # each failed trial ran again exactly once, with its values
        again = [t for t in trials if _retry_of(t) == trial.number]
        # A worker stopped inside its claim may leave a trial with only some values drawn;
        # its rerun keeps them and draws the rest from the same seed (tested on its own below).
        assert len(again) == 1 and again[0].params.items() >= trial.params.items(), \
            trial.number


@pytest.mark.parametrize("kind", ["sqlite", "postgres"])
def test_a_worker_paused_past_the_grace_period_drops_its_failed_trial_and_carries_on(
        tmp_path, data_file, request, kind):
    n = 2
    url = _storage(kind, tmp_path, request)
    (tmp_path / "s.toml").write_text(
        f"n_trials = {n}\nepochs = 8000\nhidden_sizes = [8]\ntrain_samples = 120\n"
        "heartbeat_interval = 1\ngrace_period = 2\nwait_timeout = 60\n")
    paused = _worker(tmp_path / "s.toml", "p", url, data_file)
    other = None
    try:
        _wait_for(_running_with_heartbeat(url), paused, "its trial started")
        paused.send_signal(signal.SIGSTOP)  # a closed laptop lid
        other = _worker(tmp_path / "s.toml", "p", url, data_file)
        _wait_for(lambda: _count(url, "SELECT count(*) FROM trials WHERE number = 0 AND "
                                      "state = 'FAIL'") == 1, other,
                  "the paused worker's trial was failed", timeout=30)
        paused.send_signal(signal.SIGCONT)
        outputs = [_finish(process, timeout=60) for process in (paused, other)]
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
    assert [t.number for t in failed] == [0]  # the paused worker did not overwrite it
    again = [t for t in complete if t.system_attrs.get("failed_trial") == 0]
    assert len(again) == 1 and again[0].params == failed[0].params


def test_workers_retry_a_vanished_database_for_a_bounded_time_and_a_rerun_completes(
        tmp_path, data_file):
    from test_search import private_postgres

    n = 3
    secret = "s3cr3t-pa55"  # the server trusts every login; the password must appear nowhere
    (tmp_path / "s.toml").write_text(
        f"n_trials = {n}\nepochs = 8000\nhidden_sizes = [8]\ntrain_samples = 120\n"
        "heartbeat_interval = 1\ngrace_period = 2\nwait_timeout = 60\nstorage_retry = 3\n")
    with private_postgres() as (server, ctl):
        url = _fresh_database(server, "vanishing").replace("dlfs@", f"dlfs:{secret}@")
        workers = [_worker(tmp_path / "s.toml", "v", url, data_file) for _ in range(2)]
        try:
            _wait_for(_running_with_heartbeat(url, 2), workers[0], "both trials started")
            ctl("stop")
            stopped_at = time.monotonic()
            outputs = [w.communicate(timeout=60)[0] for w in workers]
            # about a trial (2 s) and the 3 s of retries, not the 60 s of wait_timeout
            assert time.monotonic() - stopped_at < 30
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
        ctl("start")
        _finish(_worker(tmp_path / "s.toml", "v", url, data_file), timeout=90)
        trials = _trials(url, "v")
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    assert len(complete) == n and len({t.number for t in complete}) == n
    assert len({tuple(sorted(t.params.items())) for t in complete}) == n
    for trial in (t for t in trials if t.state.name == "FAIL"):
        again = [t for t in trials if _retry_of(t) == trial.number]
        assert len(again) == 1 and again[0].params.items() >= trial.params.items(), \
            trial.number


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
