"""Hyperparameter search: the sampler's distribution, determinism, the data it is handed, the
names it passes on, and worker processes sharing one study in SQLite and in a real PostgreSQL
server on 127.0.0.1, a worker killed mid-trial."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import optuna
import pytest
import sqlalchemy

from dlfs import network, optim, search
from dlfs.data import Data
from dlfs.experiments import figures, hyperparameter_search
from dlfs.experiments.lab import results_of
from dlfs.search import study as study_module
from dlfs.search.study import _sampler

TINY = dict(n_trials=4, epochs=2, hidden_sizes=[8], train_samples=120)
WIDTH, CLASSES = 20, 3


def _tiny_data(n=200, seed=0) -> Data:
    """Three well-separated classes in 20 dimensions: not 784 pixels nor 10 classes."""
    rng = np.random.default_rng(seed)
    centres = rng.standard_normal((CLASSES, WIDTH)) * 3
    t = rng.integers(0, CLASSES, n)
    x = (centres[t] + 0.5 * rng.standard_normal((n, WIDTH))).astype(np.float32)
    return Data("tiny", "Tiny", "made in the test", x, t, x[:50], t[:50])


@pytest.fixture(scope="module")
def tiny_data():
    return _tiny_data()


def _running(url) -> int:
    """RUNNING trials, read with plain SQL: an Optuna storage object would create tables and
    race the workers, who create them under their lock."""
    return _count(url, "SELECT count(*) FROM trials WHERE state = 'RUNNING'")


def _count(url, query) -> int:
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as connection:
            return connection.execute(sqlalchemy.text(query)).scalar()
    except sqlalchemy.exc.SQLAlchemyError:  # no tables yet
        return 0
    finally:
        engine.dispose()


def _trials(url, study="s"):
    storage = optuna.storages.RDBStorage(url)
    return optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)


# -- the sampler ------------------------------------------------------------------------------


@pytest.mark.slow
def test_random_draws_are_log_uniform_within_the_bounds():
    config = search.load_config(seed=3)
    study = optuna.create_study(sampler=_sampler(config, 3))
    draws = []
    for _ in range(2000):
        trial = study.ask()
        draws.append(search.suggest(trial, config))
        study.tell(trial, 0.0)
    lr = np.array([d["lr"] for d in draws])
    wd = np.array([d["weight_decay_lambda"] for d in draws])
    assert lr.min() >= 1e-6 and lr.max() <= 1e-2 and wd.min() >= 1e-8 and wd.max() <= 1e-4
    for values, low, high in ((np.log10(lr), -6, -2), (np.log10(wd), -8, -4)):
        # Kolmogorov–Smirnov against U(low, high): D below the 1 % critical value 1.63/√n.
        u = np.sort((values - low) / (high - low))
        n = len(u)
        d = max(np.max(np.arange(1, n + 1) / n - u), np.max(u - np.arange(n) / n))
        assert d < 1.63 / np.sqrt(n)
        # and not uniform in the value itself: half the draws lie below the log midpoint
        assert abs(np.mean(values < (low + high) / 2) - 0.5) < 0.05


def test_each_trial_number_gets_its_own_sampler_seed():
    assert len({search.trial_seed(0, n) for n in range(100)}) == 100
    assert search.trial_seed(0, 5) == search.trial_seed(0, 5) != search.trial_seed(1, 5)


@pytest.mark.slow
def test_the_same_seed_gives_the_same_trials(tmp_path, tiny_data):
    config = search.load_config(**TINY)
    results = []
    for name in ("a", "b"):
        (tmp_path / name).mkdir()
        url = search.default_storage(tmp_path / name)
        search.work(config, "s", url, tiny_data)
        results.append([(t.params, t.value) for t in _trials(url)])
    assert results[0] == results[1] and len(results[0]) == 4


@pytest.mark.slow
def test_a_study_thrown_away_after_its_run_commits_without_waiting_for_the_disk(tmp_path,
                                                                             tiny_data):
    config = search.load_config(**TINY)
    synchronous = {}
    for durable in (True, False):
        (tmp_path / str(durable)).mkdir()
        url = search.default_storage(tmp_path / str(durable))
        study = search.open_study(config, "s", url, durable=durable)
        with study._storage._backend.engine.connect() as connection:
            synchronous[durable] = connection.execute(
                sqlalchemy.text("PRAGMA synchronous")).scalar()
        search.search(config, "s", url, workers=2 if durable else 1, data=tiny_data,
                      durable=durable)
        assert len([t for t in _trials(url) if t.state.name == "COMPLETE"]) == 4
    assert synchronous == {True: 2, False: 0}  # FULL: each commit waits for the disk; OFF
    # The same trials, whichever way they were kept.
    kept = [[(t.params, t.value) for t in _trials(search.default_storage(tmp_path / str(d)))]
            for d in (True, False)]
    assert sorted(kept[0], key=str) == sorted(kept[1], key=str)


@pytest.mark.slow
def test_a_diverging_trial_is_failed_with_its_reason_and_the_study_goes_on(tmp_path, tiny_data):
    config = search.load_config(**{**TINY, "epochs": 10,
                                   "space": {"lr": {"low": 1e30, "high": 1e31}}})
    url = search.default_storage(tmp_path)
    assert search.work(config, "s", url, tiny_data) == 4
    trials = _trials(url)
    failed = [t for t in trials if t.state.name == "FAIL"]
    assert len(trials) == 4 and failed  # a dead ReLU net can survive with a finite loss
    assert all("diverged: the training loss became" in t.user_attrs["fail_reason"]
               for t in failed)


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, pytest.param(2, marks=pytest.mark.slow)])
def test_the_search_shows_a_bar_of_finished_trials_only_when_asked(tmp_path, tiny_data, capfd,
                                                                   workers):
    config = search.load_config(**TINY)
    search.search(config, "quiet", search.default_storage(tmp_path), workers, data=tiny_data)
    assert capfd.readouterr() == ("", "")  # nothing from this process nor its workers
    search.search(config, "shown", search.default_storage(tmp_path), workers, data=tiny_data,
                  progress=True)
    err = capfd.readouterr().err
    assert "search" in err and "0/4" in err and "4/4" in err and "trial" in err


@pytest.mark.slow
def test_the_labs_search_shows_its_bar_when_the_run_asks(capsys):
    params = {**hyperparameter_search.EXPERIMENT.parameters(quick=True), "n_trials": 2,
              "epochs": 1}
    hyperparameter_search.trials(params, 0, _tiny_data(n=100), progress=True)
    assert "2/2" in capsys.readouterr().err


@pytest.mark.slow
def test_rerunning_a_study_resumes_it(tmp_path, tiny_data):
    url = search.default_storage(tmp_path)
    search.work(search.load_config(**TINY), "s", url, tiny_data)
    ran = search.work(search.load_config(**{**TINY, "n_trials": 6}), "s", url, tiny_data)
    assert ran == 2 and len(_trials(url)) == 6


@pytest.mark.parametrize(
    ("settings", "message"),
    [({"n_trial": 3}, "unknown search setting"),
     ({"sampler": "grid"}, "sampler must be one of random, tpe, qmc"),
     ({"dataset": "cifar"}, "dataset must be one of auto, mnist, fashion-mnist"),
     ({"space": {"lr": {"low": 0, "high": 1}}}, "log-uniform range needs low > 0"),
     ({"space": {"lr": {"low": 0.1, "high": 1, "step": 2}}}, "space.lr needs low and high"),
     ({"space": {"beta": {"low": 0.1, "high": 1}}},
      r"space has 'beta', which is an argument of neither the sgd optimizer \(lr, "
      r"weight_decay\) nor the network \(weight_decay_lambda, dropout_ratio\)"),
     ({"epochs": 0}, "epochs must be a positive integer")],
)
def test_bad_search_settings_are_rejected(settings, message):
    with pytest.raises(ValueError, match=message):
        search.load_config(**settings)


def test_weight_decay_is_refused_where_the_optimizer_has_no_such_argument():
    with pytest.raises(ValueError, match=r"space has 'weight_decay', which is an argument of "
                                         r"neither the book-adam optimizer \(lr, .*\) nor the "
                                         r"network \(weight_decay_lambda, dropout_ratio\)"):
        search.load_config(optimizer="book-adam",
                           space={"weight_decay": {"low": 1e-8, "high": 1e-4}})


def test_settings_come_from_a_toml_file(tmp_path):
    path = tmp_path / "search.toml"
    path.write_text('n_trials = 7\nsampler = "tpe"\n[space.lr]\nlow = 1e-4\nhigh = 1e-1\n')
    config = search.load_config(path, epochs=3)
    assert (config.n_trials, config.sampler, config.epochs) == (7, "tpe", 3)
    assert config.space["lr"].high == 0.1 and "weight_decay_lambda" not in config.space
    path.write_text("n_trials = [")
    with pytest.raises(ValueError, match="not valid TOML"):
        search.load_config(path)


# -- what a trial is handed and what it passes on ----------------------------------------------


@pytest.fixture
def receivers(monkeypatch):
    """The keyword arguments every MultiLayerNet and optimizer of the trials was made with."""
    made = {"network": [], "optimizer": []}
    real_net, real_create = network.MultiLayerNet, optim.create

    def net(*args, **kwargs):
        made["network"].append((args, kwargs))
        return real_net(*args, **kwargs)

    def create(name, **kwargs):
        made["optimizer"].append((name, kwargs))
        return real_create(name, **kwargs)

    monkeypatch.setattr(network, "MultiLayerNet", net)
    monkeypatch.setattr(optim, "create", create)
    return made


@pytest.mark.slow
def test_the_network_takes_its_input_width_and_class_count_from_the_data(tmp_path, tiny_data,
                                                                          receivers):
    search.work(search.load_config(**{**TINY, "n_trials": 2}), "s",
                search.default_storage(tmp_path), tiny_data)
    assert [args for args, _ in receivers["network"]] == [(WIDTH, [8], CLASSES)] * 2


@pytest.mark.slow
def test_weight_decay_lambda_goes_to_the_network_and_weight_decay_to_the_optimizer(
        tmp_path, tiny_data, receivers):
    space = {"lr": {"low": 1e-3, "high": 1e-2}, "weight_decay": {"low": 1e-6, "high": 1e-5},
             "weight_decay_lambda": {"low": 1e-3, "high": 1e-2}}
    url = search.default_storage(tmp_path)
    search.work(search.load_config(**{**TINY, "n_trials": 1, "space": space}), "s", url,
                tiny_data)
    params = _trials(url)[0].params
    (_, net_kwargs), = receivers["network"]
    (name, optimizer_kwargs), = receivers["optimizer"]
    assert {k: v for k, v in net_kwargs.items() if k in search.NETWORK_PARAMS} == \
        {"weight_decay_lambda": params["weight_decay_lambda"]}
    assert (name, optimizer_kwargs) == \
        ("sgd", {"lr": params["lr"], "weight_decay": params["weight_decay"]})


@pytest.mark.slow
def test_a_loader_is_called_once_here_and_need_not_be_picklable(tmp_path, tiny_data):
    calls = []

    def load():  # a closure: pickling it for the worker processes would fail
        calls.append(1)
        return tiny_data

    url = search.default_storage(tmp_path)
    ran = search.search(search.load_config(**{**TINY, "n_trials": 3}), "s", url, workers=2,
                        data=load)
    assert calls == [1] and ran == 3
    assert len([t for t in _trials(url) if t.state.name == "COMPLETE"]) == 3


@pytest.mark.parametrize(
    ("data", "message"),
    [((np.zeros((10, 4)), np.zeros(10)), r"data must be a dlfs.data.Data or a zero-argument "
                                         r"callable returning one .*, got \(array"),
     (lambda: None, "got a loader that returned NoneType"),
     (Data("flat?", "", "", np.zeros((20, 2, 2)), np.zeros(20, int), np.zeros((5, 2, 2)),
           np.zeros(5, int)), r"data.x_train must be \(N, D\) flattened samples, got shape "
                              r"\(20, 2, 2\)")],
    ids=["arrays", "loader-of-nothing", "images-not-flattened"])
def test_data_the_search_cannot_train_on_is_refused_naming_what_would_work(tmp_path, data,
                                                                         message):
    with pytest.raises(ValueError, match=message):
        search.search(search.load_config(**TINY), "s", search.default_storage(tmp_path),
                      data=data)


@pytest.mark.slow
def test_the_lab_experiment_trains_on_the_data_it_is_handed():
    experiment = hyperparameter_search.EXPERIMENT
    params = experiment.parameters(quick=True)
    data = _tiny_data(n=150)
    results = results_of(experiment, params, 0, data)
    assert results["layer_sizes"] == [WIDTH, *params["hidden_sizes"], CLASSES]
    assert len(results["trials"]) == params["n_trials"] == 6
    # Validated on 20 % of this data's 150 samples: every accuracy is a multiple of 1/30
    # (on 500 MNIST or Fashion-MNIST samples it would be of 1/100).
    accuracies = np.array([acc for t in results["trials"] for acc in t["val_acc"]])
    assert len(accuracies) == 6 * (params["epochs"] + 1)
    np.testing.assert_allclose(accuracies * 30, np.round(accuracies * 30), atol=1e-9)
    assert results["best"]["value"] > 1 / CLASSES  # three separated blobs are learnable
    verdict = experiment.check(results)
    assert set(verdict.numbers) == {"median_lr_top5", "weight_decay_lambda_decades_top5"}
    for plot in (hyperparameter_search.plot_best, hyperparameter_search.plot_space):
        figure = plot(results, "en")
        assert figure.axes  # drawn, not empty
        figures.close(figure)


# -- worker processes on one study --------------------------------------------------------------

# One worker process of a study, as on another machine: it loads the data the test saved (as
# plain arrays, never pickle) and runs search.search until the study is complete. A test
# process killed mid-test takes its workers with it (none is left training an endless trial).
WORKER = """
import ctypes
import signal
import sys
import numpy as np
from dlfs import search
from dlfs.data import Data
ctypes.CDLL(None).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG: it dies with the test process
config, study, url, arrays, *force = sys.argv[1:]
with np.load(arrays, allow_pickle=False) as a:
    data = Data("tiny", "Tiny", arrays, a["x"], a["t"], a["x"][:50], a["t"][:50])
