"""Running a learner's layer or function under watch, and judging the cases it ran.

Shared by ``dlfs.check.layers`` and ``dlfs.check.functions``: a call that records the
exception, the floating-point events (overflow, division by zero, invalid) with the learner's
line where they happened, a trace that finds the line that wrote into an argument, the
relative error used for every comparison, and ``conclude``, which turns the per-input outcomes
into one ``Result``.

Every comparison is in float64. Two results are the same when
‖a − b‖ / (‖a‖ + ‖b‖) ≤ SAME (1e-9): far below the 1e-7 of the book's cross-entropy δ, far
above the rounding of two orders of summation.
"""

from __future__ import annotations

import inspect
import linecache
import re
import sys
import warnings
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from dlfs import catalogue
from dlfs.check.result import Diagnosis, Result, error_line, learner_frame

SAME = 1e-9
TABLE = "check-layers"
# Named mistakes: a case that shows one fails the check, even inside an input group whose
# failure alone would name a limitation (an Affine whose dx stays 2-D on 4-D input is wrong,
# not "written for matrices only").
MISTAKES = frozenset({
    "dropout-mask-in-backward", "dx-not-reshaped", "loss-grad-not-averaged",
    "sigmoid-backward-from-x", "softmax-wrong-axis", "forward-difference",
    "bn-missing-mean-term", "bn-missing-variance-term", "bn-var-without-eps",
    "bn-batch-stats-at-test"})


def text(key: str, **fields: Any) -> dict[str, str]:
    """The ``[check-layers]`` entry ``key`` in every language."""
    return catalogue.both(f"{TABLE}.{key}", **fields)


def files_of(*objects) -> set[str]:
    """The source files the learner's class or function (and its methods) were written in, and
    the modules loaded from beside them: a layer in common/layers.py that calls
    cross_entropy_error of common/functions.py goes wrong at that function's line, not at the
    call."""
    found = set()
    for obj in objects:
        members = [obj]
        if inspect.isclass(obj):
            members = [value for value in vars(obj).values() if inspect.isfunction(value)]
        for member in members:
            code = getattr(member, "__code__", None)
            if code is not None:
                found.add(code.co_filename)
    # where each object's module lies (a code object's file name may be relative to another
    # working folder than the check's)
    homes = [getattr(sys.modules.get(getattr(obj, "__module__", None)), "__file__", None)
             for obj in objects]
    folders = {Path(name).resolve().parent for name in [*found, *homes] if name}
    for module in list(sys.modules.values()):
        name = getattr(module, "__file__", None)
        if name and name.endswith(".py") and Path(name).resolve().parent in folders:
            found.add(name)
    return found


def method_line(obj, name: str | None = None) -> tuple[str | None, int | None]:
    """(file, first line) of the learner's ``obj.name`` (or of ``obj`` itself)."""
    target = obj if name is None else inspect.getattr_static(obj, name, None)
    code = getattr(target, "__code__", None)
    if code is None:
        return None, None
    return code.co_filename, code.co_firstlineno


def where(file: str | None, line: int | None) -> str:
    """'file.py:12' as shown in a message; '?' when nothing is known."""
    if file is None:
        return "?"
    name = Path(file).name if not file.startswith("<") else file
    return f"{name}:{line}" if line is not None else name


@dataclass
class Outcome:
    """What one call of the learner's code gave."""

    value: Any = None
    error: BaseException | None = None
    events: list[tuple[str, str | None, int | None]] = field(default_factory=list)

    def event(self, kinds) -> tuple[str | None, int | None] | None:
        """(file, line) of the first floating-point event of one of ``kinds``, or None."""
        for kind, file, line in self.events:
            if kind in kinds:
                return file, line
        return None


def on_fp_event(events: list, files: set[str] | None):
    """A handler for ``np.errstate(call=...)``: each overflow, division by zero or invalid
    operation (0/0, √−1) NumPy meets is appended to ``events`` as (kind, file, line), the
    learner's innermost line in ``files`` ((kind, None, None) where none of them is running)."""
    def on_event(kind, _flag):
        frame = sys._getframe(1)
        file = line = None
        while frame is not None:
            if files and frame.f_code.co_filename in files:
                file, line = frame.f_code.co_filename, frame.f_lineno
                break
            frame = frame.f_back
        events.append((kind.split()[0], file, line))

    return on_event


