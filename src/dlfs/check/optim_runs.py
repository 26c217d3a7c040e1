"""Running an optimizer for sixty steps and comparing its steps (dlfs.check.optimizers).

``scenario`` gives the parameters and gradients every check uses; ``run`` runs an optimizer on
them through the first book's dicts or the second book's lists, records what it did to params
and grads and, for its last step, which of the learner's lines wrote which array;
``departure`` compares two runs step by step; ``detect_interface`` tells the two books'
interfaces apart.
"""

from __future__ import annotations

import inspect
import re
from dataclasses import dataclass

import numpy as np

from dlfs.check._probe import array_leaves, watch_writes

STEPS = 60
TOLERANCE = 1e-8  # relative, per step and parameter: float64 rounding is ~1e-13 here


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
    writes: dict | None = None     # traced: {path: (file, line)} that last changed each array
    resets: dict | None = None     # traced: {path: (file, line)} that put new zeros there


class FreshEachStep:
    """An optimizer made anew for every step: what a learner's state reset amounts to."""

    def __init__(self, make):
        self.make = make

    def update(self, params, grads):
        self.make().update(params, grads)


def containers(params: dict, grads: dict, interface: str):
    """What update is given: the dicts themselves, or lists in the dicts' order."""
    if interface == "list":
        return list(params.values()), list(grads.values())
    return params, grads


def run(optimizer, theta, grads, interface: str = "dict",
        trace: set[str] | None = None, watch: bool = True) -> Run:
    """Runs ``optimizer`` on ``grads`` from ``theta``. ``interface``: how params and grads are
    given ("dict" or "list"). With ``trace`` (the learner's files), the last step runs under
    a line trace and ``Run.writes``/``Run.resets`` say which line wrote which array. Without
    ``watch`` (dlfs's own rules), whether it rebinds params or writes into grads is not
    looked at."""
    params = {key: value.copy() for key, value in theta.items()}
    keys = list(params)
    out = Run([_snapshot(params)])
    for step, step_grads in enumerate(grads, 1):
        given = {key: g.copy() for key, g in step_grads.items()} if watch else step_grads
        arrays = dict(params)
        held, handed = containers(params, given, interface)
        try:
            if trace is not None and step == len(grads):
                _traced(optimizer, held, handed, trace, out)
            else:
                optimizer.update(held, handed)
        except (Exception, SystemExit) as error:
            out.error, out.error_step = error, step
            return out
        if interface == "list":
            params = dict(zip(keys, held)) if len(held) == len(keys) else {}
        if out.rebound is None and any(params.get(k) is not a for k, a in arrays.items()):
            out.rebound = step
        if watch and out.mutated is None and not all(
                given[k] is g or _same(given[k], g) for k, g in step_grads.items()):
            out.mutated = step
        out.thetas.append(_snapshot(params))
    return out


def _traced(optimizer, params, grads, files, out: Run) -> None:
    """Runs one update under watch_writes, watching params ("params", key), grads ("grads",
    key) and the optimizer's state ("state", attribute, …), into ``out.writes`` and
    ``out.resets``; re-raises its exception."""
    errors = []

    def call():
        try:
            optimizer.update(params, grads)
        except (Exception, SystemExit) as error:
            errors.append(error)

    def watch():
        found = {("params", *path): a for path, a in array_leaves(params, depth=1).items()}
        found.update({("grads", *path): a for path, a in array_leaves(grads, depth=1).items()})
        state = getattr(getattr(optimizer, "inner", optimizer), "__dict__", {})
        found.update({("state", *path): a for path, a in array_leaves(state, depth=3).items()})
        return found

    out.writes, out.resets = watch_writes(call, watch, files)
    if errors:
        raise errors[0]


def _same(a, b) -> bool:
    """Whether two arrays hold the same numbers (NaN equal to NaN)."""
    return a.shape == b.shape and bool(((a == b) | (np.isnan(a) & np.isnan(b))).all())


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
    first, worst, _ = first_departure(a, b, nan_equal)
    return first, worst


