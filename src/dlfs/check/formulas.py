"""The update rules a learner's optimizer is held against besides dlfs's own: the book's Adam
with any ε, and the mistakes learners make, each written out so that "equals this formula" names
the mistake by experiment, not by reading the learner's source.

Every class has the book's interface, ``update(params, grads)`` changing each array in place,
and keeps one counter ``t`` for the whole optimizer (the book's ``iter``). Written plainly with
temporaries: these run on a few small arrays for sixty steps.
"""

from __future__ import annotations

import numpy as np


class Formula:
    """A rule written as ``step(theta, g, state) -> new theta`` for one parameter."""

    def __init__(self, **hyperparameters):
        self.__dict__.update(hyperparameters)
        self.state: dict[str, dict] = {}
        self.t = 0

    def update(self, params, grads):
        self.t += 1
        for key in params:
            state = self.state.setdefault(key, {})
            params[key][...] = self.step(params[key], np.asarray(grads[key], float), state)

    def step(self, theta, g, state):
        raise NotImplementedError


def _zeros(state, name, like):
    if name not in state:
        state[name] = np.zeros_like(like, dtype=float)
    return state[name]


class EfficientAdam(Formula):
    """The book's Adam (the paper's "efficient" form) with any ε:

        η_t = η·√(1 − β₂ᵗ)/(1 − β₁ᵗ),  θ ← θ − η_t·m/(√v + ε)
    """

    def step(self, theta, g, state):
        m, v = _zeros(state, "m", g), _zeros(state, "v", g)
        m += (1 - self.beta1) * (g - m)
        v += (1 - self.beta2) * (g**2 - v)
        lr_t = self.lr * np.sqrt(1 - self.beta2**self.t) / (1 - self.beta1**self.t)
        return theta - lr_t * m / (np.sqrt(v) + self.eps)


class NesterovOldOrder(Formula):
    """The older Nesterov order (the Korean edition's repository): v first, then θ with the
    new v, θ ← θ + μ²·v_new − (1 + μ)·η·g."""

    def step(self, theta, g, state):
        v = _zeros(state, "v", g)
        v *= self.momentum
        v -= self.lr * g
        return theta + self.momentum**2 * v - (1 + self.momentum) * self.lr * g


class EpsOutside(Formula):
    """AdaGrad (``rho`` None) or RMSprop with ε added after the division:
    θ ← θ − (η·g/√h + ε), course note 1's line."""

    def step(self, theta, g, state):
        h = _zeros(state, "h", g)
        if self.rho is None:
            h += g * g
        else:
            h *= self.rho
            h += (1 - self.rho) * g * g
        with np.errstate(divide="ignore", invalid="ignore"):
            return theta - (self.lr * g / np.sqrt(h) + self.eps)


class AdamEpsOutside(Formula):
    """Adam with ε after the division, in torch's form (θ ← θ − (η·m̂/√v̂ + ε)) or the book's
    (θ ← θ − (η_t·m/√v + ε))."""

    def step(self, theta, g, state):
        m, v = _zeros(state, "m", g), _zeros(state, "v", g)
        m += (1 - self.beta1) * (g - m)
        v += (1 - self.beta2) * (g**2 - v)
        with np.errstate(divide="ignore", invalid="ignore"):
            if self.book:
                lr_t = self.lr * np.sqrt(1 - self.beta2**self.t) / (1 - self.beta1**self.t)
                return theta - (lr_t * m / np.sqrt(v) + self.eps)
            m_hat, v_hat = m / (1 - self.beta1**self.t), v / (1 - self.beta2**self.t)
            return theta - (self.lr * m_hat / np.sqrt(v_hat) + self.eps)


class AdamUncorrected(Formula):
    """Adam without one or both bias corrections: ``correct`` is "", "m" or "v", the moment
    that is still divided by (1 − βᵗ)."""

    def step(self, theta, g, state):
        m, v = _zeros(state, "m", g), _zeros(state, "v", g)
        m += (1 - self.beta1) * (g - m)
        v += (1 - self.beta2) * (g**2 - v)
        m_used = m / (1 - self.beta1**self.t) if self.correct == "m" else m
        v_used = v / (1 - self.beta2**self.t) if self.correct == "v" else v
        return theta - self.lr * m_used / (np.sqrt(v_used) + self.eps)
