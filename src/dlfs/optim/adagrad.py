"""Per-element step sizes from the squared gradients (book 6.1.5): AdaGrad, RMSprop, AdaDelta."""

from __future__ import annotations

import numpy as np

from dlfs import _checks
from dlfs.optim.base import Optimizer, ema_, non_negative


class AdaGrad(Optimizer):
    """AdaGrad (book 6.1.5; Duchi et al. 2011), in torch's form.

        h ← h + g⊙g                               (h starts at initial_accumulator_value)
        η_t = η / (1 + (t − 1)·lr_decay)
        θ ← θ − η_t·g / (√h + ε)

    η: lr > 0 (0.01), ε: eps > 0 (1e-10), lr_decay ≥ 0 (0), initial_accumulator_value ≥ 0 (0),
    λ: weight_decay ≥ 0 (0), coupled L2 on every key. Equals torch.optim.Adagrad; the book uses
    ε = 1e-7 (BookAdaGrad). Keras puts ε inside the root and starts h at 0.1, which changes the
    early steps.
    """

    state_names = ("h",)

    def __init__(self, lr: float = 0.01, eps: float = 1e-10, lr_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        self.eps = _checks.positive_float("eps", eps)
        self.lr_decay = non_negative("lr_decay", lr_decay)
        self.initial_accumulator_value = non_negative("initial_accumulator_value",
                                                      initial_accumulator_value)

    def new_state(self, param):
        state = super().new_state(param)
        state["h"][...] = self.initial_accumulator_value
        return state

    def update_one(self, param, grad, state):
        h, scratch = state["h"], state["scratch"]
        h += np.square(grad, out=scratch)                            # h ← h + g⊙g
        lr_t = self.lr / (1 + (state["step"] - 1) * self.lr_decay)   # η_t
        denom = np.sqrt(h, out=scratch)                              # √h + ε
        denom += self.eps
        step = np.divide(grad, denom, out=scratch)                   # η_t·g / (√h + ε)
        step *= lr_t
        param -= step                                                # θ ← θ − η_t·g / (√h + ε)


class RMSprop(Optimizer):
    """RMSprop (Tieleman & Hinton 2012; in the book's code), in torch's form.

        v ← α·v + (1 − α)·g²
        ḡ ← α·ḡ + (1 − α)·g,  v̄ = v − ḡ²            if centered, else v̄ = v
        u = g / (√v̄ + ε)
        b ← μ·b + u,  θ ← θ − η·b                   if momentum μ > 0, else θ ← θ − η·u

    η: lr > 0 (0.01), α: alpha in [0, 1] (0.99), ε: eps > 0 (1e-8), μ: momentum in [0, 1]
    (0), centered (False), λ: weight_decay ≥ 0 (0), coupled L2 on every key. Equals
    torch.optim.RMSprop. The book's decay_rate is α and its ε 1e-7 (BookRMSprop). Keras puts ε
    inside the root and defaults to α 0.9, η 1e-3. At the book's η = 0.01 the first step is
    ≈ 10·η·sign(g), aggressive for a deep ReLU net.
    """

    def __init__(self, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8,
                 momentum: float = 0.0, centered: bool = False, weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        self.alpha = _checks.in_range("alpha", alpha, 0.0, 1.0)
        self.eps = _checks.positive_float("eps", eps)
        self.momentum = _checks.in_range("momentum", momentum, 0.0, 1.0)
        self.centered = bool(centered)
        # as torch: ḡ only when centered, b only with momentum
        self.state_names = ("v",) + (("g_avg",) if self.centered else ()) + (
            ("b",) if self.momentum else ())

    def update_one(self, param, grad, state):
        v, scratch, alpha = state["v"], state["scratch"], self.alpha
        ema_(v, np.square(grad, out=scratch), alpha, scratch)   # v ← α·v + (1 − α)·g²
        if self.centered:
            ema_(state["g_avg"], grad, alpha, scratch)          # ḡ ← α·ḡ + (1 − α)·g
            denom = np.square(state["g_avg"], out=scratch)      # √(v − ḡ²) + ε
            np.subtract(v, denom, out=denom)
            np.sqrt(denom, out=denom)
        else:
            denom = np.sqrt(v, out=scratch)                     # √v + ε
        denom += self.eps
        u = np.divide(grad, denom, out=scratch)                 # u = g / (√v̄ + ε)
        if self.momentum:
            b = state["b"]
            b *= self.momentum                                  # b ← μ·b + u
            b += u
            param -= np.multiply(b, self.lr, out=scratch)       # θ ← θ − η·b
        else:
            param -= np.multiply(u, self.lr, out=scratch)       # θ ← θ − η·u


class AdaDelta(Optimizer):
    """AdaDelta (Zeiler 2012, arXiv:1212.5701), in torch's form.

        v ← ρ·v + (1 − ρ)·g²
        Δ = √(u + ε) / √(v + ε) · g          (u: the previous average of Δ²)
        u ← ρ·u + (1 − ρ)·Δ²
        θ ← θ − η·Δ

    η: lr > 0 (1), ρ: rho in [0, 1] (0.95), ε: eps > 0 (1e-6), λ: weight_decay ≥ 0 (0),
    coupled L2 on every key. Equals torch.optim.Adadelta for the same ρ and ε. Defaults are the
    paper's: η = 1 (the paper has no learning rate), ρ = 0.95, ε = 1e-6; torch defaults to
    ρ = 0.9, Keras to η = 1e-3, ρ = 0.95, ε = 1e-7. On the first step u = 0 and v = (1 − ρ)·g²,
    so Δ = √ε·g/√((1 − ρ)·g² + ε) ≈ √(ε/(1 − ρ))·sign(g) for any g much larger than that:
    4.5e-3 at the defaults (not √ε = 1e-3). On the book's 30-step toy problem it barely moves.
    The course-note AdaDelta this replaces never used its lr and put the previous v in the
    denominator.
    """

    state_names = ("v", "u")

    def __init__(self, lr: float = 1.0, rho: float = 0.95, eps: float = 1e-6,
                 weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        self.rho = _checks.in_range("rho", rho, 0.0, 1.0)
        self.eps = _checks.positive_float("eps", eps)

    def new_state(self, param):
        state = super().new_state(param)
        state["delta"] = np.empty_like(param)  # a second scratch: Δ beside √(v + ε)
        return state

    def update_one(self, param, grad, state):
        v, u, scratch, rho = state["v"], state["u"], state["scratch"], self.rho
        ema_(v, np.square(grad, out=scratch), rho, scratch)    # v ← ρ·v + (1 − ρ)·g²
        rms_g = np.add(v, self.eps, out=scratch)               # √(v + ε)
        np.sqrt(rms_g, out=rms_g)
        delta = np.add(u, self.eps, out=state["delta"])        # Δ = √(u + ε) / √(v + ε) · g
        np.sqrt(delta, out=delta)
        delta /= rms_g
        delta *= grad
        ema_(u, np.square(delta, out=scratch), rho, scratch)   # u ← ρ·u + (1 − ρ)·Δ²
        param -= np.multiply(delta, self.lr, out=scratch)      # θ ← θ − η·Δ
