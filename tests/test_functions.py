import warnings

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from dlfs.functions import (
    cross_entropy_error,
    mean_squared_error,
    relu,
    sigmoid,
    softmax,
    step_function,
    tanh,
)

finite_rows = arrays(
    np.float64,
    st.tuples(st.integers(1, 5), st.integers(2, 6)),
    elements=st.floats(-50, 50, allow_nan=False),
)


def test_sigmoid_at_plus_minus_1000_is_exact_and_silent():
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        out = sigmoid(np.array([-1000.0, 0.0, 1000.0]))
    np.testing.assert_array_equal(out, [0.0, 0.5, 1.0])


def test_sigmoid_matches_the_textbook_formula_where_that_is_safe():
    x = np.linspace(-20, 20, 81)
    np.testing.assert_allclose(sigmoid(x), 1 / (1 + np.exp(-x)), rtol=1e-14)


def test_sigmoid_keeps_float32():
    assert sigmoid(np.ones(3, dtype=np.float32)).dtype == np.float32


def test_step_relu_and_tanh_values():
    x = np.array([-2.0, 0.0, 3.0])
    np.testing.assert_array_equal(step_function(x), [0, 0, 1])
    np.testing.assert_array_equal(relu(x), [0, 0, 3])
    np.testing.assert_allclose(tanh(x), np.tanh(x))


def test_softmax_of_the_books_example():
    np.testing.assert_allclose(softmax(np.array([0.3, 2.9, 4.0])),
                               [0.01821127, 0.24519181, 0.73659691], rtol=1e-6)


def test_softmax_does_not_overflow_on_large_scores():
    out = softmax(np.array([1010.0, 1000.0, 990.0]))
    assert np.all(np.isfinite(out))
    np.testing.assert_allclose(out.sum(), 1.0)


@given(finite_rows, st.floats(-100, 100))
def test_softmax_rows_sum_to_one_and_ignore_shifts(x, shift):
    y = softmax(x)
    np.testing.assert_allclose(y.sum(axis=1), 1.0, rtol=1e-12)
    assert np.all(y >= 0)
    np.testing.assert_allclose(softmax(x + shift), y, rtol=1e-9, atol=1e-15)


@given(finite_rows)
def test_cross_entropy_is_non_negative_and_finite_for_any_softmax_output(x):
    y = softmax(x)
    t = np.zeros(x.shape[0], dtype=int)
    loss = cross_entropy_error(y, t)
    assert np.isfinite(loss) and loss >= 0


@given(finite_rows)
def test_cross_entropy_takes_one_hot_and_indices_alike(x):
    y = softmax(x)
    t = np.arange(x.shape[0]) % x.shape[1]
    one_hot = np.eye(x.shape[1])[t]
    np.testing.assert_allclose(cross_entropy_error(y, one_hot), cross_entropy_error(y, t))


@given(arrays(np.float64, 6, elements=st.floats(-10, 10)),
       arrays(np.float64, 6, elements=st.floats(-10, 10)))
def test_mean_squared_error_is_non_negative_and_zero_only_at_equality(y, t):
    assert mean_squared_error(y, t) >= 0
    assert mean_squared_error(y, y) == 0


def test_the_books_loss_examples():
    # Book 4.2.1-4.2.2: label 2, a confident right answer and a wrong one.
    t = np.array([0, 0, 1, 0, 0, 0, 0, 0, 0, 0])
    right = np.array([0.1, 0.05, 0.6, 0.0, 0.05, 0.1, 0.0, 0.1, 0.0, 0.0])
    wrong = np.array([0.1, 0.05, 0.1, 0.0, 0.05, 0.1, 0.0, 0.6, 0.0, 0.0])
    assert mean_squared_error(right, t) == pytest.approx(0.0975)
    assert mean_squared_error(wrong, t) == pytest.approx(0.5975)
    assert cross_entropy_error(right, t) == pytest.approx(-np.log(0.6))
    assert cross_entropy_error(wrong, t) == pytest.approx(-np.log(0.1))
    assert cross_entropy_error(right, 2) == pytest.approx(-np.log(0.6))


def test_cross_entropy_of_a_zero_probability_is_large_but_finite():
    loss = cross_entropy_error(np.array([[1.0, 0.0]]), np.array([1]))
    assert np.isfinite(loss) and loss > 700


def test_cross_entropy_averages_over_the_batch():
    y = np.array([[0.5, 0.5], [0.9, 0.1]])
    assert cross_entropy_error(y, [0, 0]) == pytest.approx((-np.log(0.5) - np.log(0.9)) / 2)


def test_cross_entropy_rejects_labels_out_of_range():
    with pytest.raises(ValueError, match="t has label 3, outside the valid range 0..1"):
        cross_entropy_error(np.array([[0.5, 0.5]]), np.array([3]))


def test_mean_squared_error_rejects_mismatched_shapes():
    with pytest.raises(ValueError, match="same shape"):
        mean_squared_error(np.zeros(3), np.zeros(4))


BAD_TARGET_ROWS = {
    "an all-zero row": [[0.0, 0.0, 0.0], [0.0, 1.0, 0.0]],
    "a row with two ones": [[1.0, 1.0, 0.0], [0.0, 1.0, 0.0]],
    "a NaN": [[1.0, 0.0, 0.0], [0.0, np.nan, 1.0]],
    "a negative entry": [[1.5, -0.5, 0.0], [0.0, 1.0, 0.0]],
}


@pytest.mark.parametrize("rows", BAD_TARGET_ROWS.values(), ids=BAD_TARGET_ROWS.keys())
def test_cross_entropy_refuses_target_rows_that_are_no_distribution_and_names_the_row(rows):
    y = softmax(np.array([[1.0, 2.0, 3.0], [0.5, 0.1, 0.2]]))
    bad_row = next(i for i, row in enumerate(rows) if not (
        np.isfinite(row).all() and min(row) >= 0 and sum(row) == 1))
    with pytest.raises(ValueError, match=rf"t row {bad_row} is .*sum to 1"):
        cross_entropy_error(y, np.array(rows))


def test_cross_entropy_takes_soft_targets_by_the_books_formula():
    y = softmax(np.array([[1.0, 2.0, 3.0], [0.5, 0.1, 0.2]]))
    soft = np.array([[0.2, 0.3, 0.5], [0.0, 0.25, 0.75]])
    expected = -(soft * np.log(y)).sum() / 2
    np.testing.assert_allclose(cross_entropy_error(y, soft), expected, rtol=1e-12)
    # A soft row equals the mix of the one-hot losses it weighs.
    by_class = [cross_entropy_error(y[:1], np.eye(3)[k:k + 1]) for k in range(3)]
    np.testing.assert_allclose(cross_entropy_error(y[:1], soft[:1]),
                               np.dot(soft[0], by_class), rtol=1e-12)
