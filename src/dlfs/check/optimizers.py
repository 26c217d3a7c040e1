"""Checking a learner's optimizer (book 6.1) against dlfs's update rules, by experiment.

Everything about the rules comes from the registry, ``dlfs.optim.registry``: which class names
mean which rule, the hyperparameters and their learners' names, defaults, the documented
variants and the known mistakes to try. A rule registered there is known here.

The learner's class has the book's interface, ``__init__(lr=…, …)`` and ``update(params,
grads)`` changing each parameter in place: the first book's dicts (``params[key] -= …``) or the
second book's lists (``params[i] -= …``, state as ``[np.zeros_like(p) for p in params]``),
told apart by trying both. Its hyperparameters are read from the instance (else the
constructor's defaults) and the matching dlfs rule is built with the same values. Both run
sixty steps in float64 on the same parameters — a matrix ``W1`` with a row whose gradient is
always zero, a vector ``b1`` with a tiny gradient (1e-9) in one place, a 0-d ``scale`` with a
constant gradient — and each step's change of every parameter is compared.

Equal to the rule: ``pass``; equal to a documented variant (the book's Adam, weight decay on
the weights alone): ``variant``. Otherwise each known mistake is tried as a formula or an
experiment (a fresh instance per step, two keys at once, another lr, a zero gradient, weight
decay switched on) and named when it reproduces the learner's numbers; the result fails with
the first step that departs and by how much. Each diagnosis names the learner's line that
wrote the departing array (found by tracing the update at that step). The runs and their
comparison are ``dlfs.check.optim_runs``; the formulas of the mistakes, ``dlfs.check.formulas``.
"""

from __future__ import annotations

import inspect
import numbers
from collections.abc import Iterator, Mapping

import numpy as np

from dlfs import catalogue
from dlfs.check import formulas
from dlfs.check.optim_runs import (
    STEPS,
    FreshEachStep,
    Run,
    departure,
    detect_interface,
    first_departure,
    matches,
    run,
    scenario,
)
from dlfs.check.result import CheckError, Diagnosis, Result, learner_frame
from dlfs.optim import Optimizer, registry
from dlfs.optim.registry import HYPERPARAMETER_NAMES as ALIASES

# ε a learner may have written into the formula instead of an attribute: the book's first
EPS_GUESSES = (1e-7, 1e-8, 1e-10, 1e-6, 1e-12, 1e-5)
# a learner's weight decay switched on to see where it acts
DECAY_PROBE = 0.1
# the value given to a constructor argument without default that names a hyperparameter
REQUIRED_DEFAULTS = {"lr": 0.01, "momentum": 0.9, "rho": 0.9, "beta1": 0.9, "beta2": 0.999,
                     "eps": 1e-8, "weight_decay": 0.0}


class _Names(Mapping):
    """{normalised class name or alias: rule key}, read live from the registry."""

    def __getitem__(self, name: str) -> str:
        return registry.names()[name]

    def __iter__(self) -> Iterator[str]:
        return iter(registry.names())

    def __len__(self) -> int:
        return len(registry.names())


OPTIMIZER_NAMES: Mapping[str, str] = _Names()


class _Rules(Mapping):
    """{rule key: registry Entry} of the rules learners' classes are checked against, read
    live from the registry (an Entry's ``reference`` is the dlfs class's name)."""

    def __getitem__(self, key: str) -> registry.Entry:
        entry = registry.entries()[key]
        if not entry.checked:
            raise KeyError(key)
        return entry

    def __iter__(self) -> Iterator[str]:
        return iter([key for key, entry in registry.entries().items() if entry.checked])

    def __len__(self) -> int:
        return len(list(iter(self)))


RULES: Mapping[str, registry.Entry] = _Rules()


def rule_key(name: str) -> str | None:
    """The rule a class name means ("RMSProp", "my_adam" -> "rmsprop", "adam"), else None."""
    entry = registry.lookup(name)
    return entry.key if entry else None


# -- the learner's class ------------------------------------------------------------------------


