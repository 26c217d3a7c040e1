"""Checking a learner's optimizer (book 6.1) against dlfs's update rules, by experiment.

The learner's class has the book's interface, ``__init__(lr=…, …)`` and ``update(params,
grads)`` changing each ``params[key]`` in place. Its hyperparameters are read from the instance
(``lr``, ``momentum``, ``decay_rate``/``rho``, ``beta1``/``beta2``, ``eps``, …; else the
constructor's defaults) and the matching dlfs rule is built with the same values. Both run
sixty steps in float64 on the same parameters — a matrix ``W1`` with a row whose gradient is
always zero, a vector ``b1`` with a tiny gradient (1e-9) in one place, a 0-d ``scale`` with a
constant gradient — and each step's change of every parameter is compared.

Equal to the rule: ``pass``; equal to a documented variant (the book's Adam): ``variant``.
Otherwise each known mistake is tried as a formula or an experiment (a fresh instance per step,
two keys at once, another lr, a zero gradient) and named when it reproduces the learner's
numbers; the result fails with the first step that departs and by how much.
"""

from __future__ import annotations

import inspect
import numbers
from dataclasses import dataclass, field

import numpy as np

from dlfs import catalogue
from dlfs import optim as dlfs_optim
from dlfs.check import formulas
from dlfs.check.result import CheckError, Diagnosis, Result, learner_frame

STEPS = 60
TOLERANCE = 1e-8  # relative, per step and parameter: float64 rounding is ~1e-13 here

# name (lower case, without "_", "-" and spaces) -> the rule's key
OPTIMIZER_NAMES = {
    "sgd": "sgd", "gradientdescent": "sgd",
    "momentum": "momentum", "momentumsgd": "momentum", "sgdmomentum": "momentum",
    "nesterov": "nesterov", "nag": "nesterov", "nesterovmomentum": "nesterov",
    "adagrad": "adagrad",
    "rmsprop": "rmsprop",
    "adadelta": "adadelta",
    "adam": "adam",
    "adamw": "adamw",
}

# hyperparameter -> the attribute and argument names learners give it
ALIASES = {
    "lr": ("lr", "learning_rate", "eta", "step_size"),
    "momentum": ("momentum", "mu", "alpha", "beta", "gamma"),
    "rho": ("decay_rate", "rho", "alpha", "beta", "gamma", "decay"),
    "beta1": ("beta1", "beta_1", "b1"),
    "beta2": ("beta2", "beta_2", "b2"),
    "eps": ("eps", "epsilon", "delta"),
    "weight_decay": ("weight_decay", "wd", "weight_decay_lambda"),
}


@dataclass(frozen=True)
class Rule:
    reference: str               # the dlfs class
    hyperparameters: tuple[str, ...]
    defaults: dict               # the dlfs reference's defaults, for what the learner lacks
    usual: dict = field(default_factory=dict)  # defaults that a learner's default should be


RULES = {
    "sgd": Rule("SGD", ("lr",), {"lr": 0.01}),
    "momentum": Rule("Momentum", ("lr", "momentum"), {"lr": 0.01, "momentum": 0.9},
                     {"momentum": (0.9,)}),
    "nesterov": Rule("Nesterov", ("lr", "momentum"), {"lr": 0.01, "momentum": 0.9},
                     {"momentum": (0.9,)}),
    "adagrad": Rule("AdaGrad", ("lr", "eps"), {"lr": 0.01, "eps": 1e-10}),
    "rmsprop": Rule("RMSprop", ("lr", "rho", "eps"), {"lr": 0.01, "rho": 0.99, "eps": 1e-8},
                    {"rho": (0.9, 0.99)}),
    "adadelta": Rule("AdaDelta", ("lr", "rho", "eps"), {"lr": 1.0, "rho": 0.95, "eps": 1e-6},
                     {"rho": (0.9, 0.95)}),
    "adam": Rule("Adam", ("lr", "beta1", "beta2", "eps"),
                 {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8},
                 {"beta1": (0.9,), "beta2": (0.999,)}),
    "adamw": Rule("AdamW", ("lr", "beta1", "beta2", "eps", "weight_decay"),
                  {"lr": 0.001, "beta1": 0.9, "beta2": 0.999, "eps": 1e-8,
                   "weight_decay": 0.01}, {"beta1": (0.9,), "beta2": (0.999,)}),
}

