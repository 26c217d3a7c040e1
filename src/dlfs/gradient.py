"""Numerical differentiation, gradient descent and gradient checks (book 4.3, 4.4 and 5.7)."""

from __future__ import annotations

import contextlib
from collections.abc import Callable

import numpy as np

from dlfs import _checks


def numerical_diff(f: Callable[[float], float], x: float, h: float = 1e-4) -> float:
    """Central difference (book 4.3.1): f'(x) ≈ (f(x + h) − f(x − h)) / 2h.

    The error of the central difference shrinks as h², that of the forward difference only as h;
    h = 1e-4 balances that truncation error against the rounding error of f(x ± h), which grows
    as 1/h (h = 1e-50 would round x + h back to x).
    """
    _checks.positive_float("h", h)
    return (f(x + h) - f(x - h)) / (2 * h)


def numerical_gradient(f: Callable[[np.ndarray], float], x: np.ndarray, h: float = 1e-4,
                       bar=None):
    """∂f/∂x for an array x of any shape, one central difference per element (book 4.4).

        ∂f/∂xᵢ ≈ (f(x + h·eᵢ) − f(x − h·eᵢ)) / 2h

    x is perturbed *in place*, one element at a time, and every element is restored, also when
    f raises. This is what lets ``f`` ignore its argument and read ``x`` through a shared array,
    as the book's networks do with their ``params``. Costs 2·x.size calls of f.
    In float32 the perturbed value is rounded; the divisor is the step actually taken.
    ``bar``, a tqdm progress bar or None, advances by one per element.
    Returns an array of x's shape and dtype.
    """
    _checks.positive_float("h", h)
    if not isinstance(x, np.ndarray) or x.dtype.kind != "f":
        raise ValueError(
            "x must be a floating-point numpy array (it is perturbed in place), got "
            f"{type(x).__name__} with dtype {getattr(x, 'dtype', None)}"
        )
    grad = np.zeros_like(x)
    for idx in np.ndindex(x.shape):
        original = x[idx].copy()
        try:
            x[idx] = original + h
            upper = x[idx].copy()
            f_plus = f(x)
            x[idx] = original - h
            lower = x[idx].copy()
            f_minus = f(x)
        finally:
            x[idx] = original
        step = upper - lower
        # Where x ± h rounds back to x itself the step is 0; so is f_plus − f_minus, and the
        # book's 2h keeps the quotient a (meaningless but finite) 0.
        grad[idx] = (f_plus - f_minus) / (step if step else 2 * h)
        if bar is not None:
            bar.update()
    return grad


def gradient_descent(
    f: Callable[[np.ndarray], float],
    init_x,
    lr: float = 0.01,
    step_num: int = 100,
    h: float = 1e-4,
):
    """Gradient descent with numerical gradients (book 4.4.1): x ← x − η·∇f(x).

    init_x is not modified. Returns the path, an array of shape (step_num + 1, *x.shape):
    row 0 is init_x and the last row the final x.
    """
    _checks.positive_float("lr", lr)
    _checks.positive_int("step_num", step_num)
    x = np.array(init_x, dtype=np.float64)
    path = np.empty((step_num + 1, *x.shape))
    path[0] = x
    for i in range(step_num):
        x -= lr * numerical_gradient(f, x, h)
        path[i + 1] = x
    return path


def relative_error(analytic: np.ndarray, numerical: np.ndarray, floor: float = 1e-3) -> float:
    """‖a − n‖ / max(‖a‖ + ‖n‖, floor).

    A norm ratio rather than an element-wise maximum: elements whose true gradient is ~0 carry
    rounding noise of ~1e-12 from the central difference, which an element-wise ratio would blow
    up to O(1) while saying nothing about the backward pass. The floor does the same for a
    whole parameter whose gradient is 0 (a bias followed by batch norm): below it the error is
    measured against the floor, so noise of 1e-12 reads 1e-9, while a wrong gradient of 1e-5
    still reads 1e-2.
    """
    analytic = np.asarray(analytic, dtype=np.float64)
    numerical = np.asarray(numerical, dtype=np.float64)
    scale = max(np.linalg.norm(analytic) + np.linalg.norm(numerical), floor)
    return float(np.linalg.norm(analytic - numerical) / scale)


