"""Update rules (book 6.1): SGD, Momentum, Nesterov, AdaGrad, RMSprop, AdaDelta, Adam, AdamW.

Every optimizer has the book's interface: ``opt.update(params, grads)`` changes each array of
``params`` in place. Symbols in the docstrings: θ a parameter, g = ∂L/∂θ, η = lr, t the number of
updates of that parameter so far (1 on the first), λ = weight_decay; all state starts at zero.

By default each rule is exactly torch.optim's documented algorithm for the same hyperparameters
(tests check 100 steps to 1e-10). Where the book's code differs, the book's version is its own
class with ``Book`` in its name, so the figures of chapter 6 can be reproduced step for step:
BookMomentum, BookNesterov, BookAdaGrad, BookRMSprop, BookAdam.

``weight_decay`` λ on every rule but AdamW is *coupled* L2, as in torch: g ← g + λθ before the
rule, so adaptive rules divide the decay by their √v. Applied to every key of params (biases
too); the network's ``weight_decay_lambda`` instead decays only the weights, through the loss.
AdamW's decay is decoupled: θ ← θ − ηλθ, outside the adaptive step.

Updates allocate nothing per step: each parameter gets its scratch array once, with its state.
"""

from __future__ import annotations

import inspect
import numbers

import numpy as np

from dlfs import _checks


def _non_negative(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    return float(value)


def _betas(betas) -> tuple[float, float]:
    try:
        beta1, beta2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"betas must be a pair (beta1, beta2) in [0, 1), got {betas!r}") from None
    return (_checks.in_range("betas[0]", beta1, 0.0, 1.0, high_open=True),
            _checks.in_range("betas[1]", beta2, 0.0, 1.0, high_open=True))


