"""dlfs run optimizer-paths optimizer-compare --optimizer NAME=FILE::CLASS[:lr=…]: a learner's
optimizer runs beside the reference ones, labelled as theirs, and a bad one stops the run
before anything ran."""

import json

import numpy as np
import pytest

from dlfs import catalogue
from dlfs.cli import main
from dlfs.data import write_idx

RIGHT = '''import numpy as np


class AdaGrad:
    def __init__(self, lr=0.01):
        self.lr = lr
        self.h = None

    def update(self, params, grads):
        if self.h is None:
            self.h = {key: np.zeros_like(val) for key, val in params.items()}
        for key in params:
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)
'''
# Course note 1's AdaGrad: h reset on every call, so every step is lr·sign(g).
RESET = RIGHT.replace("        if self.h is None:\n            self.h =", "        self.h =")


def _paths(out):
    record = json.loads((out / "optimizer-paths" / "results.json").read_text(encoding="utf-8"))
    return record, record["results"]["paths"]


@pytest.mark.slow
def test_a_learners_adagrad_runs_beside_the_books_and_equals_it_when_right(tmp_path):
    (tmp_path / "mine.py").write_text(RIGHT, encoding="utf-8")
    out = tmp_path / "lab"
    assert main(["run", "optimizer-paths", "--optimizer",
                 f"mine={tmp_path / 'mine.py'}::AdaGrad:lr=1.5", "--out", str(out)]) == 0
    record, paths = _paths(out)
    assert paths["mine"]["optimizer"] == f"file:{(tmp_path / 'mine.py').resolve()}::AdaGrad"
    assert paths["mine"]["lr"] == 1.5
    np.testing.assert_allclose(paths["mine"]["path"], paths["AdaGrad"]["path"], rtol=1e-9)
    assert record["verdict"]["held"]  # the reference rules, and the claim, are untouched
    assert set(record["parameters"]["optimizers"]) >= {"SGD", "AdaGrad", "Adam", "mine"}


@pytest.mark.slow
def test_a_buggy_adagrad_shows_its_own_path_and_its_default_lr_is_read(tmp_path):
    (tmp_path / "reset.py").write_text(RESET.replace("lr=0.01", "lr=1.5"), encoding="utf-8")
    out = tmp_path / "lab"
    assert main(["run", "optimizer-paths", "--optimizer",
                 f"reset={tmp_path / 'reset.py'}::AdaGrad", "--out", str(out)]) == 0
    _, paths = _paths(out)
    assert paths["reset"]["lr"] == 1.5
    steps = np.diff(np.asarray(paths["reset"]["path"]), axis=0)
    # sign-SGD: every step moves each coordinate by exactly lr (up to ε)
    np.testing.assert_allclose(np.abs(steps), 1.5, rtol=1e-4)
    assert not np.allclose(paths["reset"]["path"], paths["AdaGrad"]["path"])


@pytest.mark.slow
def test_the_figures_label_the_learners_optimizer_as_theirs(tmp_path):
    (tmp_path / "mine.py").write_text(RIGHT, encoding="utf-8")
    idx = tmp_path / "idx"
    idx.mkdir()
    rng = np.random.default_rng(3)
    for stem, n in (("train", 120), ("t10k", 40)):
        t = np.arange(n) % 10
        write_idx(idx / f"{stem}-images-idx3-ubyte",
                  (rng.random((n, 6, 6)) * 60 + t[:, None, None] * 19).astype(np.uint8))
        write_idx(idx / f"{stem}-labels-idx1-ubyte", t.astype(np.uint8))
    out = tmp_path / "lab"
    assert main(["run", "optimizer-compare", "--quick", "--dataset", str(idx), "--optimizer",
                 f"mine={tmp_path / 'mine.py'}::AdaGrad", "--out", str(out)]) == 0
    record = json.loads((out / "optimizer-compare" / "results.json").read_text("utf-8"))
    assert len(record["results"]["losses"]["mine"]) == record["parameters"]["iters"]
    from dlfs.experiments import EXPERIMENTS
    for lang in ("en", "ko"):
        fig = EXPERIMENTS["optimizer-compare"].plot(record["results"], lang)
        labels = [t.get_text() for ax in fig.axes if ax.get_legend()
                  for t in ax.get_legend().get_texts()]
        assert any(catalogue.text("words.yours", lang, name="mine") in label
                   for label in labels), labels


@pytest.mark.parametrize(("names", "spec", "message"), [
    (["optimizer-paths"], "mine={dir}/nowhere.py::AdaGrad", "no such file"),
    (["optimizer-paths"], "mine={dir}/mine.py::Adam", "defines no class Adam"),
    (["optimizer-paths"], "mine={dir}/mine.py", "write NAME=FILE::CLASS"),
    (["optimizer-paths"], "mine={dir}/mine.py::AdaGrad:lr=fast", "only :lr=NUMBER"),
    (["optimizer-paths"], "AdaGrad={dir}/mine.py::AdaGrad", "already has an optimizer called"),
    (["optimizer-paths"], "mine={dir}/broken.py::AdaGrad", "syntax"),
    (["gradient-descent"], "mine={dir}/mine.py::AdaGrad", "optimizer-paths, optimizer-compare"),
])
def test_a_bad_optimizer_is_one_line_exit_2_and_nothing_runs(tmp_path, capsys, names, spec,
                                                             message):
    (tmp_path / "mine.py").write_text(RIGHT, encoding="utf-8")
    (tmp_path / "broken.py").write_text("class AdaGrad(:\n", encoding="utf-8")
    out = tmp_path / "lab"
    code = main(["run", *names, "--optimizer", spec.format(dir=tmp_path), "--out", str(out)])
    err = capsys.readouterr().err.strip()
    assert code == 2
    assert len(err.splitlines()) == 1, err
    assert message in err or message in err.lower(), err
    assert "Traceback" not in err
    assert not out.exists() or not any(out.glob("*/results.json"))


def test_replot_refuses_a_learners_optimizer(tmp_path, capsys):
    (tmp_path / "mine.py").write_text(RIGHT, encoding="utf-8")
    code = main(["run", "optimizer-paths", "--replot", "--optimizer",
                 f"mine={tmp_path / 'mine.py'}::AdaGrad", "--out", str(tmp_path)])
    assert code == 2 and "--optimizer" in capsys.readouterr().err
