"""What every update rule shares: the base class, argument checks and in-place helpers."""

from __future__ import annotations

import inspect
import numbers

import numpy as np

from dlfs import _checks


def non_negative(name: str, value) -> float:
    if isinstance(value, bool) or not isinstance(value, numbers.Real) or not value >= 0:
        raise ValueError(f"{name} must be a number >= 0, got {value!r}")
    return float(value)


def betas_pair(betas) -> tuple[float, float]:
    try:
        beta1, beta2 = betas
    except (TypeError, ValueError):
        raise ValueError(f"betas must be a pair (beta1, beta2) in [0, 1), got {betas!r}") from None
    return (_checks.in_range("betas[0]", beta1, 0.0, 1.0, high_open=True),
            _checks.in_range("betas[1]", beta2, 0.0, 1.0, high_open=True))


def ema_(average, value, beta: float, scratch):
    """average ← β·average + (1 − β)·value, in place; returns ``average``.

    ``scratch`` (an array of the same shape) receives (1 − β)·value and may be ``value`` itself
    when that is a scratch term such as g². This is torch's arrangement (mul_, then add): the
    scratch-free β·(average − value) + value rounds the new term with the old one's magnitude,
    which in float32 costs Adam's v (β₂ = 0.999) three digits on its first step.
    """
    average *= beta
    average += np.multiply(value, 1 - beta, out=scratch)
    return average


class Optimizer:
    """What every rule shares: checking grads against params, lazy state, coupled weight decay.

    A subclass names its state arrays in ``state_names`` and writes its formula in
    ``update_one(param, grad, state)``, one statement group per line of its docstring's
    formula. ``state`` holds those arrays (zeros of the parameter's shape and dtype, created on
    the parameter's first update), a ``scratch`` array that each statement names after the term
    it holds (``denom``, ``step``, …), and the parameter's update count ``step`` (t, 1 on the
    first update). Every update is in place and allocates nothing per step.

    ``weight_decay`` λ is coupled L2 on every key: ``decay`` hands the rule g + λθ instead of
    g, biases included, so an adaptive rule divides the decay by its √v like the gradient.
    """

    state_names: tuple[str, ...] = ()

    def __init__(self, lr: float, weight_decay: float = 0.0):
        self.lr = _checks.positive_float("lr", lr)
        self.weight_decay = non_negative("weight_decay", weight_decay)
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
            if state is not None and state["scratch"].shape != param.shape:
                raise ValueError(
                    f"params[{key!r}] changed shape from {state['scratch'].shape} to "
                    f"{param.shape} since the last update; use a new optimizer for a new network"
                )

    def new_state(self, param) -> dict:
        """The state of one parameter before its first update: zeros, a scratch array, t = 0."""
        state = {name: np.zeros_like(param) for name in self.state_names}
        state["scratch"] = np.empty_like(param)
        state["step"] = 0
        return state

    def update(self, params: dict[str, np.ndarray], grads: dict[str, np.ndarray]) -> None:
        """Applies one step of the rule to every array of ``params``, in place, key by key."""
        self._check(params, grads)
        self.iter += 1
        for key, param in params.items():
            state = self.state.get(key)
            if state is None:
                state = self.state[key] = self.new_state(param)
            state["step"] += 1
            grad = np.asarray(grads[key], dtype=param.dtype)
            if self.weight_decay:
                grad = self.decay(param, grad, state)
            self.update_one(param, grad, state)

    def decay(self, param, grad, state):
        """Coupled L2 on every key: the gradient the rule sees, g + λθ, in a buffer of its own
        so the caller's grads stay as they are."""
        if "decayed" not in state:
            state["decayed"] = np.empty_like(param)
        decayed = np.multiply(param, self.weight_decay, out=state["decayed"])
        decayed += grad
        return decayed

    def update_one(self, param, grad, state) -> None:
        """One step of the rule on one parameter, in place."""
        raise NotImplementedError

    def __repr__(self):
        names = [p for p in inspect.signature(type(self).__init__).parameters if p != "self"]
        fields = ", ".join(f"{name}={getattr(self, name)!r}" for name in names)
        return f"{type(self).__name__}({fields})"
