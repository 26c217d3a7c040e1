"""Shuffling, validation splits, subsets and mini-batches (book 4.2.3, 6.5.1).

Every function that draws takes ``seed``: an int or a numpy Generator.
"""

from __future__ import annotations

from collections.abc import Iterator

import numpy as np

from dlfs import _checks
from dlfs._said import SaidValueError


def _pair(x, t):
    x, t = np.asarray(x), np.asarray(t)
    if x.shape[0] != t.shape[0]:
        raise ValueError(f"x and t must hold the same number of samples, got {x.shape[0]} "
                         f"and {t.shape[0]}")
    return x, t


def shuffle(x, t, seed=0):
    """x and t permuted alike (the book's ``shuffle_dataset``)."""
    x, t = _pair(x, t)
    order = _checks.as_generator(seed).permutation(x.shape[0])
    return x[order], t[order]


def train_val_split(x, t, val_ratio: float = 0.2, seed=0):
    """((x_train, t_train), (x_val, t_val)): shuffled, then the first ⌊N·val_ratio⌋ held out
    for validation, as the book's hyperparameter search does (6.5.3)."""
    x, t = _pair(x, t)
    _checks.in_range("val_ratio", val_ratio, 0.0, 1.0, high_open=True)
    n_val = int(x.shape[0] * val_ratio)
    if n_val == 0 or n_val == x.shape[0]:
        raise SaidValueError(key="said.empty_split", ratio=val_ratio, n=x.shape[0])
    x, t = shuffle(x, t, seed)
    return (x[n_val:], t[n_val:]), (x[:n_val], t[:n_val])


def subset(x, t, n: int, seed=None):
    """n samples: the first n when seed is None (the book's x_train[:300]), else n drawn
    without replacement."""
    x, t = _pair(x, t)
    n = _checks.positive_int("n", n)
    if n > x.shape[0]:
        raise ValueError(f"n={n} is more than the {x.shape[0]} samples available")
    if seed is None:
        return x[:n], t[:n]
    index = np.sort(_checks.as_generator(seed).choice(x.shape[0], n, replace=False))
    return x[index], t[index]


def batches(x, t, batch_size: int, shuffle: bool = True, seed=0,
            drop_last: bool = False) -> Iterator[tuple[np.ndarray, np.ndarray]]:
    """Mini-batches (x_batch, t_batch) covering the data once, the last one smaller unless
    drop_last."""
    x, t = _pair(x, t)
    batch_size = _checks.positive_int("batch_size", batch_size)
    n = x.shape[0]
    order = _checks.as_generator(seed).permutation(n) if shuffle else np.arange(n)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        index = order[start:start + batch_size]
        yield x[index], t[index]
