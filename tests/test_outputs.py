"""The lab's outputs under faults: real `dlfs` processes run side by side, killed, interrupted
and cut off, and what they leave in --out."""

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from dlfs.cli import main
from dlfs.io import FolderBusy, folder_lock, remove_leftovers

SRC = str(Path(__file__).resolve().parents[1] / "src")
TIMEOUT = 120  # seconds; every wait below is bounded by it
# A run that lasts until it is stopped: 100 000 SGD steps on Fashion-MNIST.
ENDLESS = ["run", "weight-init-compare", "--dataset", "fashion-mnist", "--set", "iters=100000"]

linux_only = pytest.mark.skipif(not sys.platform.startswith("linux"),
                                reason="reads /proc and uses flock")


def _env() -> dict:
    return {**os.environ, "PYTHONPATH": SRC + os.pathsep + os.environ.get("PYTHONPATH", ""),
            "PYTHONUNBUFFERED": "1", "LC_ALL": "C.UTF-8"}


def _dlfs(argv, **kwargs) -> subprocess.Popen:
    # A session of its own, so a signal sent to its process group reaches its workers too, as
    # Ctrl-C in a terminal does, and never this test process.
    return subprocess.Popen([sys.executable, "-m", "dlfs.cli", *argv], env=_env(), text=True,
                            start_new_session=True, **kwargs)


def _wait_for(predicate, what: str, timeout: float = TIMEOUT) -> None:
    deadline = time.monotonic() + timeout
    while not predicate():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {timeout} s waiting for {what}")
        time.sleep(0.005)


def _read_line_starting(process, prefix: str) -> str:
    deadline = time.monotonic() + TIMEOUT
    while time.monotonic() < deadline:
        line = process.stdout.readline()
        if not line:
            break
        if line.startswith(prefix):
            return line
    raise AssertionError(f"no line starting {prefix!r} from {process.args}")


def _children(pid: int) -> list[str]:
    path = Path(f"/proc/{pid}/task/{pid}/children")
    return path.read_text().split() if path.exists() else []


def _stop(process) -> None:
    if process.poll() is None:
        os.killpg(process.pid, signal.SIGKILL)
    process.communicate(timeout=TIMEOUT)


def _hidden(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir() if p.name.startswith("."))


@pytest.mark.slow
@linux_only
def test_a_second_run_into_an_out_folder_being_written_is_refused_with_one_line(tmp_path):
    out = tmp_path / "results"
    first = _dlfs([*ENDLESS, "--workers", "1", "--out", str(out)], stdout=subprocess.PIPE,
                  stderr=subprocess.DEVNULL)
    try:
        _read_line_starting(first, "running 1 experiment:")
        second = subprocess.run([sys.executable, "-m", "dlfs.cli", "run", "numerical-diff",
                                 "--out", str(out)], env=_env(), capture_output=True, text=True,
                                timeout=TIMEOUT)
        assert second.returncode == 2
        assert second.stderr.strip() == (
            f"dlfs: error: --out {out}: another run is writing to {out}; wait for it to end, "
            "or choose another --out")
        assert not (out / "numerical-diff").exists()
    finally:
        _stop(first)
    # The kernel let the killed run's lock go: the next run writes.
    again = subprocess.run([sys.executable, "-m", "dlfs.cli", "run", "numerical-diff", "--out",
                            str(out)], env=_env(), capture_output=True, text=True,
                           timeout=TIMEOUT)
    assert again.returncode == 0, again.stderr
    assert json.loads((out / "numerical-diff" / "results.json").read_text())["name"] == (
        "numerical-diff")