def run(fn, *args, files: set[str] | None = None, **kwargs) -> Outcome:
    """Calls ``fn``, catching its exception and recording NumPy's overflow, division-by-zero
    and invalid events with the learner's line (the innermost frame in ``files``)."""
    outcome = Outcome()
    on_event = on_fp_event(outcome.events, files)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        try:
            with np.errstate(over="call", divide="call", invalid="call", under="ignore",
                             call=on_event):
                outcome.value = fn(*args, **kwargs)
        except Exception as error:  # the learner's code may raise anything
            outcome.error = error
    return outcome


def crash_diagnosis(error: BaseException, files: set[str], when: dict[str, str],
                    fallback: tuple = (None, None)) -> Diagnosis:
    """``crash`` (or ``unfinished`` for NotImplementedError) with the learner's file:line;
    ``fallback`` where the error rose before any of the learner's lines ran (a call with
    arguments the learner's def does not take). A MemoryError (the check's memory limit) is
    raised again: the object fails with ``memory`` (dlfs.check.load.check_one)."""
    if isinstance(error, MemoryError):
        raise error
    file, line = learner_frame(error, files) if files else (None, None)
    if file is None:
        file, line = learner_frame(error)
    if file is None:
        file, line = fallback
    if isinstance(error, NotImplementedError):
        return diagnosis("unfinished", "unfinished-raises", file, line, when=when)
    message = error_line(error).rstrip(".")
    shaped = _array_as_shape(error, file, line)
    if shaped is not None:
        return diagnosis("array-as-shape", "array-as-shape", file, line, error=message,
                         when=when, **shaped)
    return diagnosis("crash", "crash", file, line, error=message, when=when)


# np.zeros(x) where x is an array: seen in learners' repos (and in a version of the book's own
# relu_grad, BOOK-NOTES §7), meant as np.zeros_like(x).
_SHAPED = re.compile(r"\b(?:np|numpy)\.(zeros|ones|empty)\(\s*([A-Za-z_][\w.]*)\s*[,)]")


def _array_as_shape(error: BaseException, file: str | None, line: int | None) -> dict | None:
    """{"call": "np.zeros(x)", "like": "np.zeros_like(x)", "arg": "x"} when ``error`` is the
    TypeError NumPy raises for an array given as a shape on the learner's ``line``; else None."""
    if not isinstance(error, TypeError) or file is None or line is None:
        return None
    found = _SHAPED.search(linecache.getline(file, line))
    if found is None or found.group(2).endswith(".shape"):
        return None
    kind, arg = found.groups()
    return {"call": f"np.{kind}({arg})", "like": f"np.{kind}_like({arg})", "arg": arg}


def diagnosis(code: str, key: str, file: str | None = None, line: int | None = None,
              **fields: Any) -> Diagnosis:
    """A Diagnosis whose message is the catalogue's ``key``, with {where} filled in. A field
    given as {lang: text} is taken in each message's own language."""
    fields = {"where": where(file, line), **fields}
    message = {}
    for lang in catalogue.LANGS:
        local = {name: (value[lang] if isinstance(value, dict) else value)
                 for name, value in fields.items()}
        message[lang] = catalogue.text(f"{TABLE}.{key}", lang, **local)
    return Diagnosis(code, message, line, file)


def rel_error(value, expected) -> float:
    """‖value − expected‖ / (‖value‖ + ‖expected‖): 0 for equal arrays, inf where one has an inf
    or NaN the other lacks."""
    a = np.asarray(value, dtype=np.float64)
    b = np.asarray(expected, dtype=np.float64)
    if a.shape != b.shape:
        return float("inf")
    finite_a, finite_b = np.isfinite(a), np.isfinite(b)
    if not np.array_equal(finite_a, finite_b):
        return float("inf")
    if not finite_a.all() and not np.array_equal(a[~finite_a], b[~finite_b], equal_nan=True):
        return float("inf")
    a, b = a[finite_a], b[finite_b]
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return 0.0 if scale == 0 else float(np.linalg.norm(a - b) / scale)