print(search.search(search.load_config(config), study, url, data=data,
                    force_resume=force == ["force"]), "trials run")
"""


@pytest.fixture
def data_file(tmp_path, tiny_data):
    path = tmp_path / "tiny.npz"
    np.savez(path, x=tiny_data.x_train, t=tiny_data.t_train)
    return path


def _worker(config, study, url, data_file, *force, stop_at=None):
    """A worker process; ``stop_at`` = (point, folder) makes it stop there the first time
    (dlfs.search.study.stop_point) and say so with a file in ``folder``."""
    # DLFS_TIME_LIMIT=0: the "endless" trials (epochs = 1e9) are meant to train until they are
    # stopped, not to be refused by the Trainer's time limit (TrainingTooLong) after 0.1 s.
    env = dict(os.environ, DLFS_TIME_LIMIT="0")
    if stop_at is not None:
        env |= {study_module.STOP_AT: stop_at[0], study_module.STOP_DIR: str(stop_at[1])}
    # -X faulthandler: SIGABRT (sent by _output at its deadline) prints where every thread is
    return subprocess.Popen([sys.executable, "-X", "faulthandler", "-c", WORKER, str(config),
                             study, url, str(data_file), *force],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, env=env)


def _output(process, timeout) -> str:
    """What ``process`` printed once it ended, waiting at most ``timeout`` s; past that, a
    failure showing where each of its threads was (a worker started by _worker)."""
    try:
        return process.communicate(timeout=timeout)[0]
    except subprocess.TimeoutExpired:
        signals = _signal_state(process.pid)
        process.send_signal(signal.SIGABRT)
        try:
            output = process.communicate(timeout=10)[0]
        except subprocess.TimeoutExpired:
            process.kill()
            output = process.communicate()[0]
        pytest.fail(f"the worker did not end in {timeout} s ({signals}):\n{output}")


def _signal_state(pid) -> str:
    """The pending, blocked, ignored and caught signals of each thread of ``pid``."""
    try:
        return "; ".join(
            " ".join(line.strip() for line in open(f"/proc/{pid}/task/{task}/status")
                     if line.startswith(("SigPnd", "ShdPnd", "SigBlk", "SigIgn", "SigCgt")))
            for task in os.listdir(f"/proc/{pid}/task"))
    except OSError as error:
        return str(error)


def _reached(folder, point, process, timeout=300.0) -> int:
    """Waits (at most ``timeout`` s) until ``process`` stopped at ``point``; its trial's id."""
    path = Path(folder) / f"{point}.{process.pid}"
    deadline = time.monotonic() + timeout
    while not path.exists():
        if process.poll() is not None:
            pytest.fail(f"the worker ended before it reached {point}:\n"
                        f"{process.communicate()[0]}")
        if time.monotonic() > deadline:
            process.kill()
            pytest.fail(f"waited {timeout} s for the worker to reach {point}:\n"
                        f"{process.communicate()[0]}")
        time.sleep(0.01)
    return int(path.read_text())


