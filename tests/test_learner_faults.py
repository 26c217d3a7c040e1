"""A learner's optimizer that misbehaves in the lab (dlfs run optimizer-paths optimizer-compare
--optimizer NAME=FILE::CLASS): a path that diverges or turns NaN is drawn clipped with a note,
never sized into a huge contour grid; an update that raises, writes NaN or inf, loops forever or
claims far too much memory is named with its class, file and line, in one line (the last two
stopped by the limits a job with a learner's optimizer runs under)."""

import json
import os
import time

import matplotlib
import numpy as np
import pytest

from dlfs.cli import main
from dlfs.experiments import optimizer_paths

# Seen in learners' repos: a sign slip in SGD's update (params[key] += lr * grads[key]) climbs
# the bowl instead of descending it; at lr 0.1 on f = x²/20 + y² the path leaves the plot at
# the first steps and reaches about 1e26.
CLIMBS = '''class SGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params:
            params[key] += self.lr * 30 * grads[key]
'''
# A division by a state that starts at zero (an AdaGrad without its 1e-7): 0/0 is NaN.
NAN = '''import numpy as np


class AdaGrad:
    def __init__(self, lr=0.01):
        self.lr = lr
        self.h = None

    def update(self, params, grads):
        if self.h is None:
            self.h = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params:
            params[key] -= self.lr * self.h[key] / np.sqrt(self.h[key])
            self.h[key] += grads[key] * grads[key]
'''
RAISES = '''class Momentum:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        raise RuntimeError("boom")
'''


def _run_paths(tmp_path, source, cls):
    (tmp_path / "mine.py").write_text(source, encoding="utf-8")
    out = tmp_path / "lab"
    status = main(["run", "optimizer-paths", "--optimizer",
                   f"mine={tmp_path / 'mine.py'}::{cls}:lr=0.1", "--out", str(out)])
    return status, out


def _panel(results, label):
    matplotlib.use("Agg")
    fig = optimizer_paths.plot(results, "en")
    try:
        axes = [ax for ax in fig.axes if ax.get_title().startswith(label)]
        assert len(axes) == 1
        ax = axes[0]
        return ax.get_xlim(), ax.get_ylim(), [text.get_text() for text in ax.texts]
    finally:
        matplotlib.pyplot.close(fig)


@pytest.mark.slow
def test_a_diverging_learners_path_is_drawn_clipped_with_a_note_not_sized_into_a_huge_grid(
        tmp_path):
    status, out = _run_paths(tmp_path, CLIMBS, "SGD")
    assert status == 0
    record = json.loads((out / "optimizer-paths" / "results.json").read_text(encoding="utf-8"))
    path = np.asarray(record["results"]["paths"]["mine"]["path"])
    assert np.abs(path).max() > 1e20  # it really diverged
    xlim, ylim, notes = _panel(record["results"], "mine")
    assert -10 <= xlim[0] < xlim[1] <= 10 and -10 <= ylim[0] < ylim[1] <= 10
    assert _panel(record["results"], "SGD")[:2] == (xlim, ylim)  # the same zoom as the book's
    assert ylim[1] < 3  # the book's paths keep their zoom: the diverged one sets nothing
    assert len(notes) == 1 and notes[0].replace("\n", " ").startswith(
        "the path leaves the plot at step 1, at (-9.1, 14); drawn clipped")


@pytest.mark.filterwarnings("ignore:invalid value encountered:RuntimeWarning")
def test_a_learners_update_that_writes_nan_is_named_with_its_class_file_and_line(tmp_path,
                                                                                   capsys):
    status, _ = _run_paths(tmp_path, NAN, "AdaGrad")
    assert status == 1  # before: drawn up to the NaN, exit 0, nothing naming the update
    lines = [line for line in capsys.readouterr().err.splitlines() if "--optimizer:" in line]
    assert len(lines) == 1, lines
    assert "AdaGrad.update wrote NaN or inf into params['x']" in lines[0]
    # the line where the NaN arose (0/0 at the first step), not the def of update (line 9)
    assert (f"it arose at {(tmp_path / 'mine.py').resolve()}, line 13, in an invalid "
            "operation (0/0") in lines[0]


def test_a_learners_update_that_writes_nan_is_named_at_its_line_in_korean(tmp_path, capsys):
    (tmp_path / "mine.py").write_text(NAN, encoding="utf-8")
    status = main(["--lang", "ko", "run", "optimizer-paths", "--optimizer",
                   f"mine={tmp_path / 'mine.py'}::AdaGrad:lr=0.1", "--out", str(tmp_path / "o")])
    lines = [line for line in capsys.readouterr().err.splitlines() if "--optimizer:" in line]
    assert status == 1 and len(lines) == 1, lines
    assert "NaN이나 inf를 썼습니다" in lines[0] and "mine.py 13번째 줄의 잘못된 연산" in lines[0]
    assert "wrote NaN" not in lines[0]


def test_a_learners_update_that_raises_is_named_with_its_class_file_and_line(tmp_path,
                                                                              capsys):
    status, _ = _run_paths(tmp_path, RAISES, "Momentum")
    err = capsys.readouterr().err
    assert status == 1 and len(err.strip().splitlines()) == 1
    assert (f"--optimizer: Momentum.update raised RuntimeError: boom ({tmp_path / 'mine.py'}, "
            "line 6); fix that line") in err