def as_float_array(value):
    """The learner's result as a float64 array, or None where it is not numbers."""
    try:
        array = np.asarray(value, dtype=np.float64)
    except (TypeError, ValueError):
        return None
    return array


def _under_trace(call, global_trace):
    """(value, error) of ``call()`` run with ``global_trace`` as the trace function, warnings and
    floating-point errors silenced; the learner's code may raise anything, which is returned,
    not raised (a crash is reported elsewhere)."""
    previous = sys.gettrace()
    sys.settrace(global_trace)
    try:
        with warnings.catch_warnings(), np.errstate(all="ignore"):
            warnings.simplefilter("ignore")
            try:
                return call(), None
            except Exception as error:  # noqa: BLE001
                return None, error
    finally:
        sys.settrace(previous)


def first_writing_line(call, watched: dict[str, np.ndarray], files: set[str]):
    """Runs ``call()`` under a line trace and returns (name, file, line): the first of the
    ``watched`` arrays that changed and the learner's line that changed it. (None, None, None)
    when none changes."""
    before = {name: array.copy() for name, array in watched.items()}
    found: list = []
    last: list = [None, None]

    def changed():
        for name, array in watched.items():
            if not np.array_equal(array, before[name], equal_nan=True):
                return name
        return None

    def local(frame, event, _arg):
        if found:
            return None
        if event in ("line", "return"):
            name = changed()
            if name is not None:
                found.append((name, last[0], last[1]))
                return None
            if event == "line":
                last[:] = [frame.f_code.co_filename, frame.f_lineno]
        return local

    def global_trace(frame, event, _arg):
        if found or frame.f_code.co_filename not in files:
            return None
        return local

    _under_trace(call, global_trace)
    if found:
        return found[0]
    name = changed()
    return (name, None, None) if name else (None, None, None)


def line_that_sets(call, obj, attribute: str, files: set[str]):
    """(file, line) of the learner's last line that bound ``obj.attribute`` to a new object
    while ``call()`` ran; (None, None) when none did (it was written in place, or not at all)."""
    found = [None, None]
    state = {"held": getattr(obj, attribute, None), "last": (None, None)}

    def check():
        held = getattr(obj, attribute, None)
        if held is not state["held"]:
            state["held"] = held
            found[:] = state["last"]

    def local(frame, event, _arg):
        if event in ("line", "return"):
            check()
            if event == "line":
                state["last"] = (frame.f_code.co_filename, frame.f_lineno)
        return local

    def global_trace(frame, _event, _arg):
        return local if frame.f_code.co_filename in files else None

    _under_trace(call, global_trace)
    return found[0], found[1]


# -- judging the cases -------------------------------------------------------------------------


@dataclass
class CaseResult:
    """One input's verdict: the models (the reference and the named variants) the learner's
    numbers equal on it, the relative error from the reference, and, where it equals none, the
    diagnosis that says why."""

    index: int
    groups: frozenset = frozenset()
    loose: bool = False  # judged loosely (any large finite loss for p = 0): not group evidence
    models: set = field(default_factory=set)
    error: float | None = None
    problems: list = field(default_factory=list)

    @property
    def problem(self) -> Diagnosis | None:
        """The first problem; assigning one adds it to ``problems`` (a case can show two:
        a wrong forward and a backward that does not fit it either)."""
        return self.problems[0] if self.problems else None

    @problem.setter
    def problem(self, found: Diagnosis) -> None:
        self.problems.append(found)


def matches(value, expected: dict[str, Any], tolerance: float = SAME) -> tuple[set, float]:
    """The models whose expected value equals ``value``, and the error from "reference"."""
    errors = {model: rel_error(value, want) for model, want in expected.items()}
    return ({model for model, err in errors.items() if err <= tolerance},
            errors["reference"])


