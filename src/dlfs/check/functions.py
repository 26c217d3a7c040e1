"""Checks a learner's function against dlfs (book chapters 3 and 4).

    >>> from dlfs.check.functions import check_function
    >>> def softmax(x):
    ...     return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)
    >>> result = check_function(softmax, "softmax", "softmax")
    >>> result.verdict, result.codes(), result.first_bad_step
    ('fail', ['overflow'], 3)

Each function is called on fixed float64 inputs: 1-D, a batch of one, a batch of several,
large values (±1000, where exp overflows), and for the losses one-hot targets, label indices
and a probability of exactly 0. Its result is compared with dlfs's (``dlfs.functions``,
``dlfs.gradient``; for the derivatives, the exact formula) and with the book's documented
variants. A function written for one sample, or for one-hot targets only, as the book's first
versions are, is a variant that names the limitation, not a failure.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from dlfs import functions as ref
from dlfs.check import _probe
from dlfs.check._probe import CaseResult, diagnosis
from dlfs.check.layer_mistakes import wrong_axis_softmaxes
from dlfs.check.result import Result

# Lower-case names a learner gives these functions (book names first) -> the reference.
_ALIASES = {
    "softmax": ("softmax",),
    "sigmoid": ("sigmoid", "logistic"),
    "relu": ("relu",),
    "tanh": ("tanh",),
    "step_function": ("step_function", "step"),
    "sigmoid_grad": ("sigmoid_grad", "sigmoid_derivative", "sigmoid_prime", "dsigmoid"),
    "relu_grad": ("relu_grad", "relu_derivative", "relu_prime", "drelu"),
    "cross_entropy_error": ("cross_entropy_error", "cross_entropy", "cross_entropy_loss",
                            "crossentropy", "cee"),
    "mean_squared_error": ("mean_squared_error", "mean_square_error", "mse",
                           "sum_squares_error", "sum_squared_error", "squared_error", "sse"),
    "softmax_loss": ("softmax_loss", "softmax_cross_entropy"),
    "numerical_gradient": ("numerical_gradient", "numerical_grad", "numeric_gradient",
                           "_numerical_gradient_1d", "_numerical_gradient_no_batch",
                           "numerical_gradient_1d", "numerical_gradient_2d"),
    "numerical_diff": ("numerical_diff", "numerical_derivative", "numeric_diff"),
}
FUNCTION_NAMES: dict[str, str] = {
    spelling: reference
    for reference, aliases in _ALIASES.items()
    for alias in aliases
    for spelling in (alias, alias.replace("_", ""))
}

LOG_ZERO_FLOOR = -np.log(1e-4)  # a loss for p = 0 must be at least −log(1e-4) ≈ 9.2
DELTA = 1e-7  # the book's cross-entropy δ


@dataclass
class Case:
    """One input: the arguments (arrays are copied afresh for every call), the value expected
    from the reference and from each variant that differs on it, and how to describe it."""

    args: tuple
    expected: dict[str, Any]
    label: str  # catalogue key under [check-layers], e.g. "case-large"
    shape: tuple = ()
    groups: frozenset = frozenset()
    zero_prob: bool = False
    tolerance: float = _probe.SAME
    factory: Callable[[], tuple] | None = None  # numerical_gradient: (f, x), x to be restored
    mismatch: str = "wrong-output"  # the catalogue key that explains a wrong number here
    reference: str = ""  # the function it checks (set by check_function)


@dataclass
class Spec:
    cases: Callable[[np.random.Generator], list[Case]]
    variants: tuple[str, ...] = ()
    optional: dict[str, str] = field(default_factory=dict)


# -- the inputs --------------------------------------------------------------------------------

CLASSES = 10


def _elementwise(reference: Callable, rng, large: float = 1000.0, scalars: bool = False):
    x1 = rng.standard_normal(7) * 3
    x2 = rng.standard_normal((3, 4)) * 3
    x4 = rng.standard_normal((2, 3, 2, 2))
    big = np.array([-large, -large * 0.8, -3.0, 3.0, large * 0.8, large])
    cases = [Case((x1,), {"reference": reference(x1)}, "case-plain", x1.shape),
             Case((x2,), {"reference": reference(x2)}, "case-plain", x2.shape),
             Case((x4,), {"reference": reference(x4)}, "case-plain", x4.shape),
             Case((big,), {"reference": reference(big)}, "case-large", big.shape)]
    if scalars:
        for case in cases:
            case.groups = frozenset({"array"})
        cases += [Case((value,), {"reference": reference(np.float64(value))}, "case-scalar",
                       (), frozenset({"scalar"})) for value in (2.5, -1.5, 0.0)]
    return cases


def _step_cases(rng):
    cases = _elementwise(ref.step_function, rng, scalars=True)
    edge = np.array([-1.0, 0.0, 1e-12, 1.0])  # h(0) = 0: the book's x > 0
    return cases[:1] + [Case((edge,), {"reference": ref.step_function(edge)}, "case-edge",
                             edge.shape, frozenset({"array"}))] + cases[1:]


def _sigmoid_grad(x):
    s = ref.sigmoid(x)
    return s * (1 - s)


def _relu_grad_cases(rng):
    cases = _elementwise(lambda x: (np.asarray(x) > 0).astype(np.float64), rng)
    for case in cases:  # ReLU has no derivative at 0; keep every input away from it
        (x,) = case.args
        case.args = (np.where(np.abs(x) < 0.1, 0.5, x),)
        case.expected = {"reference": (case.args[0] > 0).astype(np.float64)}
    return cases


def _softmax_cases(rng):
    one = rng.standard_normal(CLASSES) * 2
    single = rng.standard_normal((1, CLASSES)) * 2
    batch = rng.standard_normal((4, CLASSES)) * 2
    big_one = one + 1000
    big_batch = batch + np.array([[1000.0], [-1000.0], [0.0], [500.0]])
    spread = np.array([-1000.0, 0.0, 1000.0, 999.0])
    batch_group = frozenset({"batch"})
    return [Case((one,), {"reference": ref.softmax(one)}, "case-plain", one.shape),
            Case((single,), {"reference": ref.softmax(single)}, "case-plain", single.shape),
            Case((batch,), {"reference": ref.softmax(batch)}, "case-plain", batch.shape,
                 batch_group),
            Case((big_one,), {"reference": ref.softmax(big_one)}, "case-large", big_one.shape),
            Case((spread,), {"reference": ref.softmax(spread)}, "case-large", spread.shape),
            Case((big_batch,), {"reference": ref.softmax(big_batch)}, "case-large-rows",
                 big_batch.shape, batch_group)]


def _book_cross_entropy(y, t):
    """The book's common/functions.py: −Σ log(y[label] + 1e-7) / N."""
    y = np.asarray(y, dtype=np.float64).reshape(-1, np.shape(y)[-1])
    t = np.asarray(t)
    labels = t.reshape(y.shape).argmax(axis=1) if t.size == y.size else t.reshape(-1)
    return -np.sum(np.log(y[np.arange(y.shape[0]), labels] + DELTA)) / y.shape[0]


