"""Weight initialisers (book 6.2): std σ, "Xavier" and He, chosen by name or number.

The book's W has shape (fan_in, fan_out) (torch's Linear weight is the transpose). Every draw
comes from the Generator passed in. Names:

    number                        σ = that number      (book: weight_init_std=0.01)
    'xavier', 'sigmoid', 'lecun'  σ = √(1/fan_in)      the book's "Xavier" (LeCun normal)
    'he', 'relu', 'kaiming'       σ = √(2/fan_in)      He et al. 2015 (torch kaiming_normal_)
    'glorot'                      σ = √(2/(in + out))  Glorot 2010 (torch xavier_normal_)

What the book calls Xavier is √(1/n) with n the previous layer's width; torch's xavier_normal_
also counts the next layer, which is 'glorot' here.
"""

from __future__ import annotations

import numbers

import numpy as np

from dlfs import _checks

_SCALES = {
    "xavier": lambda fan_in, fan_out: np.sqrt(1.0 / fan_in),
    "sigmoid": lambda fan_in, fan_out: np.sqrt(1.0 / fan_in),
    "lecun": lambda fan_in, fan_out: np.sqrt(1.0 / fan_in),
    "he": lambda fan_in, fan_out: np.sqrt(2.0 / fan_in),
    "relu": lambda fan_in, fan_out: np.sqrt(2.0 / fan_in),
    "kaiming": lambda fan_in, fan_out: np.sqrt(2.0 / fan_in),
    "glorot": lambda fan_in, fan_out: np.sqrt(2.0 / (fan_in + fan_out)),
}

NAMES = tuple(_SCALES)


def weight_scale(weight_init, fan_in: int, fan_out: int) -> float:
    """The standard deviation σ that ``weight_init`` (a name or a positive number) gives."""
    if isinstance(weight_init, str):
        key = weight_init.lower()
        if key not in _SCALES:
            raise ValueError(
                f"weight_init must be a positive number or one of {', '.join(NAMES)}; "
                f"got {weight_init!r}"
            )
        return float(_SCALES[key](fan_in, fan_out))
    if isinstance(weight_init, numbers.Real) and not isinstance(weight_init, bool):
        return _checks.positive_float("weight_init", weight_init)
    raise ValueError(
        f"weight_init must be a positive number or one of {', '.join(NAMES)}; got {weight_init!r}"
    )


def normal(shape, std: float, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """Draws N(0, σ²) of ``shape``: σ·randn (the book's ``weight_init_std * np.random.randn``)."""
    _checks.positive_float("std", std)
    return (std * rng.standard_normal(shape)).astype(dtype, copy=False)


def std(shape, sigma: float, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """Weights with a fixed standard deviation σ (book: 0.01 or 1)."""
    return normal(shape, sigma, rng, dtype)


def xavier(shape, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """The book's "Xavier": σ = √(1/fan_in), fan_in = shape[0]."""
    return normal(shape, weight_scale("xavier", shape[0], shape[-1]), rng, dtype)


def he(shape, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """He: σ = √(2/fan_in), fan_in = shape[0]; suits ReLU."""
    return normal(shape, weight_scale("he", shape[0], shape[-1]), rng, dtype)


def initialize(shape, weight_init, rng: np.random.Generator, dtype=np.float32) -> np.ndarray:
    """Weights of shape (fan_in, fan_out) for ``weight_init``, a name or a number."""
    return normal(shape, weight_scale(weight_init, shape[0], shape[-1]), rng, dtype)
