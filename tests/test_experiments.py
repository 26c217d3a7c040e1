"""Every experiment in quick mode through the lab's runner, as one `dlfs run all --quick` runs
them: its record, its verdict, its figures, its determinism; claims judged from numbers."""

import contextlib
import html
import io
import json
import re
from types import SimpleNamespace

import matplotlib.pyplot as plt
import numpy as np
import pytest

from dlfs.data import load_lab_data
from dlfs.experiments import (
    EXPERIMENTS,
    Context,
    Request,
    optimizer_compare,
    overfitting,
    run_experiment,
    run_lab,
    weight_init_compare,
)
from dlfs.experiments.base import plain, verdict_state
from dlfs.report import build_report


@pytest.fixture(scope="module")
def lab_data():
    return load_lab_data("fashion-mnist")


def _context(lab_data, seed=0):
    return Context(seed=seed, quick=True, workers=2, data=lab_data)


@pytest.fixture(scope="module")
def quick_run_all(lab_data, tmp_path_factory):
    """Every experiment in one request to the lab, as `dlfs run all --quick --formats png,svg`
    hands it over; what the lab printed and wrote while doing so; and each figure as the PNG
    and SVG files the lab rendered."""
    cwd = tmp_path_factory.mktemp("cwd")
    printed = io.StringIO()
    records, rendered = {}, {}
    request = Request(list(EXPERIMENTS.values()), quick=True, workers=2,
                      formats=("png", "svg"))
    with pytest.MonkeyPatch.context() as patch, contextlib.redirect_stdout(printed), \
            contextlib.redirect_stderr(printed):
        patch.chdir(cwd)
        for result in run_lab(request, lab_data):
            name = result.record["name"]
            records[name] = result.record
            rendered[name] = result.rendered
            assert result.figures == {}  # rendered in the worker, closed there
    return SimpleNamespace(records=records, figures=rendered, printed=printed.getvalue(),
                           wrote=sorted(cwd.iterdir()))


@pytest.mark.slow
@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_quick_run_gives_a_json_record_with_a_verdict_and_figures_in_both_languages(
        name, quick_run_all, lab_data):
    experiment = EXPERIMENTS[name]
    record = quick_run_all.records[name]
    assert json.loads(json.dumps(record, allow_nan=False)) == record
    assert record["name"] == name and record["seed"] == 0 and record["quick"] is True
    assert record["parameters"] == plain(experiment.parameters(quick=True))
    assert isinstance(record["verdict"]["held"], bool)
    assert set(record["verdict"]["detail"]) == {"en", "ko"}
    assert record["verdict"]["numbers"]
    assert record["wall_time_s"] >= 0 and "numpy" in record["versions"]
    assert record["dataset"] == (lab_data.info() if experiment.needs_data else None)
    # The verdict is a function of the recorded numbers and mode alone: one run, of seed 0.
    (run,) = record["runs"]
    assert run["seed"] == 0 and run["results"] == record["results"]
    assert experiment.judge(run["results"], record["quick"]).as_dict() == run["verdict"]
    assert {key: record["verdict"][key] for key in run["verdict"]} == run["verdict"]
    assert (record["verdict"]["held_in"], record["verdict"]["of"]) == (
        int(run["verdict"]["held"] and run["verdict"]["judged"]), int(run["verdict"]["judged"]))
    # Not judged: not held in quick settings, or resting on a baseline that was not judged.
    assert record["verdict"]["judged"] or not record["verdict"]["held"] or experiment.rests_on
    assert record["quick_settings"] is bool(experiment.quick_params)
    assert set(record["figures"]) == set(quick_run_all.figures[name]) == {"en", "ko"}
    for lang, figure in quick_run_all.figures[name].items():
        assert record["figures"][lang]["labels"] in (lang, "en")
        assert figure["png"][:8] == b"\x89PNG\r\n\x1a\n"
        assert figure["svg"].lstrip().startswith(b"<?xml")


@pytest.mark.slow
def test_the_runner_prints_nothing_and_writes_nothing(quick_run_all):
    assert quick_run_all.printed == ""
    assert quick_run_all.wrote == []


@pytest.mark.slow
def test_the_lab_yields_every_experiment_of_the_request_once(quick_run_all):
    assert sorted(quick_run_all.records) == sorted(EXPERIMENTS)


@pytest.mark.slow
def test_the_report_of_a_whole_quick_run_names_the_data_set_of_every_experiment_needing_one(
        quick_run_all, lab_data, tmp_path):
    for name, record in quick_run_all.records.items():  # saved as dlfs run saves them
        folder = tmp_path / name
        folder.mkdir()
        figures = {}
        for lang, rendered in quick_run_all.figures[name].items():
            (folder / f"figure.{lang}.png").write_bytes(rendered["png"])
            figures[lang] = {**record["figures"][lang], "png": f"figure.{lang}.png"}
        (folder / "results.json").write_text(json.dumps({**record, "figures": figures}))
    page, count = build_report(tmp_path)
    assert count == len(EXPERIMENTS)
    source = html.escape(f"{lab_data.title} — {lab_data.source}")
    none = '<span lang="en">none (no data needed)</span>'
    for name, experiment in EXPERIMENTS.items():
        section = re.search(rf'<section id="{name}">(.*?)</section>', page, re.S).group(1)
        assert (source in section, none in section) == (experiment.needs_data,
                                                         not experiment.needs_data), name