def conclude(name: str, kind: str, reference: str, cases: list[CaseResult],
             variants: tuple[str, ...], optional: dict[str, str],
             warnings_found: list[Diagnosis]) -> Result:
    """One Result from the cases.

    The learner passes where every case equals the reference; is a variant where every case
    equals one named variant (a case where that variant and the reference agree counts for
    both); an input group listed in ``optional`` ({group: variant name}, e.g. the 4-D inputs
    of an Affine written for matrices only) may fail as a whole, which names the limitation
    as a variant too. Warnings (right numbers, a habit that will bite) turn pass or variant
    into warn. Anything else fails: the first input that departs from the reference, the
    largest relative error, and the diagnoses of the failing inputs, one per code.
    """
    errors = [case.error for case in cases if case.error is not None and np.isfinite(case.error)]
    max_error = max(errors) if errors else None
    failing = [case for case in cases if case.problems]
    limited = _limited(cases, optional) if failing else set()
    failing = [case for case in failing if case.index not in limited] or failing
    if failing:  # the number the headline gives is the failure's, never a passing case's 0
        departures = [case.error for case in failing
                      if case.error is not None and np.isfinite(case.error)
                      and case.error > SAME]
        max_error = max(departures) if departures else None
    for model in ("reference", *variants):
        bad = [case for case in cases if model not in case.models]
        limits = _limitations(bad, cases, optional)
        if limits is None:
            continue
        parts = ([] if model == "reference" else [model]) + [optional[g] for g in limits]
        diagnoses = [diagnosis("variant", f"variant-{part}") for part in parts]
        codes = set()
        for found in warnings_found:
            if found.code not in codes:
                codes.add(found.code)
                diagnoses.append(found)
        verdict = "warn" if warnings_found else ("variant" if parts else "pass")
        return Result(name, kind, reference, verdict, "+".join(parts) or None, None,
                      max_error, diagnoses)
    first = next((case for case in cases if case.problems),
                 next(case for case in cases if "reference" not in case.models))
    limited = _limited(cases, optional)
    diagnoses, codes = [], set()
    # a named mistake is shown on the input where it departs most (the clearest instance:
    # batch norm without ε on the feature of tiny variance); other codes where they first show
    clearest = {}
    for case in cases:
        if case.index in limited:
            continue
        for found in case.problems if "reference" not in case.models else ():
            held = clearest.get(found.code)
            if found.code in MISTAKES and held is not None and (case.error or 0) > held[0]:
                diagnoses[diagnoses.index(held[1])] = found
                clearest[found.code] = (case.error or 0, found)
            if found.code not in codes:
                codes.add(found.code)
                diagnoses.append(found)
                clearest[found.code] = (case.error or 0, found)
    for found in warnings_found:
        if found.code not in codes:
            codes.add(found.code)
            diagnoses.append(found)
    return Result(name, kind, reference, "fail", None, first.index, max_error, diagnoses)


def _limited(cases, optional) -> set[int]:
    """The failing inputs that a limitation explains (an optional group, such as 4-D input,
    failing as a whole without a named mistake) while other inputs fail for another reason:
    their diagnoses would only hide that reason (an Affine for matrices with a wrong dW is
    failed for dW, not for the 4-D input it never takes)."""
    bad = {case.index for case in cases if "reference" not in case.models}
    whole = [group for group in optional
             if any(group in case.groups for case in cases)
             and all(case.index in bad for case in cases
                     if group in case.groups and not case.loose)]
    limited = {case.index for case in cases if case.index in bad
               and any(group in case.groups for group in whole)
               and not any(found.code in MISTAKES for found in case.problems)}
    return limited if bad - limited else set()


def _limitations(bad, cases, optional) -> list[str] | None:
    """The optional groups that explain every bad case (each such group failing as a whole,
    with some input left that works); None where they do not."""
    if not bad:
        return []
    if any(found.code in MISTAKES for case in bad for found in case.problems):
        return None
    bad_ids = {case.index for case in bad}
    if all(case.index in bad_ids for case in cases if not case.loose):
        return None  # nothing that works is left: no limitation explains that
    whole = [group for group in optional
             if any(group in case.groups for case in cases)
             and all(case.index in bad_ids for case in cases
                     if group in case.groups and not case.loose)]
    if all(any(group in case.groups for group in whole) for case in bad):
        return [group for group in whole if any(group in case.groups for case in bad)]
    return None


