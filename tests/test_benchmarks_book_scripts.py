"""The book's scripts in benchmarks/book_scripts.py, run at their tiniest on synthetic data:
each does the book's work and returns the book's numbers. lab_vs_book.main is not run here
(it trains the lab and the book in full or quick mode, minutes); its pieces are."""

from __future__ import annotations

import math
from types import SimpleNamespace

import numpy as np
import pytest

from benchmarks import lab_vs_book
from benchmarks.book_scripts import SCRIPTS, BookData, book_data, run_all

# The smallest settings that still run each script's whole body (smooth_curve needs >= 11
# losses; a 4-wide grid needs 4 scales).
TINY = {
    "train_neuralnet": {"iters_num": 30},
    "optimizer_compare_mnist": {"max_iterations": 12, "hidden_size_list": (20, 20)},
    "weight_init_activation_histogram": {"samples": 100},
    "weight_init_compare": {"max_iterations": 12, "hidden_size_list": (20, 20)},
    "batch_norm_test": {"train_samples": 200, "max_epochs": 2, "scales": 4,
                        "hidden_size_list": (20, 20)},
    "batch_norm_gradient_check": {"hidden_size_list": (3, 3)},
    "overfit": {"max_epochs": 4},
    "overfit_weight_decay": {"max_epochs": 4},
    "overfit_dropout": {"max_epochs": 4},
    "hyperparameter_optimization": {"optimization_trial": 3, "epochs": 2,
                                    "hidden_size_list": (10, 10)},
}


def _prototypes(rng, n, centres):
    """n samples near one of 10 prototype images each: pixels in [0, 1], separable classes."""
    t = rng.integers(0, 10, n)
    x = np.clip(centres[t] + 0.1 * rng.standard_normal((n, 784)), 0.0, 1.0)
    return x, t


@pytest.fixture(autouse=True)
def one_blas_thread():
    """One BLAS thread, as the benchmarks time them: OpenBLAS threads spinning against other
    work on a 2-core machine make a float64 step ten times slower."""
    from threadpoolctl import threadpool_limits

    with threadpool_limits(1):
        yield


@pytest.fixture(scope="module")
def data():
    rng = np.random.default_rng(20261122)
    centres = rng.random((10, 784))
    x_train, t_train = _prototypes(rng, 300, centres)
    x_test, t_test = _prototypes(rng, 100, centres)
    return BookData(x_train, t_train, x_test, t_test)


def _numbers(value):
    """Every number in ``value`` (nested dicts, lists, tuples, arrays), as floats."""
    if isinstance(value, dict):
        return [n for v in value.values() for n in _numbers(v)]
    if isinstance(value, list | tuple | np.ndarray):
        return [n for v in value for n in _numbers(v)]
    return [float(value)]


@pytest.mark.slow
def test_every_book_script_runs_at_its_tiniest_with_finite_numbers_and_its_figures(data,
                                                                                   tmp_path):
    ran = {}
    for script, seconds, numbers in run_all(data, tmp_path, quick=True, overrides=TINY):
        assert seconds > 0
        values = _numbers(numbers)
        assert values and all(math.isfinite(v) for v in values), script.name
        ran[script.name] = numbers
    assert list(ran) == list(SCRIPTS)
    figures = {path.name for path in tmp_path.iterdir()}
    assert {"gradient_1d.png", "gradient_2d.png", "gradient_method.png",
            "train_neuralnet_loss.png", "train_neuralnet_accuracy.png",
            "optimizer_compare_naive.png", "optimizer_compare_mnist.png",
            "weight_init_compare.png", "batch_norm_test.png", "overfit_weight_decay_0.png",
            "overfit_weight_decay_0.1.png", "overfit_dropout.png",
            "hyperparameter_optimization.png"} <= figures
    assert sum(name.startswith("weight_init_activation_histogram_") for name in figures) == 6
    # The book's schedules: a loss per iteration, an evaluation when i % (300 / 100) == 0.
    assert len(ran["train_neuralnet"]["train_loss"]) == 30
    assert len(ran["train_neuralnet"]["test_acc"]) == 10
    assert [len(ran[name]["train_acc"]) for name in ("overfit", "overfit_weight_decay",
                                                     "overfit_dropout")] == [4, 4, 4]
    assert [len(losses) for losses in ran["optimizer_compare_mnist"]["train_loss"].values()] \
        == [12] * 4
    assert np.allclose(ran["batch_norm_test"]["scales"], np.logspace(0, -4, 4))
    assert [len(acc) for acc in ran["batch_norm_test"]["batchnorm"]] == [2] * 4
    assert len(ran["hyperparameter_optimization"]["trials"]) == 3


@pytest.mark.slow
def test_gradient_1d_prints_the_books_slopes_at_5_and_10(data, tmp_path):
    slopes = SCRIPTS["gradient_1d"](data, None, tmp_path)["slopes"]
    assert slopes == pytest.approx([0.1999999999990898, 0.2999999999986347], rel=1e-12)


@pytest.mark.slow
def test_gradient_2d_field_is_twice_each_grid_point(data, tmp_path):
    numbers = SCRIPTS["gradient_2d"](data, None, tmp_path)
    assert numbers["points"].shape == (2, 324)
    np.testing.assert_allclose(numbers["grad"], 2 * numbers["points"], atol=1e-8)


@pytest.mark.slow
def test_gradient_method_shrinks_x_by_one_minus_two_lr_per_step(data, tmp_path):
    numbers = SCRIPTS["gradient_method"](data, None, tmp_path)
    np.testing.assert_allclose(numbers["x"], np.array([-3.0, 4.0]) * 0.8**20, atol=1e-8)
    assert numbers["history"].shape == (20, 2)