def _loss_inputs(rng, to_y: Callable):
    """(y or scores, t, label key, groups) for one-hot and label targets, single and batched."""
    out = []
    for n, shape in ((None, (CLASSES,)), (1, (1, CLASSES)), (4, (4, CLASSES))):
        scores = rng.standard_normal(shape) * 2
        labels = rng.integers(0, CLASSES, size=() if n is None else (n,))
        one_hot = np.eye(CLASSES)[labels]
        batch = frozenset({"batch"}) if n and n > 1 else frozenset()
        out.append((to_y(scores), one_hot, "case-one-hot", batch | {"one-hot"}))
        out.append((to_y(scores), labels, "case-labels", batch | {"labels"}))
    return out


def _identity(x):
    return x


def _cross_entropy_cases(rng):
    cases = [Case((y, t), {"reference": ref.cross_entropy_error(y, t),
                           "book-cross-entropy-delta": _book_cross_entropy(y, t)},
                  label, np.shape(y), groups)
             for y, t, label, groups in _loss_inputs(rng, ref.softmax)]
    y = ref.softmax(rng.standard_normal(CLASSES))
    y[3] = 0.0
    y /= y.sum()
    for t, groups in ((np.eye(CLASSES)[3], {"one-hot"}), (np.array([3]), {"labels"})):
        args = (y, t) if t.ndim == 1 and t.size == CLASSES else (y[np.newaxis], t)
        cases.append(Case(args, {"reference": None}, "case-zero-prob", np.shape(args[0]),
                          frozenset(groups), zero_prob=True))
    return cases


