"""The registry: every update rule under its name, with what a checker needs to know about it.

One ``Entry`` per rule: its dlfs class, the other names learners give that class ("AdaGrad",
"MomentumSGD", "NAG", …), the hyperparameters it is compared on and the names learners give
those (``HYPERPARAMETER_NAMES``: lr / learning_rate / eta, momentum / mu, decay_rate / rho, …),
their defaults (read from the class's signature), the values a learner's default should have,
its documented variants (other entries, e.g. the book's efficient Adam 'book-adam') and the
known mistakes (codes of ``dlfs check``) that apply to it.

``optim.create`` and ``optim.OPTIMIZERS`` read this table; ``dlfs.check`` derives its names,
references and rules from it. ``register`` adds a rule (``unregister`` takes it away again).
"""

from __future__ import annotations

import inspect
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from types import MappingProxyType

# hyperparameter -> the attribute and argument names learners give it, in the order tried
HYPERPARAMETER_NAMES: Mapping[str, tuple[str, ...]] = MappingProxyType({
    "lr": ("lr", "learning_rate", "eta", "step_size"),
    "momentum": ("momentum", "mu", "alpha", "beta", "gamma"),
    "rho": ("decay_rate", "rho", "alpha", "beta", "gamma", "decay"),
    "beta1": ("beta1", "beta_1", "b1"),
    "beta2": ("beta2", "beta_2", "b2"),
    "eps": ("eps", "epsilon", "delta"),
    "weight_decay": ("weight_decay", "weight_decay_lambda", "wd", "lambda_", "l2"),
})

# the known mistakes of each family of rules (codes of dlfs check's catalogue)
STATEFUL = ("state-reset", "shared-state")
DECAY = ("weight-decay-on-biases",)
ADAPTIVE = ("eps-outside-denominator", "nan-on-zero-grad")


@dataclass(frozen=True)
class Entry:
    """One rule as the registry knows it.

    key: its name in ``create`` ("rmsprop"). cls: the dlfs class. names: other class names
    that mean this rule (compared in lower case without "_", "-" and spaces). hyperparameters:
    what a learner's class is compared on (keys of HYPERPARAMETER_NAMES); arguments: the
    class's argument for a hyperparameter where its name differs ("rho" -> "alpha");
    "beta1"/"beta2" go into ``betas`` where the class takes that pair; a hyperparameter the
    constructor does not take but the class has as an attribute (BookAdam's eps) is set on the
    instance. usual: {hyperparameter: the values a learner's default should be}. variants:
    the documented variants of this rule, keys of other entries or forms the checker writes
    out ("eps-inside-sqrt": ε under the square root, Keras's RMSprop; "ema-momentum":
    v ← μ·v + (1 − μ)·g, θ ← θ − η·v). mistakes: the codes of the known mistakes to try.
    checked: False for an entry that is only a variant of another (the book's forms).
    """

    key: str
    cls: type
    names: tuple[str, ...] = ()
    hyperparameters: tuple[str, ...] = ("lr",)
    arguments: Mapping[str, str] = field(default_factory=dict)
    usual: Mapping[str, tuple[float, ...]] = field(default_factory=dict)
    variants: tuple[str, ...] = ()
    mistakes: tuple[str, ...] = ()
    checked: bool = True

    @property
    def reference(self) -> str:
        """The class's name, as messages call the rule ("AdaGrad")."""
        return self.cls.__name__

    def argument(self, hyperparameter: str) -> str:
        return self.arguments.get(hyperparameter, hyperparameter)

    @property
    def defaults(self) -> dict[str, float]:
        """{hyperparameter: the class's default}, read from its signature."""
        parameters = inspect.signature(self.cls).parameters
        found = {}
        for hyper in self.hyperparameters:
            name = self.argument(hyper)
            if name in parameters:
                found[hyper] = parameters[name].default
            elif hyper in ("beta1", "beta2") and "betas" in parameters:
                found[hyper] = parameters["betas"].default[hyper == "beta2"]
            elif hasattr(self.cls, name):
                found[hyper] = getattr(self.cls, name)
        return found

    def build(self, **values):
        """The class with these hyperparameters (keys of HYPERPARAMETER_NAMES; the others are
        left at the class's defaults)."""
        parameters = inspect.signature(self.cls).parameters
        kwargs, attributes = {}, {}
        for hyper, value in values.items():
            name = self.argument(hyper)
            if name in parameters:
                kwargs[name] = value
            elif hyper in ("beta1", "beta2") and "betas" in parameters:
                betas = list(kwargs.get("betas", parameters["betas"].default))
                betas[hyper == "beta2"] = value
                kwargs["betas"] = tuple(betas)
            elif hasattr(self.cls, name):
                attributes[name] = value
        made = self.cls(**kwargs)
        for name, value in attributes.items():
            setattr(made, name, value)
        return made


_ENTRIES: dict[str, Entry] = {}
_NAMES: dict[str, str] = {}  # names(), kept until the registry changes


def register(entry: Entry) -> Entry:
    """Adds ``entry`` to the registry (``create``, ``OPTIMIZERS`` and ``dlfs.check`` know it
    from then on); a key or name already taken is a ValueError."""
    if entry.key in _ENTRIES:
        raise ValueError(f"an optimizer {entry.key!r} is registered already")
    taken = {normalise(name): e.key for e in _ENTRIES.values() if e.checked
             for name in (e.key, *e.names)}
    for name in (entry.key, *entry.names) if entry.checked else ():
        if normalise(name) in taken:
            raise ValueError(f"the name {name!r} means {taken[normalise(name)]!r} already")
    for hyper in entry.hyperparameters:
        if hyper not in HYPERPARAMETER_NAMES:
            raise ValueError(f"unknown hyperparameter {hyper!r}; known: "
                             f"{', '.join(HYPERPARAMETER_NAMES)}")
    _ENTRIES[entry.key] = entry
    _NAMES.clear()
    return entry