# ε a learner may have written into the formula instead of an attribute: the book's first
EPS_GUESSES = (1e-7, 1e-8, 1e-10, 1e-6, 1e-12, 1e-5)


def rule_key(name: str) -> str | None:
    """The rule a class name means ("RMSProp", "my_adam" -> "rmsprop", "adam"), else None."""
    key = str(name).lower().replace("_", "").replace("-", "").replace(" ", "")
    for candidate in (key, key.removeprefix("my"), key.removesuffix("optimizer")):
        if candidate in OPTIMIZER_NAMES:
            return OPTIMIZER_NAMES[candidate]
    return None


def _say(code: str, where: str, **fields) -> dict[str, str]:
    return catalogue.both(f"check.{code}", where=where, **fields)


# -- the learner's class ------------------------------------------------------------------------


class Learner:
    """Makes fresh instances of the learner's optimizer with its hyperparameters, or another lr.

    From a class: its constructor's defaults. From an instance: its class called with the
    instance's attributes of the same names as the constructor's arguments, so no state it
    holds is carried over.
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
        required = [n for n, p in self.arguments.items()
                    if p.default is p.empty and n not in self.kwargs]
        self.lr_argument = next((n for n in ALIASES["lr"] if n in self.arguments), None)
        if required and required != [self.lr_argument]:
            raise CheckError("check.needs_arguments", name=name, arguments=", ".join(required))
        self.needs_lr = bool(required)
        self.file = _source_file(self.cls)

    def make(self, lr: float | None = None, lr_attribute: str | None = None):
        kwargs = dict(self.kwargs)
        if self.needs_lr and lr is None:
            lr = 0.01
        if lr is not None and self.lr_argument:
            kwargs[self.lr_argument] = lr
        made = self.cls(**kwargs)
        if lr is not None and not self.lr_argument and lr_attribute:
            setattr(made, lr_attribute, lr)
        return made

    def line_of(self, method: str) -> int | None:
        code = _code(getattr(self.cls, method, None))
        return code.co_firstlineno if code else None


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


def read_hyperparameters(instance, learner: Learner, rule: Rule) -> tuple[dict, dict]:
    """(values, names): each hyperparameter of ``rule`` from the instance's attributes, else
    its constructor's argument default, else the dlfs default; and the name it was found
    under (None when it was not)."""
    values, names = {}, {}
    betas = getattr(instance, "betas", None)
    for hyper in rule.hyperparameters:
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
        values[hyper] = float(value) if found else rule.defaults[hyper]
        names[hyper] = found
    return values, names


def _is_number(value) -> bool:
    return (isinstance(value, numbers.Real) and not isinstance(value, bool)
            and np.isfinite(value))


# -- the experiments ----------------------------------------------------------------------------


def scenario(steps: int = STEPS):
    """(θ₀, [grads of each step]): a matrix, a vector and a 0-d array, zero, tiny and constant
    gradients among ordinary ones; the same on every call."""
    rng = np.random.default_rng(20240612)
    theta = {"W1": rng.normal(size=(4, 3)), "b1": np.zeros(3), "scale": np.array(1.0)}
    grads = []
    for _ in range(steps):
        w = rng.normal(size=(4, 3))
        w[0] = 0.0                                           # a row that never gets a gradient
        b = rng.normal(size=3) * np.array([1e-9, 1.0, 3.0])  # a tiny gradient in b1[0]
        grads.append({"W1": w, "b1": b, "scale": np.array(0.5)})  # a constant one
    return theta, grads


@dataclass
class Run:
    thetas: list                   # the parameters after each step, thetas[0] the start
    error: BaseException | None = None
    error_step: int | None = None
    rebound: int | None = None     # the first step that put a new array into params
    mutated: int | None = None     # the first step that wrote into grads


class _FreshEachStep:
    """An optimizer made anew for every step: what a learner's state reset amounts to."""

    def __init__(self, make):
        self.make = make

    def update(self, params, grads):
        self.make().update(params, grads)


