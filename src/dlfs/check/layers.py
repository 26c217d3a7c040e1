"""Checks a learner's layer class against dlfs's (book 5.5, 5.6, 6.3 and 6.4).

    >>> from dlfs.check.layers import check_layer
    >>> class Relu:
    ...     def forward(self, x):
    ...         self.mask = x <= 0
    ...         out = x.copy()
    ...         out[self.mask] = 0
    ...         return out
    ...     def backward(self, dout):
    ...         dout[self.mask] = 0      # the book's: writes into the caller's array
    ...         return dout
    >>> result = check_layer(Relu, "Relu", "Relu")
    >>> result.verdict, result.codes()
    ('warn', ['mutates-input'])

The class is built as the book builds it (``Affine(W, b)``, ``BatchNormalization(gamma, beta)``,
``Dropout(dropout_ratio)``, ``Relu()``), its hyperparameters read from its attributes or
constructor defaults. On fixed float64 inputs (batches of 1 and several, 4-D inputs, large
values) it must give dlfs's forward values, and from ``backward(dout)`` dlfs's dx and parameter
gradients (``dW``/``db``, ``dgamma``/``dbeta``; or the second book's ``self.params``/``self.grads``
lists, written in place). Its backward is also checked by central differences of its own
forward (``dlfs.gradient``), so a message can say whether the forward or the backward is wrong.
A difference that a known mistake explains is named (``dlfs.check.layer_mistakes``), and every
numeric diagnosis names the learner's statement that wrote the departing value, found by
tracing a rerun of that input (``_probe.trace_writes``). Batch norm's test mode and dropout are
checked in ``dlfs.check.layer_modes``.
"""

from __future__ import annotations

import inspect
from collections.abc import Callable
from dataclasses import dataclass, field

import numpy as np

from dlfs import layers as ref
from dlfs.check import _probe
from dlfs.check import layer_mistakes as mistakes
from dlfs.check._probe import CaseResult, diagnosis
from dlfs.check.result import Result
from dlfs.functions import softmax
from dlfs.gradient import numerical_gradient, relative_error

_ALIASES = {
    "Affine": ("affine", "dense", "linear", "fullyconnected", "fully_connected", "fc"),
    "Relu": ("relu",),
    "Sigmoid": ("sigmoid",),
    "Tanh": ("tanh",),
    "BatchNormalization": ("batchnormalization", "batch_normalization", "batchnormalisation",
                           "batchnorm", "batch_norm", "bn"),
    "Dropout": ("dropout",),
    # the second book's Softmax layer (common/layers.py of Deep Learning from Scratch 2)
    "Softmax": ("softmax",),
    "SoftmaxWithLoss": ("softmaxwithloss", "softmax_with_loss", "softmaxloss",
                        "softmaxcrossentropy", "softmax_cross_entropy"),
}
LAYER_NAMES: dict[str, str] = {
    spelling: reference
    for reference, aliases in _ALIASES.items()
    for alias in aliases
    for spelling in (alias, alias.replace("_", ""))
}

LOG_ZERO_FLOOR = -np.log(1e-4)  # a loss for p = 0 must be at least −log(1e-4) ≈ 9.2
NUMERIC_H = 1e-5
NUMERIC_TOL = 1e-5  # central differences of the learner's forward vs its backward
BN_EPS_CANDIDATES = (1e-6, 1e-5, 1e-7, 1e-8, 1e-3, 1e-4, 1e-9, 1e-10)
RATIO_NAMES = ("dropout_ratio", "dropout_ration", "ratio", "dropout_rate", "drop_ratio",
               "drop_rate", "rate", "p")
VARIANTS = ("book-batchnorm-statistics", "torch-batchnorm-statistics",
            "book-cross-entropy-delta", "book-dropout")


@dataclass
class Case:
    x: np.ndarray
    dout: np.ndarray | None
    params: dict[str, np.ndarray] = field(default_factory=dict)
    t: np.ndarray | None = None
    label: str = "case-plain"
    groups: frozenset = frozenset()
    numeric: bool = True
    zero_prob: bool = False  # SoftmaxWithLoss: the correct class's probability underflows to 0


