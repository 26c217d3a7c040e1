"""dlfs run --optimizer with a learner's optimizer that misbehaves: an update that loops
forever, one that claims far too much memory, one that writes NaN. Each is stopped (or caught)
and named in one line, with its class, file and line; the run ends with exit status 1 and the
other experiments still finish."""

import time

from dlfs.cli import main

# A Momentum whose update never ends: its loop waits for a condition its body never changes
# (seen in learners' repos as a `while` over a counter that is never incremented).
LOOPS = '''import numpy as np


class Loop:
    def __init__(self, lr=0.1):
        self.lr = lr

    def update(self, params, grads):
        step = 0
        while step < 1:
            params["x"] = params["x"] - 0.0 * grads["x"]
'''
LOOP_LINE = 11  # the `while` body, where the dump finds it

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

# AdaGrad without the small constant, with its h started at 0 and the division done before h
# is updated: the first step divides by sqrt(0) (seen in learners' repos where `+ 1e-7` was
# dropped from common/optimizer.py's AdaGrad).
NAN = '''import numpy as np


class NoEpsilon:
    def __init__(self, lr=1.5):
        self.lr = lr
        self.h = None

    def update(self, params, grads):
        if self.h is None:
            self.h = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params:
            params[key] -= self.lr * grads[key] * 0.0 / np.sqrt(self.h[key])
            self.h[key] += grads[key] * grads[key]
'''
NAN_DEF_LINE = 9


def _run(tmp_path, capsys, source, cls, *extra):
    (tmp_path / "mine.py").write_text(source, encoding="utf-8")
    began = time.monotonic()
    code = main(["run", "optimizer-paths", "--optimizer", f"mine={tmp_path / 'mine.py'}::{cls}",
                 "--workers", "1", "--out", str(tmp_path / "lab"), *extra])
    took = time.monotonic() - began
    lines = [line for line in capsys.readouterr().err.splitlines() if "--optimizer:" in line]
    return code, lines, took


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


def test_an_update_that_writes_nan_is_named_with_its_class_and_file(tmp_path, capsys):
    code, lines, _ = _run(tmp_path, capsys, NAN, "NoEpsilon")
    assert code == 1
    assert len(lines) == 1, lines
    assert "NoEpsilon.update wrote NaN or inf into params['x']" in lines[0]
    assert f"{(tmp_path / 'mine.py').resolve()}, update from line {NAN_DEF_LINE}" in lines[0]


def test_optimizer_timeout_refuses_zero_seconds(tmp_path, capsys):
    (tmp_path / "mine.py").write_text(NAN, encoding="utf-8")
    try:
        code = main(["run", "optimizer-paths", "--optimizer-timeout", "0",
                     "--out", str(tmp_path / "lab")])
    except SystemExit as leaving:
        code = leaving.code
    assert code == 2
    assert "--optimizer-timeout 0" in capsys.readouterr().err


def test_an_update_that_loops_forever_is_named_in_korean_with_lang_ko(tmp_path, capsys):
    code, lines, _ = _run(tmp_path, capsys, LOOPS, "Loop", "--optimizer-timeout", "2",
                          "--lang", "ko")
    assert code == 1
    assert len(lines) == 1, lines
    assert "Loop.update(" in lines[0] and "2초 안에 끝나지 않았습니다" in lines[0]
    assert f"mine.py {LOOP_LINE}번째 줄" in lines[0]