def run(optimizer, theta, grads) -> Run:
    params = {key: value.copy() for key, value in theta.items()}
    out = Run([_snapshot(params)])
    for step, step_grads in enumerate(grads, 1):
        given = {key: g.copy() for key, g in step_grads.items()}
        arrays = dict(params)
        try:
            optimizer.update(params, given)
        except (Exception, SystemExit) as error:
            out.error, out.error_step = error, step
            return out
        if out.rebound is None and any(params.get(k) is not a for k, a in arrays.items()):
            out.rebound = step
        if out.mutated is None and not all(
                np.array_equal(given[k], g, equal_nan=True) for k, g in step_grads.items()):
            out.mutated = step
        out.thetas.append(_snapshot(params))
    return out


def _snapshot(params) -> dict:
    snap = {}
    for key, value in params.items():
        try:
            snap[key] = np.array(value, dtype=float)
        except (TypeError, ValueError):
            snap[key] = np.full(1, np.nan)
    return snap


def departure(a: list, b: list, nan_equal: bool = False) -> tuple[int | None, float]:
    """(first step where the changes of ``a`` and ``b`` differ, largest relative difference).

    Each step's change of a parameter is compared relative to the larger of the two changes
    of that parameter at that step. Where ``nan_equal``, NaN in both at the same place agree.
    """
    first, worst = None, 0.0
    for step in range(1, min(len(a), len(b))):
        for key, after in b[step].items():
            mine = a[step].get(key)
            if mine is None or mine.shape != after.shape:
                error = np.inf
            else:
                error = _relative(mine - a[step - 1][key], after - b[step - 1][key], nan_equal)
            worst = max(worst, error)
            if error > TOLERANCE and first is None:
                first = step
    if len(a) < len(b) and first is None:
        first, worst = len(a), np.inf
    return first, worst


def _relative(da, db, nan_equal: bool) -> float:
    with np.errstate(invalid="ignore"):
        if nan_equal:
            same = (np.isnan(da) & np.isnan(db)) | (da == db)
            da, db = np.where(same, 0.0, da), np.where(same, 0.0, db)
        if not (np.all(np.isfinite(da)) and np.all(np.isfinite(db))):
            return np.inf
        scale = max(np.max(np.abs(da), initial=0.0), np.max(np.abs(db), initial=0.0))
        return float(np.max(np.abs(da - db), initial=0.0) / scale) if scale else 0.0


def _matches(a: list, b: list, nan_equal: bool = True) -> bool:
    return len(a) == len(b) and departure(a, b, nan_equal)[0] is None


# -- the rules, their variants and the mistakes -------------------------------------------------


def reference(key: str, hp: dict, eps: float | None = None):
    """The dlfs rule ``key`` with the learner's hyperparameters (ε given apart)."""
    lr, eps = hp["lr"], hp.get("eps") if eps is None else eps
    if key == "sgd":
        return dlfs_optim.SGD(lr)
    if key == "momentum":
        return dlfs_optim.Momentum(lr, hp["momentum"])
    if key == "nesterov":
        return dlfs_optim.Nesterov(lr, hp["momentum"])
    if key == "adagrad":
        return dlfs_optim.AdaGrad(lr, eps=eps)
    if key == "rmsprop":
        return dlfs_optim.RMSprop(lr, alpha=hp["rho"], eps=eps)
    if key == "adadelta":
        return dlfs_optim.AdaDelta(lr, rho=hp["rho"], eps=eps)
    betas = (hp["beta1"], hp["beta2"])
    if key == "adam":
        return dlfs_optim.Adam(lr, betas, eps)
    return dlfs_optim.AdamW(lr, betas, eps, weight_decay=hp["weight_decay"])


def _eps_guesses(hp: dict, names: dict, rule: Rule) -> list[float]:
    if "eps" not in hp:
        return [None]
    if names.get("eps"):
        return [hp["eps"]]
    return list(dict.fromkeys((*EPS_GUESSES, rule.defaults["eps"])))


def variants(key: str, hp: dict, eps_list: list):
    """(name, make) of each documented variant of rule ``key``."""
    if key == "adam":
        for eps in eps_list:
            yield "book-adam", lambda eps=eps: formulas.EfficientAdam(
                lr=hp["lr"], beta1=hp["beta1"], beta2=hp["beta2"], eps=eps)