# -- the line that wrote a value ---------------------------------------------------------------

_FINGERPRINT_LIMIT = 1 << 16  # elements hashed whole; larger arrays by a strided sample


def _fingerprint(array: np.ndarray):
    """(identity, shape, content hash) of an array: changes when it is rebound or written."""
    data = array if array.size <= _FINGERPRINT_LIMIT else array.reshape(-1)[::97]
    try:
        content = hash(np.ascontiguousarray(data).tobytes())
    except (TypeError, ValueError):  # object arrays and the like: identity only
        content = None
    return id(array), array.shape, content


def _arrays_in(frame) -> dict[str, np.ndarray]:
    """The arrays a learner's frame can reach by one name: its locals, the attributes of its
    ``self`` and the items of list attributes (the second book's ``self.grads[0]``)."""
    found = {}
    local_names = frame.f_locals
    for name, value in local_names.items():
        if isinstance(value, np.ndarray):
            found[name] = value
    code = frame.f_code
    owner = local_names.get(code.co_varnames[0]) if code.co_argcount else None
    attributes = getattr(owner, "__dict__", None)
    if isinstance(attributes, dict):
        for name, value in attributes.items():
            if isinstance(value, np.ndarray):
                found[f"self.{name}"] = value
            elif isinstance(value, (list, tuple)) and len(value) <= 16:
                for i, item in enumerate(value):
                    if isinstance(item, np.ndarray):
                        found[f"self.{name}[{i}]"] = item
    return found


@dataclass
class Writes:
    """What a traced call wrote: for every name a learner's frame bound or wrote an array to,
    the (file, line) that last did; ``returned`` is the line that produced the value the
    outermost learner frame returned."""

    value: Any = None
    error: BaseException | None = None
    lines: dict[str, tuple[str, int]] = field(default_factory=dict)
    arrays: dict[str, np.ndarray] = field(default_factory=dict)  # name -> the array it held
    returned: tuple[str | None, int | None] = (None, None)

    def line_of(self, *names: str) -> tuple[str | None, int | None]:
        """The last writer among ``names`` ("self.dW", "self.grads[0]"), or (None, None)."""
        for name in names:
            if name in self.lines:
                return self.lines[name]
        return None, None

    def line_holding(self, *values, tolerance: float = 1e-6) -> tuple[str | None, int | None]:
        """The line that wrote the name whose array equals one of ``values`` (the wrong
        intermediate a mistake computes: sqrt(var) without ε, a softmax over axis 0), the last
        such line run; (None, None) when no name held one."""
        for value in values:
            for name, array in reversed(self.arrays.items()):
                if np.shape(array) == np.shape(value) and rel_error(array, value) <= tolerance:
                    return self.lines[name]
        return None, None


def _source_of(value, arrays: dict[str, np.ndarray], writes: Writes) -> str | None:
    """The local name whose array ``value`` is, or is a reshaped view of (``return
    dx.reshape(*self.original_x_shape)`` returns what the line that wrote dx computed); the
    most recently written such name, None when there is none."""
    if not isinstance(value, np.ndarray):
        return None
    found = None
    order = list(writes.lines)
    for name, array in arrays.items():
        if name.startswith("self.") or name not in writes.lines:
            continue
        same = array is value or (array.size == value.size
                                  and np.may_share_memory(array, value))
        if same and (found is None or order.index(name) > order.index(found)):
            found = name
    return found