@dataclass
class Spec:
    """How to build the learner's layer and dlfs's from the same arrays, and the inputs."""

    cases: Callable[[np.random.Generator], list[Case]]
    params: tuple[str, ...] = ()
    grads: tuple[str, ...] = ()
    train_flg: bool = False  # pass train_flg=True to forward (BN); the book's Affine has none
    optional: dict[str, str] = field(default_factory=dict)


def _activation_cases(rng, large: bool):
    cases = []
    for shape in ((1, 5), (4, 3), (2, 3, 2, 2)):
        x = rng.standard_normal(shape) * 2
        x = np.where(np.abs(x) < 0.1, 0.5, x)  # away from ReLU's kink, where h matters
        cases.append(Case(x, rng.standard_normal(shape)))
    if large:
        x = np.array([[-1000.0, -800.0, -3.0, 3.0, 800.0, 1000.0]])
        cases.append(Case(x, rng.standard_normal(x.shape), label="case-large", numeric=False))
    return cases


def _affine_cases(rng):
    cases = []
    for n, in_shape, out in ((1, (5,), 3), (4, (5,), 3), (3, (2, 3, 2), 4)):
        x = rng.standard_normal((n, *in_shape))
        size = int(np.prod(in_shape))
        params = {"W": rng.standard_normal((size, out)), "b": rng.standard_normal(out)}
        cases.append(Case(x, rng.standard_normal((n, out)), params,
                          groups=frozenset({"4-d"}) if len(in_shape) > 1 else frozenset()))
    return cases


def _bn_cases(rng):
    cases = []
    for shape, numeric in (((4, 5), True), ((2, 3), True), ((3, 2, 2, 2), True),
                           ((6, 4), False)):
        x = rng.standard_normal(shape) * 2 + 1
        if not numeric:  # one feature of variance ~1e-6: its output shows the ε used
            x[:, 0] = 1e-3 * rng.standard_normal(shape[0])
        size = int(np.prod(shape[1:]))
        params = {"gamma": rng.random(size) + 0.5, "beta": rng.standard_normal(size) * 0.1}
        cases.append(Case(x, rng.standard_normal(shape), params, numeric=numeric,
                          label="case-plain" if numeric else "case-small-variance",
                          groups=frozenset({"4-d"}) if len(shape) > 2 else frozenset()))
    return cases


def _softmax_loss_cases(rng):
    cases = []
    for n in (1, 4):
        x = rng.standard_normal((n, 10)) * 2
        labels = rng.integers(0, 10, n)
        cases.append(Case(x, None, t=np.eye(10)[labels], label="case-one-hot",
                          groups=frozenset({"one-hot"})))
        cases.append(Case(x, None, t=labels, label="case-labels", groups=frozenset({"labels"})))
    x = rng.standard_normal((3, 10)) + np.array([[1000.0], [-1000.0], [0.0]])
    cases.append(Case(x, None, t=rng.integers(0, 10, 3), label="case-large",
                      groups=frozenset({"labels"}), numeric=False))
    x = rng.standard_normal((1, 10))
    x[0, 4] = 1000.0  # softmax gives class 0 exactly 0: log(0) without a δ
    cases.append(Case(x, None, t=np.array([0]), label="case-zero-prob",
                      groups=frozenset({"labels"}), numeric=False, zero_prob=True))
    return cases


def _softmax_layer_cases(rng):
    cases = [Case(rng.standard_normal((n, 10)) * 2, rng.standard_normal((n, 10)))
             for n in (1, 4)]
    x = rng.standard_normal((3, 10)) + np.array([[1000.0], [-1000.0], [0.0]])
    cases.append(Case(x, rng.standard_normal(x.shape), label="case-softmax-rows",
                      numeric=False))
    return cases


class SoftmaxLayer:
    """The second book's Softmax layer: y = softmax(x) row by row; x: (N, C) -> y: (N, C).

        dx = y·(dout − Σ_c dout·y)

    (the Jacobian of softmax applied to dout, row by row).
    """

    def forward(self, x, train_flg=True):
        self.out = softmax(x)
        return self.out

    def backward(self, dout):
        return self.out * (dout - np.sum(dout * self.out, axis=-1, keepdims=True))


