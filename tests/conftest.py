import contextlib
import glob
import os
import shutil
import socket
import subprocess
import tempfile
from pathlib import Path

import hypothesis
import numpy as np
import pytest


@pytest.fixture(autouse=True)
def english_locale(monkeypatch):
    """dlfs speaks the locale's language by default: every test starts in an English one."""
    for variable in ("LC_ALL", "LC_MESSAGES"):
        monkeypatch.delenv(variable, raising=False)
    monkeypatch.setenv("LANG", "C.UTF-8")


@pytest.fixture
def rng():
    return np.random.default_rng(20261122)


def make_blobs(rng, n_per_class=60, n_classes=3, dim=4, spread=0.3):
    """Well-separated Gaussian blobs: a small data set any working network learns."""
    centres = rng.standard_normal((n_classes, dim)) * 3
    x = np.concatenate([c + spread * rng.standard_normal((n_per_class, dim)) for c in centres])
    t = np.repeat(np.arange(n_classes), n_per_class)
    order = rng.permutation(len(t))
    return x[order], t[order]


# -- processes ---------------------------------------------------------------------------------


def process_alive(pid: int) -> bool:
    """True while ``pid`` is a process that has not ended (a zombie counts as ended)."""
    try:
        with open(f"/proc/{pid}/stat", "rb") as file:
            return file.read().rsplit(b")", 1)[-1].split()[0] != b"Z"
    except OSError:
        return False


# -- a small data set in MNIST's IDX layout, for the lab's runs ------------------------------


def write_idx_set(folder: Path, seed: int, n_train: int, n_test: int, classes: int, side: int,
                  step: float) -> Path:
    """A small data set in MNIST's IDX layout in ``folder``: side×side uint8 images whose
    brightness tells the class (noise up to 60, plus ``step`` per class), labels as indices."""
    from dlfs.data import write_idx

    rng = np.random.default_rng(seed)
    for images, labels, n in (("train-images-idx3-ubyte", "train-labels-idx1-ubyte", n_train),
                              ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte", n_test)):
        t = np.arange(n) % classes
        rng.shuffle(t)
        x = rng.random((n, side, side)) * 60 + t[:, None, None] * step
        write_idx(folder / images, x.astype(np.uint8))
        write_idx(folder / labels, t.astype(np.uint8))
    return folder


@pytest.fixture
def trained_jobs(monkeypatch, tmp_path):
    """Every job the lab runs, written to a file as it starts (the pool's workers, forked after
    this patch, write there too): a function returning the jobs run so far."""
    from dlfs.experiments import jobs

    log = tmp_path / "jobs.log"
    real = jobs.run_job

    def run_job(job, data):
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(repr(job) + "\n")
        return real(job, data)

    monkeypatch.setattr(jobs, "run_job", run_job)
    return lambda: log.read_text(encoding="utf-8").splitlines() if log.exists() else []


# -- a headless Chromium driven by Selenium, for the report's browser tests -------------------

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
CHROMEDRIVER = shutil.which("chromedriver")


def headless_chromium(profile: Path, javascript: bool = True, logs: bool = False):
    """Debian's chromium through its chromedriver, headless, 1200×900, with its own profile
    folder; ``javascript`` False turns scripts off; ``logs`` keeps the console and the network
    (performance) logs for ``get_log``."""
    webdriver = pytest.importorskip("selenium.webdriver")
    from selenium.webdriver.chrome.options import Options
    from selenium.webdriver.chrome.service import Service

    if CHROMIUM is None or CHROMEDRIVER is None:
        pytest.fail("chromium or chromedriver is missing: `make test` installs Debian's "
                    "chromium and chromium-driver packages")
    options = Options()
    for argument in ("--headless=new", "--no-sandbox", "--disable-gpu", "--window-size=1200,900",
                     f"--user-data-dir={profile}"):
        options.add_argument(argument)
    if not javascript:
        options.add_experimental_option(
            "prefs", {"profile.managed_default_content_settings.javascript": 2})
    if logs:
        options.set_capability("goog:loggingPrefs", {"browser": "ALL", "performance": "ALL"})
    options.binary_location = CHROMIUM
    return webdriver.Chrome(service=Service(CHROMEDRIVER), options=options)


# -- a private PostgreSQL server, shared by the search tests -----------------------------------


@contextlib.contextmanager
def private_postgres():
    """A private PostgreSQL server on 127.0.0.1, started here and stopped at the end: its URL,
    and a function running pg_ctl on it (``ctl("stop")``, ``ctl("start")``). Thrown away
    afterwards, so it never waits for the disk (fsync off) and is stopped without a final
    checkpoint; a stop and start in between is a clean one, as on a real server."""
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
        subprocess.run([*as_user, *command], check=True, capture_output=True, cwd=folder,
                       timeout=60)

    def ctl(action, mode="fast"):
        if action == "start":
            run(str(bindir / "pg_ctl"), "-D", str(data), "-l", str(folder / "log"), "-w", "-o",
                f"-p {port} -k {folder} -c listen_addresses=127.0.0.1 -c fsync=off "
                "-c synchronous_commit=off -c full_page_writes=off", "start")
        else:
            run(str(bindir / "pg_ctl"), "-D", str(data), "-m", mode, "-w", action)

    run(str(bindir / "initdb"), "--no-sync", "-D", str(data), "-A", "trust", "-U", "dlfs")
    ctl("start")
    try:
        run(str(bindir / "createdb"), "-h", "127.0.0.1", "-p", str(port), "-U", "dlfs", "dlfs")
        yield f"postgresql://dlfs@127.0.0.1:{port}/dlfs", ctl
    finally:
        subprocess.run([*as_user, str(bindir / "pg_ctl"), "-D", str(data), "-m", "immediate",
                        "-w", "stop"], capture_output=True, cwd=folder, timeout=60)
        shutil.rmtree(folder, ignore_errors=True)


@pytest.fixture(scope="session")
def postgres_server():
    """One private PostgreSQL server for the whole session (starting one takes seconds): its
    URL and its pg_ctl function. A test that stops it starts it again before it ends."""
    with private_postgres() as server:
        yield server


@pytest.fixture
def postgres_url(postgres_server):
    """The session's PostgreSQL server, running."""
    return postgres_server[0]


# -- the fast tier (pytest -m "not slow", make test-fast) ----------------------------------------

hypothesis.settings.register_profile("fast", max_examples=20)


def pytest_configure(config):
    """The fast tier draws 20 examples per property test instead of hypothesis's 100 (make test
    draws all 100); a profile named with --hypothesis-profile wins."""
    if (config.getoption("markexpr", "") == "not slow"
            and config.getoption("hypothesis_profile", None) is None):
        hypothesis.settings.load_profile("fast")
