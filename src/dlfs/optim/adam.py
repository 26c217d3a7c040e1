"""Adam and AdamW (book 6.1.6): momentum and a per-element step size together."""

from __future__ import annotations

import math

import numpy as np

from dlfs import _checks
from dlfs.optim.base import Optimizer, betas_pair, ema_


class Adam(Optimizer):
    """Adam (book 6.1.6; Kingma & Ba 2015, Algorithm 1), in torch's form.

        m ← β₁·m + (1 − β₁)·g
        v ← β₂·v + (1 − β₂)·g²
        m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)     (with amsgrad: v_max ← max(v_max, v) for v)
        θ ← θ − η·m̂ / (√v̂ + ε)

    η: lr > 0 (0.001), (β₁, β₂): betas in [0, 1) ((0.9, 0.999)), ε: eps > 0 (1e-8), amsgrad
    (False), λ: weight_decay ≥ 0 (0), coupled L2 on every key (g + λθ enters m and v, so the
    decay is divided by √v̂; AdamW decouples it). Equals torch.optim.Adam. The book (and Keras)
    use the paper's "efficient" form, η_t = η·√(1 − β₂ᵗ)/(1 − β₁ᵗ), θ ← θ − η_t·m/(√v + ε) with
    ε = 1e-7 (BookAdam): ε sits outside the bias correction, which is ε/√(1 − β₂ᵗ) here,
    3.2e-6 at t = 1.
    """

    state_names = ("m", "v")

    def __init__(self, lr: float = 0.001, betas=(0.9, 0.999), eps: float = 1e-8,
                 amsgrad: bool = False, weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        self.betas = betas_pair(betas)
        self.eps = _checks.positive_float("eps", eps)
        self.amsgrad = bool(amsgrad)
        if self.amsgrad:
            self.state_names = ("m", "v", "v_max")

    def update_one(self, param, grad, state):
        m, v, scratch, t = state["m"], state["v"], state["scratch"], state["step"]
        beta1, beta2 = self.betas
        ema_(m, grad, beta1, scratch)                          # m ← β₁·m + (1 − β₁)·g
        ema_(v, np.square(grad, out=scratch), beta2, scratch)  # v ← β₂·v + (1 − β₂)·g²
        if self.amsgrad:                                       # v_max ← max(v_max, v), for v
            v = np.maximum(state["v_max"], v, out=state["v_max"])
        # Python floats only: a NumPy float64 scalar would make a float32 array's in-place
        # operation run in float64, element by element, about five times slower.
        denom = np.sqrt(v, out=scratch)                        # √v̂ + ε,  v̂ = v / (1 − β₂ᵗ)
        denom *= 1 / math.sqrt(1 - beta2**t)
        denom += self.eps
        step = np.divide(m, denom, out=scratch)                # η·m̂ / (√v̂ + ε),  m̂ = m / (1 − β₁ᵗ)
        step *= self.lr / (1 - beta1**t)
        param -= step                                          # θ ← θ − η·m̂ / (√v̂ + ε)


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019).

        θ ← θ − η·λ·θ, then the Adam step on g (without λθ)

    Arguments as Adam's, but λ: weight_decay ≥ 0 defaults to 0.01, as torch.optim.AdamW, which
    this equals. The decay is decoupled: it shrinks θ outside the adaptive step, so unlike
    Adam(weight_decay=λ) it is not divided by √v̂ and leaves m and v alone.
    """

    def __init__(self, lr: float = 0.001, betas=(0.9, 0.999), eps: float = 1e-8,
                 amsgrad: bool = False, weight_decay: float = 0.01):
        super().__init__(lr, betas, eps, amsgrad, weight_decay)

    def decay(self, param, grad, state):
        """Decoupled: θ ← θ − η·λ·θ now; the rule then sees g itself."""
        param *= 1 - self.lr * self.weight_decay
        return grad
