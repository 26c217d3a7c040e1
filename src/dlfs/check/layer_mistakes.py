"""The mistakes learners make in layers, recognised from the numbers a layer gave, not from
its source: each function gets the learner's result and dlfs's on one input and says which
named mistake (a code of ``dlfs.check._probe.MISTAKES``) explains the difference, with the
intermediate values the mistaken code computes, so that the learner's line holding one of them
can be named.

A gradient is judged by its structure, not only its size. Batch normalisation's dx, per
feature, sums to 0 over the batch (the mean term) and is orthogonal to x̂ (the variance
term): the learner's dx − dlfs's dx is then a constant per feature when the mean term is
missing and a multiple of x̂ when the variance term is, so the missing term is named.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from dlfs.check import _probe
from dlfs.functions import softmax


@dataclass
class Mistake:
    """A named mistake: its code (also its catalogue key), the message's fields, and the
    intermediate values that code computes (to find the learner's line holding one)."""

    code: str
    fields: dict = field(default_factory=dict)
    holding: tuple = ()


def _stable_softmax(x, axis):
    shifted = x - np.max(x, axis=axis, keepdims=True)
    e = np.exp(shifted)
    return e / np.sum(e, axis=axis, keepdims=True)


def wrong_axis_softmaxes(x, whole: bool = True) -> list[np.ndarray]:
    """softmax of a batch taken over axis 0 (down the batch) and, with ``whole``, over every
    element at once: what a softmax with the wrong axis gives on a 2-D x."""
    x = np.asarray(x, dtype=np.float64)
    if x.ndim != 2:
        return []
    found = [_stable_softmax(x, 0)]
    if whole and x.shape[0] > 1:
        found.append(_stable_softmax(x, None))
    return found


def _losses(y, t):
    """The cross-entropy of y for targets t with dlfs's clipping and with the book's δ."""
    from dlfs.check.functions import _book_cross_entropy
    from dlfs.functions import cross_entropy_error
    return [cross_entropy_error(y, t), _book_cross_entropy(y, t)]


def forward_mistake(reference: str, x, t, out) -> Mistake | None:
    """softmax-wrong-axis: a Softmax (or SoftmaxWithLoss) layer whose forward normalises
    down the batch or over the whole batch."""
    if reference not in ("Softmax", "SoftmaxWithLoss") or np.ndim(x) != 2:
        return None
    right = [softmax(x)] if reference == "Softmax" else _losses(softmax(x), t)
    for wrong in wrong_axis_softmaxes(x):
        models = [wrong] if reference == "Softmax" else _losses(wrong, t)
        models = [model for model in models  # only where the wrong axis shows
                  if min(_probe.rel_error(model, good) for good in right) > 1e-6]
        if any(_probe.rel_error(out, model) <= 1e-6 for model in models):
            return Mistake("softmax-wrong-axis", holding=(wrong,))
    return None


def backward_mistakes(reference: str, x, dout, got, want, eps: float,
                      gamma=None) -> list[Mistake]:
    """The named mistakes that explain the learner's dx ``got`` where dlfs gives ``want``
    (``gamma``: batch norm's γ)."""
    got = np.asarray(got, dtype=np.float64)
    if got.shape != want.shape:
        if got.size == want.size and \
                _probe.rel_error(got.reshape(want.shape), want) <= _probe.SAME:
            return [Mistake("dx-not-reshaped", {"got": str(got.shape),
                                                "want": str(want.shape)})]
        return []
    if reference == "SoftmaxWithLoss":
        n = x.shape[0]
        if n > 1 and _probe.rel_error(got, want * n) <= 1e-7:
            return [Mistake("loss-grad-not-averaged", {"n": n})]
        return []
    if reference == "Sigmoid":
        if _probe.rel_error(got, dout * x * (1 - x)) <= _probe.SAME:
            return [Mistake("sigmoid-backward-from-x")]
        return []
    if reference == "BatchNormalization":
        return _bn_backward(x, dout, got, want, eps, gamma)
    return []


def _bn_backward(x, dout, got, want, eps, gamma) -> list[Mistake]:
    n = x.shape[0]
    x = x.reshape(n, -1)
    xc = x - x.mean(axis=0)
    var = np.mean(xc**2, axis=0)
    std = np.sqrt(var + eps)
    xn = xc / std
    got, want = got.reshape(n, -1), want.reshape(n, -1)
    d = got - want
    if not np.isfinite(d).all() or not np.any(d):
        return []
    column_errors = np.array([_probe.rel_error(got[:, j], want[:, j])
                              for j in range(want.shape[1])])
    # ε changes a feature's dx by about ε/var: where every feature's error stays within
    # that (and one feature of large variance shows it is not noise), ε is missing, or
    # another one, in backward
    with np.errstate(divide="ignore"):
        allowed = 10 * eps / var + _probe.SAME
    if (allowed < 1e-3).any() and (column_errors <= allowed).all():
        s0 = np.sqrt(var)
        with np.errstate(divide="ignore", invalid="ignore"):
            holding = (s0, 1 / s0, var**-1.5, xc / s0, -0.5 * var**-1.5)
        return [Mistake("bn-var-without-eps", {"error": float(column_errors.max())},
                        holding=holding)]
    if n < 3:  # with two samples every column lies in span{1, x̂}: compare with the models
        dxn = gamma * dout.reshape(n, -1)
        mean_term = np.mean(dxn, axis=0)
        variance_term = xn * np.mean(dxn * xn, axis=0)
        for codes, model in ((("bn-missing-mean-term",), dxn - variance_term),
                             (("bn-missing-variance-term",), dxn - mean_term),
                             (("bn-missing-mean-term", "bn-missing-variance-term"), dxn)):
            if _probe.rel_error(got, model / std) <= 1e-9:
                return [Mistake(code, {"total": float(np.abs(
                    got.sum(axis=0) if code == "bn-missing-mean-term"
                    else np.sum(got * xn, axis=0)).max())}) for code in codes]
        return []
    # d per feature split into a constant, a multiple of x̂ and what is left
    constant = d.mean(axis=0)
    norms = np.sum(xn**2, axis=0)
    along = np.divide(np.sum(d * xn, axis=0), norms, out=np.zeros_like(norms),
                      where=norms > 0)
    rest = d - constant - along * xn
    size = np.linalg.norm(d)
    if np.linalg.norm(rest) > 1e-6 * size:
        return []
    found = []
    if np.linalg.norm(constant) * np.sqrt(n) > 1e-6 * size:
        sums = np.abs(got.sum(axis=0))
        found.append(Mistake("bn-missing-mean-term", {"total": float(sums.max())}))
    if np.linalg.norm(along[:, None].T * xn) > 1e-6 * size:
        dots = np.abs(np.sum(got * xn, axis=0))
        found.append(Mistake("bn-missing-variance-term", {"total": float(dots.max())}))
    return found


def dropout_mask_in_backward(dx, dout, mask) -> bool:
    """dx is dout times a 0/scale mask (one scale), but not the mask forward used."""
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = np.where(dout != 0, dx / dout, 0.0)
    kept = ratio != 0
    if not kept.any() or np.array_equal(kept, mask != 0):
        return False
    values = ratio[kept]
    return bool(np.allclose(values, values[0], rtol=1e-12, atol=0))


def batch_stats_at_test(reference_layer_class, params, hyper, test, out) -> bool:
    """The test-mode output equals a training-mode forward of the test batch: normalised
    with the batch's own mean and variance, not with the running averages."""
    layer = reference_layer_class(params, hyper)
    return _probe.rel_error(out, layer.forward(test.copy(), True)) <= 1e-7
