"""The layers whose training and test modes differ (book 6.3 and 6.4): batch normalisation's
running statistics in test mode, and dropout, whose mask is random.

Part of ``dlfs.check.layers`` (it uses that module's building and tracing helpers): batch norm
is trained on three batches and then run with train_flg=False; dropout's mask is read from what
the learner's forward kept, whatever random numbers it drew.
"""

from __future__ import annotations

import inspect

import numpy as np

from dlfs import layers as ref
from dlfs.check import _probe
from dlfs.check import layer_mistakes as mistakes
from dlfs.check._probe import CaseResult, diagnosis
from dlfs.check.layers import (
    RATIO_NAMES,
    _attribute,
    _bn_reference,
    _flagged,
    _init_line,
    _or,
    _when,
)
from dlfs.check.result import Result

# -- batch normalisation in test mode ----------------------------------------------------------


def bn_test_mode(cls, hyper, index, files, rng) -> CaseResult:
    """Three training batches, then a test-mode forward: the running statistics at work. dlfs
    starts running_var at 1; the book at 0 (a named variant), torch stores it unbiased."""
    shape = (8, 4)
    gamma, beta = rng.random(4) + 0.5, rng.standard_normal(4) * 0.1
    batches = [rng.standard_normal(shape) * (1 + k) + k for k in range(3)]
    test = rng.standard_normal((5, 4))
    result = CaseResult(index, frozenset())
    when = _when(index, "case-test-mode", test.shape)
    made = _probe.run(cls, gamma.copy(), beta.copy(), files=files)
    if made.error is not None:
        result.problem = _probe.crash_diagnosis(made.error, files, when, _init_line(cls))
        return result
    layer = made.value

    def learner():
        for batch in batches:
            _flagged(layer, batch.copy(), True)
        return _flagged(layer, test.copy(), False)

    outcome = _probe.run(learner, files=files)
    if outcome.error is not None:
        result.problem = _probe.crash_diagnosis(outcome.error, files, when)
        return result
    params = {"gamma": gamma, "beta": beta}
    expected = {}
    for model, kwargs in (("reference", {}),
                          ("book-batchnorm-statistics", {"running_var": np.zeros(4)}),
                          ("torch-batchnorm-statistics", {"unbiased": True})):
        reference = _bn_reference(params, hyper, **kwargs)
        for batch in batches:
            reference.forward(batch.copy(), True)
        expected[model] = reference.forward(test.copy(), False)
    file, line = _probe.method_line(cls, "forward")
    if outcome.value is None:
        result.problem = diagnosis("unfinished", "unfinished-none-method", file, line,
                                   when=when, method="forward")
        return result
    array = _probe.as_float_array(outcome.value)
    if array is None or array.shape != test.shape:
        result.problem = diagnosis("wrong-shape", "wrong-shape-layer", file, line, when=when,
                                   what="forward", got=str(None if array is None else
                                                           array.shape), want=str(test.shape))
        return result
    result.models, result.error = _probe.matches(array, expected)
    if result.models:
        return result
    again = _probe.run(cls, gamma.copy(), beta.copy(), files=files).value
    writes = _probe.Writes()
    if again is not None:
        for batch in batches:
            _probe.run(_flagged, again, batch.copy(), True, files=files)
        writes = _probe.trace_writes(lambda: _flagged(again, test.copy(), False), files)
    if mistakes.batch_stats_at_test(lambda p, h: _bn_reference(p, h), params, hyper, test,
                                    array):
        at = _or(writes.line_holding(test.mean(axis=0), test.var(axis=0),
                                     np.sqrt(test.var(axis=0) + hyper["eps"]),
                                     tolerance=1e-10),
                 writes.returned, (file, line))
        result.problem = diagnosis("bn-batch-stats-at-test", "bn-batch-stats-at-test", *at,
                                   when=when)
    else:
        result.problem = diagnosis("wrong-output", "wrong-test-mode",
                                   *_or(writes.returned, (file, line)), when=when,
                                   error=result.error)
    return result