class Optimizer:
    """What every rule shares: checking grads against params, lazy state, coupled weight decay.

    A subclass names its state arrays in ``state_names`` and writes its formula in
    ``update_one(param, grad, state)``; ``state`` holds those arrays (zeros of the parameter's
    shape and dtype), a scratch array ``tmp`` and the per-parameter step count ``step``.
    """

    state_names: tuple[str, ...] = ()
    # Every rule here treats each element on its own, so updating one flat buffer equals
    # updating its pieces key by key (MultiLayerNet.train_step relies on this).
    elementwise = True

    def __init__(self, lr: float, weight_decay: float = 0.0):
        self.lr = _checks.positive_float("lr", lr)
        self.weight_decay = _non_negative("weight_decay", weight_decay)
        self.state: dict[str, dict] = {}
        self.iter = 0  # update() calls so far

    def _check(self, params, grads) -> None:
        if not isinstance(params, dict) or not isinstance(grads, dict):
            raise ValueError("params and grads must be dicts of numpy arrays keyed alike")
        for key, param in params.items():
            if not isinstance(param, np.ndarray) or param.dtype.kind != "f":
                raise ValueError(
                    f"params[{key!r}] must be a floating-point numpy array (it is updated in "
                    f"place), got {type(param).__name__}"
                )
            if key not in grads:
                raise ValueError(f"grads has no entry for parameter {key!r}")
            grad = grads[key]
            if np.shape(grad) != param.shape:
                raise ValueError(
                    f"grads[{key!r}] has shape {np.shape(grad)}, but params[{key!r}] has "
                    f"shape {param.shape}"
                )
            state = self.state.get(key)
            if state is not None and state["tmp"].shape != param.shape:
                raise ValueError(
                    f"params[{key!r}] changed shape from {state['tmp'].shape} to {param.shape} "
                    "since the last update; use a new optimizer for a new network"
                )

    def _new_state(self, param) -> dict:
        state = {name: np.zeros_like(param) for name in self.state_names}
        state["tmp"] = np.empty_like(param)
        state["step"] = 0
        return state

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Applies one step of the rule to every array of ``params``, in place."""
        self._check(params, grads)
        self.iter += 1
        for key, param in params.items():
            state = self.state.get(key)
            if state is None:
                state = self.state[key] = self._new_state(param)
            state["step"] += 1
            grad = np.asarray(grads[key], dtype=param.dtype)
            if self.weight_decay:
                grad = self.decay(param, grad, state)
            self.update_one(param, grad, state)

    def decay(self, param, grad, state):
        """Coupled L2: returns g + λθ, in a buffer of its own so the caller's grads stay as
        they are."""
        if "decayed" not in state:
            state["decayed"] = np.empty_like(param)
        decayed = state["decayed"]
        np.multiply(param, self.weight_decay, out=decayed)
        decayed += grad
        return decayed

    def update_one(self, param, grad, state) -> None:
        raise NotImplementedError

    def __repr__(self):
        fields = ", ".join(f"{k}={v!r}" for k, v in vars(self).items()
                           if k not in ("state", "iter"))
        return f"{type(self).__name__}({fields})"


class SGD(Optimizer):
    """Stochastic gradient descent (book 6.1.2).

        θ ← θ − η·g

    Equals torch.optim.SGD(lr) and the book's SGD.
    """

    def __init__(self, lr: float = 0.01, weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)

    def update_one(self, param, grad, state):
        np.multiply(grad, self.lr, out=state["tmp"])
        param -= state["tmp"]


class Momentum(Optimizer):
    """SGD with momentum (book 6.1.4), in torch's form.

        b ← g                       on the first step
        b ← μ·b + (1 − d)·g         afterwards
        θ ← θ − η·b

    μ: momentum in [0, 1], d: dampening in [0, 1]. Equals torch.optim.SGD(momentum=μ,
    dampening=d). The book writes v ← μ·v − η·g, θ ← θ + v (BookMomentum): the same while η is
    constant (v = −η·b), but under a schedule torch applies the current η to the whole velocity.
    """

    state_names = ("b",)

    def __init__(self, lr: float = 0.01, momentum: float = 0.9, dampening: float = 0.0,
                 weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        self.momentum = _checks.in_range("momentum", momentum, 0.0, 1.0)
        self.dampening = _checks.in_range("dampening", dampening, 0.0, 1.0)

    def _velocity(self, grad, state):
        b = state["b"]
        if state["step"] == 1:
            b[...] = grad
        else:
            b *= self.momentum
            np.multiply(grad, 1 - self.dampening, out=state["tmp"])
            b += state["tmp"]
        return b

    def update_one(self, param, grad, state):
        np.multiply(self._velocity(grad, state), self.lr, out=state["tmp"])
        param -= state["tmp"]


class Nesterov(Momentum):
    """Nesterov's accelerated gradient (book 6.1.6), in torch's form.

        b ← μ·b + g                 (b ← g on the first step)
        θ ← θ − η·(g + μ·b)

    Equals torch.optim.SGD(momentum=μ, nesterov=True). The book (Bengio et al. 2012's
    reformulation, BookNesterov) is θ ← θ + μ²·v − (1 + μ)·η·g, v ← μ·v − η·g: the same
    trajectory while η is constant. The WegraLee repository's order (v updated first) adds
    μ²·η·g of extra gradient per step; we follow the corrected oreilly-japan order.
    """

    def __init__(self, lr: float = 0.01, momentum: float = 0.9, weight_decay: float = 0.0):
        super().__init__(lr, momentum, 0.0, weight_decay)

    def update_one(self, param, grad, state):
        b = self._velocity(grad, state)
        tmp = state["tmp"]
        np.multiply(b, self.momentum, out=tmp)
        tmp += grad
        tmp *= self.lr
        param -= tmp


class AdaGrad(Optimizer):
    """AdaGrad (book 6.1.5; Duchi et al. 2011), in torch's form.

        h ← h + g⊙g                               (h starts at initial_accumulator_value)
        η_t = η / (1 + (t − 1)·lr_decay)
        θ ← θ − η_t·g / (√h + ε)

    Equals torch.optim.Adagrad, whose ε is 1e-10 (ours too); the book uses ε = 1e-7
    (BookAdaGrad). Keras puts ε inside the root and starts h at 0.1, which changes early steps.
    """

    state_names = ("h",)

    def __init__(self, lr: float = 0.01, eps: float = 1e-10, lr_decay: float = 0.0,
                 initial_accumulator_value: float = 0.0, weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        self.eps = _checks.positive_float("eps", eps)
        self.lr_decay = _non_negative("lr_decay", lr_decay)
        self.initial_accumulator_value = _non_negative("initial_accumulator_value",
                                                       initial_accumulator_value)

    def _new_state(self, param):
        state = super()._new_state(param)
        state["h"][...] = self.initial_accumulator_value
        return state

    def update_one(self, param, grad, state):
        h, tmp = state["h"], state["tmp"]
        np.multiply(grad, grad, out=tmp)
        h += tmp
        lr = self.lr / (1 + (state["step"] - 1) * self.lr_decay)
        np.sqrt(h, out=tmp)
        tmp += self.eps
        np.divide(grad, tmp, out=tmp)
        tmp *= lr
        param -= tmp


class RMSprop(Optimizer):
    """RMSprop (Tieleman & Hinton 2012; in the book's code), in torch's form.

        v ← α·v + (1 − α)·g²
        v̄ = v − ḡ² with ḡ ← α·ḡ + (1 − α)·g        if centered, else v̄ = v
        u = g / (√v̄ + ε)
        b ← μ·b + u, θ ← θ − η·b                    if momentum μ > 0, else θ ← θ − η·u

    Equals torch.optim.RMSprop (α 0.99, ε 1e-8). The book's decay_rate is α and its ε 1e-7
    (BookRMSprop). Keras puts ε inside the root and defaults to α 0.9, η 1e-3. At the book's
    η = 0.01 the first step is ≈ 10·η·sign(g), aggressive for a deep ReLU net.
    """

    state_names = ("v",)

    def __init__(self, lr: float = 0.01, alpha: float = 0.99, eps: float = 1e-8,
                 momentum: float = 0.0, centered: bool = False, weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        self.alpha = _checks.in_range("alpha", alpha, 0.0, 1.0)
        self.eps = _checks.positive_float("eps", eps)
        self.momentum = _checks.in_range("momentum", momentum, 0.0, 1.0)
        self.centered = bool(centered)

    def _new_state(self, param):
        state = super()._new_state(param)
        if self.centered:
            state["g_avg"] = np.zeros_like(param)
        if self.momentum:
            state["b"] = np.zeros_like(param)
        return state

    def update_one(self, param, grad, state):
        v, tmp, alpha = state["v"], state["tmp"], self.alpha
        v *= alpha
        np.multiply(grad, grad, out=tmp)
        tmp *= 1 - alpha
        v += tmp
        if self.centered:
            g_avg = state["g_avg"]
            g_avg *= alpha
            np.multiply(grad, 1 - alpha, out=tmp)
            g_avg += tmp
            np.multiply(g_avg, g_avg, out=tmp)
            np.subtract(v, tmp, out=tmp)
            np.sqrt(tmp, out=tmp)
        else:
            np.sqrt(v, out=tmp)
        tmp += self.eps
        np.divide(grad, tmp, out=tmp)
        if self.momentum:
            b = state["b"]
            b *= self.momentum
            b += tmp
            np.multiply(b, self.lr, out=tmp)
        else:
            tmp *= self.lr
        param -= tmp


class AdaDelta(Optimizer):
    """AdaDelta (Zeiler 2012, arXiv:1212.5701), in torch's form.

        v ← ρ·v + (1 − ρ)·g²
        Δ = √(u + ε) / √(v + ε) · g          (u: the previous average of Δ²)
        u ← ρ·u + (1 − ρ)·Δ²
        θ ← θ − η·Δ

    Equals torch.optim.Adadelta for the same ρ and ε. Defaults are the paper's: η = 1 (the
    paper has no learning rate), ρ = 0.95, ε = 1e-6; torch defaults to ρ = 0.9, Keras to
    η = 1e-3, ρ = 0.95, ε = 1e-7. Its first steps are ≈ √ε·sign(g), so on the book's 30-step toy
    problem it barely moves. The course-note AdaDelta this replaces never used its lr and put
    the previous v in the denominator.
    """

    state_names = ("v", "u", "std")

    def __init__(self, lr: float = 1.0, rho: float = 0.95, eps: float = 1e-6,
                 weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        self.rho = _checks.in_range("rho", rho, 0.0, 1.0)
        self.eps = _checks.positive_float("eps", eps)

    def update_one(self, param, grad, state):
        v, u, std, tmp, rho = state["v"], state["u"], state["std"], state["tmp"], self.rho
        v *= rho
        np.multiply(grad, grad, out=tmp)
        tmp *= 1 - rho
        v += tmp
        np.add(v, self.eps, out=std)
        np.sqrt(std, out=std)
        np.add(u, self.eps, out=tmp)
        np.sqrt(tmp, out=tmp)
        tmp /= std
        tmp *= grad  # tmp = Δ
        u *= rho
        np.multiply(tmp, tmp, out=std)
        std *= 1 - rho
        u += std
        tmp *= self.lr
        param -= tmp


class Adam(Optimizer):
    """Adam (book 6.1.6; Kingma & Ba 2015, Algorithm 1), in torch's form.

        m ← β₁·m + (1 − β₁)·g
        v ← β₂·v + (1 − β₂)·g²
        m̂ = m / (1 − β₁ᵗ),  v̂ = v / (1 − β₂ᵗ)     (with amsgrad: v̂ from max over steps of v)
        θ ← θ − η·m̂ / (√v̂ + ε)

    Equals torch.optim.Adam (ε 1e-8). The book (and Keras) use the paper's "efficient" form,
    η_t = η·√(1 − β₂ᵗ)/(1 − β₁ᵗ), θ ← θ − η_t·m/(√v + ε) with ε = 1e-7 (BookAdam): ε sits
    outside the bias correction, which is ε/√(1 − β₂ᵗ) here, 3.2e-6 at t = 1.
    """

    state_names = ("m", "v")

    def __init__(self, lr: float = 0.001, betas=(0.9, 0.999), eps: float = 1e-8,
                 amsgrad: bool = False, weight_decay: float = 0.0):
        super().__init__(lr, weight_decay)
        self.betas = _betas(betas)
        self.eps = _checks.positive_float("eps", eps)
        self.amsgrad = bool(amsgrad)

    def _new_state(self, param):
        state = super()._new_state(param)
        if self.amsgrad:
            state["v_max"] = np.zeros_like(param)
        return state

    def update_one(self, param, grad, state):
        m, v, tmp = state["m"], state["v"], state["tmp"]
        beta1, beta2 = self.betas
        t = state["step"]
        m *= beta1
        np.multiply(grad, 1 - beta1, out=tmp)
        m += tmp
        v *= beta2
        np.multiply(grad, grad, out=tmp)
        tmp *= 1 - beta2
        v += tmp
        if self.amsgrad:
            np.maximum(state["v_max"], v, out=state["v_max"])
            v = state["v_max"]
        # θ ← θ − (η/(1 − β₁ᵗ))·m / (√v/√(1 − β₂ᵗ) + ε), torch's arrangement of Algorithm 1
        np.sqrt(v, out=tmp)
        tmp /= np.sqrt(1 - beta2**t)
        tmp += self.eps
        np.divide(m, tmp, out=tmp)
        tmp *= self.lr / (1 - beta1**t)
        param -= tmp


class AdamW(Adam):
    """Adam with decoupled weight decay (Loshchilov & Hutter 2019).

        θ ← θ − η·λ·θ, then the Adam step on g (without λθ)

    Equals torch.optim.AdamW, including its default λ = 0.01. Unlike Adam(weight_decay=λ), the
    decay is not divided by √v̂.
    """

    def __init__(self, lr: float = 0.001, betas=(0.9, 0.999), eps: float = 1e-8,
                 amsgrad: bool = False, weight_decay: float = 0.01):
        super().__init__(lr, betas, eps, amsgrad, weight_decay)

    def decay(self, param, grad, state):
        param *= 1 - self.lr * self.weight_decay
        return grad


# -- the book's exact variants -------------------------------------------------------------------


class BookMomentum(Optimizer):
    """The book's Momentum (book 6.1.4, common/optimizer.py):

        v ← μ·v − η·g
        θ ← θ + v
    """

    state_names = ("v",)

    def __init__(self, lr: float = 0.01, momentum: float = 0.9):
        super().__init__(lr)
        self.momentum = _checks.in_range("momentum", momentum, 0.0, 1.0)

    def update_one(self, param, grad, state):
        v, tmp = state["v"], state["tmp"]
        v *= self.momentum
        np.multiply(grad, self.lr, out=tmp)
        v -= tmp
        param += v


class BookNesterov(Optimizer):
    """The book's Nesterov (Bengio et al. 2012's reformulation, oreilly-japan order):

        θ ← θ + μ²·v − (1 + μ)·η·g
        v ← μ·v − η·g
    """

    state_names = ("v",)

    def __init__(self, lr: float = 0.01, momentum: float = 0.9):
        super().__init__(lr)
        self.momentum = _checks.in_range("momentum", momentum, 0.0, 1.0)

    def update_one(self, param, grad, state):
        v, tmp, mu = state["v"], state["tmp"], self.momentum
        np.multiply(v, mu * mu, out=tmp)
        param += tmp
        np.multiply(grad, (1 + mu) * self.lr, out=tmp)
        param -= tmp
        v *= mu
        np.multiply(grad, self.lr, out=tmp)
        v -= tmp


class BookAdaGrad(AdaGrad):
    """The book's AdaGrad: h ← h + g⊙g, θ ← θ − η·g/(√h + 1e-7). AdaGrad with ε = 1e-7."""

    def __init__(self, lr: float = 0.01):
        super().__init__(lr, eps=1e-7)