def unregister(key: str) -> Entry:
    """Takes the entry ``key`` out of the registry and returns it."""
    _NAMES.clear()
    return _ENTRIES.pop(key)


def entries() -> dict[str, Entry]:
    """{key: Entry} of every registered rule, in the book's order."""
    return dict(_ENTRIES)


def normalise(name: str) -> str:
    """A class name as the registry compares it: lower case without "_", "-" and spaces."""
    return str(name).lower().replace("_", "").replace("-", "").replace(" ", "")


def names() -> Mapping[str, str]:
    """{normalised name or alias: key} of the rules learners' classes are checked against."""
    if not _NAMES:
        _NAMES.update({normalise(name): entry.key for entry in _ENTRIES.values()
                       if entry.checked for name in (entry.key, *entry.names)})
    return MappingProxyType(_NAMES)


def lookup(name: str) -> Entry | None:
    """The rule a class name means ("RMSProp", "my_adam", "AdamOptimizer"), else None."""
    table = names()
    key = normalise(name)
    for candidate in (key, key.removeprefix("my"), key.removesuffix("optimizer")):
        if candidate in table:
            return _ENTRIES[table[candidate]]
    return None


class Classes(Mapping):
    """{key: class} of the registry, read live (``optim.OPTIMIZERS``)."""

    def __getitem__(self, key: str) -> type:
        return _ENTRIES[key].cls

    def __iter__(self) -> Iterator[str]:
        return iter(list(_ENTRIES))

    def __len__(self) -> int:
        return len(_ENTRIES)

    def __repr__(self) -> str:
        return repr({key: entry.cls.__name__ for key, entry in _ENTRIES.items()})


def _book(key: str, cls: type, hyperparameters: tuple[str, ...],
          arguments: Mapping[str, str] | None = None) -> Entry:
    return Entry(key, cls, hyperparameters=hyperparameters, arguments=arguments or {},
                 checked=False)


def register_builtin() -> None:
    """The rules dlfs has, in the book's order (called once, when dlfs.optim is imported)."""
    from dlfs.optim.adagrad import AdaDelta, AdaGrad, RMSprop
    from dlfs.optim.adam import Adam, AdamW
    from dlfs.optim.book import BookAdaGrad, BookAdam, BookMomentum, BookNesterov, BookRMSprop
    from dlfs.optim.sgd import SGD, Momentum, Nesterov

    for entry in (
        Entry("sgd", SGD, ("gradientdescent", "stochasticgradientdescent", "sgdoptimizer"),
              mistakes=DECAY),
        Entry("momentum", Momentum, ("momentumsgd", "sgdmomentum", "momentumoptimizer"),
              ("lr", "momentum"), usual={"momentum": (0.9,)}, variants=("ema-momentum",),
              mistakes=("momentum-term-missing", *STATEFUL, *DECAY)),
        Entry("nesterov", Nesterov, ("nag", "nesterovmomentum", "nesterovsgd",
                                     "nesterovacceleratedgradient"),
              ("lr", "momentum"), usual={"momentum": (0.9,)},
              mistakes=("nesterov-order", "momentum-term-missing", *STATEFUL, *DECAY)),
        Entry("adagrad", AdaGrad, (), ("lr", "eps"), variants=("eps-inside-sqrt",),
              mistakes=(*ADAPTIVE, *STATEFUL, *DECAY)),
        Entry("rmsprop", RMSprop, ("rmsp",), ("lr", "rho", "eps"), {"rho": "alpha"},
              usual={"rho": (0.9, 0.99)}, variants=("eps-inside-sqrt",),
              mistakes=("cache-never-decays", *ADAPTIVE, *STATEFUL, *DECAY)),
        Entry("adadelta", AdaDelta, (), ("lr", "rho", "eps"), usual={"rho": (0.9, 0.95)},
              mistakes=("cache-never-decays", "nan-on-zero-grad", *STATEFUL, *DECAY)),
        Entry("adam", Adam, ("adamoptimizer",), ("lr", "beta1", "beta2", "eps"),
              usual={"beta1": (0.9,), "beta2": (0.999,)},
              variants=("book-adam", "eps-inside-sqrt"),
              mistakes=("missing-bias-correction", *ADAPTIVE, *STATEFUL, *DECAY)),
        Entry("adamw", AdamW, (), ("lr", "beta1", "beta2", "eps", "weight_decay"),
              usual={"beta1": (0.9,), "beta2": (0.999,)},
              mistakes=("missing-bias-correction", *ADAPTIVE, *STATEFUL)),
        _book("book-momentum", BookMomentum, ("lr", "momentum")),
        _book("book-nesterov", BookNesterov, ("lr", "momentum")),
        _book("book-adagrad", BookAdaGrad, ("lr",)),
        _book("book-rmsprop", BookRMSprop, ("lr", "rho"), {"rho": "decay_rate"}),
        _book("book-adam", BookAdam, ("lr", "beta1", "beta2", "eps")),
    ):
        register(entry)
