"""The book's own update rules (common/optimizer.py), where they differ from torch's.

Each body is the book's lines, in the book's order, made in place: the comment above a
statement group quotes the line it computes. With these the figures of chapter 6 can be
reproduced step for step.
"""

from __future__ import annotations

import math

import numpy as np

from dlfs import _checks
from dlfs.optim.adagrad import AdaGrad
from dlfs.optim.base import Optimizer


class BookMomentum(Optimizer):
    """The book's Momentum (book 6.1.4, common/optimizer.py):

        v ← μ·v − η·g
        θ ← θ + v

    η: lr > 0 (0.01), μ: momentum in [0, 1] (0.9). Equals Momentum while η is constant.
    """

    state_names = ("v",)

    def __init__(self, lr: float = 0.01, momentum: float = 0.9):
        super().__init__(lr)
        self.momentum = _checks.in_range("momentum", momentum, 0.0, 1.0)

    def update_one(self, param, grad, state):
        v = state["v"]
        # self.v[key] = self.momentum*self.v[key] - self.lr*grads[key]
        v *= self.momentum
        v -= np.multiply(grad, self.lr, out=state["scratch"])
        # params[key] += self.v[key]
        param += v


class BookNesterov(Optimizer):
    """The book's Nesterov (Bengio et al. 2012's reformulation, in the oreilly-japan order):

        θ ← θ + μ²·v − (1 + μ)·η·g
        v ← μ·v − η·g

    η: lr > 0 (0.01), μ: momentum in [0, 1] (0.9). Equals Nesterov (torch's) while η is
    constant. The Korean translation's repository (WegraLee) still has the order this replaced,
    v ← μ·v − η·g first and then θ ← θ + μ²·v − (1 + μ)·η·g with the new v, which is
    θ ← θ + μ³·v_old − (1 + μ + μ²)·η·g: the velocity term is scaled by μ³ instead of μ², and
    μ²·η·g of extra gradient enters each step. This class is not that code.
    """

    state_names = ("v",)

    def __init__(self, lr: float = 0.01, momentum: float = 0.9):
        super().__init__(lr)
        self.momentum = _checks.in_range("momentum", momentum, 0.0, 1.0)

    def update_one(self, param, grad, state):
        v, scratch, mu, lr = state["v"], state["scratch"], self.momentum, self.lr
        # params[key] += self.momentum * self.momentum * self.v[key]
        param += np.multiply(v, mu * mu, out=scratch)
        # params[key] -= (1 + self.momentum) * self.lr * grads[key]
        param -= np.multiply(grad, (1 + mu) * lr, out=scratch)
        # self.v[key] *= self.momentum
        v *= mu
        # self.v[key] -= self.lr * grads[key]
        v -= np.multiply(grad, lr, out=scratch)


class BookAdaGrad(AdaGrad):
    """The book's AdaGrad (book 6.1.5, common/optimizer.py):

        h ← h + g⊙g
        θ ← θ − η·g / (√h + 1e-7)

    η: lr > 0 (0.01). AdaGrad with ε = 1e-7, the only difference from torch's.
    """

    def __init__(self, lr: float = 0.01):
        super().__init__(lr, eps=1e-7)


class BookRMSprop(Optimizer):
    """The book's RMSprop (common/optimizer.py):

        h ← ρ·h + (1 − ρ)·g²          (ρ: decay_rate)
        θ ← θ − η·g / (√h + 1e-7)

    η: lr > 0 (0.01), ρ: decay_rate in [0, 1] (0.99). RMSprop with ε = 1e-7.
    """

    state_names = ("h",)

    def __init__(self, lr: float = 0.01, decay_rate: float = 0.99):
        super().__init__(lr)
        self.decay_rate = _checks.in_range("decay_rate", decay_rate, 0.0, 1.0)

    def update_one(self, param, grad, state):
        h, scratch = state["h"], state["scratch"]
        # self.h[key] *= self.decay_rate
        h *= self.decay_rate
        # self.h[key] += (1 - self.decay_rate) * grads[key] * grads[key]
        h += np.multiply(np.square(grad, out=scratch), 1 - self.decay_rate, out=scratch)
        # params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)
        denom = np.sqrt(h, out=scratch)
        denom += 1e-7
        step = np.divide(grad, denom, out=scratch)
        step *= self.lr
        param -= step


class BookAdam(Optimizer):
    """The book's Adam (book 6.1.6, common/optimizer.py; the paper's "efficient" form, as Keras):

        t ← t + 1                                  (one counter for the whole optimizer)
        η_t = η·√(1 − β₂ᵗ)/(1 − β₁ᵗ)
        m ← m + (1 − β₁)·(g − m)
        v ← v + (1 − β₂)·(g² − v)
        θ ← θ − η_t·m/(√v + 1e-7)

    η: lr > 0 (0.001), β₁: beta1 in [0, 1) (0.9), β₂: beta2 in [0, 1) (0.999); ε = 1e-7, a
    class attribute (the book's constructor takes no ε; dlfs check sets it to a learner's ε,
    who writes this form with another). In Adam's terms the ε is ε/√(1 − β₂ᵗ), 3.2e-6 at t = 1,
    falling to 1e-7.
    """

    state_names = ("m", "v")

    eps = 1e-7

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999):
        super().__init__(lr)
        self.beta1 = _checks.in_range("beta1", beta1, 0.0, 1.0, high_open=True)
        self.beta2 = _checks.in_range("beta2", beta2, 0.0, 1.0, high_open=True)

    def update_one(self, param, grad, state):
        m, v, scratch, t = state["m"], state["v"], state["scratch"], self.iter
        # lr_t = self.lr * np.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1**self.iter)
        lr_t = self.lr * math.sqrt(1.0 - self.beta2**t) / (1.0 - self.beta1**t)
        # self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
        g_minus_m = np.subtract(grad, m, out=scratch)
        g_minus_m *= 1 - self.beta1
        m += g_minus_m
        # self.v[key] += (1 - self.beta2) * (grads[key]**2 - self.v[key])
        g2_minus_v = np.square(grad, out=scratch)
        g2_minus_v -= v
        g2_minus_v *= 1 - self.beta2
        v += g2_minus_v
        # params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)
        denom = np.sqrt(v, out=scratch)
        denom += self.eps
        step = np.divide(m, denom, out=scratch)
        step *= lr_t
        param -= step