SPECS: dict[str, Spec] = {
    "Affine": Spec(_affine_cases, ("W", "b"), ("dW", "db"), optional={"4-d": "two-d-only"}),
    "Relu": Spec(lambda rng: _activation_cases(rng, large=True)),
    "Sigmoid": Spec(lambda rng: _activation_cases(rng, large=True)),
    "Tanh": Spec(lambda rng: _activation_cases(rng, large=True)),
    "BatchNormalization": Spec(_bn_cases, ("gamma", "beta"), ("dgamma", "dbeta"),
                               train_flg=True, optional={"4-d": "two-d-only"}),
    "Softmax": Spec(_softmax_layer_cases),
    "SoftmaxWithLoss": Spec(_softmax_loss_cases,
                            optional={"one-hot": "labels-only", "labels": "one-hot-only"}),
    "Dropout": Spec(lambda rng: []),
}


def reference_name(reference: str) -> str:
    """The reference for a name or alias ("dense" -> "Affine")."""
    if reference in SPECS:
        return reference
    key = str(reference).lower()
    if key in LAYER_NAMES:
        return LAYER_NAMES[key]
    raise ValueError(f"reference {reference!r} is not a layer dlfs.check knows; use one of "
                     f"{', '.join(sorted(SPECS))}")


def check_layer(obj, reference: str, name: str) -> Result:
    """Checks the learner's layer class ``obj`` against the dlfs layer ``reference`` (a key of
    SPECS or an alias in LAYER_NAMES); ``name`` is the learner's name for it."""
    reference = reference_name(reference)
    if inspect.isfunction(obj):  # a function is checked as a function, whatever its name
        from dlfs.check.functions import FUNCTION_NAMES, check_function
        function = FUNCTION_NAMES.get(str(name).lower()) or FUNCTION_NAMES.get(
            reference.lower())
        if function is not None:
            return check_function(obj, function, name)
    if not inspect.isclass(obj):
        raise ValueError(f"{name!r} must be a layer class (class {name}: with forward and "
                         f"backward), got {type(obj).__name__}")
    files = _probe.files_of(obj)
    missing = [method for method in ("forward", "backward")
               if not callable(inspect.getattr_static(obj, method, None))]
    if missing:
        at = _init_line(obj)
        return Result(name, "layer", reference, "fail", None, 0, None,
                      [diagnosis("unfinished", "unfinished-class", *at, method=missing[0])])
    try:
        return _check(obj, reference, name, files)
    except Exception as error:  # a learner's object the checks did not foresee: its line
        return Result(name, "layer", reference, "fail", None, 0, None,
                      [_probe.crash_diagnosis(error, files, _when(0, "case-plain", ()))])


def _init_line(cls):
    """(file, line) of the class's __init__, else of the class statement."""
    found = _probe.method_line(cls, "__init__")
    return found if found[0] is not None else _class_line(cls)


def _class_line(cls):
    try:
        return inspect.getsourcefile(cls), inspect.getsourcelines(cls)[1]
    except (OSError, TypeError):
        return None, None


def _check(obj, reference, name, files) -> Result:
    from dlfs.check import layer_modes  # it builds on this module's helpers
    rng = np.random.default_rng(0)
    if reference == "Dropout":
        return layer_modes.check_dropout(obj, name, files, rng)
    spec = SPECS[reference]
    hyper = _hyperparameters(obj, reference, spec, rng, files)
    results, warnings_found = [], []
    for index, case in enumerate(spec.cases(rng)):
        results.append(_run_case(obj, reference, spec, hyper, case, index, files,
                                 warnings_found))
    if reference == "BatchNormalization":
        results.append(layer_modes.bn_test_mode(obj, hyper, len(results), files, rng))
    return _probe.conclude(name, "layer", reference, results, VARIANTS, spec.optional,
                           warnings_found)


# -- building the learner's layer and dlfs's ---------------------------------------------------


def _default(cls, names: tuple[str, ...]):
    """The constructor default of the first of ``names`` the class's __init__ takes."""
    try:
        parameters = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        return None
    for name in names:
        if name in parameters and parameters[name].default is not inspect.Parameter.empty:
            return parameters[name].default
    return None


def _attribute(layer, names: tuple[str, ...]):
    for name in names:
        value = getattr(layer, name, None)
        if isinstance(value, (int, float)) and not isinstance(value, bool):
            return float(value)
    return None


