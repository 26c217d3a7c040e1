import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import array_shapes, arrays

from dlfs.gradient import (
    gradient_descent,
    numerical_diff,
    numerical_gradient,
    relative_error,
)


def test_numerical_diff_reproduces_the_books_tangent_slopes():
    # Book 4.3.2: f(x) = 0.01x² + 0.1x has f'(5) = 0.2 and f'(10) = 0.3.
    def f(x):
        return 0.01 * x**2 + 0.1 * x

    assert numerical_diff(f, 5.0) == pytest.approx(0.2, abs=1e-10)
    assert numerical_diff(f, 10.0) == pytest.approx(0.3, abs=1e-10)


def test_numerical_gradient_of_sum_of_squares_at_the_books_points():
    def f(x):
        return np.sum(x**2)

    for point, expected in [([3.0, 4.0], [6, 8]), ([0.0, 2.0], [0, 4]), ([3.0, 0.0], [6, 0])]:
        np.testing.assert_allclose(numerical_gradient(f, np.array(point)), expected, atol=1e-8)


def test_numerical_gradient_works_on_a_0d_array_and_a_3d_array():
    scalar = np.array(1.5)
    assert numerical_gradient(lambda x: float(x) ** 3, scalar) == pytest.approx(3 * 1.5**2)
    cube = np.arange(24, dtype=np.float64).reshape(2, 3, 4)
    np.testing.assert_allclose(numerical_gradient(lambda x: np.sum(x**2), cube), 2 * cube,
                               atol=1e-6)


@given(arrays(np.float64, array_shapes(max_dims=3, max_side=4),
              elements=st.floats(-1e3, 1e3, allow_nan=False)))
def test_numerical_gradient_restores_its_input_exactly(x):
    before = x.copy()
    numerical_gradient(lambda v: float(np.sum(np.sin(v))), x)
    np.testing.assert_array_equal(x, before)


def test_numerical_gradient_restores_its_input_when_f_raises():
    x = np.array([1.0, 2.0, 3.0])
    calls = []

    def f(v):
        calls.append(v.copy())
        if len(calls) == 4:
            raise RuntimeError("boom")
        return float(v.sum())

    with pytest.raises(RuntimeError, match="boom"):
        numerical_gradient(f, x)
    np.testing.assert_array_equal(x, [1.0, 2.0, 3.0])
    np.testing.assert_array_equal(calls[3], [1.0, 2.0 - 1e-4, 3.0])


def test_numerical_gradient_in_float32_divides_by_the_step_actually_taken():
    x = np.array([1000.0, 3.0], dtype=np.float32)
    grad = numerical_gradient(lambda v: float(np.sum(v.astype(np.float64))), x)
    np.testing.assert_allclose(grad, [1.0, 1.0], rtol=1e-6)


def test_numerical_gradient_rejects_integer_arrays():
    with pytest.raises(ValueError, match="floating-point numpy array"):
        numerical_gradient(lambda v: 0.0, np.array([1, 2]))


def test_gradient_descent_path_follows_the_books_example():
    def f(x):
        return x[0] ** 2 + x[1] ** 2

    init = np.array([-3.0, 4.0])
    path = gradient_descent(f, init, lr=0.1, step_num=100)
    assert path.shape == (101, 2)
    np.testing.assert_array_equal(path[0], [-3.0, 4.0])
    np.testing.assert_array_equal(init, [-3.0, 4.0])
    # Exact rule x ← 0.8x: 0.8^100·(−3, 4) ≈ (−6.1e-10, 8.1e-10), as the book prints.
    np.testing.assert_allclose(path[-1], 0.8**100 * np.array([-3.0, 4.0]), rtol=1e-5)
    np.testing.assert_allclose(path[1], [-2.4, 3.2], rtol=1e-9)


@pytest.mark.filterwarnings("ignore::RuntimeWarning")
def test_gradient_descent_too_large_and_too_small_rates_fail_as_the_book_says():
    def f(x):
        return x[0] ** 2 + x[1] ** 2

    big = gradient_descent(f, [-3.0, 4.0], lr=10.0, step_num=100)[-1]
    small = gradient_descent(f, [-3.0, 4.0], lr=1e-10, step_num=100)[-1]
    assert np.linalg.norm(big) > 1e10
    np.testing.assert_allclose(small, [-3.0, 4.0], rtol=1e-7)