class Learner:
    """Makes fresh instances of the learner's optimizer with its hyperparameters, or another lr.

    From a class: its constructor's defaults (an argument without default that names a
    hyperparameter gets dlfs's usual value). From an instance: its class called with the
    instance's attributes of the same names as the constructor's arguments, so no state it
    holds is carried over. ``interface`` is "dict" (the first book) or "list" (the second).
    """

    def __init__(self, obj, name: str):
        self.cls = obj if isinstance(obj, type) else type(obj)
        self.name = name
        self.from_class = isinstance(obj, type)
        try:
            self.signature = inspect.signature(self.cls)
        except (TypeError, ValueError):
            raise CheckError("check.not_optimizer", name=name) from None
        self.arguments = {n: p for n, p in self.signature.parameters.items()
                          if p.kind in (p.POSITIONAL_OR_KEYWORD, p.KEYWORD_ONLY)}
        self.kwargs = {} if self.from_class else {
            n: getattr(obj, n) for n in self.arguments if hasattr(obj, n)}
        for argument, parameter in self.arguments.items():
            hyper = _hyperparameter_of(argument)
            if parameter.default is parameter.empty and argument not in self.kwargs and hyper:
                self.kwargs[argument] = REQUIRED_DEFAULTS[hyper]
        self.lr_argument = next((n for n in ALIASES["lr"] if n in self.arguments), None)
        self.decay_argument = next((n for n in ALIASES["weight_decay"] if n in self.arguments),
                                   None)
        self.file = _source_file(self.cls)
        self.files = {code.co_filename for code in map(_code, vars(self.cls).values()) if code}
        self.interface = "dict"
        self.swapped = _takes_grads_first(self.cls)

    def make(self, lr: float | None = None, lr_attribute: str | None = None, **extra):
        kwargs = {**self.kwargs, **extra}
        if lr is not None and self.lr_argument:
            kwargs[self.lr_argument] = lr
        made = self.cls(**kwargs)
        if lr is not None and not self.lr_argument and lr_attribute:
            setattr(made, lr_attribute, lr)
        return _GradsFirst(made) if self.swapped else made

    def line_of(self, method: str) -> int | None:
        code = _code(getattr(self.cls, method, None))
        return code.co_firstlineno if code else None


def _takes_grads_first(cls) -> bool:
    """Whether ``cls.update`` names its arguments (grads, params): that learner calls
    update(grads, params), and so does the check."""
    try:
        names = list(inspect.signature(cls.update).parameters)
    except (AttributeError, TypeError, ValueError):
        return False
    return names[1:3] == ["grads", "params"]


class _GradsFirst:
    """A learner's optimizer whose update takes (grads, params), called the book's way."""

    def __init__(self, inner):
        self.inner = inner

    def update(self, params, grads):
        self.inner.update(grads, params)

    def __getattr__(self, name):
        return getattr(self.inner, name)


def _hyperparameter_of(argument: str) -> str | None:
    return next((hyper for hyper, names in ALIASES.items() if argument in names), None)


def _code(function):
    """The code object of a function or method, else None."""
    return getattr(getattr(function, "__func__", function), "__code__", None)


def _source_file(cls) -> str | None:
    """The file that defines ``cls``'s update (a notebook cell's own name, where the class
    came from one), else its __init__'s."""
    for method in ("update", "__init__"):
        code = _code(vars(cls).get(method))
        if code is not None:
            return code.co_filename
    return None


def _where_both(learner: Learner, method: str = "update", line: int | None = None):
    """{lang: prefix} and the line: the prefix "FILE, line N: " in each language."""
    line = line or learner.line_of(method)
    if learner.file and line:
        return catalogue.both("check.where", file=learner.file, line=line), line
    return {lang: "" for lang in catalogue.LANGS}, line


def _diagnosis(code: str, learner: Learner, at="update", line=None, key=None, **fields):
    """The diagnosis ``code`` (message: the catalogue's check.<key or code>) at ``line``, else
    at the learner's method ``at``."""
    where, line = _where_both(learner, at, line)
    message = {lang: catalogue.text(f"check.{key or code}", lang, where=where[lang],
                                    name=learner.name, **fields)
               for lang in catalogue.LANGS}
    return Diagnosis(code, message, line, learner.file)


def read_hyperparameters(instance, learner: Learner, hyperparameters, defaults: dict):
    """(values, names): each of ``hyperparameters`` from the instance's attributes, else its
    constructor's argument default, else ``defaults``; and the name it was found under (None
    when it was not)."""
    values, names = {}, {}
    betas = getattr(instance, "betas", None)
    for hyper in hyperparameters:
        found = None
        for alias in ALIASES[hyper]:
            value = getattr(instance, alias, None)
            if value is None and alias in learner.arguments:
                value = learner.arguments[alias].default
            if _is_number(value):
                found = alias
                break
        if found is None and hyper in ("beta1", "beta2") and isinstance(betas, (tuple, list)):
            value, found = betas[0 if hyper == "beta1" else 1], "betas"
        values[hyper] = float(value) if found else defaults.get(hyper)
        names[hyper] = found
    return values, names