# A Momentum whose update never ends: its loop waits for a condition its body never changes
# (seen in learners' repos as a `while` over a counter that is never incremented).
LOOPS = '''import numpy as np


class Loop:
    def __init__(self, lr=0.1):
        self.lr = lr

    def update(self, params, grads):
        step = 0
        while step < 1: params["x"] = params["x"] - 0.0 * grads["x"]  # noqa: E701
'''
LOOP_LINE = 10  # the loop, on one line: the dump finds it there whenever it is stopped

# An update that allocates a history the size of 20 GB on its first call (a buffer sized by
# the number of steps times a huge width, in the spirit of learners' "keep every past gradient"
# experiments).
GREEDY = '''import numpy as np


class Greedy:
    def __init__(self, lr=0.1):
        self.lr = lr
        self.history = None

    def update(self, params, grads):
        if self.history is None:
            self.history = np.zeros((20, 10**9), dtype=np.uint8)
        for key in params:
            params[key] -= self.lr * grads[key]
'''
GREEDY_LINE = 11


def _run(tmp_path, capsys, source, cls, *extra):
    (tmp_path / "mine.py").write_text(source, encoding="utf-8")
    began = time.monotonic()
    code = main(["run", "optimizer-paths", "--optimizer", f"mine={tmp_path / 'mine.py'}::{cls}",
                 "--workers", "1", "--out", str(tmp_path / "lab"), *extra])
    took = time.monotonic() - began
    lines = [line for line in capsys.readouterr().err.splitlines() if "--optimizer:" in line]
    return code, lines, took


@pytest.mark.slow
def test_an_update_that_loops_forever_is_stopped_at_the_limit_and_its_line_named(
        tmp_path, capsys):
    code, lines, took = _run(tmp_path, capsys, LOOPS, "Loop", "--optimizer-timeout", "3")
    assert code == 1
    assert len(lines) == 1, lines
    assert "Loop.update" in lines[0] and "did not finish within 3 s" in lines[0]
    assert f"{(tmp_path / 'mine.py').resolve()}, line {LOOP_LINE}" in lines[0]
    assert took < 60


def test_an_update_that_claims_20_gb_is_refused_by_the_memory_limit_in_one_line(
        tmp_path, capsys):
    code, lines, took = _run(tmp_path, capsys, GREEDY, "Greedy")
    assert code == 1
    assert len(lines) == 1, lines
    assert "Greedy.update" in lines[0] and "4096 MB" in lines[0]
    assert f"{(tmp_path / 'mine.py').resolve()}, line {GREEDY_LINE}" in lines[0]
    assert took < 60


def test_optimizer_timeout_refuses_zero_seconds(tmp_path, capsys):
    try:
        code = main(["run", "optimizer-paths", "--optimizer-timeout", "0",
                     "--out", str(tmp_path / "lab")])
    except SystemExit as leaving:
        code = leaving.code
    assert code == 2
    assert "--optimizer-timeout 0" in capsys.readouterr().err


@pytest.mark.slow
def test_an_update_that_loops_forever_is_named_in_korean_with_lang_ko(tmp_path, capsys):
    code, lines, _ = _run(tmp_path, capsys, LOOPS, "Loop", "--optimizer-timeout", "2",
                          "--lang", "ko")
    assert code == 1
    assert len(lines) == 1, lines
    assert "Loop.update(" in lines[0] and "2초 안에 끝나지 않았습니다" in lines[0]
    assert f"mine.py {LOOP_LINE}번째 줄" in lines[0]


# An update that starts a helper process in its own session and leaves it running (seen in
# learners' notebooks that launch a plotting or logging process from inside training code).
DETACHES = '''import subprocess


class Detaches:
    def __init__(self, lr=0.1):
        self.lr = lr
        self.helper = None

    def update(self, params, grads):
        if self.helper is None:
            self.helper = subprocess.Popen(["sleep", "600"], start_new_session=True)
            with open(PID_FILE, "w") as file:
                file.write(str(self.helper.pid))
        for key in params:
            params[key] -= self.lr * grads[key]
'''


@pytest.mark.slow
def test_a_process_an_update_detached_into_its_own_session_ends_with_the_job(tmp_path,
                                                                             capsys):
    pid_file = tmp_path / "helper.pid"
    source = DETACHES.replace("PID_FILE", repr(str(pid_file)))
    code, lines, _ = _run(tmp_path, capsys, source, "Detaches")
    assert code == 0 and lines == []
    pid = int(pid_file.read_text(encoding="ascii"))
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        try:
            with open(f"/proc/{pid}/stat", encoding="ascii") as stat:
                state = stat.read().rsplit(")", 1)[1].split()[0]
        except FileNotFoundError:
            break  # gone: killed and reaped with the job
        if state == "Z":
            break  # killed; only its parent's reaping is left
        time.sleep(0.1)
    else:
        os.kill(pid, 9)  # our own test's helper: never left behind
        raise AssertionError(f"the helper process {pid} outlived the job")