def test_gradient_descent_rejects_non_positive_learning_rates():
    with pytest.raises(ValueError, match="lr must be > 0, got -0.1"):
        gradient_descent(lambda x: 0.0, [1.0], lr=-0.1)


def test_relative_error_is_zero_for_equal_and_one_for_opposite_gradients():
    a = np.array([1.0, -2.0])
    assert relative_error(a, a) == 0
    assert relative_error(a, -a) == pytest.approx(1.0)
    assert relative_error(np.zeros(2), np.full(2, 1e-12)) < 1e-8


# -- progress of a long check ------------------------------------------------------------------


class _CountingBar:
    def __init__(self):
        self.steps = 0

    def update(self, n=1):
        self.steps += n


def test_numerical_gradient_advances_a_bar_once_per_element_and_returns_the_same_gradient():
    x = np.arange(12.0).reshape(3, 4)
    bar = _CountingBar()
    with_bar = numerical_gradient(lambda v: float(np.sum(v**3)), x, bar=bar)
    assert bar.steps == 12
    np.testing.assert_array_equal(with_bar, numerical_gradient(lambda v: float(np.sum(v**3)), x))


def _small_batch_norm_net(rng):
    from dlfs.network import MultiLayerNet

    net = MultiLayerNet(6, [5], 3, use_batchnorm=True, dtype=np.float64, seed=3)
    return net, rng.standard_normal((4, 6)), rng.integers(0, 3, 4)


def test_gradient_check_shows_a_bar_over_every_coordinate_only_when_asked(rng, capsys):
    from dlfs.gradient import gradient_check

    net, x, t = _small_batch_norm_net(rng)
    quiet = gradient_check(net, x, t)
    assert capsys.readouterr().err == ""
    shown = gradient_check(net, x, t, progress=True)
    err = capsys.readouterr().err
    total = sum(value.size for value in net.params.values())  # 6·5 + 5 + 5 + 5 + 5·3 + 3
    assert total == 63 and "gradient check" in err and f"/{total}" in err
    assert shown == quiet  # the bar changes nothing it measures


def test_gradient_check_agrees_with_the_networks_own_numerical_gradient(rng):
    from dlfs.gradient import gradient_check

    net, x, t = _small_batch_norm_net(rng)
    errors = gradient_check(net, x, t)
    with net.gradient_check_mode():
        numerical = net.numerical_gradient(x, t)
        analytic = net.gradient(x, t)
        expected = {key: relative_error(analytic[key], numerical[key]) for key in numerical}
    assert errors == expected


@pytest.mark.slow
@pytest.mark.parametrize("progress", [True, False])
def test_the_labs_batch_norm_gradient_check_shows_its_bar_when_the_run_asks(rng, capsys,
                                                                           progress):
    from dlfs.data import Data
    from dlfs.experiments import batch_norm_gradcheck

    x, t = rng.standard_normal((20, 6)), np.arange(20) % 3
    data = Data("tiny", "Tiny", "made in the test", x, t, x, t)
    params = batch_norm_gradcheck.EXPERIMENT.parameters(quick=True)
    results = batch_norm_gradcheck.gradcheck(params, 0, data, progress=progress)
    err = capsys.readouterr().err
    assert ("gradient check" in err) is progress and bool(err) is progress
    assert batch_norm_gradcheck.check(results).held


# -- the check along random directions -----------------------------------------------------------


def _wrong_in_one_element(layer, grad_name, index, factor):
    """Makes ``layer``'s backward leave one element of its parameter gradient off by ``factor``."""
    right = layer.backward

    def backward(dout):
        dx = right(dout)
        getattr(layer, grad_name)[index] *= factor
        return dx

    layer.backward = backward


@pytest.mark.parametrize("case", ["relu-batchnorm", "tanh-dropout-decay"])
def test_the_check_along_directions_passes_a_right_backward_as_the_full_one_does(rng, case):
    from dlfs.gradient import gradient_check
    from dlfs.network import MultiLayerNet

    options = ({"activation": "relu", "use_batchnorm": True} if case == "relu-batchnorm" else
               {"activation": "tanh", "dropout_ratio": 0.3, "weight_decay_lambda": 0.1})
    net = MultiLayerNet(12, [10, 8], 4, dtype=np.float64, seed=5, **options)
    x, t = rng.standard_normal((6, 12)), rng.integers(0, 4, 6)
    full = gradient_check(net, x, t)
    along = gradient_check(net, x, t, directions=8, seed=1)
    assert set(along) == set(full) == set(net.params)
    assert max(full.values()) < 1e-7 and max(along.values()) < 1e-7, (full, along)


