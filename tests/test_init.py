import numpy as np
import pytest

from dlfs import init


@pytest.mark.parametrize(
    ("name", "expected"),
    [("xavier", np.sqrt(1 / 100)), ("sigmoid", np.sqrt(1 / 100)), ("he", np.sqrt(2 / 100)),
     ("relu", np.sqrt(2 / 100)), ("glorot", np.sqrt(2 / 150)), ("HE", np.sqrt(2 / 100)),
     (0.01, 0.01), (1, 1.0)],
)
def test_weight_scale_follows_the_books_names(name, expected):
    assert init.weight_scale(name, 100, 50) == pytest.approx(expected)


@pytest.mark.parametrize("bad", ["lecunn", -0.1, 0, None, True])
def test_unknown_or_non_positive_weight_init_is_rejected(bad):
    with pytest.raises(ValueError, match="weight_init|std"):
        init.weight_scale(bad, 10, 10)


def test_draws_have_the_requested_standard_deviation_and_dtype():
    rng = np.random.default_rng(0)
    w = init.he((400, 300), rng)
    assert w.dtype == np.float32 and w.shape == (400, 300)
    assert w.std() == pytest.approx(np.sqrt(2 / 400), rel=0.01)
    assert init.xavier((400, 300), rng, np.float64).std() == pytest.approx(0.05, rel=0.01)
    assert init.std((100, 100), 0.01, rng).std() == pytest.approx(0.01, rel=0.02)


def test_the_same_generator_state_gives_the_same_weights():
    a = init.initialize((5, 4), "he", np.random.default_rng(42))
    b = init.initialize((5, 4), "he", np.random.default_rng(42))
    np.testing.assert_array_equal(a, b)
