"""Hyperparameter search: the sampler's distribution, determinism, and worker processes sharing
one study in SQLite and in a real PostgreSQL server on 127.0.0.1, a worker killed mid-trial."""

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import numpy as np
import optuna
import pytest
import sqlalchemy

from dlfs import search
from dlfs.data import Data

TINY = dict(n_trials=4, epochs=2, hidden_sizes=[8], train_samples=120, dataset="fashion-mnist")


@pytest.fixture(scope="module")
def tiny_data():
    rng = np.random.default_rng(0)
    x = rng.random((200, 784), dtype=np.float32)
    t = rng.integers(0, 10, 200)
    return Data("tiny", "Tiny", "made in the test", x, t, x[:50], t[:50])


def _running(url) -> int:
    """RUNNING trials, read with plain SQL: an Optuna storage object would create tables and
    race the workers, who create them under their lock."""
    engine = sqlalchemy.create_engine(url, poolclass=sqlalchemy.pool.NullPool)
    try:
        with engine.connect() as connection:
            return connection.execute(
                sqlalchemy.text("SELECT count(*) FROM trials WHERE state = 'RUNNING'")).scalar()
    except sqlalchemy.exc.SQLAlchemyError:  # no tables yet
        return 0
    finally:
        engine.dispose()


def _trials(url, study="s"):
    storage = optuna.storages.RDBStorage(url)
    return optuna.load_study(study_name=study, storage=storage).get_trials(deepcopy=False)


# -- the sampler ------------------------------------------------------------------------------


def test_random_draws_are_log_uniform_within_the_bounds():
    config = search.load_config(seed=3)
    study = optuna.create_study(sampler=search._sampler(config, 3))
    draws = []
    for _ in range(2000):
        trial = study.ask()
        draws.append(search.suggest(trial, config))
        study.tell(trial, 0.0)
    lr = np.array([d["lr"] for d in draws])
    wd = np.array([d["weight_decay"] for d in draws])
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


def test_the_same_seed_gives_the_same_trials(tmp_path, tiny_data):
    config = search.load_config(**TINY)
    results = []
    for name in ("a", "b"):
        url = search.default_storage(tmp_path / name) if (tmp_path / name).mkdir() is None else ""
        search.work(config, "s", url, tiny_data)
        results.append([(t.params, t.value) for t in _trials(url)])
    assert results[0] == results[1] and len(results[0]) == 4


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


def test_rerunning_a_study_resumes_it(tmp_path, tiny_data):
    url = search.default_storage(tmp_path)
    search.work(search.load_config(**TINY), "s", url, tiny_data)
    ran = search.work(search.load_config(**{**TINY, "n_trials": 6}), "s", url, tiny_data)
    assert ran == 2 and len(_trials(url)) == 6


@pytest.mark.parametrize(
    ("settings", "message"),
    [({"n_trial": 3}, "unknown search setting"),
     ({"sampler": "grid"}, "sampler must be one of random, tpe, qmc"),
     ({"space": {"lr": {"low": 0, "high": 1}}}, "log-uniform range needs low > 0"),
     ({"space": {"beta": {"low": 0.1, "high": 1}}}, "space has 'beta'"),
     ({"epochs": 0}, "epochs must be a positive integer")],
)
def test_bad_search_settings_are_rejected(settings, message):
    with pytest.raises(ValueError, match=message):
        search.load_config(**settings)


def test_settings_come_from_a_toml_file(tmp_path):
    path = tmp_path / "search.toml"
    path.write_text('n_trials = 7\nsampler = "tpe"\n[space.lr]\nlow = 1e-4\nhigh = 1e-1\n')
    config = search.load_config(path, epochs=3)
    assert (config.n_trials, config.sampler, config.epochs) == (7, "tpe", 3)
    assert config.space["lr"].high == 0.1 and "weight_decay" not in config.space
    path.write_text("n_trials = [")
    with pytest.raises(ValueError, match="not valid TOML"):
        search.load_config(path)


# -- worker processes on one study --------------------------------------------------------------


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


def _parallel_workers(url, out, n=6):
    """Three independent worker processes, as on three machines, on one study: exactly n
    trials, and the very trials one worker alone draws."""
    workers = [_cli("--study", "s", "--storage", url, "--out", str(out / f"w{i}"),
                    "--n-trials", str(n), "--epochs", "2", "--dataset", "fashion-mnist",
                    "--seed", "0", "--config", str(out / "tiny.toml"))
               for i in range(3)]
    outputs = [w.communicate(timeout=300)[0] for w in workers]
    assert all(w.returncode == 0 for w in workers), outputs
    trials = _check_exact(url, n)
    alone = search.default_storage(out / "alone") if (out / "alone").mkdir() is None else ""
    single = _cli("--study", "s", "--storage", alone, "--out", str(out / "alone"), "--n-trials",
                  str(n), "--epochs", "2", "--dataset", "fashion-mnist", "--seed", "0",
                  "--config", str(out / "tiny.toml"))
    assert single.wait(timeout=300) == 0
    by_number = {t.number: t.params for t in _trials(alone)}
    assert {t.number: t.params for t in trials} == by_number