# -- dropout -----------------------------------------------------------------------------------


def check_dropout(cls, name, files, rng) -> Result:
    """Dropout draws its own mask; what its forward kept (out/x, x > 0 everywhere) is the mask.
    dlfs's Dropout and BookDropout, frozen on that mask, give the expected values."""
    x = rng.random((200, 50)) + 0.5
    dout = rng.standard_normal(x.shape)
    file, line = _probe.method_line(cls, "forward")
    when = _when(0, "case-dropout", x.shape)
    result = CaseResult(0, frozenset())
    warnings_found = []
    layer, ratio, error = _make_dropout(cls, files)
    state = np.random.get_state()  # noqa: NPY002 -- the book's Dropout draws from np.random
    np.random.seed(0)  # noqa: NPY002 -- so its mask is the same on every check
    try:
        if error is None:
            error = _dropout_case(layer, ratio, x, dout, files, file, line, when, result,
                                  warnings_found, cls)
    finally:
        np.random.set_state(state)  # noqa: NPY002
    if error is not None:
        result.problem = error
    return _probe.conclude(name, "layer", "Dropout", [result], ("book-dropout",), {},
                           warnings_found)


def _make_dropout(cls, files):
    """(layer, dropout ratio, crash diagnosis): built with ratio 0.2 where the constructor
    takes it by one of the book's names, else with its defaults."""
    try:
        parameters = inspect.signature(cls).parameters
    except (TypeError, ValueError):
        parameters = {}
    keyword = next((n for n in RATIO_NAMES if n in parameters), None)
    made = _probe.run(cls, **({keyword: 0.2} if keyword else {}), files=files)
    if made.error is not None:
        return None, None, _probe.crash_diagnosis(
            made.error, files, _when(0, "case-dropout", (200, 50)), _init_line(cls))
    layer = made.value
    ratio = _attribute(layer, RATIO_NAMES)
    if ratio is None and keyword:
        ratio = 0.2
    return layer, ratio, None