def _hyperparameters(cls, reference, spec, rng, files) -> dict:
    """BN's momentum and ε: from the instance's attributes, the constructor's defaults, or
    (ε written into the formula, as the book's 10e-7) the value its forward shows."""
    if reference != "BatchNormalization":
        return {}
    case = _bn_cases(np.random.default_rng(1))[-1]  # the small-variance input shows ε
    made = _probe.run(cls, *_copies(case.params).values(), files=files)
    layer = made.value
    momentum = _attribute(layer, ("momentum",)) if layer is not None else None
    momentum = momentum if momentum is not None else _default(cls, ("momentum",))
    momentum = momentum if isinstance(momentum, float) and 0 <= momentum <= 1 else 0.9
    eps = _attribute(layer, ("eps", "epsilon")) if layer is not None else None
    if eps is None:
        eps = _default(cls, ("eps", "epsilon"))
    if eps is None and layer is not None:
        out = _probe.run(_flagged, layer, case.x.copy(), True, files=files).value
        for candidate in BN_EPS_CANDIDATES:
            want = _bn_reference(case.params, {"momentum": momentum, "eps": candidate})
            if out is not None and _probe.rel_error(out, want.forward(case.x.copy(), True)) \
                    <= _probe.SAME:
                eps = candidate
                break
    eps = eps if isinstance(eps, float) and eps > 0 else 1e-6
    return {"momentum": momentum, "eps": eps}


def _copies(params: dict) -> dict:
    return {name: value.copy() for name, value in params.items()}


def _bn_reference(params, hyper, running_var=None, unbiased=False):
    p = _copies(params)
    return ref.BatchNormalization(p["gamma"], p["beta"], momentum=hyper["momentum"],
                                  eps=hyper["eps"], running_var=running_var,
                                  unbiased_running_var=unbiased)


def _reference_layer(reference: str, params: dict, hyper: dict):
    p = _copies(params)
    if reference == "Affine":
        return ref.Affine(p["W"], p["b"])
    if reference == "BatchNormalization":
        return _bn_reference(params, hyper)
    if reference == "Softmax":
        return SoftmaxLayer()
    return getattr(ref, reference)()


# -- one input ---------------------------------------------------------------------------------


def _when(index: int, case_label: str, shape) -> dict[str, str]:
    labels = _probe.text(case_label, shape=str(tuple(shape)))
    return {lang: _probe.catalogue.text(f"{_probe.TABLE}.input", lang, index=index,
                                        case=labels[lang]) for lang in labels}


def _forward(layer, spec: Spec, case: Case, x, t=None, train=True):
    if case.t is not None:
        return layer.forward(x, t)
    if spec.train_flg:
        return _flagged(layer, x, train)
    return layer.forward(x)


def _flagged(layer, x, train: bool):
    """layer.forward(x, train_flg), forward(x, train_flg=...) where the flag is keyword-only,
    or forward(x) where forward takes no flag (a layer that cannot tell training from test:
    its test mode is then checked as what it does)."""
    how = _takes_flag(layer.forward)
    if how is True:
        return layer.forward(x, train)
    if how:
        return layer.forward(x, **{how: train})
    return layer.forward(x)


def _takes_flag(method) -> bool | str:
    """True where forward takes the flag by position, its name where only by keyword,
    False where not at all."""
    try:
        parameters = list(inspect.signature(method).parameters.values())
    except (TypeError, ValueError):
        return True
    kinds = inspect.Parameter
    positional = [p for p in parameters
                  if p.kind in (kinds.POSITIONAL_ONLY, kinds.POSITIONAL_OR_KEYWORD)]
    if len(positional) >= 2 or any(p.kind == kinds.VAR_POSITIONAL for p in parameters):
        return True
    keyword = [p.name for p in parameters if p.kind == kinds.KEYWORD_ONLY]
    return next((name for name in keyword if "train" in name.lower()), False)


def _param(layer, spec: Spec, index: int):
    """The learner's parameter ``spec.params[index]``: self.W (the first book) or
    self.params[index] (the second book's lists)."""
    return _held(layer, spec.params[index], "params", index)


def _grad(layer, spec: Spec, index: int):
    """The learner's gradient ``spec.grads[index]``: self.dW (the first book) or
    self.grads[index] (the second book's lists, written in place)."""
    return _held(layer, spec.grads[index], "grads", index, spec.params[index])