@pytest.mark.slow
@linux_only
def test_a_run_sigkilled_while_writing_its_result_leaves_nothing_the_next_run_keeps(tmp_path):
    out = tmp_path / "results"
    out.mkdir()
    # The run's own writer (dlfs.io.atomic_dir, as write_result uses it) killed by a real
    # SIGKILL inside its half-written folder: the figures are rendered in the workers now, so
    # the parent's window for a kill from outside is too short to hit reliably.
    writer = ("import os, signal, sys\nfrom pathlib import Path\nfrom dlfs.io import atomic_dir\n"
              "with atomic_dir(Path(sys.argv[1]) / 'numerical-diff') as tmp:\n"
              "    (tmp / 'results.json').write_text('{\"half')\n"
              "    os.kill(os.getpid(), signal.SIGKILL)\n")
    killed = subprocess.run([sys.executable, "-c", writer, str(out)], env=_env(),
                            timeout=TIMEOUT)
    assert killed.returncode == -signal.SIGKILL
    assert len(_hidden(out)) == 1 and not (out / "numerical-diff").exists()
    (out / ".numerical-diff.old").mkdir()  # what a kill between atomic_dir's renames leaves
    again = subprocess.run([sys.executable, "-m", "dlfs.cli", "run", "numerical-diff",
                            "--out", str(out)], env=_env(), capture_output=True, text=True,
                           timeout=TIMEOUT)
    assert again.returncode == 0, again.stderr
    assert sorted(p.name for p in out.iterdir()) == ["numerical-diff", "run.json"]


@pytest.mark.slow
@linux_only
def test_ctrl_c_during_a_run_with_two_workers_prints_one_line_and_exits_130(tmp_path):
    run = _dlfs([*ENDLESS, "--workers", "2", "--out", str(tmp_path / "results")],
                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    try:
        _read_line_starting(run, "running 1 experiment:")
        _wait_for(lambda: len(_children(run.pid)) >= 2, "two workers")
        time.sleep(0.5)  # the workers are inside their training loops
        os.killpg(run.pid, signal.SIGINT)
        _, err = run.communicate(timeout=TIMEOUT)
    finally:
        _stop(run)
    assert run.returncode == 130
    assert err.strip() == "dlfs: interrupted"


@pytest.mark.slow
def test_dlfs_list_into_a_pipe_closed_early_exits_quietly():
    read_end, write_end = os.pipe()
    listing = _dlfs(["list"], stdout=write_end, stderr=subprocess.PIPE)
    os.close(write_end)
    os.close(read_end)  # like `head` that has read what it wanted, before dlfs writes a line
    _, err = listing.communicate(timeout=TIMEOUT)
    assert err == ""
    assert listing.returncode == 141  # 128 + SIGPIPE, what the shell shows for `yes | head`


@pytest.mark.slow
def test_an_empty_out_is_refused_rather_than_taken_for_the_current_folder(tmp_path,
                                                                          monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "numerical-diff", "--out", ""]) == 2
    assert capsys.readouterr().err.strip() == (
        "dlfs: error: --out is empty; name a folder, or leave --out out for results")
    assert list(tmp_path.iterdir()) == []


@pytest.mark.slow
def test_run_results_honour_the_umask(tmp_path):
    out = tmp_path / "results"
    command = (f"import os, sys; os.umask(0o022); from dlfs.cli import main; "
               f"sys.exit(main(['run', 'numerical-diff', '--out', {str(out)!r}]))")
    done = subprocess.run([sys.executable, "-c", command], env=_env(), capture_output=True,
                          text=True, timeout=TIMEOUT)
    assert done.returncode == 0, done.stderr
    modes = {p.relative_to(out).as_posix(): p.stat().st_mode & 0o777 for p in out.rglob("*")}
    assert modes["numerical-diff"] == 0o755 and modes["run.json"] == 0o644
    assert modes["numerical-diff/results.json"] == 0o644
    assert modes["numerical-diff/figure.ko.png"] == 0o644


@linux_only
def test_a_folder_lock_is_refused_to_a_second_holder_and_free_again_after(tmp_path):
    with folder_lock(tmp_path):
        # Another open file description, as another process would have.
        with pytest.raises(FolderBusy, match="another process holds the lock"):
            with folder_lock(tmp_path):
                pass
    with folder_lock(tmp_path):
        assert list(tmp_path.iterdir()) == []


def test_remove_leftovers_takes_only_what_atomic_writers_leave_for_the_names_given(tmp_path):
    for name in (".a.0123abcd", ".a.old", ".b.0123abcd", "a", ".a.keep"):
        (tmp_path / name).mkdir()
    for name in (".a.89abcdef.tmp", ".a.tmp", "a.txt"):
        (tmp_path / name).write_text("x")
    removed = remove_leftovers(tmp_path, ["a"])
    assert sorted(p.name for p in removed) == [".a.0123abcd", ".a.89abcdef.tmp", ".a.old"]
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        ".a.keep", ".a.tmp", ".b.0123abcd", "a", "a.txt"]
