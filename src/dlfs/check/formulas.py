"""The update rules a learner's optimizer is held against besides dlfs's own (and the variants
in dlfs.optim.registry): the mistakes learners make, each written out so that "equals this
formula" names the mistake by experiment, not by reading the learner's source, and weight decay
inside an optimizer, on the weights alone (a variant) or on every parameter.

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


class CacheNeverDecays(Formula):
    """RMSprop whose cache h is never multiplied by ρ (AdaGrad in effect):
    h ← h + s·g² with s = 1 or 1 − ρ, θ ← θ − η·g/(√h + ε)."""

    def step(self, theta, g, state):
        h = _zeros(state, "h", g)
        h += self.scale * g * g
        with np.errstate(divide="ignore", invalid="ignore"):
            return theta - self.lr * g / (np.sqrt(h) + self.eps)


class AdaDeltaCacheNeverDecays(Formula):
    """AdaDelta whose cache of g² is never multiplied by ρ (torch's form otherwise):
    v ← v + s·g², Δ = √(u + ε)/√(v + ε)·g, u ← ρ·u + (1 − ρ)·Δ², θ ← θ − η·Δ."""

    def step(self, theta, g, state):
        v, u = _zeros(state, "v", g), _zeros(state, "u", g)
        v += self.scale * g * g
        delta = np.sqrt(u + self.eps) / np.sqrt(v + self.eps) * g
        u *= self.rho
        u += (1 - self.rho) * delta * delta
        return theta - self.lr * delta


class MomentumTermMissing(Formula):
    """Momentum or Nesterov without μ·v in the velocity (v ← −η·g) or, for Nesterov, without
    μ²·v in the parameter's step: ``nesterov`` None (Momentum: plain SGD), "v" or "theta"."""

    def step(self, theta, g, state):
        v = _zeros(state, "v", g)
        mu, lr = self.momentum, self.lr
        if self.nesterov is None:
            return theta - lr * g
        if self.nesterov == "v":
            new = theta + mu * mu * v - (1 + mu) * lr * g
            v[...] = -lr * g
            return new
        v *= mu
        v -= lr * g
        return theta - (1 + mu) * lr * g


class EpsInsideSqrt(Formula):
    """AdaGrad, RMSprop (``rho`` given) or Adam (``beta1``, ``beta2`` given; ``book``: the
    book's lr_t form) with ε under the square root, θ ← θ − η·g/√(h + ε) (Keras's RMSprop, and
    many learners'): a documented variant, not a mistake."""

    def step(self, theta, g, state):
        if getattr(self, "beta1", None) is None:
            h = _zeros(state, "h", g)
            if self.rho is None:
                h += g * g
            else:
                h *= self.rho
                h += (1 - self.rho) * g * g
            return theta - self.lr * g / np.sqrt(h + self.eps)
        m, v = _zeros(state, "m", g), _zeros(state, "v", g)
        m += (1 - self.beta1) * (g - m)
        v += (1 - self.beta2) * (g**2 - v)
        if self.book:
            lr_t = self.lr * np.sqrt(1 - self.beta2**self.t) / (1 - self.beta1**self.t)
            return theta - lr_t * m / np.sqrt(v + self.eps)
        m_hat, v_hat = m / (1 - self.beta1**self.t), v / (1 - self.beta2**self.t)
        return theta - self.lr * m_hat / np.sqrt(v_hat + self.eps)


class EmaMomentum(Formula):
    """Momentum as an exponential average of the gradients (Andrew Ng's course, torch's
    dampening = μ): v ← μ·v + (1 − μ)·g, θ ← θ − η·v. Its steps are (1 − μ) times the book's:
    a documented variant, not a mistake."""

    def step(self, theta, g, state):
        v = _zeros(state, "v", g)
        v *= self.momentum
        v += (1 - self.momentum) * g
        return theta - self.lr * v


def variants(name: str, key: str, hp: dict, eps_list: list):
    """The formulas (each a function that makes a fresh one) of the documented variant
    ``name`` of rule ``key`` that is not a dlfs class (the registry lists it by name)."""
    if name == "ema-momentum":
        yield lambda: EmaMomentum(lr=hp["lr"], momentum=hp["momentum"])
    if name != "eps-inside-sqrt":
        return
    for eps in [e for e in eps_list if e is not None]:
        if key in ("adagrad", "rmsprop"):
            yield lambda eps=eps: EpsInsideSqrt(lr=hp["lr"], eps=eps, rho=hp.get("rho"))
        elif key in ("adam", "adamw"):
            for book in (False, True):
                yield lambda eps=eps, book=book: EpsInsideSqrt(
                    lr=hp["lr"], eps=eps, beta1=hp["beta1"], beta2=hp["beta2"], book=book)


def mistakes(code: str, key: str, hp: dict, eps_list: list):
    """The formulas (each a function that makes a fresh one) of mistake ``code`` in rule
    ``key`` with the learner's hyperparameters ``hp``; ε is each of ``eps_list``."""
    lr = hp["lr"]
    if code == "nesterov-order":
        yield lambda: NesterovOldOrder(lr=lr, momentum=hp["momentum"])
    elif code == "momentum-term-missing":
        for form in ((None,) if key == "momentum" else ("v", "theta", None)):
            yield lambda form=form: MomentumTermMissing(lr=lr, momentum=hp["momentum"],
                                                        nesterov=form)
    elif code == "cache-never-decays":
        for eps in eps_list:
            for scale in (1.0, 1 - hp["rho"]):
                if key == "adadelta":
                    yield lambda eps=eps, scale=scale: AdaDeltaCacheNeverDecays(
                        lr=lr, rho=hp["rho"], eps=eps, scale=scale)
                else:
                    yield lambda eps=eps, scale=scale: CacheNeverDecays(
                        lr=lr, eps=eps, scale=scale)
    # ε below 1e-8 added outside moves a parameter by less than the comparison's tolerance
    elif code == "eps-outside-denominator":
        for eps in [e for e in eps_list if e is not None and e >= 1e-8]:
            if key in ("adagrad", "rmsprop"):
                yield lambda eps=eps: EpsOutside(lr=lr, eps=eps, rho=hp.get("rho"))
            elif key in ("adam", "adamw"):
                for book in (False, True):
                    yield lambda eps=eps, book=book: AdamEpsOutside(
                        lr=lr, beta1=hp["beta1"], beta2=hp["beta2"], eps=eps, book=book)
    elif code == "missing-bias-correction":
        for eps in eps_list:
            for correct in ("", "m", "v"):
                yield lambda eps=eps, correct=correct: AdamUncorrected(
                    lr=lr, beta1=hp["beta1"], beta2=hp["beta2"], eps=eps, correct=correct)


# -- weight decay inside an optimizer -----------------------------------------------------------

DECAY_FORMS = ("coupled", "decoupled", "unscaled")


def on_weights(param) -> bool:
    """Whether weight decay belongs on ``param``: the weight matrices (and filters), not the
    biases, γ, β or other vectors (the book's ½λΣ‖W‖²)."""
    return np.ndim(param) >= 2


class Decayed:
    """A rule with weight decay λ on the parameters ``which`` selects:
    "coupled" g + λ·θ fed to the rule (the book's L2 gradient), "decoupled" θ ← θ − η·λ·θ
    before the rule's step (AdamW's), "unscaled" θ ← θ − λ·θ before it (λ not multiplied by η,
    seen in learners' SGDs: params[key] -= lr*grads[key] + wd*params[key])."""

    def __init__(self, rule, form: str, decay: float, lr: float, which=on_weights):
        self.rule, self.form, self.decay, self.lr, self.which = rule, form, decay, lr, which

    def update(self, params, grads):
        grads = dict(grads)
        for key, param in params.items():
            if not self.which(param):
                continue
            if self.form == "coupled":
                grads[key] = grads[key] + self.decay * param
            else:
                param -= (self.lr if self.form == "decoupled" else 1.0) * self.decay * param
        self.rule.update(params, grads)