@pytest.mark.parametrize(("layer_type", "grad_name", "index"), [
    ("BatchNormalization", "dgamma", (3,)),
    ("BatchNormalization", "dbeta", (0,)),
    ("Affine", "dW", (2, 1)),
])
def test_the_check_along_directions_catches_one_wrong_element_as_the_full_one_does(
        rng, layer_type, grad_name, index):
    from dlfs.gradient import gradient_check
    from dlfs.network import MultiLayerNet

    net = MultiLayerNet(12, [10, 8], 4, activation="relu", use_batchnorm=True,
                        dtype=np.float64, seed=5)
    x, t = rng.standard_normal((6, 12)), rng.integers(0, 4, 6)
    layer = next(layer for layer in net.layers if type(layer).__name__ == layer_type)
    key = next(key for key, value in net.params.items()
               if value is getattr(layer, {"dgamma": "gamma", "dbeta": "beta",
                                           "dW": "W"}[grad_name]))
    _wrong_in_one_element(layer, grad_name, index, 1.01)  # one element 1 % off
    full = gradient_check(net, x, t)
    along = gradient_check(net, x, t, directions=8, seed=1)
    assert full[key] > 1e-5 and along[key] > 1e-5, (key, full[key], along[key])
    assert max(value for k, value in along.items() if k != key) < 1e-7, along


def test_directional_derivatives_restore_x_also_when_f_raises(rng):
    from dlfs.gradient import directional_derivatives

    x = rng.standard_normal((3, 4))
    before = x.copy()
    v = rng.standard_normal((2, 12))
    v /= np.linalg.norm(v, axis=1, keepdims=True)
    found = directional_derivatives(lambda z: float(np.sum(z ** 2)), x, v)
    np.testing.assert_allclose(found, v @ (2 * before).ravel(), rtol=1e-8)
    np.testing.assert_array_equal(x, before)

    def fails(z):
        raise RuntimeError("boom")

    with pytest.raises(RuntimeError, match="boom"):
        directional_derivatives(fails, x, v)
    np.testing.assert_array_equal(x, before)


@pytest.mark.parametrize("directions", [0, -3, 2.5, True, "8"])
def test_a_direction_count_that_is_not_a_positive_integer_is_refused(rng, directions):
    from dlfs.gradient import gradient_check

    net, x, t = _small_batch_norm_net(rng)
    with pytest.raises(ValueError, match="directions must be a positive integer"):
        gradient_check(net, x, t, directions=directions)


def test_the_bar_counts_directions_when_the_check_goes_along_them(rng, capsys):
    from dlfs.gradient import gradient_check

    net, x, t = _small_batch_norm_net(rng)
    gradient_check(net, x, t, progress=True, directions=3)
    err = capsys.readouterr().err
    assert f"/{3 * len(net.params)}" in err and "direction" in err


def test_the_labs_batch_norm_gradient_check_fails_its_claim_on_a_wrong_batch_norm_backward(
        rng, monkeypatch):
    from dlfs.data import Data
    from dlfs.experiments import batch_norm_gradcheck
    from dlfs.layers import BatchNormalization

    x, t = rng.standard_normal((20, 6)), np.arange(20) % 3
    data = Data("tiny", "Tiny", "made in the test", x, t, x, t)
    params = batch_norm_gradcheck.EXPERIMENT.parameters(quick=True)
    assert params["directions"] == 32
    right = batch_norm_gradcheck.gradcheck(params, 0, data)
    assert batch_norm_gradcheck.check(right).held

    backward = BatchNormalization.backward

    def without_the_mean_term(self, dout):  # a classic slip: dx misses −Σdout/N
        return backward(self, dout) + (self.gamma / self.std) * self.dbeta / len(dout)

    monkeypatch.setattr(BatchNormalization, "backward", without_the_mean_term)
    wrong = batch_norm_gradcheck.gradcheck(params, 0, data)
    verdict = batch_norm_gradcheck.check(wrong)
    assert not verdict.held and verdict.numbers["max_error"] > 1e-4, verdict


@pytest.mark.parametrize("seed", ["1", -1, 2.5])
def test_a_seed_for_the_directions_that_is_not_one_is_refused(rng, seed):
    from dlfs.gradient import gradient_check

    net, x, t = _small_batch_norm_net(rng)
    with pytest.raises(ValueError, match="seed must be"):
        gradient_check(net, x, t, directions=2, seed=seed)