def directional_derivatives(f: Callable[[np.ndarray], float], x: np.ndarray,
                            directions: np.ndarray, h: float = 1e-4, bar=None) -> np.ndarray:
    """∂f/∂v along each unit direction v (a row of ``directions``, each of x's size):

        ∂f/∂v ≈ (f(x + h·v) − f(x − h·v)) / 2h,  which backprop must give as ⟨∇f, v⟩.

    Two calls of f per direction, whatever the size of x: the cheap gradient check. A wrong
    backward shows in every random direction (its error e is orthogonal to a random v with
    probability 0). x is perturbed in place and restored, also when f raises.
    """
    _checks.positive_float("h", h)
    original = x.copy()
    found = np.empty(len(directions))
    try:
        for i, v in enumerate(directions):
            step = h * v.reshape(x.shape)
            x[...] = original + step
            upper = x - original
            f_plus = f(x)
            x[...] = original - step
            lower = x - original
            f_minus = f(x)
            x[...] = original
            # the step actually taken along v (float32 rounds it), as numerical_gradient does
            taken = float(np.dot((upper - lower).ravel(), v.ravel()))
            found[i] = (f_plus - f_minus) / (taken if taken else 2 * h)
            if bar is not None:
                bar.update()
    finally:
        x[...] = original
    return found


def gradient_check(network, x, t, h: float = 1e-4, progress: bool = False,
                   directions: int | None = None, seed=0) -> dict[str, float]:
    """Compares backprop with numerical gradients (book 5.7): {key: relative error}.

    ``network`` needs ``params``, ``loss(x, t, train_flg=True)`` and ``gradient(x, t)``, as the
    book's networks have; the numerical gradient is that of the training-mode loss, one
    parameter at a time, as the networks' own ``numerical_gradient``. Use a float64 network:
    float32 rounding alone gives errors near 1e-3. Values below ~1e-7 mean backprop is right.
    A network's ``gradient_check_mode()`` context, where it has one, holds each dropout mask
    fixed across all evaluations and restores the batch-norm running statistics afterwards.

    ``directions=None`` (the book's way) differentiates every coordinate: 2 losses each, 90 000
    coordinates and some 30 s for the book's 784-100-100-10 batch-norm network.
    ``directions=k`` compares, per parameter, the derivatives along k random unit directions
    (drawn from ``seed``, an int or a numpy Generator) with ⟨backprop's gradient, v⟩: 2k losses
    per parameter, whatever its size. A single wrong element of a backward shows in every
    direction, so it catches what the full check catches, at a fraction of the cost; where the
    full check also says *which* element is wrong, this one says only which parameter.
    ``progress`` shows a bar over the coordinates (or directions) checked.
    """
    from dlfs._progress import progress_bar

    def loss(_):
        return network.loss(x, t, train_flg=True)

    if directions is not None:
        _checks.positive_int("directions", directions)
    rng = _checks.as_generator(seed)
    frozen = getattr(network, "gradient_check_mode", contextlib.nullcontext)
    total = (sum(int(value.size) for value in network.params.values()) if directions is None
             else directions * len(network.params))
    unit = "coordinate" if directions is None else "direction"
    bar = progress_bar(total, progress, unit=unit, desc="gradient check")
    try:
        with frozen():
            numerical, drawn = {}, {}
            for key, value in network.params.items():
                if bar is not None:
                    bar.set_postfix_str(key, refresh=False)
                if directions is None:
                    numerical[key] = numerical_gradient(loss, value, h, bar)
                    continue
                v = rng.standard_normal((directions, value.size))
                drawn[key] = v / np.linalg.norm(v, axis=1, keepdims=True)
                numerical[key] = directional_derivatives(loss, value, drawn[key], h, bar)
            analytic = network.gradient(x, t)
            if directions is not None:
                analytic = {key: drawn[key] @ np.asarray(analytic[key], np.float64).ravel()
                            for key in drawn}
            return {key: relative_error(analytic[key], numerical[key]) for key in numerical}
    finally:
        if bar is not None:
            bar.close()