def _dropout_case(layer, ratio, x, dout, files, file, line, when, result, warnings_found, cls):
    def masked(train: bool):
        """The line that drew the mask (training) or made the output (test mode), traced on
        a fresh layer."""
        again = _make_dropout(cls, files)[0]
        if again is None:
            return file, line
        writes = _probe.trace_writes(lambda: _flagged(again, x.copy(), train), files)
        drawn = [name for name in writes.lines if name.startswith("self.")]
        found = writes.lines[drawn[-1]] if train and drawn else writes.returned
        return _or(found, (file, line))

    given = x.copy()
    train = _probe.run(_flagged, layer, given, True, files=files)
    if train.error is not None:
        return _probe.crash_diagnosis(train.error, files, when)
    if train.value is None:
        return diagnosis("unfinished", "unfinished-none-method", file, line, when=when,
                         method="forward")
    if not np.array_equal(given, x):
        again, fresh = _make_dropout(cls, files)[0], x.copy()
        _, at_file, at_line = _probe.first_writing_line(
            lambda: _flagged(again, fresh, True), {"x": fresh}, files) if again else (0, 0, 0)
        warnings_found.append(diagnosis("mutates-input", "mutates-input", at_file or file,
                                        at_line or line, when=when, argument="x"))
    out = _probe.as_float_array(train.value)
    if out is None or out.shape != x.shape:
        return diagnosis("wrong-shape", "wrong-shape-layer", file, line, when=when,
                         what="forward", got=str(None if out is None else out.shape),
                         want=str(x.shape))
    kept = out / x
    nonzero = kept[kept != 0]
    if nonzero.size == 0 or not np.allclose(nonzero, nonzero[0], rtol=1e-12, atol=0):
        return diagnosis("wrong-output", "dropout-scale", *masked(True), when=when)
    scale = float(nonzero[0])
    dropped = 1 - nonzero.size / x.size
    test = _probe.run(_flagged, layer, x.copy(), False, files=files)
    if test.error is not None:
        return _probe.crash_diagnosis(test.error, files, when)
    test_out = _probe.as_float_array(test.value)
    if ratio is None:  # read it from the scale: 1/(1 − p) inverted, or the test-mode factor
        ratio = 1 - 1 / scale if abs(scale - 1) > 1e-12 else (
            1 - float(np.mean(test_out / x)) if test_out is not None else dropped)
    spread = 5 * np.sqrt(max(ratio * (1 - ratio), 1e-12) / x.size)
    if abs(dropped - ratio) > spread:
        return diagnosis("wrong-output", "dropout-ratio", *masked(True), when=when,
                         dropped=dropped, ratio=ratio)
    mask = (kept != 0).astype(np.float64)
    expected_train, expected_test, expected_dx = {}, {}, {}
    for model, kind in (("reference", ref.Dropout), ("book-dropout", ref.BookDropout)):
        reference = kind(dropout_ratio=min(ratio, 0.999))
        reference.mask = mask * reference._train_scale()
        reference.frozen = True
        expected_train[model] = reference.forward(x.copy(), True)
        expected_dx[model] = reference.backward(dout.copy())
        expected_test[model] = reference.forward(x.copy(), False)
    given_dout = dout.copy()
    backward = _probe.run(layer.backward, given_dout, files=files)
    if backward.error is not None:
        return _probe.crash_diagnosis(backward.error, files, when)
    backward_file, backward_line = _probe.method_line(cls, "backward")
    if backward.value is None:
        return diagnosis("unfinished", "unfinished-none-method", backward_file, backward_line,
                         when=when, method="backward")
    if not np.array_equal(given_dout, dout) and not warnings_found:
        warnings_found.append(diagnosis("mutates-input", "mutates-input", backward_file,
                                        backward_line, when=when, argument="dout"))
    train_models, result.error = _probe.matches(out, expected_train)
    test_models = (_probe.matches(test_out, expected_test)[0] if test_out is not None
                   and test_out.shape == x.shape else set())
    dx = _probe.as_float_array(backward.value)
    if dx is None or dx.shape != x.shape:
        return diagnosis("wrong-shape", "wrong-shape-layer", backward_file, backward_line,
                         when=when, what="dx", got=str(None if dx is None else dx.shape),
                         want=str(x.shape))
    dx_models, dx_error = _probe.matches(dx, expected_dx)
    if not dx_models and mistakes.dropout_mask_in_backward(dx, dout, mask):
        writes = _probe.trace_writes(lambda: layer.backward(dout.copy()), files)
        written = [name for name in writes.lines if name.startswith("self.")]
        at = _or(writes.lines[written[-1]] if written else (None, None), writes.returned,
                 (backward_file, backward_line))
        result.error = dx_error
        return diagnosis("dropout-mask-in-backward", "dropout-mask-in-backward", *at,
                         when=when)
    if not dx_models:
        writes = _probe.trace_writes(lambda: layer.backward(dout.copy()), files)
        return diagnosis("gradient-mismatch", "gradient-mismatch-dlfs",
                         *_or(writes.returned, (backward_file, backward_line)), when=when,
                         names="dx", name="dx", error=dx_error, numeric=float("nan"),
                         reference="Dropout")
    second = _probe.run(_flagged, layer, x.copy(), True, files=files).value
    if second is not None and np.array_equal(_probe.as_float_array(second), out):
        return diagnosis("wrong-output", "dropout-same-mask", *masked(True), when=when)
    result.models = train_models & test_models & dx_models
    if not result.models:
        return diagnosis("wrong-output", "dropout-test-mode", *masked(False), when=when,
                         scale=scale, ratio=ratio)
    return None