def _release(folder, point, pid) -> None:
    """Lets the worker ``pid`` stopped at ``point`` go on."""
    (Path(folder) / f"{point}.{pid}").unlink()


def _state(url, trial_id) -> str:
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as connection:
            return connection.execute(sqlalchemy.text(
                "SELECT state FROM trials WHERE trial_id = :id"), {"id": trial_id}).scalar()
    finally:
        engine.dispose()


def _cli(*args, **kwargs):
    return subprocess.Popen([sys.executable, "-m", "dlfs.cli", "search", *args],
                            stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True, **kwargs)


def _check_exact(url, n, study="s"):
    trials = _trials(url, study)
    complete = [t for t in trials if t.state.name == "COMPLETE"]
    assert len(complete) == n
    assert len({t.number for t in complete}) == n
    assert len({tuple(sorted(t.params.items())) for t in complete}) == n
    return trials


def _parallel_workers(url, out, data_file, n=6):
    """Three independent worker processes, as on three machines, on one study: exactly n
    trials, and the very trials one worker alone draws (here, in this process)."""
    config = out / "tiny.toml"
    config.write_text(f"n_trials = {n}\nepochs = 2\nhidden_sizes = [8]\ntrain_samples = 150\n")
    workers = [_worker(config, "s", url, data_file) for _ in range(3)]
    outputs = [w.communicate(timeout=300)[0] for w in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    trials = _check_exact(url, n)
    (out / "alone").mkdir()
    alone = search.default_storage(out / "alone")
    assert search.work(search.load_config(config), "s", alone, _tiny_data()) == n
    by_number = {t.number: t.params for t in _trials(alone)}
    assert {t.number: t.params for t in trials} == by_number


def _kill_mid_trial(url, out, data_file):
    """A worker is SIGKILLed in the middle of the study's one trial (it would run for hours),
    once its heartbeat thread has beaten; a second worker fails the trial once its heartbeat
    is stale, and runs it again, with the same values, in one epoch."""
    settings = "n_trials = 1\nhidden_sizes = [8]\nheartbeat_interval = 1\ngrace_period = 2\n"
    (out / "endless.toml").write_text(settings + "epochs = 1000000000\n")
    (out / "short.toml").write_text(settings + "epochs = 1\n")
    first = _worker(out / "endless.toml", "k", url, data_file,
                    stop_at=("after-first-heartbeat", out))
    trial_id = _reached(out, "after-first-heartbeat", first)
    first.send_signal(signal.SIGKILL)
    first.wait()
    assert first.returncode == -signal.SIGKILL and _state(url, trial_id) == "RUNNING"
    # The same study with fewer epochs: a resume with other settings, forced.
    assert search.work(search.load_config(out / "short.toml"), "k", url, _tiny_data(),
                       poll=0.1, force_resume=True) == 1
    trials = _check_exact(url, 1, "k")
    stale = [t for t in trials if t.state.name == "FAIL"]
    assert len(stale) == 1 and stale[0]._trial_id == trial_id
    retried = [t for t in trials if t.system_attrs.get("failed_trial") == stale[0].number]
    assert len(retried) == 1 and retried[0].params == stale[0].params
    assert len(retried[0].user_attrs["val_acc"]) == 2  # epoch 0 and the one epoch


@pytest.mark.slow
def test_sqlite_three_workers_complete_exactly_the_requested_trials(tmp_path, data_file):
    _parallel_workers(search.default_storage(tmp_path), tmp_path, data_file)


@pytest.mark.slow
def test_sqlite_a_killed_worker_is_replaced_and_the_study_completes(tmp_path, data_file):
    _kill_mid_trial(search.default_storage(tmp_path), tmp_path, data_file)


@pytest.mark.slow
def test_dlfs_search_runs_worker_processes_on_the_data_set_it_records(tmp_path):
    process = _cli("--study", "s", "--out", str(tmp_path), "--quick", "--workers", "2",
                   "--n-trials", "5", "--dataset", "fashion-mnist")
    output = process.communicate(timeout=300)[0]
    assert process.returncode == 0, output
    _check_exact(search.default_storage(tmp_path), 5)
    recorded = json.loads((tmp_path / "trials.json").read_text(encoding="utf-8"))
    assert recorded["dataset"]["name"] == "fashion-mnist"
    for name in ("best.json", "top_trials.md", "trials.json", "best.png", "best.svg",
                 "space.png", "history.png", "importance.png"):
        assert (tmp_path / name).is_file(), name


# -- PostgreSQL ---------------------------------------------------------------------------------


def _fresh_database(url, name):
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return url.rsplit("/", 1)[0] + "/" + name


@pytest.mark.slow
def test_postgres_three_workers_complete_exactly_the_requested_trials(postgres_url, tmp_path,
                                                                     data_file):
    _parallel_workers(_fresh_database(postgres_url, "parallel"), tmp_path, data_file)


@pytest.mark.slow
def test_postgres_a_killed_worker_is_replaced_and_the_study_completes(postgres_url, tmp_path,
                                                                      data_file):
    _kill_mid_trial(_fresh_database(postgres_url, "killed"), tmp_path, data_file)


@pytest.mark.slow
def test_a_postgres_password_is_never_shown(postgres_url, tmp_path):
    # The test server trusts every login, so any password connects; it must appear nowhere.
    secret = "s3cr3t-pa55"
    database = _fresh_database(postgres_url, "secret")
    url = database.replace("dlfs@", f"dlfs:{secret}@")
    process = _cli("--study", "s", "--out", str(tmp_path / "out"), "--quick", "--n-trials", "2",
                   "--epochs", "1", "--storage", url)
    output = process.communicate(timeout=300)[0]
    assert process.returncode == 0, output
    assert "dlfs:***@127.0.0.1" in output and secret not in output
    for path in (tmp_path / "out").iterdir():
        if path.suffix in (".json", ".md"):
            assert secret not in path.read_text(encoding="utf-8"), path.name
    port = url.rsplit(":", 1)[1].split("/")[0]
    unreachable = url.replace(f":{port}/", ":1/")
    process = _cli("--study", "s", "--out", str(tmp_path / "gone"), "--quick", "--storage",
                   unreachable)
    output = process.communicate(timeout=120)[0]
    assert process.returncode == 2, output
    assert "the storage postgresql://dlfs:***@127.0.0.1:1/" in output and secret not in output
    assert "Traceback" not in output  # one error line, after the data and start-up lines
    assert [line for line in output.splitlines() if "the storage" in line] == \
        output.splitlines()[-1:]


def test_search_configuration_errors_are_said_in_the_commands_language(tmp_path, capsys):
    from dlfs.cli import main

    binary = tmp_path / "search.toml"
    binary.write_bytes(b"n_trials = 3\n\xff\xfe\x00")
    typo = tmp_path / "typo.toml"
    typo.write_text("n_trial = 3\n", encoding="utf-8")
    assert main(["--lang", "ko", "search", "--config", str(binary), "--out",
                 str(tmp_path / "a")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"dlfs: 오류: 설정 파일이 텍스트 파일이 아닙니다: {binary} (오프셋 13의 "
                   "바이트 0xff가 UTF-8이 아닙니다). n_trials = 100 같은 TOML 줄을 담아야 "
                   "합니다.")
    assert main(["--lang", "ko", "search", "--config", str(typo), "--out",
                 str(tmp_path / "b")]) == 2
    assert capsys.readouterr().err.startswith("dlfs: 오류: 알 수 없는 탐색 설정: n_trial. ")
    assert main(["search", "--config", str(typo), "--out", str(tmp_path / "c")]) == 2
    assert capsys.readouterr().err.startswith(
        "dlfs: error: unknown search setting(s) n_trial; known: ")