def mistakes(key: str, hp: dict, eps_list: list):
    """(code, make) of each known mistake in rule ``key`` written as a formula."""
    lr = hp["lr"]
    if key == "nesterov":
        yield "nesterov-order", lambda: formulas.NesterovOldOrder(lr=lr, momentum=hp["momentum"])
    # ε below 1e-8 added outside moves a parameter by less than the comparison's tolerance
    for eps in [e for e in eps_list if e is not None and e >= 1e-8]:
        if key in ("adagrad", "rmsprop"):
            yield "eps-outside-denominator", lambda eps=eps: formulas.EpsOutside(
                lr=lr, eps=eps, rho=hp.get("rho"))
        if key in ("adam", "adamw"):
            for book in (False, True):
                yield "eps-outside-denominator", lambda eps=eps, book=book: (
                    formulas.AdamEpsOutside(lr=lr, beta1=hp["beta1"], beta2=hp["beta2"],
                                            eps=eps, book=book))
            for correct in ("", "m", "v"):
                yield "missing-bias-correction", lambda eps=eps, correct=correct: (
                    formulas.AdamUncorrected(lr=lr, beta1=hp["beta1"], beta2=hp["beta2"],
                                             eps=eps, correct=correct))


# -- the check ----------------------------------------------------------------------------------


def check_optimizer(obj, reference_name: str | None = None, name: str | None = None) -> Result:
    """The check of a learner's optimizer class (or instance) ``obj``.

    ``reference_name``: the rule it is meant to be (a key of OPTIMIZER_NAMES or a dlfs class
    name, any case); by default read from ``name``, else from the class's name.
    """
    name = name or getattr(obj, "__name__", type(obj).__name__)
    with np.errstate(all="ignore"):  # the learner's 0/0 is a finding, not a warning
        return _check(obj, reference_name, name)


def _check(obj, reference_name, name) -> Result:
    key = rule_key(reference_name or name)
    if key is None:
        raise CheckError("check.unknown_optimizer", name=reference_name or name,
                         names=", ".join(sorted(set(OPTIMIZER_NAMES))))
    rule = RULES[key]
    learner = Learner(obj, name)

    def result(verdict, diagnoses, variant=None, first=None, error=None):
        return Result(name, "optimizer", rule.reference, verdict, variant, first, error,
                      diagnoses)

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

    hp, names = read_hyperparameters(instance, learner, rule)
    try:
        reference(key, hp, _eps_guesses(hp, names, rule)[0])
    except ValueError as error:
        raise CheckError("check.bad_hyperparameter", name=name, error=str(error)) from None
    theta, grads = scenario()
    mine = run(instance, theta, grads)
    if mine.error is not None:
        diagnoses = [_failure(mine.error, learner, "update")]
        if _keys_interfere(learner, hp):
            diagnoses.append(_diagnosis("shared-state", learner))
        return result("fail", diagnoses, first=mine.error_step)
    if mine.rebound is None and all(np.array_equal(mine.thetas[1][k], theta[k], equal_nan=True)
                                    for k in theta):
        return result("fail", [_diagnosis("unfinished", learner, key="unfinished_nothing")],
                      first=1)

    eps_list = _eps_guesses(hp, names, rule)
    verdict, variant, first, worst, diagnoses = "fail", None, None, None, []
    closest = None
    for eps in eps_list:
        found = departure(mine.thetas, run(reference(key, hp, eps), theta, grads).thetas)
        if closest is None or _closer(found, closest):
            closest = found
        if found[0] is None:
            verdict, worst = "pass", found[1]
            break
    if verdict == "fail":
        for label, make in variants(key, hp, eps_list):
            if _matches(mine.thetas, run(make(), theta, grads).thetas, nan_equal=False):
                verdict, variant = "variant", label
                worst = departure(mine.thetas, run(reference(key, hp, eps_list[0]),
                                                   theta, grads).thetas)[1]
                break
    if verdict == "fail":
        first, worst = closest
        diagnoses = _explain(key, learner, hp, eps_list, mine, theta, grads)

    diagnoses += _habits(learner, rule, hp, names, mine, theta, grads)
    codes = {d.code for d in diagnoses}
    if codes & {"rebinds-params", "ignores-lr"}:
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
    """``unfinished`` for a NotImplementedError, else ``crash``, at the learner's line."""
    files = {learner.file} if learner.file else None
    _, line = learner_frame(error, files)
    if isinstance(error, NotImplementedError):
        return _diagnosis("unfinished", learner, method, line, key="unfinished_raises",
                          method=method)
    return _diagnosis("crash", learner, method, line, method=method,
                      error=f"{type(error).__name__}: {error}"[:300])