@pytest.mark.slow
def test_train_neuralnet_loss_falls_on_separable_data(data, tmp_path):
    numbers = SCRIPTS["train_neuralnet"](data, np.random.default_rng(1), tmp_path,
                                         iters_num=300)
    losses = np.asarray(numbers["train_loss"])
    assert losses[-20:].mean() < losses[:20].mean() / 2
    assert numbers["test_acc"][-1] > 0.9


@pytest.mark.slow
def test_batch_norm_gradient_check_agrees_to_1e6_on_ten_samples(data, tmp_path):
    # Ten samples, as the lab checks. The book's β = 0 leaves some ReLU inputs near 0: for
    # another seed one lies within h = 1e-4 of the kink and spoils its central difference
    # (BOOK-NOTES 2.8 c); the lab draws β ≠ 0 for that reason.
    diff = SCRIPTS["batch_norm_gradient_check"](data, np.random.default_rng(0), tmp_path,
                                                samples=10, hidden_size_list=(10, 10))["diff"]
    assert set(diff) == {"W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2", "W3",
                         "b3"}
    assert max(diff.values()) < 1e-6


@pytest.mark.slow
def test_batch_norm_gradient_check_on_the_books_one_sample_misses_beta2_at_relus_kink(
        data, tmp_path):
    # One sample: every batch-norm output is β = 0, where ReLU's central difference is half
    # its slope; the first layers' differences are exactly 0 (BOOK-NOTES 2.8 c).
    diff = SCRIPTS["batch_norm_gradient_check"](data, np.random.default_rng(2), tmp_path,
                                                hidden_size_list=(5, 5))["diff"]
    assert diff["beta2"] > 1e-3
    assert diff["W1"] == diff["gamma1"] == diff["beta1"] == 0.0


@pytest.mark.slow
def test_optimizer_compare_naive_brings_every_rule_near_the_minimum_in_30_steps(data,
                                                                               tmp_path):
    last = SCRIPTS["optimizer_compare_naive"](data, None, tmp_path)["last"]
    assert list(last) == ["SGD", "Momentum", "AdaGrad", "Adam"]
    for x, y in last.values():  # from (-7, 2)
        assert abs(x) < 1.0 and abs(y) < 0.5


@pytest.mark.slow
def test_weight_init_histograms_show_sigmoid_saturating_and_he_keeping_relu_spread(data,
                                                                                  tmp_path):
    std = SCRIPTS["weight_init_activation_histogram"](data, np.random.default_rng(3),
                                                      tmp_path)["std"]
    assert std["sigmoid/1"][-1] > 0.4  # most values at 0 or 1
    assert std["sigmoid/0.01"][-1] < 0.02  # all near 0.5
    assert std["relu/0.01"][-1] < 0.01 * std["relu/0.01"][0]
    assert std["relu/he"][-1] > 0.5 * std["relu/he"][0]


@pytest.mark.slow
def test_hyperparameter_optimization_draws_from_the_books_ranges(data, tmp_path):
    trials = SCRIPTS["hyperparameter_optimization"](
        data, np.random.default_rng(4), tmp_path, **TINY["hyperparameter_optimization"])["trials"]
    for lr, weight_decay, val_acc in trials:
        assert 1e-6 <= lr <= 1e-2 and 1e-8 <= weight_decay <= 1e-4 and 0 <= val_acc <= 1


@pytest.mark.slow
def test_a_script_draws_only_from_the_generator_it_is_given(data, tmp_path):
    # overfit_dropout draws initial weights, mini-batches and dropout masks: none from np.random.
    def run(seed):
        return SCRIPTS["overfit_dropout"](data, np.random.default_rng(seed), tmp_path,
                                          max_epochs=3, hidden_size_list=(20, 20))

    assert run(5) == run(5)
    assert run(5) != run(6)


def test_book_data_gives_the_books_float64_pixels_from_the_labs_float32(data):
    k = np.arange(256, dtype=np.uint8).reshape(1, 256)
    lab = SimpleNamespace(x_train=k.astype(np.float32) / np.float32(255), t_train=[1],
                          x_test=k.astype(np.float32) / np.float32(255), t_test=[2])
    book = book_data(lab)
    assert book.x_train.dtype == np.float64
    assert np.array_equal(book.x_train, k / 255.0)
    assert book_data(lab, np.float32).x_train.dtype == np.float32
    assert book.t_test.tolist() == [2]


def test_every_lab_experiment_named_beside_a_book_script_exists():
    from dlfs.experiments import EXPERIMENTS

    named = [name for script in SCRIPTS.values() for name in script.lab]
    assert len(named) == len(set(named))
    assert set(named) <= set(EXPERIMENTS)


def test_lab_vs_book_runs_dlfs_run_all_with_the_flags_asked_for():
    assert lab_vs_book.lab_command("OUT", False, 1, None)[1:] == [
        "-m", "dlfs", "run", "all", "--out", "OUT"]
    assert lab_vs_book.lab_command("OUT", True, 5, 2)[-5:] == [
        "--quick", "--seeds", "5", "--workers", "2"]


def test_lab_vs_book_table_sets_each_script_beside_its_experiments_and_lists_the_rest():
    book = dict.fromkeys(SCRIPTS, 1.5)
    run = {"experiments": [{"name": name, "wall_time_s": 0.5}
                           for script in SCRIPTS.values() for name in script.lab]
           + [{"name": "function-surface", "wall_time_s": 0.25}]}
    rows = lab_vs_book.table(book, {1: run, 5: run})
    assert len(rows) == 1 + len(run["experiments"])
    assert rows[1].split()[:3] == ["gradient_1d", "1.50", "numerical-diff"]
    assert rows[-1].split() == ["(no", "book", "script)", "function-surface", "0.25", "0.25"]