def _softmax_loss_cases(rng):
    cases = []
    for x, t, label, groups in _loss_inputs(rng, _identity):
        cases.append(Case((x, t), {"reference": ref.cross_entropy_error(ref.softmax(x), t),
                                   "book-cross-entropy-delta":
                                       _book_cross_entropy(ref.softmax(x), t)},
                          label, x.shape, groups))
    x = rng.standard_normal((4, CLASSES)) + 1000
    t = rng.integers(0, CLASSES, 4)
    cases.append(Case((x, t), {"reference": ref.cross_entropy_error(ref.softmax(x), t),
                               "book-cross-entropy-delta": _book_cross_entropy(ref.softmax(x),
                                                                               t)},
                      "case-large", x.shape, frozenset({"labels", "batch"})))
    return cases


def _mse_models(y, t):
    y, t = np.asarray(y, dtype=np.float64), np.asarray(t, dtype=np.float64)
    return {"reference": ref.mean_squared_error(y, t),
            "book-mse-half-sum": 0.5 * np.sum((y - t) ** 2),
            "mean-over-elements": np.mean((y - t) ** 2),
            "mse-sum-over-len": np.sum((y - t) ** 2) / len(y)}


def _mse_cases(rng):
    cases = []
    for shape in ((CLASSES,), (1, CLASSES), (4, CLASSES), (3,)):
        y = ref.softmax(rng.standard_normal(shape))
        t = (np.eye(shape[-1])[rng.integers(0, shape[-1], shape[:-1])] if len(shape) > 1
             else np.eye(shape[-1])[rng.integers(0, shape[-1])])
        if shape == (3,):  # a regression target, not a one-hot row
            y, t = rng.standard_normal(3) * 5, rng.standard_normal(3) * 5
        cases.append(Case((y, t), _mse_models(y, t), "case-plain", shape))
    return cases


def _gradient_case(f, x, gradient, label, groups=frozenset(), reads_shared=False):
    """A numerical_gradient input: f and a fresh copy of x on every call (with f bound to that
    copy where it reads x from outside rather than from its argument)."""
    def factory():
        fresh = x.copy()
        return (lambda _: f(fresh)) if reads_shared else f, fresh
    return Case((f, x), {"reference": gradient}, label, x.shape, frozenset(groups),
                tolerance=1e-6, factory=factory,
                mismatch="perturbs-copy" if reads_shared else "wrong-derivative")


def _numerical_gradient_cases(rng):
    x2 = rng.standard_normal(5)
    x3 = rng.standard_normal((3, 4))
    c = rng.random((3, 4)) + 0.5
    x4 = rng.standard_normal(4)
    return [
        # the book's function_2 at (3, 4): gradient (6, 8)
        _gradient_case(lambda v: np.sum(v ** 2), np.array([3.0, 4.0]), np.array([6.0, 8.0]),
                       "case-function-2"),
        _gradient_case(lambda v: np.sum(np.sin(v) * v), x2, np.cos(x2) * x2 + np.sin(x2),
                       "case-plain"),
        _gradient_case(lambda v: np.sum(c * v ** 2) + np.sum(v[0] * v[1]), x3,
                       2 * c * x3 + np.vstack([x3[1], x3[0], np.zeros(4)]), "case-matrix",
                       {"2-d"}),
        # The book's networks pass f = lambda W: net.loss(x, t), which ignores its argument
        # and reads the weights in place: only a numerical_gradient that perturbs x itself
        # (and puts it back) works there.
        _gradient_case(lambda v: np.sum(v ** 3), x4, 3 * x4 ** 2, "case-shared",
                       reads_shared=True),
    ]