@pytest.mark.slow
def test_the_same_seed_gives_the_same_numbers(quick_run_all, lab_data):
    experiment = EXPERIMENTS["two-layer-net"]
    again = run_experiment(experiment, _context(lab_data))
    other = run_experiment(experiment, _context(lab_data, seed=1))
    again.close()
    other.close()
    first = quick_run_all.records["two-layer-net"]
    assert again.record["results"] == first["results"]
    assert other.record["results"]["train_loss"] != first["results"]["train_loss"]


@pytest.mark.slow
def test_closing_a_result_frees_its_figures():
    result = run_experiment(EXPERIMENTS["numerical-diff"], Context(quick=True))
    numbers = [fig.number for fig in result.figures.values()]
    assert all(plt.fignum_exists(number) for number in numbers)
    result.close()
    assert not any(plt.fignum_exists(number) for number in numbers)


def test_the_runner_refuses_a_language_the_lab_does_not_have():
    with pytest.raises(ValueError, match=r"langs must be drawn from \('en', 'ko'\), got 'fr'"):
        run_experiment(EXPERIMENTS["numerical-diff"], Context(quick=True), langs=("en", "fr"))


@pytest.mark.slow
def test_parallel_and_serial_runs_agree(lab_data, quick_run_all):
    experiment = EXPERIMENTS["optimizer-compare"]
    serial = run_experiment(experiment, Context(seed=0, quick=True, workers=1, data=lab_data))
    serial.close()
    pooled = quick_run_all.records["optimizer-compare"]["results"]
    for key in pooled["losses"]:
        np.testing.assert_array_equal(serial.record["results"]["losses"][key],
                                      pooled["losses"][key])


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


@pytest.mark.slow
def test_overfit_and_weight_decay_share_one_baseline_within_a_run(quick_run_all):
    overfit, decay, dropout = (quick_run_all.records[n]["results"]["baseline"]
                               for n in ("overfit", "weight-decay", "dropout"))
    assert decay == overfit == dropout  # one training; quick mode: all 15 epochs


# -- verdicts in quick mode ----------------------------------------------------------------------

NARROW = {"baseline": {"train_acc": [0.9] * 10, "test_acc": [0.8] * 10}}  # no overfitting
WIDE = {"baseline": {"train_acc": [1.0] * 10, "test_acc": [0.7] * 10}}


def test_a_quick_claim_that_does_not_hold_is_not_judged_and_keeps_its_numbers():
    overfit = EXPERIMENTS["overfit"]
    quick, full = overfit.judge(NARROW, quick=True), overfit.judge(NARROW, quick=False)
    assert (quick.held, quick.judged, quick.state) == (False, False, "not_judged")
    assert (full.held, full.judged, full.state) == (False, True, "not_held")
    assert quick.detail == full.detail and quick.numbers == full.numbers
    assert quick.as_dict()["judged"] is False and full.as_dict()["judged"] is True


def test_a_quick_claim_that_holds_is_judged_held():
    verdict = EXPERIMENTS["overfit"].judge(WIDE, quick=True)
    assert (verdict.held, verdict.judged, verdict.state) == (True, True, "held")


def test_the_deterministic_cheap_claims_are_judged_in_quick_mode_whatever_they_show():
    always = {name for name, experiment in EXPERIMENTS.items()
              if experiment.judged_when_quick or not experiment.quick_params}
    assert always == {"numerical-diff", "function-surface", "gradient-field", "gradient-descent",
                      "sgd-function", "optimizer-paths", "activation-histograms",
                      "batch-norm-gradcheck", "numerical-vs-backprop"}


@pytest.mark.parametrize("name", ["weight-decay", "dropout"])
def test_a_quick_remedy_is_not_judged_where_the_baseline_it_rests_on_is_not(name):
    remedy = EXPERIMENTS[name]
    regulariser = remedy.params["regulariser"]
    narrow = {"train_acc": [0.6] * 10, "test_acc": [0.57] * 10}  # no overfitting to remedy
    smaller = {"train_acc": [0.6] * 10, "test_acc": [0.59] * 10}
    results = {"baseline": narrow, "regularised": smaller, "regulariser": regulariser}
    quick, full = remedy.judge(results, quick=True), remedy.judge(results, quick=False)
    assert quick.held and full.held  # the gap did shrink, 0.03 → 0.01
    assert (quick.state, full.state) == ("not_judged", "held")
    overfitting_baseline = {**results, "baseline": {"train_acc": [1.0] * 10,
                                                    "test_acc": [0.7] * 10}}
    assert remedy.judge(overfitting_baseline, quick=True).state == "held"
    gradcheck = EXPERIMENTS["batch-norm-gradcheck"]
    failed = gradcheck.judge({"errors": {"W1": 1e-3, "b1": 1e-9}}, quick=True)
    assert failed.state == "not_held"


def test_a_verdict_saved_before_verdicts_had_judged_counts_as_judged():
    assert verdict_state({"held": False, "detail": {}}) == "not_held"
    assert verdict_state({"held": True, "detail": {}}) == "held"
    assert verdict_state({"held": False, "judged": False}) == "not_judged"
