"""Gradient descent and its momentum forms (book 6.1.2–6.1.4), as torch.optim.SGD has them."""

from __future__ import annotations

import numpy as np

from dlfs import _checks
from dlfs.optim.base import Optimizer


class SGD(Optimizer):
    """Stochastic gradient descent (book 6.1.2).

        θ ← θ − η·g

    η: lr > 0 (0.01), λ: weight_decay ≥ 0 (0), coupled L2 on every key.
    Equals torch.optim.SGD(lr) and the book's SGD.
    """

    def __init__(self, lr: float = 0.01, weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)

    def update_one(self, param, grad, state):
        param -= np.multiply(grad, self.lr, out=state["scratch"])  # θ ← θ − η·g


class Momentum(Optimizer):
    """SGD with momentum (book 6.1.4), in torch's form.

        b ← g                       on the first step
        b ← μ·b + (1 − d)·g         afterwards
        θ ← θ − η·b

    η: lr > 0 (0.01), μ: momentum in [0, 1] (0.9), d: dampening in [0, 1] (0), λ: weight_decay
    ≥ 0 (0), coupled L2 on every key. Equals torch.optim.SGD(momentum=μ, dampening=d). With
    μ = 0 there is no b and θ ← θ − η·g, dampening or not, as in torch. The book writes
    v ← μ·v − η·g, θ ← θ + v (BookMomentum): the same while η is constant (v = −η·b), but under
    a schedule torch applies the current η to the whole velocity.
    """

    state_names = ("b",)

    def __init__(self, lr: float = 0.01, momentum: float = 0.9, dampening: float = 0.0,
                 weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        self.momentum = _checks.in_range("momentum", momentum, 0.0, 1.0)
        self.dampening = _checks.in_range("dampening", dampening, 0.0, 1.0)
        if not self.momentum:
            self.state_names = ()  # torch keeps no momentum buffer without momentum

    def momentum_buffer(self, grad, state):
        """b after this step's update; g itself when μ = 0."""
        if not self.momentum:
            return grad
        b = state["b"]
        if state["step"] == 1:
            b[...] = grad                                      # b ← g
        else:
            b *= self.momentum                                 # b ← μ·b + (1 − d)·g
            b += np.multiply(grad, 1 - self.dampening, out=state["scratch"])
        return b

    def update_one(self, param, grad, state):
        b = self.momentum_buffer(grad, state)
        param -= np.multiply(b, self.lr, out=state["scratch"])  # θ ← θ − η·b


class Nesterov(Momentum):
    """Nesterov's accelerated gradient (book 6.1.6), in torch's form.

        b ← g                       on the first step
        b ← μ·b + g                 afterwards
        θ ← θ − η·(g + μ·b)

    η: lr > 0 (0.01), μ: momentum in [0, 1] (0.9), λ: weight_decay ≥ 0 (0), coupled L2 on
    every key. Equals torch.optim.SGD(momentum=μ, nesterov=True), and, while η is constant,
    the book's form θ ← θ + μ²·v − (1 + μ)·η·g, v ← μ·v − η·g (BookNesterov, v = −η·b), but
    not the Korean repository's older order (BookNesterov says how that differs).
    """

    def __init__(self, lr: float = 0.01, momentum: float = 0.9, weight_decay: float = 0.0):
        super().__init__(lr, momentum, 0.0, weight_decay)

    def update_one(self, param, grad, state):
        b = self.momentum_buffer(grad, state)
        step = np.multiply(b, self.momentum, out=state["scratch"])  # η·(g + μ·b)
        step += grad
        step *= self.lr
        param -= step                                                # θ ← θ − η·(g + μ·b)