def _explain(key, learner, hp, eps_list, mine, theta, grads) -> list[Diagnosis]:
    """The known mistakes that reproduce the learner's numbers."""
    found = []
    stateful = key != "sgd"
    reset = stateful and _matches(mine.thetas, run(_FreshEachStep(learner.make), theta,
                                                   grads).thetas)
    if reset:
        found.append(_diagnosis("state-reset", learner))
    codes = set()
    for code, make in mistakes(key, hp, eps_list):
        if code in codes:
            continue
        formula = _FreshEachStep(make) if reset else make()
        if _matches(mine.thetas, run(formula, theta, grads).thetas):
            codes.add(code)
            found.append(_diagnosis(code, learner))
    if _nan_on_zero_gradient(learner):
        found.append(_diagnosis("nan-on-zero-grad", learner))
    if stateful and not reset and _keys_interfere(learner, hp):
        found.append(_diagnosis("shared-state", learner))
    return found


def _nan_on_zero_gradient(learner: Learner) -> bool:
    params = {"W": np.ones((2, 2)), "b": np.zeros(2)}
    zeros = [{"W": np.zeros((2, 2)), "b": np.zeros(2)}] * 2
    try:
        out = run(learner.make(), params, zeros)
    except (Exception, SystemExit):
        return False
    return out.error is None and not all(np.all(np.isfinite(v)) for v in out.thetas[-1].values())


def _keys_interfere(learner: Learner, hp: dict) -> bool:
    """Whether a parameter's steps change when another key of the same shape is updated too:
    one state array shared by every key."""
    rng = np.random.default_rng(7)
    theta = {"a": rng.normal(size=3), "b": rng.normal(size=3)}
    grads = [{"a": rng.normal(size=3), "b": 5 * rng.normal(size=3)} for _ in range(5)]
    try:
        together = run(learner.make(), theta, grads)
        alone = run(learner.make(), {"a": theta["a"]}, [{"a": g["a"]} for g in grads])
    except (Exception, SystemExit):
        return False
    if together.error is not None or alone.error is not None:
        return False
    return not _matches([{"a": t["a"]} for t in together.thetas], alone.thetas)


def _habits(learner, rule, hp, names, mine, theta, grads) -> list[Diagnosis]:
    """What is wrong whatever the numbers: a new array in params, writing into grads, an lr
    without effect, an unusual default."""
    found = []
    if mine.rebound is not None:
        found.append(_diagnosis("rebinds-params", learner))
    if mine.mutated is not None:
        found.append(_diagnosis("mutates-input", learner))
    lr, other = hp["lr"], hp["lr"] / 10
    if learner.lr_argument or names.get("lr"):
        try:
            a = run(learner.make(lr, names.get("lr")), theta, grads[:3])
            b = run(learner.make(other, names.get("lr")), theta, grads[:3])
        except (Exception, SystemExit):
            a = b = None
        if a and b and a.error is None and b.error is None and _matches(a.thetas, b.thetas):
            found.append(_diagnosis("ignores-lr", learner, lr=f"{lr:g}", other=f"{other:g}"))
    if learner.from_class:
        for hyper, usual in rule.usual.items():
            if names.get(hyper) and not any(np.isclose(hp[hyper], u) for u in usual):
                found.append(_diagnosis(
                    "wrong-hyperparameter-default", learner, "__init__",
                    parameter=names[hyper], value=f"{hp[hyper]:g}", rule=rule.reference,
                    usual=" / ".join(f"{u:g}" for u in usual)))
    return found