def _numerical_diff_cases(_rng):
    cases = []
    for f, x, derivative in ((lambda v: 0.01 * v ** 2 + 0.1 * v, 5.0, 0.2),
                             (lambda v: 0.01 * v ** 2 + 0.1 * v, 10.0, 0.3),
                             (np.exp, 1.0, np.e),
                             (np.sin, 2.0, np.cos(2.0))):
        cases.append(Case((f, x), {"reference": derivative}, "case-scalar-function", (),
                          tolerance=1e-6, mismatch="wrong-derivative"))
    return cases


SPECS: dict[str, Spec] = {
    "step_function": Spec(_step_cases, optional={"array": "scalar-only",
                                                 "scalar": "array-only"}),
    "sigmoid": Spec(lambda rng: _elementwise(ref.sigmoid, rng)),
    "relu": Spec(lambda rng: _elementwise(ref.relu, rng, large=1e6)),
    "tanh": Spec(lambda rng: _elementwise(ref.tanh, rng)),
    "sigmoid_grad": Spec(lambda rng: _elementwise(_sigmoid_grad, rng)),
    "relu_grad": Spec(_relu_grad_cases),
    "softmax": Spec(_softmax_cases, optional={"batch": "no-batch"}),
    "cross_entropy_error": Spec(_cross_entropy_cases, ("book-cross-entropy-delta",),
                                {"one-hot": "labels-only", "labels": "one-hot-only",
                                 "batch": "no-batch"}),
    "softmax_loss": Spec(_softmax_loss_cases, ("book-cross-entropy-delta",),
                         {"one-hot": "labels-only", "labels": "one-hot-only",
                          "batch": "no-batch"}),
    "mean_squared_error": Spec(_mse_cases, ("book-mse-half-sum", "mean-over-elements",
                                            "mse-sum-over-len")),
    "numerical_gradient": Spec(_numerical_gradient_cases, optional={"2-d": "one-d-only"}),
    "numerical_diff": Spec(_numerical_diff_cases),
}


# -- the check ---------------------------------------------------------------------------------


def reference_name(reference: str) -> str:
    """The reference for a name or alias ("CrossEntropy" -> "cross_entropy_error")."""
    key = str(reference).lower()
    if key in SPECS:
        return key
    if key in FUNCTION_NAMES:
        return FUNCTION_NAMES[key]
    raise ValueError(f"reference {reference!r} is not a function dlfs.check knows; use one of "
                     f"{', '.join(sorted(SPECS))}")


def check_function(func, reference: str, name: str) -> Result:
    """Checks the learner's function ``func`` against the dlfs function ``reference`` (a key of
    SPECS or an alias in FUNCTION_NAMES); ``name`` is the learner's name for it."""
    reference = reference_name(reference)
    if inspect.isclass(func):  # a class is checked as a layer, whatever its name
        from dlfs.check.layers import LAYER_NAMES, check_layer
        layer = LAYER_NAMES.get(str(name).lower()) or LAYER_NAMES.get(reference.lower())
        if layer is not None:
            return check_layer(func, layer, name)
    if not callable(func) or inspect.isclass(func):
        raise ValueError(f"{name!r} must be a function (def {name}(...)), got "
                         f"{type(func).__name__}")
    spec = SPECS[reference]
    files = _probe.files_of(func)
    try:
        return _check(func, reference, name, spec, files)
    except Exception as error:  # a learner's function the checks did not foresee: its line
        when = _probe.text("case-plain", shape="()")
        file, line = _probe.method_line(func)
        return Result(name, "function", reference, "fail", None, 0, None,
                      [_probe.crash_diagnosis(error, files, when, (file, line))])