def _is_number(value) -> bool:
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and np.isfinite(value))


# -- the rules, their variants and the mistakes -------------------------------------------------


def ours(rule, theta, grads) -> Run:
    """A run of dlfs's rule or of a formula: nothing to watch for but its numbers."""
    return run(rule, theta, grads, watch=False)


def reference(entry: registry.Entry, hp: dict, eps: float | None = None):
    """The registry's rule ``entry`` with the learner's hyperparameters (ε given apart)."""
    values = {h: v for h, v in hp.items() if h in entry.hyperparameters and v is not None}
    if eps is not None and "eps" in entry.hyperparameters:
        values["eps"] = eps
    return entry.build(**values)


def _eps_guesses(hp: dict, names: dict, entry: registry.Entry) -> list[float | None]:
    if "eps" not in entry.hyperparameters:
        return [None]
    if names.get("eps"):
        return [hp["eps"]]
    return list(dict.fromkeys((*EPS_GUESSES, entry.defaults["eps"])))


def variants(entry: registry.Entry, hp: dict, eps_list: list):
    """(name, make) of each documented variant of ``entry`` with the learner's
    hyperparameters: another registry entry, else a formula of dlfs.check.formulas."""
    table = registry.entries()
    for name in entry.variants:
        variant = table.get(name)
        if variant is None:
            for make in formulas.variants(name, entry.key, hp, eps_list):
                yield name, make
            continue
        for eps in eps_list if "eps" in variant.hyperparameters else [None]:
            yield name, lambda variant=variant, eps=eps: reference(variant, hp, eps)


# -- the check ----------------------------------------------------------------------------------


def check_optimizer(obj, reference_name: str | None = None, name: str | None = None) -> Result:
    """The check of a learner's optimizer class (or instance) ``obj``.

    ``reference_name``: the rule it is meant to be (a name or alias in the registry, any
    case); by default read from ``name``, else from the class's name. Raises CheckError only
    for what is not an optimizer of a known rule; a learner's class of a known rule always
    gets a Result (an unfinished or unbuildable one fails).
    """
    name = name or getattr(obj, "__name__", type(obj).__name__)
    with np.errstate(all="ignore"):  # the learner's 0/0 is a finding, not a warning
        try:
            return _check(obj, reference_name, name)
        except CheckError:
            raise
        except (Exception, SystemExit) as error:  # whatever the learner's object did to us
            entry = registry.lookup(reference_name or name)
            learner = Learner(obj, name)
            return Result(name, "optimizer", entry.reference, "fail", first_bad_step=1,
                          diagnoses=[_failure(error, learner, "update")])