class BookRMSprop(Optimizer):
    """The book's RMSprop (common/optimizer.py):

        h ← ρ·h + (1 − ρ)·g²          (ρ: decay_rate, 0.99)
        θ ← θ − η·g/(√h + 1e-7)
    """

    state_names = ("h",)

    def __init__(self, lr: float = 0.01, decay_rate: float = 0.99):
        super().__init__(lr)
        self.decay_rate = _checks.in_range("decay_rate", decay_rate, 0.0, 1.0)

    def update_one(self, param, grad, state):
        h, tmp = state["h"], state["tmp"]
        h *= self.decay_rate
        np.multiply(grad, grad, out=tmp)
        tmp *= 1 - self.decay_rate
        h += tmp
        np.sqrt(h, out=tmp)
        tmp += 1e-7
        np.divide(grad, tmp, out=tmp)
        tmp *= self.lr
        param -= tmp


class BookAdam(Optimizer):
    """The book's Adam (common/optimizer.py; the paper's "efficient" form, as Keras):

        t ← t + 1                                  (one counter for the whole optimizer)
        η_t = η·√(1 − β₂ᵗ)/(1 − β₁ᵗ)
        m ← m + (1 − β₁)·(g − m)
        v ← v + (1 − β₂)·(g² − v)
        θ ← θ − η_t·m/(√v + 1e-7)
    """

    state_names = ("m", "v")

    def __init__(self, lr: float = 0.001, beta1: float = 0.9, beta2: float = 0.999):
        super().__init__(lr)
        self.beta1 = _checks.in_range("beta1", beta1, 0.0, 1.0, high_open=True)
        self.beta2 = _checks.in_range("beta2", beta2, 0.0, 1.0, high_open=True)

    def update(self, params, grads):
        t = self.iter + 1
        self.lr_t = self.lr * np.sqrt(1 - self.beta2**t) / (1 - self.beta1**t)
        super().update(params, grads)

    def update_one(self, param, grad, state):
        m, v, tmp = state["m"], state["v"], state["tmp"]
        np.subtract(grad, m, out=tmp)
        tmp *= 1 - self.beta1
        m += tmp
        np.multiply(grad, grad, out=tmp)
        tmp -= v
        tmp *= 1 - self.beta2
        v += tmp
        np.sqrt(v, out=tmp)
        tmp += 1e-7
        np.divide(m, tmp, out=tmp)
        tmp *= self.lr_t
        param -= tmp