def _held(layer, name, listed, index, key=None):
    """self.NAME, else item ``index`` of the list self.LISTED, or its entry NAME (or KEY: a
    dict of gradients keyed like the parameters, {"W": dW, "b": db})."""
    value = getattr(layer, name, None)
    if value is None:  # self.dw, self.d_W, self.dGamma: the same name in another spelling
        wanted = name.lower().replace("_", "")
        attributes = getattr(layer, "__dict__", {})
        value = next((held for key, held in attributes.items()
                      if key.lower().replace("_", "") == wanted and held is not None), None)
    if value is None:
        held = getattr(layer, listed, None)
        if isinstance(held, dict):
            value = held.get(name, held.get(key))
        elif isinstance(held, (list, tuple)) and len(held) > index:
            value = held[index]
    return value


def _grad_names(spec: Spec, grad: str) -> tuple[str, ...]:
    """The names a traced backward may have written ``grad`` under."""
    index = spec.grads.index(grad)
    return (f"self.{grad}", f"self.grads[{index}]", f"self.grads[{grad!r}]")


class _Lines:
    """The learner's lines behind one input's values, found by tracing a rerun of the same
    input (only when something is wrong: a passing layer is never traced)."""

    def __init__(self, cls, spec, case, files):
        self.cls, self.spec, self.case, self.files = cls, spec, case, files
        self._forward = self._backward = None

    def _rerun(self, backward: bool):
        layer = _probe.run(self.cls, *_copies(self.case.params).values(), files=self.files)
        if layer.value is None:
            return _probe.Writes()
        layer = layer.value
        x = self.case.x.copy()
        t = None if self.case.t is None else self.case.t.copy()
        if not backward:
            return _probe.trace_writes(lambda: _forward(layer, self.spec, self.case, x, t),
                                       self.files)
        _probe.run(_forward, layer, self.spec, self.case, x, t, files=self.files)
        dout = 1 if self.case.t is not None else self.case.dout.copy()
        return _probe.trace_writes(lambda: layer.backward(dout), self.files)

    def forward(self) -> _probe.Writes:
        if self._forward is None:
            self._forward = self._rerun(False)
        return self._forward

    def backward(self) -> _probe.Writes:
        if self._backward is None:
            self._backward = self._rerun(True)
        return self._backward

    def of(self, grad: str, fallback):
        """(file, line) that last wrote ``grad`` ("dx": what backward returned)."""
        writes = self.backward()
        found = writes.returned if grad == "dx" else writes.line_of(*_grad_names(self.spec,
                                                                                  grad))
        return found if found[0] is not None else fallback