def _check(func, reference, name, spec, files) -> Result:
    rng = np.random.default_rng(0)
    results, warnings_found = [], []
    for index, case in enumerate(spec.cases(rng)):
        case.reference = reference
        result, warning = _run_case(func, case, index, files)
        results.append(result)
        if warning is not None and not warnings_found:
            warnings_found.append(warning)
    return _probe.conclude(name, "function", reference, results, spec.variants, spec.optional,
                           warnings_found)


def _fresh(args):
    return tuple(arg.copy() if isinstance(arg, np.ndarray) else arg for arg in args)


def _when(index: int, case: Case) -> dict[str, str]:
    shape = str(tuple(case.shape))
    labels = _probe.text(case.label, shape=shape)
    return {lang: _probe.catalogue.text(f"{_probe.TABLE}.input", lang, index=index,
                                        case=labels[lang]) for lang in labels}


def _run_case(func, case: Case, index: int, files: set[str]):
    """(CaseResult, a mutates-input warning or None) for one input."""
    if case.factory is not None:
        args = case.factory()
        before = args[1].copy()
    else:
        args = _fresh(case.args)
    outcome = _probe.run(func, *args, files=files)
    result = CaseResult(index, case.groups, loose=case.zero_prob)
    when = _when(index, case)
    file, line = _probe.method_line(func)
    restored_ok = case.factory is None or np.array_equal(args[1], before)
    warning = None
    if outcome.error is None and case.factory is None:
        warning = _mutation(func, case, args, files, when)
    if outcome.error is not None:
        result.problem = _probe.crash_diagnosis(outcome.error, files, when)
        return result, warning
    value = outcome.value
    if value is None:
        result.problem = diagnosis("unfinished", "unfinished-none", file, line, when=when)
        return result, warning
    if not restored_ok:
        result.problem = diagnosis("not-restored", "not-restored", file, line, when=when)
        return result, warning
    array = _probe.as_float_array(value)
    if array is None:
        result.problem = diagnosis("wrong-output", "not-numbers", file, line, when=when,
                                   kind=type(value).__name__)
        return result, warning
    if case.zero_prob and array.shape != ():
        result.problem = diagnosis("wrong-shape", "wrong-shape-output",
                                   *_result_line(func, case, files, (file, line)), when=when,
                                   got=str(array.shape), want="()")
        return result, warning
    if case.zero_prob:
        if np.isfinite(array).all() and array >= LOG_ZERO_FLOOR:
            result.models = {"reference", *SPECS_VARIANTS_ALL}
            result.error = None
        elif not np.isfinite(array).all():
            at = outcome.event(("divide", "invalid")) or (file, line)
            result.problem = diagnosis("log-zero", "log-zero", *at, when=when)
        else:
            result.problem = diagnosis("wrong-output", "zero-prob-too-small", file, line,
                                       when=when, got=float(np.sum(array)),
                                       floor=LOG_ZERO_FLOOR)
        return result, warning
    expected = {model: want for model, want in case.expected.items()}
    want = np.asarray(expected["reference"], dtype=np.float64)
    if array.shape != want.shape:
        result.error = None
        result.problem = diagnosis("wrong-shape", "wrong-shape-output",
                                   *_result_line(func, case, files, (file, line)), when=when,
                                   got=str(array.shape), want=str(want.shape))
        return result, warning
    models, error = _probe.matches(array, expected, case.tolerance)
    # variants that agree with the reference on this input count as matched here
    for variant in SPECS_VARIANTS_ALL:
        if variant not in expected and "reference" in models:
            models.add(variant)
    result.error = error
    result.models = models
    if models:
        return result, warning
    if not np.isfinite(array).all() and np.isfinite(want).all():
        at = outcome.event(("overflow", "invalid", "divide")) or (file, line)
        result.problem = diagnosis("overflow", "overflow", *at, when=when)
        return result, warning
    at = _result_line(func, case, files, (file, line))
    mistake = _mistake(case, array)
    if mistake is not None:
        result.problem = diagnosis(mistake, mistake, *at, when=when)
    else:
        key = case.mismatch
        if key == "perturbs-copy" and not np.allclose(array, 0):
            key = "wrong-derivative"  # f was evaluated at x ± h, just not accurately
        code = "perturbs-copy" if key == "perturbs-copy" else "wrong-output"
        result.problem = diagnosis(code, key, *at, when=when, error=error)
    return result, warning