def _check(obj, reference_name, name) -> Result:
    entry = registry.lookup(reference_name or name)
    if entry is None:
        raise CheckError("check.unknown_optimizer", name=reference_name or name,
                         names=", ".join(sorted(set(OPTIMIZER_NAMES))))
    learner = Learner(obj, name)

    def result(verdict, diagnoses, variant=None, first=None, error=None):
        return Result(name, "optimizer", entry.reference, verdict, variant, first, error,
                      diagnoses)

    if getattr(learner.cls, "update", None) is None:
        others = [n for n, v in vars(learner.cls).items()
                  if callable(v) and not n.startswith("_")]
        if others:
            raise CheckError("check.not_optimizer", name=name)
        return result("fail", [_diagnosis("unfinished", learner, "__init__",
                                          key="unfinished_no_update")], first=1)
    try:
        instance = learner.make()
    except (Exception, SystemExit) as error:
        return result("fail", [_failure(error, learner, "__init__")], first=1)
    if not callable(getattr(instance, "update", None)):
        raise CheckError("check.not_optimizer", name=name)
    try:
        inspect.signature(instance.update).bind({}, {})
    except TypeError:
        raise CheckError("check.not_optimizer", name=name) from None
    except ValueError:
        pass  # a builtin or C method: no signature to read, call it as it is
    learner.interface = detect_interface(learner)

    hp, names = read_hyperparameters(instance, learner, entry.hyperparameters, entry.defaults)
    decay, _ = read_hyperparameters(instance, learner, ("weight_decay",), {})
    decay = decay["weight_decay"] if "weight_decay" not in entry.hyperparameters else None
    eps_list = _eps_guesses(hp, names, entry)
    try:
        reference(entry, hp, eps_list[0])
    except ValueError as error:
        return result("fail", [_diagnosis(
            "wrong-hyperparameter-default", learner, "__init__", key="bad_hyperparameter_value",
            error=str(error))], first=1)
    theta, grads = scenario()
    mine = run(instance, theta, grads, learner.interface)
    if mine.error is not None:
        diagnoses = [_failure(mine.error, learner, "update")]
        if "shared-state" in entry.mistakes and _keys_interfere(learner):
            diagnoses.append(_diagnosis("shared-state", learner, line=_line_for(
                learner, mine.error_step, ("created", None), theta, grads)))
        return result("fail", diagnoses, first=mine.error_step)
    if mine.rebound is None and all(np.array_equal(mine.thetas[1][k], theta[k], equal_nan=True)
                                    for k in theta):
        return result("fail", [_diagnosis("unfinished", learner, key="unfinished_nothing")],
                      first=1)

    verdict, variant, first, worst, diagnoses = "fail", None, None, None, []
    closest, best_eps = None, eps_list[0]
    for eps in eps_list:
        found = departure(mine.thetas, ours(reference(entry, hp, eps), theta, grads).thetas)
        if closest is None or _closer(found, closest):
            closest, best_eps = found, eps
        if found[0] is None:
            verdict, worst = "pass", found[1]
            break
    if verdict == "fail":
        for label, make in variants(entry, hp, eps_list):
            if matches(mine.thetas, ours(make(), theta, grads).thetas, nan_equal=False):
                verdict, variant = "variant", label
                worst = departure(mine.thetas, ours(reference(entry, hp, eps_list[0]),
                                                   theta, grads).thetas)[1]
                break
    if verdict == "fail" and decay:
        form = _decay_form(entry, hp, best_eps, decay, mine.thetas, theta, grads)
        if form == "weights":
            verdict, variant = "variant", "weight-decay-on-weights"
            worst = closest[1]
    if verdict == "fail":
        first, worst = closest
        diagnoses = _explain(entry, learner, hp, eps_list, best_eps, decay, mine, theta, grads)
    elif verdict == "pass" and learner.decay_argument and not decay and not issubclass(
            learner.cls, Optimizer):  # dlfs's own rules decay every key, as torch's do
        found = _decay_switched_on(entry, learner, hp, best_eps, theta, grads)
        if found == "weights":
            verdict, variant = "variant", "weight-decay-on-weights"
        elif found is not None:
            verdict, (first, worst, key) = "fail", found
            diagnoses = [_diagnosis("weight-decay-on-biases", learner,
                                    line=_line_for(learner, first, ("params", key), theta,
                                                   grads, extra={learner.decay_argument:
                                                                 DECAY_PROBE}))]

    diagnoses += _habits(learner, entry, hp, names, mine, theta, grads)
    codes = {d.code for d in diagnoses}
    if codes & {"rebinds-params", "ignores-lr", "weight-decay-on-biases"}:
        verdict = "fail"
    elif codes and verdict != "fail":
        verdict = "warn"
    return result(verdict, diagnoses, variant, first, worst)


def _closer(found, best) -> bool:
    """Whether ``found`` (first bad step, error) departs later, or as late but by less."""
    step, error = (found[0] or STEPS + 1), found[1]
    best_step, best_error = (best[0] or STEPS + 1), best[1]
    return (step, -error) > (best_step, -best_error)


def _failure(error: BaseException, learner: Learner, method: str) -> Diagnosis:
    """``unfinished`` for a NotImplementedError, else ``crash``, at the learner's line. A
    MemoryError (the check's memory limit) is raised again: the object fails with ``memory``
    (dlfs.check.load.check_one)."""
    if isinstance(error, MemoryError):
        raise error
    files = {learner.file} if learner.file else None
    _, line = learner_frame(error, files)
    if isinstance(error, NotImplementedError):
        return _diagnosis("unfinished", learner, method, line, key="unfinished_raises",
                          method=method)
    return _diagnosis("crash", learner, method, line, method=method,
                      error=f"{type(error).__name__}: {error}"[:300])


