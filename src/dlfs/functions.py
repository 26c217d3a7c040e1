"""Activation functions, softmax and the losses (book chapters 3 and 4.2).

All functions take NumPy arrays and keep their floating dtype (float32 stays float32).
"""

from __future__ import annotations

import numpy as np

from dlfs import _checks


def _float(x) -> np.ndarray:
    x = np.asarray(x)
    return x if x.dtype.kind == "f" else x.astype(np.float64)


def step_function(x):
    """Step function (book 3.2.2): 1 where x > 0, else 0, in the input's float dtype."""
    x = _float(x)
    return (x > 0).astype(x.dtype)


step = step_function


def sigmoid(x):
    """Logistic sigmoid, 1 / (1 + exp(−x)) (book 3.2.4).

    For x below about −88 (float32) or −709 (float64) exp(−x) overflows to inf, and
    1 / (1 + inf) is exactly the right answer, 0; only the overflow warning is silenced, so
    sigmoid(−1000) is 0 and sigmoid(1000) is 1 with no RuntimeWarning.
    """
    x = _float(x)
    with np.errstate(over="ignore"):
        out = np.exp(-x)
    out += 1
    return np.reciprocal(out, out=out)


def relu(x):
    """Rectified linear unit, max(0, x) (book 3.2.7)."""
    x = _float(x)
    return np.maximum(x, 0)


def tanh(x):
    """Hyperbolic tangent, (eˣ − e⁻ˣ) / (eˣ + e⁻ˣ); a zero-centred sigmoid (book 6.2.3)."""
    return np.tanh(_float(x))


def softmax(x):
    """Softmax over the last axis (book 3.5): exp(x − max x) / Σ exp(x − max x).

    Subtracting the maximum changes nothing mathematically and keeps exp from overflowing.
    x: (C,) or (N, C) -> the same shape, each row summing to 1.
    """
    x = _float(x)
    shifted = x - x.max(axis=-1, keepdims=True)
    e = np.exp(shifted)
    return e / e.sum(axis=-1, keepdims=True)


def log_softmax(x):
    """log(softmax(x)) over the last axis, computed without forming softmax (no log(0))."""
    x = _float(x)
    shifted = x - x.max(axis=-1, keepdims=True)
    return shifted - np.log(np.exp(shifted).sum(axis=-1, keepdims=True))


def _as_batch(y, t):
    y = _float(y)
    if y.ndim == 1:
        y = y[np.newaxis]
        t = np.asarray(t)
        if t.ndim == 1 and t.shape[0] == y.shape[1]:
            t = t[np.newaxis]
    if y.ndim != 2:
        raise ValueError(f"y must have shape (C,) or (N, C), got {y.shape}")
    return y, t


def cross_entropy_error(y, t):
    """Cross-entropy error E = −(1/N) Σₙ Σₖ tₙₖ log yₙₖ (book 4.2.2, 4.2.4).

    y: (C,) or (N, C) probabilities (a softmax output).
    t: target rows of y's shape, or class indices of shape () or (N,). A row is one-hot or,
       as the formula allows, a soft target: finite, non-negative, summing to 1. An all-zero
       row (whose loss would be 0 whatever y), a row with two ones (twice the loss) or NaN is
       refused with a ValueError naming the row.
    Returns the mean over the N samples.

    The book adds δ = 1e-7 inside the log; we clip y at the dtype's smallest normal number
    instead, which also avoids log(0) but leaves every other value exact (the book's δ changes
    the 7th digit: −log(0.6 + 1e-7) vs −log(0.6)).
    """
    y, t = _as_batch(y, t)
    tiny = np.finfo(y.dtype).tiny
    t = np.asarray(t)
    if t.shape == y.shape and t.shape[1] > 1:
        # Target distributions (one-hot or soft): the book's formula, term by term.
        t = _checks.target_rows("t", t, y.dtype)
        return -np.sum(t * np.log(np.maximum(y, tiny))) / y.shape[0]
    labels = _checks.labels("t", t, y.shape[0], y.shape[1])
    picked = y[np.arange(y.shape[0]), labels]
    return -np.mean(np.log(np.maximum(picked, tiny)))


def mean_squared_error(y, t):
    """The book's "mean squared error", E = ½ Σₖ (yₖ − tₖ)² (book 4.2.1).

    Despite its name the book's formula is half a *sum*, not a mean; we keep it. For a batch
    (N, C) the ½-sum is averaged over the N samples, like cross_entropy_error, so a single
    sample gives exactly the book's number.
    """
    y = _float(y)
    t = np.asarray(t, dtype=y.dtype)
    if y.shape != t.shape:
        raise ValueError(f"y and t must have the same shape, got {y.shape} and {t.shape}")
    half_sum = 0.5 * np.sum((y - t) ** 2, axis=-1)
    return half_sum if half_sum.ndim == 0 else np.mean(half_sum)


ACTIVATIONS = {"relu": relu, "sigmoid": sigmoid, "tanh": tanh}