def _result_line(func, case: Case, files, fallback):
    """(file, line) of the learner's statement that produced the result on ``case``, from a
    traced rerun; ``fallback`` where none is found."""
    writes = _probe.trace_writes(lambda: func(*_call_args(case)), files)
    return writes.returned if writes.returned[0] is not None else fallback


def _call_args(case: Case) -> tuple:
    """Fresh arguments for one more call of the same input."""
    return case.factory() if case.factory is not None else _fresh(case.args)


def _mistake(case: Case, array) -> str | None:
    """The named mistake that explains a wrong result on ``case``, or None:
    softmax-wrong-axis (softmax normalised down the batch, axis 0, on a 2-D x) or
    forward-difference (a one-sided difference where the book takes the central one)."""
    if case.reference == "softmax":
        (x,) = case.args
        for wrong in wrong_axis_softmaxes(x, whole=False):
            if _probe.rel_error(array, wrong) <= 1e-9:
                return "softmax-wrong-axis"
        return None
    if case.reference in ("numerical_gradient", "numerical_diff"):
        for h in ONE_SIDED_H:
            for sign in (1, -1):
                model = _one_sided(case, h * sign)
                if model is not None and _probe.rel_error(array, model) <= 1e-6:
                    return "forward-difference"
    return None


ONE_SIDED_H = (1e-4, 1e-5, 1e-6, 1e-3, 1e-7, 1e-2, 1e-8)


def _one_sided(case: Case, h: float):
    """(f(x + h) − f(x)) / h at every element of x (h < 0: the backward difference), with x
    perturbed in place as the book's numerical_gradient does."""
    if case.reference == "numerical_diff":
        f, x = case.args
        with np.errstate(all="ignore"):
            return (f(x + h) - f(x)) / h
    f, x = case.factory()
    grad = np.zeros_like(x)
    with np.errstate(all="ignore"):
        for index in np.ndindex(x.shape):
            keep = float(x[index])
            base = float(f(x))
            x[index] = keep + h
            grad[index] = (float(f(x)) - base) / h
            x[index] = keep
    return grad


def _mutation(func, case: Case, args, files, when):
    """A mutates-input warning where the call wrote into one of its array arguments."""
    originals = [arg for arg in case.args if isinstance(arg, np.ndarray)]
    given = [arg for arg in args if isinstance(arg, np.ndarray)]
    if all(np.array_equal(a, b, equal_nan=True) for a, b in zip(given, originals)):
        return None
    names = list(inspect.signature(func).parameters) if _has_signature(func) else []
    fresh = _fresh(case.args)
    watched = {(names[i] if i < len(names) else f"#{i}"): arg
               for i, arg in enumerate(fresh) if isinstance(arg, np.ndarray)}
    name, file, line = _probe.first_writing_line(lambda: func(*fresh), watched, files)
    if file is None:
        file, line = _probe.method_line(func)
    return diagnosis("mutates-input", "mutates-input", file, line, when=when,
                     argument=name or "x")


def _has_signature(func) -> bool:
    try:
        inspect.signature(func)
    except (TypeError, ValueError):
        return False
    return True


SPECS_VARIANTS_ALL = tuple(sorted({variant for spec in SPECS.values()
                                   for variant in spec.variants}))