# -- weight decay -------------------------------------------------------------------------------


def _decayed_forms(entry, hp, eps, decay, which):
    for form in formulas.DECAY_FORMS:
        yield lambda form=form: formulas.Decayed(reference(entry, hp, eps), form, decay,
                                                 hp["lr"], which)


def _decay_form(entry, hp, eps, decay, thetas, theta, grads) -> str | None:
    """"weights" where ``thetas`` are the rule with weight decay ``decay`` on the weight
    matrices alone, "all" where on every parameter, else None."""
    for which, label in ((formulas.on_weights, "weights"), (lambda _: True, "all")):
        for make in _decayed_forms(entry, hp, eps, decay, which):
            if matches(thetas, ours(make(), theta, grads).thetas):
                return label
    return None


def _decay_switched_on(entry, learner, hp, eps, theta, grads):
    """For a learner whose weight decay is off by default: "weights" where switching it on
    decays the weights alone; (first step, error, the bias's key) where it decays the biases
    too; None where neither (or it cannot be switched on)."""
    try:
        out = run(learner.make(**{learner.decay_argument: DECAY_PROBE}), theta, grads,
                  learner.interface)
    except (Exception, SystemExit):
        return None
    if out.error is not None:
        return None
    form = _decay_form(entry, hp, eps, DECAY_PROBE, out.thetas, theta, grads)
    if form == "all":
        weights_only = formulas.Decayed(reference(entry, hp, eps), "coupled", DECAY_PROBE,
                                        hp["lr"])
        first, worst = departure(out.thetas, ours(weights_only, theta, grads).thetas)
        return first or 1, worst, _bias_key(theta)
    return form


def _bias_key(theta) -> str:
    return next(key for key, value in theta.items() if not formulas.on_weights(value))


# -- naming the mistakes ------------------------------------------------------------------------

# what a diagnosis points at: the line that last wrote the departing parameter, or its state
STATE_CODES = {"momentum-term-missing", "cache-never-decays"}


def _explain(entry, learner, hp, eps_list, eps, decay, mine, theta, grads) -> list[Diagnosis]:
    """The known mistakes of ``entry`` that reproduce the learner's numbers, each at the
    learner's line that wrote the departing array."""
    mistakes = entry.mistakes
    first, _, departing = first_departure(mine.thetas,
                                     ours(reference(entry, hp, eps), theta, grads).thetas)
    step = first or 1
    found: dict[str, int | None] = {}  # code -> the learner's line
    reset = "state-reset" in mistakes and matches(
        mine.thetas, run(FreshEachStep(learner.make), theta, grads, learner.interface).thetas)
    if reset:
        # a velocity never kept and one created anew on every call give the same numbers: the
        # trace tells them apart (a state array replaced by zeros during the second update)
        resets = _trace(learner, 2, theta, grads).resets or {}
        if resets or "momentum-term-missing" not in mistakes:
            found["state-reset"] = next(iter(resets.values()), (None, None))[1]
    if decay and "weight-decay-on-biases" in mistakes and _decay_form(
            entry, hp, eps, decay, mine.thetas, theta, grads) == "all":
        found["weight-decay-on-biases"] = _line_for(learner, 1, ("params", _bias_key(theta)),
                                                    theta, grads)
    for code in mistakes:
        if code in found or code in ("state-reset", "shared-state", "nan-on-zero-grad",
                                     "weight-decay-on-biases"):
            continue
        if code == "momentum-term-missing" and "state-reset" in found:
            continue
        for make in formulas.mistakes(code, entry.key, hp, eps_list):
            formula = FreshEachStep(make) if reset else make()
            if matches(mine.thetas, ours(formula, theta, grads).thetas):
                kind = "state" if code in STATE_CODES else "params"
                found[code] = _line_for(learner, step, (kind, departing), theta, grads)
                break
    if "nan-on-zero-grad" in mistakes and _nan_on_zero_gradient(learner):
        found["nan-on-zero-grad"] = _line_for(learner, step, ("params", departing), theta,
                                              grads)
    if "shared-state" in mistakes and not reset and _keys_interfere(learner):
        found["shared-state"] = _line_for(learner, 2, ("created", None), theta, grads)
    return [_diagnosis(code, learner, line=line) for code, line in found.items()]


