"""A learner's optimizer that misbehaves in the lab (dlfs run optimizer-paths optimizer-compare
--optimizer NAME=FILE::CLASS): a path that diverges or turns NaN is drawn clipped with a note,
never sized into a huge contour grid; an update that raises is named with its file and line."""

import json

import matplotlib
import numpy as np
import pytest

from dlfs import catalogue
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
def test_a_learners_optimizer_that_writes_nan_is_drawn_up_to_the_nan_and_judged(tmp_path):
    status, out = _run_paths(tmp_path, NAN, "AdaGrad")
    assert status == 0  # before: TypeError: '<' not supported between 'NoneType' and 'int'
    record = json.loads((out / "optimizer-paths" / "results.json").read_text(encoding="utf-8"))
    assert record["results"]["paths"]["mine"]["path"][1] == [None, None]  # NaN in JSON
    assert record["verdict"]["held"]
    *_, notes = _panel(record["results"], "mine")
    assert [note.replace("\n", " ") for note in notes] == [catalogue.text(
        "bounds.path_not_finite", "en", step=1)]


def test_a_learners_update_that_raises_is_named_with_its_class_file_and_line(tmp_path,
                                                                              capsys):
    status, _ = _run_paths(tmp_path, RAISES, "Momentum")
    err = capsys.readouterr().err
    assert status == 1 and len(err.strip().splitlines()) == 1
    assert (f"--optimizer: Momentum.update raised RuntimeError: boom ({tmp_path / 'mine.py'}, "
            "line 6); fix that line") in err