def first_departure(a: list, b: list, nan_equal: bool = False):
    """departure(), and the key of the first parameter that departs."""
    steps = min(len(a), len(b))
    errors = np.zeros((max(steps - 1, 0), len(b[0]) if b else 0))
    for column, key in enumerate(b[0] if b else ()):
        errors[:, column] = _step_errors([t.get(key) for t in a[:steps]],
                                         [t[key] for t in b[:steps]], nan_equal)
    first = where = None
    bad = np.argwhere(errors > TOLERANCE)
    if len(bad):
        step, column = bad[0]
        first, where = int(step) + 1, list(b[0])[column]
    worst = float(errors.max(initial=0.0))
    if len(a) < len(b) and first is None:
        first, worst = len(a), np.inf
    return first, worst, where


def _step_errors(mine: list, theirs: list, nan_equal: bool) -> np.ndarray:
    """Each step's relative difference between the changes of one parameter: the largest
    difference over the larger of the two changes (inf where either is not finite or the
    shapes differ)."""
    shape = theirs[0].shape
    if any(m is None or m.shape != shape for m in mine):
        return np.array([_relative(m - p, t - q, nan_equal)
                         if m is not None and p is not None and m.shape == t.shape == p.shape
                         else np.inf
                         for p, m, q, t in zip(mine, mine[1:], theirs, theirs[1:])])
    da = np.diff(np.stack(mine).reshape(len(mine), -1), axis=0)
    db = np.diff(np.stack(theirs).reshape(len(theirs), -1), axis=0)
    with np.errstate(invalid="ignore"):
        if nan_equal:
            same = (np.isnan(da) & np.isnan(db)) | (da == db)
            da, db = np.where(same, 0.0, da), np.where(same, 0.0, db)
        finite = np.isfinite(da).all(axis=1) & np.isfinite(db).all(axis=1)
        scale = np.maximum(np.abs(da).max(axis=1, initial=0.0),
                           np.abs(db).max(axis=1, initial=0.0))
        diff = np.abs(da - db).max(axis=1, initial=0.0)
        error = np.divide(diff, scale, out=np.zeros_like(diff), where=scale > 0)
    error[~finite] = np.inf
    return error


def _relative(da, db, nan_equal: bool) -> float:
    with np.errstate(invalid="ignore"):
        if nan_equal:
            same = (np.isnan(da) & np.isnan(db)) | (da == db)
            da, db = np.where(same, 0.0, da), np.where(same, 0.0, db)
        if not (np.all(np.isfinite(da)) and np.all(np.isfinite(db))):
            return np.inf
        scale = max(np.max(np.abs(da), initial=0.0), np.max(np.abs(db), initial=0.0))
        return float(np.max(np.abs(da - db), initial=0.0) / scale) if scale else 0.0


def matches(a: list, b: list, nan_equal: bool = True) -> bool:
    return len(a) == len(b) and departure(a, b, nan_equal)[0] is None


def detect_interface(learner) -> str:
    """"dict" (the first book's update(params: dict, grads: dict)) or "list" (the second
    book's lists): the one whose first two steps run; where neither does, what the source of
    update indexes params with."""
    theta, grads = scenario(2)
    for interface in ("dict", "list"):
        try:
            out = run(learner.make(), theta, grads, interface)
        except (Exception, SystemExit):
            return "dict"
        if out.error is None:
            return interface
    try:
        source = inspect.getsource(learner.cls.update)
    except (OSError, TypeError, AttributeError):
        return "dict"
    return "list" if _LIST_SOURCE.search(source) else "dict"


_LIST_SOURCE = re.compile(r"range\(\s*len\(\s*params|enumerate\(\s*params|zip\(\s*params"
                          r"|params\[\s*(i|j|idx|index|n)\s*\]")
