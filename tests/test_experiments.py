"""Every experiment in quick mode: its files, its verdict, its determinism; claims judged from
numbers."""

import json

import numpy as np
import pytest

from dlfs.cli import load_lab_data, run_one
from dlfs.experiments import (
    EXPERIMENTS,
    Context,
    optimizer_compare,
    overfitting,
    weight_init_compare,
)


@pytest.fixture(scope="module")
def lab_data():
    return load_lab_data("fashion-mnist", None, quiet=True)


def _context(lab_data, seed=0):
    return Context(seed=seed, quick=True, workers=2, load_data=lambda: lab_data)


def _info(lab_data):
    return {"name": lab_data.name, "title": lab_data.title, "source": lab_data.source}


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_quick_run_writes_json_png_and_svg_with_a_verdict(name, lab_data, tmp_path):
    experiment = EXPERIMENTS[name]
    record = run_one(experiment, _context(lab_data), tmp_path, _info(lab_data))
    folder = tmp_path / name
    saved = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert saved["name"] == name and saved["seed"] == 0 and saved["quick"] is True
    assert saved["verdict"] == record["verdict"]
    assert isinstance(saved["verdict"]["held"], bool)
    assert set(saved["verdict"]["detail"]) == {"en", "ko"}
    assert saved["verdict"]["numbers"]
    assert saved["wall_time_s"] >= 0 and "numpy" in saved["versions"]
    if experiment.needs_data:
        assert saved["dataset"]["name"] == "fashion-mnist"
    # The verdict is a function of the saved numbers alone.
    assert experiment.check(saved["results"]).as_dict() == saved["verdict"]
    for lang in ("en", "ko"):
        png = folder / f"figure.{lang}.png"
        svg = folder / f"figure.{lang}.svg"
        assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert svg.read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert not [p for p in tmp_path.iterdir() if p.name.startswith(".")]


def test_the_same_seed_gives_the_same_numbers(lab_data, tmp_path):
    experiment = EXPERIMENTS["two-layer-net"]
    first = run_one(experiment, _context(lab_data), tmp_path / "a", None)
    second = run_one(experiment, _context(lab_data), tmp_path / "b", None)
    other = run_one(experiment, _context(lab_data, seed=1), tmp_path / "c", None)
    assert first["results"] == second["results"]
    assert first["results"]["train_loss"] != other["results"]["train_loss"]


def test_parallel_and_serial_runs_agree(lab_data):
    experiment = EXPERIMENTS["optimizer-compare"]
    params = experiment.parameters(quick=True)
    serial = experiment.run(Context(seed=0, quick=True, workers=1, load_data=lambda: lab_data),
                            params)
    parallel = experiment.run(_context(lab_data), params)
    for key in serial["losses"]:
        np.testing.assert_array_equal(serial["losses"][key], parallel["losses"][key])


def _losses(**finals):
    return {"losses": {k: [v] * 100 for k, v in finals.items()}}


def test_optimizer_claim_follows_the_numbers():
    held = optimizer_compare.check(_losses(SGD=0.5, AdaGrad=0.3, Adam=0.2))
    not_held = optimizer_compare.check(_losses(SGD=0.1, AdaGrad=0.3, Adam=0.2))
    assert held.held and not not_held.held
    assert "SGD 0.100" in not_held.detail["en"]


def test_weight_init_claim_follows_the_numbers():
    good = {"std=0.01": 2.3, "Xavier": 0.4, "He": 0.3}
    assert weight_init_compare.check(_losses(**good)).held
    assert not weight_init_compare.check(_losses(**{**good, "std=0.01": 0.5})).held


def test_regularisation_claim_compares_the_train_test_gaps():
    wide = {"train_acc": [1.0] * 10, "test_acc": [0.7] * 10}
    narrow = {"train_acc": [0.9] * 10, "test_acc": [0.8] * 10}
    assert overfitting.check_remedy({"baseline": wide, "regularised": narrow,
                                     "regulariser": {"dropout_ratio": 0.2}}).held
    assert not overfitting.check_remedy({"baseline": narrow, "regularised": wide,
                                         "regulariser": {"dropout_ratio": 0.2}}).held
    assert overfitting.check_overfit({"baseline": wide}).held