def trace_writes(call, files: set[str]) -> Writes:
    """Runs ``call()`` under a line trace of the learner's frames (those in ``files``) and
    records, for each local name and ``self`` attribute holding an array, the learner's line
    that last bound it to a new array or changed its numbers; and the line that produced the
    returned value. Where that line only called another of the learner's functions, the line
    inside it that produced what it returned is named instead."""
    writes = Writes()
    state: dict[int, dict] = {}  # frame id -> {"seen", "last", "child"}
    outer: list = []

    def settle(frame, record):
        """Compares the frame's arrays with what was seen after its previous line."""
        last = record["last"]
        if last is None:
            record["seen"] = {k: (_fingerprint(v), v) for k, v in _arrays_in(frame).items()}
            return
        seen = record["seen"]
        for name, array in _arrays_in(frame).items():
            mark = _fingerprint(array)
            before = seen.get(name)
            if before is not None and before[0] == mark:
                continue
            seen[name] = (mark, array)
            if before is not None and before[0][2] == mark[2] and before[0][2] is not None \
                    and np.may_share_memory(before[1], array):
                continue  # the same numbers seen through a reshape: not a new value
            writes.arrays.pop(name, None)  # kept in the order of their last writes
            writes.arrays[name] = array
            child = record["child"]
            if child is not None and isinstance(child[0], np.ndarray) \
                    and child[1][0] is not None:  # written from what the call returned
                writes.lines[name] = child[1]
            else:
                writes.lines[name] = last
        record["child"] = None

    def local(frame, event, arg):
        record = state.get(id(frame))
        if record is None:
            return None
        if event == "line":
            settle(frame, record)
            record["last"] = (frame.f_code.co_filename, frame.f_lineno)
        elif event == "return":
            child = record["child"]
            settle(frame, record)
            produced = record["last"]
            source = _source_of(arg, _arrays_in(frame), writes)
            if source is not None:
                produced = writes.lines[source]
            if child is not None and child[0] is arg and child[1][0] is not None:
                produced = child[1]
            del state[id(frame)]
            parent = frame.f_back
            while parent is not None and id(parent) not in state:
                parent = parent.f_back
            if parent is not None:
                state[id(parent)]["child"] = (arg, produced)
            elif outer and outer[0] is frame:
                writes.returned = produced or (None, None)
        return local

    def global_trace(frame, event, _arg):
        if frame.f_code.co_filename not in files:
            return None
        state[id(frame)] = {"seen": {}, "last": None, "child": None}
        if not outer:
            outer.append(frame)
        return local

    writes.value, writes.error = _under_trace(call, global_trace)
    return writes



# -- which line wrote which array (dlfs.check.optimizers) --------------------------------------


def array_leaves(root, prefix: tuple = (), depth: int = 3) -> dict[tuple, np.ndarray]:
    """{path: array} of the NumPy arrays held in ``root`` (a dict, list or tuple, nested up to
    ``depth`` levels): ("h", "W1") for root["h"]["W1"]."""
    found = {}
    if isinstance(root, np.ndarray):
        found[prefix] = root
    elif depth > 0 and isinstance(root, dict):
        for key, value in list(root.items()):
            found.update(array_leaves(value, (*prefix, key), depth - 1))
    elif depth > 0 and isinstance(root, (list, tuple)):
        for index, value in enumerate(root):
            found.update(array_leaves(value, (*prefix, index), depth - 1))
    return found


def watch_writes(call, watch, files: set[str]):
    """Runs ``call()`` under a line trace and returns (writes, resets): for each path of
    ``watch()`` ({path: array}, read anew at every line), the learner's (file, line) that last
    changed it (put a new array there or changed its values), and the last line that put a new
    all-zero array there. The learner's lines are those of ``files``."""
    writes: dict[tuple, tuple] = {}
    resets: dict[tuple, tuple] = {}
    held = {path: (id(array), array.copy()) for path, array in watch().items()}
    last: list = [None, None]

    def look():
        for path, array in watch().items():
            before = held.get(path)
            new = before is None or before[0] != id(array)
            if not new and array.shape == before[1].shape and np.array_equal(
                    array, before[1], equal_nan=True):
                continue
            if last[0] is not None:
                writes[path] = tuple(last)
                if new and array.size and not np.any(array):
                    resets[path] = tuple(last)
            held[path] = (id(array), array.copy())

    def local(frame, event, _arg):
        if event in ("line", "return"):
            look()
            if event == "line":
                last[:] = [frame.f_code.co_filename, frame.f_lineno]
        return local

    def global_trace(frame, _event, _arg):
        return local if frame.f_code.co_filename in files else None

    _under_trace(call, global_trace)
    return writes, resets