def _trace(learner, step, theta, grads, **extra) -> Run:
    """A fresh instance run for ``step`` steps, the last one traced."""
    try:
        return run(learner.make(**extra), theta, grads[:step], learner.interface,
                   trace=learner.files)
    except (Exception, SystemExit):
        return Run([])


def _line_for(learner, step, target, theta, grads, extra=None) -> int | None:
    """The learner's line that last wrote, at ``step``, the array ``target``: ("params", key)
    the parameter; ("state", key) the first state array the update writes for that parameter
    (else the parameter); ("grads", None) any gradient; ("created", None) the first line that
    put a new zero array into the state (shared-state's one array). None where no line did."""
    kind, key = target
    out = _trace(learner, max(step or 1, 1), theta, grads, **(extra or {}))
    writes = out.writes or {}
    index = list(theta).index(key) if key in theta else None
    wanted = key if learner.interface == "dict" else index

    def of(prefix, keyed, first=False, among=writes):
        lines = [where for path, where in among.items() if path[0] == prefix
                 and (not keyed or wanted in path[1:])]
        return lines[0 if first else -1][1] if lines else None

    if kind == "created":  # the line that made the state array: shared-state's one array
        return of("state", False, first=True, among=out.resets or {}) or of("state", False)
    if kind == "state":  # the first state array written for it: h before AdaDelta's Δx average
        return (of("state", True, first=True) or of("state", False, first=True)
                or of("params", True))
    if kind == "grads":
        return of("grads", False)
    return of("params", True) or of("params", False)


def _nan_on_zero_gradient(learner: Learner) -> bool:
    params = {"W": np.ones((2, 2)), "b": np.zeros(2)}
    zeros = [{"W": np.zeros((2, 2)), "b": np.zeros(2)}] * 2
    try:
        out = run(learner.make(), params, zeros, learner.interface)
    except (Exception, SystemExit):
        return False
    return out.error is None and not all(np.all(np.isfinite(v)) for v in out.thetas[-1].values())


def _keys_interfere(learner: Learner) -> bool:
    """Whether a parameter's steps change when another key of the same shape is updated too:
    one state array shared by every key."""
    rng = np.random.default_rng(7)
    theta = {"a": rng.normal(size=3), "b": rng.normal(size=3)}
    grads = [{"a": rng.normal(size=3), "b": 5 * rng.normal(size=3)} for _ in range(5)]
    try:
        together = run(learner.make(), theta, grads, learner.interface)
        alone = run(learner.make(), {"a": theta["a"]}, [{"a": g["a"]} for g in grads],
                    learner.interface)
    except (Exception, SystemExit):
        return False
    if together.error is not None or alone.error is not None:
        return False
    return not matches([{"a": t["a"]} for t in together.thetas], alone.thetas)


def _habits(learner, entry, hp, names, mine, theta, grads) -> list[Diagnosis]:
    """What is wrong whatever the numbers: a new array in params, writing into grads, an lr
    without effect, an unusual default."""
    found = []
    if mine.rebound is not None:
        found.append(_diagnosis("rebinds-params", learner, line=_line_for(
            learner, mine.rebound, ("params", next(iter(theta))), theta, grads)))
    if mine.mutated is not None:
        found.append(_diagnosis("mutates-input", learner, line=_line_for(
            learner, mine.mutated, ("grads", None), theta, grads)))
    lr, other = hp["lr"], hp["lr"] / 10
    if learner.lr_argument or names.get("lr"):
        try:
            a = run(learner.make(lr, names.get("lr")), theta, grads[:3], learner.interface)
            b = run(learner.make(other, names.get("lr")), theta, grads[:3], learner.interface)
        except (Exception, SystemExit):
            a = b = None
        if a and b and a.error is None and b.error is None and matches(a.thetas, b.thetas):
            found.append(_diagnosis("ignores-lr", learner, lr=f"{lr:g}", other=f"{other:g}",
                                    line=_line_for(learner, 1, ("params", next(iter(theta))),
                                                   theta, grads)))
    if learner.from_class:
        for hyper, usual in entry.usual.items():
            if names.get(hyper) and not any(np.isclose(hp[hyper], u) for u in usual):
                found.append(_diagnosis(
                    "wrong-hyperparameter-default", learner, "__init__",
                    parameter=names[hyper], value=f"{hp[hyper]:g}", rule=entry.reference,
                    usual=" / ".join(f"{u:g}" for u in usual)))
    return found