OPTIMIZERS: dict[str, type[Optimizer]] = {
    "sgd": SGD,
    "momentum": Momentum,
    "nesterov": Nesterov,
    "adagrad": AdaGrad,
    "rmsprop": RMSprop,
    "adadelta": AdaDelta,
    "adam": Adam,
    "adamw": AdamW,
    "book-momentum": BookMomentum,
    "book-nesterov": BookNesterov,
    "book-adagrad": BookAdaGrad,
    "book-rmsprop": BookRMSprop,
    "book-adam": BookAdam,
}


def create(name: str, **kwargs) -> Optimizer:
    """An optimizer by name (case-insensitive): create('adam', lr=0.001).

    Names: sgd, momentum, nesterov, adagrad, rmsprop, adadelta, adam, adamw, and the book's
    variants book-momentum, book-nesterov, book-adagrad, book-rmsprop, book-adam.
    """
    key = str(name).lower().replace("_", "-")
    if key not in OPTIMIZERS:
        raise ValueError(f"unknown optimizer {name!r}; choose one of {', '.join(OPTIMIZERS)}")
    accepted = arguments(key)
    for argument in kwargs:
        if argument not in accepted:
            raise ValueError(
                f"{key} takes no argument {argument!r}; it takes {', '.join(accepted)}"
            )
    return OPTIMIZERS[key](**kwargs)


def arguments(name: str) -> list[str]:
    """The keyword arguments the optimizer ``name`` (a key of OPTIMIZERS) takes."""
    return [p for p in inspect.signature(OPTIMIZERS[name].__init__).parameters if p != "self"]
