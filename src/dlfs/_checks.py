"""Argument checks shared by the public API.

Every check raises ``ValueError`` naming the argument, the value given and what would work, so a
learner's typo is answered by a sentence rather than a broadcasting error three calls deeper.
"""

from __future__ import annotations

import numbers

import numpy as np

from dlfs._said import SaidValueError

FLOAT_DTYPES = (np.dtype(np.float32), np.dtype(np.float64))


def as_generator(seed: int | np.random.Generator | None, name: str = "seed") -> np.random.Generator:
    """A ``numpy.random.Generator`` from a seed, or the Generator itself."""
    if isinstance(seed, np.random.Generator):
        return seed
    entropy = list(seed) if isinstance(seed, (list, tuple)) else [seed]
    if seed is None or all(
            isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in entropy):
        if seed is not None and min(entropy, default=0) < 0:
            raise ValueError(f"{name} must be a non-negative integer, got {seed}")
        return np.random.default_rng(seed)
    raise ValueError(
        f"{name} must be an integer (or a list of them), None or a numpy.random.Generator, "
        f"got {type(seed).__name__}"
    )


def positive_int(name: str, value) -> int:
    if isinstance(value, bool) or not isinstance(value, numbers.Integral) or value <= 0:
        raise SaidValueError(key="said.positive_int", name=name, value=repr(value))
    return int(value)


def positive_float(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not np.isfinite(value):
        raise SaidValueError(key="said.positive_float", name=name, value=repr(value))
    if value <= 0:
        raise SaidValueError(key="said.above_zero", name=name, value=repr(value))
    return float(value)


def in_range(name: str, value, low: float, high: float, *, high_open: bool = False) -> float:
    """``low <= value <= high`` (or ``< high`` with ``high_open``)."""
    bracket = ")" if high_open else "]"
    ok = (
        not isinstance(value, bool)
        and isinstance(value, numbers.Real)
        and low <= value
        and (value < high if high_open else value <= high)
    )
    if not ok:
        raise SaidValueError(key="said.in_range", name=name, low=low, high=high,
                             bracket=bracket, value=repr(value))
    return float(value)


def float_dtype(name: str, dtype) -> np.dtype:
    try:
        resolved = np.dtype(dtype)
    except TypeError:
        resolved = None
    if resolved not in FLOAT_DTYPES:
        raise ValueError(f"{name} must be float32 or float64, got {dtype!r}")
    return resolved


def finite(name: str, x: np.ndarray) -> None:
    # One reduction is far cheaper than an elementwise isfinite(); a non-finite sum is then
    # confirmed elementwise, because a sum of large finite values can overflow on its own.
    if x.size and not np.isfinite(x.sum()) and not np.isfinite(x).all():
        raise ValueError(f"{name} contains NaN or inf; clean or normalise the data first")


def features(name: str, x, width: int, dtype: np.dtype) -> np.ndarray:
    """``x`` as a (N, width) array of ``dtype``; (N, 1, 28, 28) images are flattened.

    Checks only what costs O(1) (kind, shape), so a network can run it on every batch; the
    O(N) check that every value is finite is ``finite``, done once per data set.
    """
    x = np.asarray(x)
    if x.dtype.kind not in "fiub":
        raise ValueError(f"{name} must hold numbers, got dtype {x.dtype}")
    if x.ndim == 1 and x.shape[0] == width:
        x = x[np.newaxis]
    elif x.ndim > 2:
        x = x.reshape(x.shape[0], -1)
    if x.ndim != 2 or x.shape[1] != width:
        raise ValueError(
            f"{name} must have {width} features per sample (shape (N, {width})), "
            f"got shape {np.shape(x)}"
        )
    return np.asarray(x, dtype=dtype)


def labels(name: str, t, n_samples: int, n_classes: int) -> np.ndarray:
    """Integer class indices of shape (N,), from indices or one-hot rows (see ``one_hot``)."""
    t = np.asarray(t)
    if t.ndim == 0 and n_samples == 1:
        t = t.reshape(1)
    if t.ndim == 2:
        if t.shape != (n_samples, n_classes):
            raise ValueError(
                f"{name} as one-hot rows must have shape ({n_samples}, {n_classes}), got {t.shape}"
            )
        one_hot(name, t)
        t = t.argmax(axis=1)
    elif t.ndim != 1 or t.shape[0] != n_samples:
        raise ValueError(
            f"{name} must hold {n_samples} labels (shape ({n_samples},) or one-hot "
            f"({n_samples}, {n_classes})), got shape {t.shape}"
        )
    if t.dtype.kind not in "iu":
        if t.dtype.kind == "f" and t.size and np.all(np.isfinite(t)) and np.all(t == np.round(t)):
            t = t.astype(np.int64)
        else:
            raise ValueError(f"{name} must hold integer class indices, got dtype {t.dtype}")
    if t.size and (t.min() < 0 or t.max() >= n_classes):
        bad = t[(t < 0) | (t >= n_classes)][0]
        raise ValueError(f"{name} has label {bad}, outside the valid range 0..{n_classes - 1}")
    return t


def _first_bad_row(name: str, t: np.ndarray, bad: np.ndarray, needs: str) -> None:
    if bad.any():
        row = int(np.flatnonzero(bad)[0])
        raise ValueError(f"{name} row {row} is {np.array2string(t[row], threshold=12)}; {needs}")


def one_hot(name: str, t: np.ndarray) -> None:
    """Each row of ``t`` (N, C) is one-hot: a single 1, every other entry 0. An all-zero row,
    a row with two ones, or NaN names no class, and argmax would silently pick one."""
    t = np.asarray(t)
    if t.dtype.kind not in "biuf":
        raise ValueError(f"{name} as one-hot rows must hold numbers, got dtype {t.dtype}")
    is_one, is_zero = t == 1, t == 0
    bad = ~(is_one | is_zero).all(axis=1) | (is_one.sum(axis=1) != 1)
    _first_bad_row(name, t, bad, "one-hot rows hold a single 1 and zeros elsewhere "
                                 "(or give class indices, shape (N,))")


def target_rows(name: str, t, dtype: np.dtype) -> np.ndarray:
    """``t`` (N, C) as target distributions in ``dtype``: finite, non-negative, each row summing
    to 1 (within 100 ulp of the dtype), so one-hot rows and soft targets both qualify and the
    cross-entropy −Σₖ tₖ log yₖ stays a cross-entropy. An all-zero row (loss 0 whatever y), a
    row with two ones (twice the loss) and NaN are refused with the row named."""
    t = np.asarray(t)
    if t.dtype.kind not in "biuf":
        raise ValueError(f"{name} as target rows must hold numbers, got dtype {t.dtype}")
    t = t.astype(dtype, copy=False)
    tolerance = 100 * np.finfo(dtype).eps
    bad = ~np.isfinite(t).all(axis=1) | (t < 0).any(axis=1)
    bad |= ~(np.abs(t.sum(axis=1) - 1) <= tolerance)
    _first_bad_row(name, t, bad, "target rows must be finite, non-negative and sum to 1 "
                                 "(one-hot, or soft targets), or give class indices, shape (N,)")
    return t