def _run_case(cls, reference, spec, hyper, case: Case, index, files, warnings_found):
    result = CaseResult(index, case.groups, loose=case.zero_prob)
    when = _when(index, case.label, case.x.shape)
    params = _copies(case.params)
    made = _probe.run(cls, *params.values(), files=files)
    if made.error is not None:
        result.problem = _probe.crash_diagnosis(made.error, files, when,
                                                _init_line(cls))
        return result
    layer = made.value
    _check_shared_params(cls, spec, layer, params, files, warnings_found)
    x, t = case.x.copy(), None if case.t is None else case.t.copy()
    forward_at = _probe.method_line(cls, "forward")
    backward_at = _probe.method_line(cls, "backward")
    lines = _Lines(cls, spec, case, files)
    forward = _probe.run(lambda: _forward(layer, spec, case, x, t), files=files)
    if forward.error is not None:
        result.problem = _probe.crash_diagnosis(forward.error, files, when)
        return result
    _check_written(cls, spec, case, params, x, "x", files, warnings_found, when,
                   before_backward=False)
    reference_layer = _reference_layer(reference, case.params, hyper)
    want = reference_layer.forward(case.x.copy(), case.t) if case.t is not None else \
        reference_layer.forward(case.x.copy(), True)
    expected = {"reference": want}
    if case.t is not None:
        expected["book-cross-entropy-delta"] = _book_softmax_loss(case.x, case.t)
    out = forward.value
    if out is None:
        result.problem = diagnosis("unfinished", "unfinished-none-method", *forward_at,
                                   when=when, method="forward")
        return result
    out_array = _probe.as_float_array(out)
    if out_array is None or out_array.shape != np.shape(want):
        result.problem = diagnosis(
            "wrong-shape", "wrong-shape-layer", *_or(lines.forward().returned, forward_at),
            when=when, what="forward", got=str(None if out_array is None else out_array.shape),
            want=str(np.shape(want)))
        return result
    models, error = _probe.matches(out_array, expected)
    result.error = error
    if case.zero_prob and np.isfinite(out_array).all() and out_array >= LOG_ZERO_FLOOR:
        models, result.error = {"reference", *VARIANTS}, None  # any large finite loss is right
    if not np.isfinite(out_array).all() and np.isfinite(want).all():
        at = forward.event(("overflow", "invalid", "divide")) or forward_at
        code = "log-zero" if case.zero_prob else "overflow"
        result.problem = diagnosis(code, code, *at, when=when)
        return result
    forward_ok = bool(models)
    if not forward_ok and not case.zero_prob:
        mistake = mistakes.forward_mistake(reference, case.x, case.t, out_array)
        if mistake is not None:
            writes = lines.forward()
            at = _or(writes.line_holding(*mistake.holding), writes.returned, forward_at)
            result.problem = diagnosis(mistake.code, mistake.code, *at, when=when,
                                       **mistake.fields)
            return result
    dout = np.ones(()) if case.t is not None else case.dout.copy()
    backward = _probe.run(layer.backward, 1 if case.t is not None else dout, files=files)
    if backward.error is not None:
        result.problem = _probe.crash_diagnosis(backward.error, files, when)
        return result
    if case.t is None:
        _check_written(cls, spec, case, params, dout, "dout", files, warnings_found, when,
                       before_backward=True)
    if backward.value is None:
        result.problem = diagnosis("unfinished", "unfinished-none-method", *backward_at,
                                   when=when, method="backward")
        return result
    want_grads = {"dx": reference_layer.backward(1 if case.t is not None else case.dout.copy())}
    want_grads.update({name: getattr(reference_layer, name) for name in spec.grads})
    got_grads = {"dx": backward.value}
    got_grads.update({name: _grad(layer, spec, i) for i, name in enumerate(spec.grads)})
    problems, grad_error = _compare_grads(layer, spec, case, got_grads, want_grads,
                                          backward_at, when, reference, forward_ok, t, lines,
                                          hyper)
    if grad_error is not None and np.isfinite(grad_error):
        result.error = max(result.error or 0.0, grad_error)
    if not forward_ok:
        result.problem = diagnosis("wrong-output", "wrong-forward",
                                   *_or(lines.forward().returned, forward_at), when=when,
                                   error=error, reference=reference)
    for problem in problems:
        result.problem = problem
    if result.problems:
        return result
    result.models = models | {v for v in VARIANTS if v not in expected and "reference" in models}
    return result


def _or(*places):
    """The first (file, line) that names a file."""
    return next((place for place in places if place[0] is not None), places[-1])


def _book_softmax_loss(x, t):
    """The book's SoftmaxWithLoss loss: cross_entropy_error(softmax(x), t) with its +1e-7."""
    from dlfs.check.functions import _book_cross_entropy
    from dlfs.functions import softmax
    return _book_cross_entropy(softmax(x), t)


def _compare_grads(layer, spec, case, got, want, backward_at, when, reference, forward_ok, t,
                   lines, hyper):
    """([the problems with dx and the parameter gradients], the largest relative error of a
    gradient from dlfs's): missing, wrong shape, a named mistake, or values that differ from
    dlfs's (with the central-difference error of the learner's own forward)."""
    mismatched = []
    for name, expected in want.items():
        value = got[name]
        if value is None:
            return [diagnosis("gradient-mismatch", "gradient-missing", *backward_at,
                              when=when, name=name)], None
        array = _probe.as_float_array(value)
        if name == "dx" and array is not None and (
                array.shape != np.shape(expected) or _probe.rel_error(array, expected)
                > _probe.SAME):
            found = mistakes.backward_mistakes(reference, case.x, case.dout, array, expected,
                                               hyper.get("eps", 1e-6), case.params.get("gamma"))
            if found:
                return _mistake_diagnoses(found, lines, backward_at, when), \
                    _probe.rel_error(array, expected)
        if array is None or array.shape != np.shape(expected):
            return [diagnosis("wrong-shape", "wrong-shape-layer",
                              *lines.of(name, backward_at), when=when, what=name,
                              got=str(None if array is None else array.shape),
                              want=str(np.shape(expected)))], None
        if not np.isfinite(array).all() and np.isfinite(expected).all():
            return [diagnosis("overflow", "overflow", *lines.of(name, backward_at),
                              when=when)], None
        error = _probe.rel_error(array, expected)
        if error > _probe.SAME:
            mismatched.append((name, error))
    if not mismatched:
        return [], None
    largest = max(error for _, error in mismatched)
    numeric = _numeric_errors(layer, spec, case, got, t) if case.numeric else {}
    name, error = mismatched[0]
    own = numeric.get(name)
    if forward_ok or (own is not None and own > NUMERIC_TOL):
        key = "gradient-mismatch" if own is not None else "gradient-mismatch-dlfs"
        return [diagnosis("gradient-mismatch", key, *lines.of(name, backward_at), when=when,
                          names=", ".join(n for n, _ in mismatched), name=name,
                          numeric=own if own is not None else float("nan"), error=error,
                          reference=reference)], largest
    return [], None  # the backward fits the learner's own forward: the forward is what is wrong


