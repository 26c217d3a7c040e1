"""Update rules (book 6.1): SGD, Momentum, Nesterov, AdaGrad, RMSprop, AdaDelta, Adam, AdamW.

Every optimizer has the book's interface, the one road from the book's loop to an update:

    grads = network.gradient(x_batch, t_batch)
    optimizer.update(network.params, grads)

changes each array of ``params`` in place, key by key. Symbols in the docstrings: θ a
parameter, g = ∂L/∂θ, η = lr, t the number of updates of that parameter so far (1 on the
first), λ = weight_decay; all state starts at zero.

By default each rule is exactly torch.optim's documented algorithm for the same hyperparameters
(tests check 100 steps to 1e-10, state included). Where the book's code differs, the book's
version is its own class with ``Book`` in its name, so the figures of chapter 6 can be
reproduced step for step: BookMomentum, BookNesterov, BookAdaGrad, BookRMSprop, BookAdam.

Weight decay, three mechanisms under two names:
  - the optimizers' ``weight_decay`` λ is coupled L2 on every key: g + λθ replaces g before
    the rule, biases included, so an adaptive rule divides the decay by its √v (torch's);
  - AdamW's ``weight_decay`` is decoupled: θ ← θ − η·λ·θ outside the adaptive step;
  - the network's ``weight_decay_lambda`` λ is ½λΣ‖W‖² in the loss, weights only: backprop adds
    λW to each dW (the book's). SGD(weight_decay=λ) on the W keys alone equals it.

Modules: ``sgd`` (SGD, Momentum, Nesterov), ``adagrad`` (AdaGrad, RMSprop, AdaDelta), ``adam``
(Adam, AdamW), ``book`` (the book's variants), ``base`` (the Optimizer they share),
``registry`` (every rule under its name, with its aliases, defaults, variants and known
mistakes: what ``create`` and ``dlfs.check`` read).
"""

from __future__ import annotations

import inspect
from collections.abc import Mapping

# The book's order, which the API page follows.
# isort: off
from dlfs.optim.sgd import SGD, Momentum, Nesterov
from dlfs.optim.adagrad import AdaGrad, RMSprop, AdaDelta
from dlfs.optim.adam import Adam, AdamW
from dlfs.optim.book import BookMomentum, BookNesterov, BookAdaGrad, BookRMSprop, BookAdam
from dlfs.optim.base import Optimizer
from dlfs.optim import registry
# isort: on

__all__ = [
    "SGD", "Momentum", "Nesterov", "AdaGrad", "RMSprop", "AdaDelta", "Adam", "AdamW",
    "BookMomentum", "BookNesterov", "BookAdaGrad", "BookRMSprop", "BookAdam",
    "Optimizer", "OPTIMIZERS", "create", "arguments", "registry",
]

registry.register_builtin()

# {name: class} of every registered rule, read live from the registry (registry.register adds one)
OPTIMIZERS: Mapping[str, type[Optimizer]] = registry.Classes()


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
    return registry.entries()[key].cls(**kwargs)


def arguments(name: str) -> list[str]:
    """The keyword arguments the optimizer ``name`` (a key of OPTIMIZERS) takes."""
    return [p for p in inspect.signature(OPTIMIZERS[name].__init__).parameters if p != "self"]