def _kill_mid_trial(url, out, n=3):
    config = out / "slow.toml"
    config.write_text("hidden_sizes = [100, 100]\ntrain_samples = 500\nepochs = 2000\n"
                      "heartbeat_interval = 1\ngrace_period = 3\n")
    common = ["--study", "k", "--storage", url, "--n-trials", str(n), "--dataset",
              "fashion-mnist", "--config", str(config)]
    first = _cli(*common, "--out", str(out / "first"))
    deadline = time.time() + 120
    while time.time() < deadline:
        time.sleep(0.2)
        if first.poll() is not None:
            pytest.fail(f"the first worker ended before it could be killed:\n"
                        f"{first.communicate()[0]}")
        if _running(url):
            break
    else:
        first.kill()
        pytest.fail(f"the first worker never started a trial:\n{first.communicate()[0]}")
    time.sleep(1.5)
    first.send_signal(signal.SIGKILL)
    first.wait()
    second = _cli(*common, "--out", str(out / "second"))
    output = second.communicate(timeout=300)[0]
    assert second.returncode == 0, output
    trials = _check_exact(url, n, "k")
    stale = [t for t in trials if t.state.name == "FAIL"]
    assert len(stale) == 1
    retried = [t for t in trials if t.system_attrs.get("failed_trial") == stale[0].number]
    assert len(retried) == 1 and retried[0].params == stale[0].params


@pytest.fixture
def tiny_toml(tmp_path):
    (tmp_path / "tiny.toml").write_text("hidden_sizes = [8]\ntrain_samples = 150\n")
    return tmp_path


def test_sqlite_three_workers_complete_exactly_the_requested_trials(tiny_toml):
    _parallel_workers(search.default_storage(tiny_toml), tiny_toml)


def test_sqlite_a_killed_worker_is_replaced_and_the_study_completes(tmp_path):
    _kill_mid_trial(search.default_storage(tmp_path), tmp_path)


def test_workers_option_runs_processes_on_one_study(tmp_path):
    process = _cli("--study", "s", "--out", str(tmp_path), "--quick", "--workers", "2",
                   "--n-trials", "5", "--dataset", "fashion-mnist")
    output = process.communicate(timeout=300)[0]
    assert process.returncode == 0, output
    _check_exact(search.default_storage(tmp_path), 5)
    for name in ("best.json", "top_trials.md", "trials.json", "best.png", "best.svg",
                 "space.png", "history.png", "importance.png"):
        assert (tmp_path / name).is_file(), name


# -- PostgreSQL ---------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def postgres_url():
    """A private PostgreSQL server on 127.0.0.1, started here and stopped at the end."""
    bins = sorted(glob.glob("/usr/lib/postgresql/*/bin"))
    if not bins:
        pytest.fail("PostgreSQL is missing: `make test` installs Debian's postgresql")
    bindir = Path(bins[-1])
    folder = Path(tempfile.mkdtemp(prefix="dlfs-pg-", dir="/tmp"))
    folder.chmod(0o755)
    as_user = []
    if os.geteuid() == 0:  # postgres refuses to run as root
        shutil.chown(folder, "postgres", "postgres")
        as_user = ["runuser", "-u", "postgres", "--"]
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    data = folder / "data"

    def run(*command):
        subprocess.run([*as_user, *command], check=True, capture_output=True, cwd=folder)

    run(str(bindir / "initdb"), "-D", str(data), "-A", "trust", "-U", "dlfs")
    run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-o",
        f"-p {port} -k {folder} -c listen_addresses=127.0.0.1", "start")
    try:
        run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "dlfs", "dlfs")
        yield f"postgresql://dlfs@127.0.0.1:{port}/dlfs"
    finally:
        run(str(bindir / "pg_ctl"), "-D", str(data), "-m", "fast", "-w", "stop")
        shutil.rmtree(folder, ignore_errors=True)


def _fresh_database(url, name):
    import sqlalchemy

    engine = sqlalchemy.create_engine(url, isolation_level="AUTOCOMMIT")
    with engine.connect() as connection:
        connection.execute(sqlalchemy.text(f"CREATE DATABASE {name}"))
    engine.dispose()
    return url.rsplit("/", 1)[0] + "/" + name


def test_postgres_three_workers_complete_exactly_the_requested_trials(postgres_url, tiny_toml):
    _parallel_workers(_fresh_database(postgres_url, "parallel"), tiny_toml)


def test_postgres_a_killed_worker_is_replaced_and_the_study_completes(postgres_url, tmp_path):
    _kill_mid_trial(_fresh_database(postgres_url, "killed"), tmp_path)