def _mistake_diagnoses(found, lines, backward_at, when):
    writes = lines.backward()
    out = []
    for mistake in found:
        at = _or(writes.line_holding(*mistake.holding, tolerance=1e-10) if mistake.holding
                 else (None, None), writes.returned, backward_at)
        out.append(diagnosis(mistake.code, mistake.code, *at, when=when, **mistake.fields))
    return out


def _numeric_errors(layer, spec, case, got, t) -> dict[str, float]:
    """Relative error between the learner's gradients and central differences of the learner's
    own forward: L = Σ forward(x)·dout (or the loss itself), by x and by each parameter."""
    x = case.x.copy()

    def loss(_):
        with np.errstate(all="ignore"):
            out = _forward(layer, spec, case, x.copy(), None if t is None else t.copy())
        return float(out) if case.t is not None else float(np.sum(out * case.dout))

    errors = {}
    try:
        errors["dx"] = relative_error(got["dx"], numerical_gradient(loss, x, NUMERIC_H))
        for index, grad in enumerate(spec.grads):
            array = _param(layer, spec, index)
            if isinstance(array, np.ndarray) and array.dtype == np.float64:
                errors[grad] = relative_error(got[grad], numerical_gradient(loss, array,
                                                                            NUMERIC_H))
    except Exception:  # the learner's forward failed under perturbation: no numeric verdict
        return errors
    return errors


def _check_shared_params(cls, spec, layer, params, files, warnings_found):
    """copies-params: the layer holds a copy of W where the book's network needs the array
    itself (the optimizer updates params[key] in place; a copy never sees the update)."""
    if any(d.code == "copies-params" for d in warnings_found):
        return
    for index, (name, array) in enumerate(params.items()):
        held = _param(layer, spec, index)
        if isinstance(held, np.ndarray) and held is not array and held.shape == array.shape:
            file, line = _probe.method_line(cls, "__init__")
            try:  # the line of __init__ that stored the copy, from a rerun
                again = cls.__new__(cls)
                found = _probe.line_that_sets(
                    lambda again=again: cls.__init__(again, *_copies(params).values()), again,
                    name, files)
            except Exception:  # __new__ of an odd class: keep the line of __init__
                found = (None, None)
            if found[0] is not None:
                file, line = found
            warnings_found.append(diagnosis("copies-params", "copies-params", file, line,
                                            name=name))
            return


def _check_written(cls, spec, case, params, given, argument, files, warnings_found, when,
                   before_backward):
    """mutates-input: forward wrote into x, or backward into dout; the line from a rerun."""
    original = case.x if argument == "x" else case.dout
    if np.array_equal(given, original, equal_nan=True):
        return
    if any(d.code == "mutates-input" for d in warnings_found):
        return
    layer = _probe.run(cls, *_copies(params).values(), files=files).value
    x = case.x.copy()
    if before_backward and layer is not None:
        _probe.run(_forward, layer, spec, case, x, case.t, files=files)
    watched = {argument: case.dout.copy() if before_backward else x}

    def run():
        if before_backward:
            return layer.backward(watched[argument])
        return _forward(layer, spec, case, x, case.t)

    _, file, line = _probe.first_writing_line(run, watched, files)
    if file is None:
        file, line = _probe.method_line(cls, "backward" if before_backward else "forward")
    warnings_found.append(diagnosis("mutates-input", "mutates-input", file, line, when=when,
                                    argument=argument))
