"""A learner's own optimizer in the lab, beside the reference ones:

    dlfs run optimizer-paths optimizer-compare --optimizer mine=my_optim.py::AdaGrad:lr=1.5

The experiments name an optimizer by a string in their parameters (``["book-adagrad", 1.5]``);
a learner's is ``"file:/abs/path/my_optim.py::AdaGrad"``, so results.json says where it came
from and the worker processes build it the same way. The file (a .py, or a notebook's cells
that define) is run by dlfs.check's loader, once per process.
"""

from __future__ import annotations

import inspect
from pathlib import Path

import numpy as np

from dlfs import optim
from dlfs._said import Phrase, Said

PREFIX = "file:"
SEPARATOR = "::"
# The experiments a learner's optimizer can join: they compare update rules.
EXPERIMENTS = ("optimizer-paths", "optimizer-compare")

_MODULES: dict[tuple[str, float], object] = {}


class LearnerError(ValueError):
    """A --optimizer that cannot be used: the message says why and what to write."""


class _SaidLearnerError(LearnerError, Said):
    """A LearnerError from the catalogue, said in the run's language (dlfs._said)."""

    def __init__(self, key: str, /, **fields):
        Said.__init__(self, key=key, **fields)


def is_learner(name: str) -> bool:
    return isinstance(name, str) and name.startswith(PREFIX)


def parse(spec: str) -> tuple[str, str, str, float | None]:
    """'NAME=FILE::CLASS[:lr=…]' -> (NAME, FILE, CLASS, lr or None)."""
    label, equals, rest = spec.partition("=")
    path, colons, rest = rest.rpartition(SEPARATOR)
    cls, _, option = rest.partition(":")
    if not (equals and colons and label.strip() and path and cls.isidentifier()):
        raise _SaidLearnerError("said.optimizer_spec", spec=repr(spec))
    lr = None
    if option:
        key, _, value = option.partition("=")
        try:
            lr = float(value) if key.strip() == "lr" else None
        except ValueError:
            lr = None
        if lr is None or not lr > 0:
            raise _SaidLearnerError("said.optimizer_option", spec=repr(spec),
                                    option=repr(option))
    return label.strip(), path, cls, lr


def name_of(path: str, cls: str) -> str:
    """The optimizer's name in an experiment's parameters: file:/abs/path::CLASS."""
    return f"{PREFIX}{Path(path).resolve()}{SEPARATOR}{cls}"


def learner_class(name: str):
    """The class a file:…::CLASS name points to (its file run once per process)."""
    from dlfs.check.load import load, read_source

    path, _, cls = name[len(PREFIX):].rpartition(SEPARATOR)
    file = Path(path)
    if not file.is_file():
        raise _SaidLearnerError("said.optimizer_no_file", path=path)
    key = (str(file), file.stat().st_mtime)
    if key not in _MODULES:
        module, _ = load(read_source(file))
        _MODULES[key] = module
    found = getattr(_MODULES[key], cls, None)
    if not inspect.isclass(found) or not callable(getattr(found, "update", None)):
        raise _SaidLearnerError("said.optimizer_no_class", path=path, cls=cls)
    return found


def create(name: str, **kwargs):
    """optim.create(name, **kwargs), or the learner's class for a file:…::CLASS name, built
    with the same keyword arguments (lr=…)."""
    if not is_learner(name):
        return optim.create(name, **kwargs)
    return _guarded(learner_class(name)(**kwargs), name)


def _guarded(optimizer, name: str):
    """``optimizer`` whose update, when it raises, raises a LearnerError naming the class, its
    file and the line that raised, in one line (not a bare "RuntimeError: boom")."""
    from dlfs.check._probe import on_fp_event
    from dlfs.check.result import learner_frame

    update = optimizer.update
    path, _, cls = name[len(PREFIX):].rpartition(SEPARATOR)
    finite = []  # [True] once the params are known finite (checked before the first update)
    # this update's floating-point events (overflow, division by zero, 0/0), each with the
    # learner's line where one of its lines ran it, as dlfs check's probe records them
    events: list = []
    on_event = on_fp_event(events, {path})

    def guarded_update(params, grads):
        if not finite:
            finite.append(_non_finite(params) is None)
        events.clear()
        try:
            with np.errstate(over="call", divide="call", invalid="call", call=on_event):
                result = update(params, grads)
        except MemoryError:  # the lab's limit names it, with the line (run_bounded)
            raise
        except Exception as error:
            file, line = learner_frame(error, {path})
            raise _SaidLearnerError(
                "bounds.learner_update_raised", cls=cls, file=file or path,
                line=line if line is not None else "?", kind=type(error).__name__,
                error=str(error)) from None
        # NaN or inf written from finite params and finite grads: the rule's own doing.
        if finite[0]:
            key = _non_finite(params)
            if key is not None and _non_finite(grads) is None:
                # where the first NaN or inf arose in the learner's code, if NumPy said so
                for kind, file, line in events:
                    if file is not None:
                        raise _SaidLearnerError(
                            "said.learner_update_not_finite_at", cls=cls, file=path,
                            line=line, param=key,
                            event=Phrase(f"said.fp_{_FP_EVENTS.get(kind, 'invalid')}"))
                code = getattr(update, "__code__", None)
                raise _SaidLearnerError(
                    "bounds.learner_update_not_finite", cls=cls,
                    file=getattr(code, "co_filename", path),
                    line=getattr(code, "co_firstlineno", "?"), param=key)
            finite[0] = key is None
        return result

    try:
        optimizer.update = guarded_update
    except AttributeError:  # __slots__ or a read-only update: left as it is
        pass
    return optimizer


def resolve(spec: str) -> tuple[str, list]:
    """--optimizer's value as an entry of an experiment's "optimizers": (NAME, [name, lr]).
    Without :lr=…, the class's own default lr (its constructor's default or its instance's
    ``lr``). Runs the learner's file now, so a bad file stops the run before anything ran."""
    from dlfs.check.result import CheckError

    label, path, cls, lr = parse(spec)
    name = name_of(path, cls)
    try:
        found = learner_class(name)
        if lr is None:
            lr = getattr(found(), "lr", None)
    except CheckError as error:
        raise _SaidLearnerError("said.optimizer_check", spec=repr(spec), error=error) from None
    except LearnerError:
        raise
    except Exception as error:  # the learner's own code raised while loading or building
        raise _SaidLearnerError("said.optimizer_load_raised", spec=repr(spec), path=path,
                                kind=type(error).__name__, error=str(error)) from None
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not lr > 0:
        raise _SaidLearnerError("said.optimizer_no_lr", spec=repr(spec), cls=cls, label=label,
                                path=path)
    return label, [name, float(lr)]


# NumPy's names of floating-point events -> the catalogue's said.fp_KEY
_FP_EVENTS = {"divide": "divide", "overflow": "overflow", "invalid": "invalid"}


def _non_finite(arrays) -> str | None:
    """The first key of ``arrays`` (a dict of numbers or arrays) holding NaN or inf, or None."""
    if not isinstance(arrays, dict):
        return None
    for key, value in arrays.items():
        try:
            if not np.isfinite(value).all():
                return str(key)
        except TypeError:  # not numbers: not ours to judge
            continue
    return None


# -- limits: a learner's optimizer runs in a supervised child ----------------------------------

TIMEOUT = 300.0  # seconds a job with a learner's optimizer may take (--optimizer-timeout)
MEMORY_MB = 4096  # memory it may claim beyond what the worker already holds


def names_in(value) -> list[str]:
    """The learners' optimizer names (file:…::CLASS) anywhere in a job's fields."""
    if isinstance(value, str):
        return [value] if is_learner(value) else []
    if isinstance(value, dict):
        value = list(value.values())
    elif hasattr(value, "__dataclass_fields__"):
        value = [getattr(value, field) for field in value.__dataclass_fields__]
    if isinstance(value, (list, tuple)):
        return [name for each in value for name in names_in(each)]
    return []


def _jsonable(value):
    """``value`` with arrays as lists and numpy numbers as Python's (NaN and inf kept)."""
    if isinstance(value, dict):
        return {key: _jsonable(each) for key, each in value.items()}
    if isinstance(value, (list, tuple)):
        return [_jsonable(each) for each in value]
    if isinstance(value, np.ndarray):
        return _jsonable(value.tolist())
    if isinstance(value, np.generic):
        return value.item()
    return value


def _address_space() -> int:
    """Bytes of address space this process has mapped now (VmSize)."""
    try:
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("VmSize:"):
                    return int(line.split()[1]) * 1024
    except (OSError, ValueError, IndexError):
        pass
    return 0


def run_bounded(names: list[str], work, timeout: float, told: tuple, line_of,
                memory_mb: int = MEMORY_MB):
    """``work()`` (a job that runs the learners' optimizers ``names``) in a child under
    dlfs.check.sandbox: at most ``timeout`` seconds and ``memory_mb`` MB beyond what this
    process holds, every process it starts killed at its end. Returns ("ok", its result) or
    ("error", a traceback); raises LearnerError naming the class, file and line where it ran
    past a limit, or an error of ``told`` (messages, not tracebacks) it raised, as its one line
    (``line_of(error)``)."""
    import traceback

    from dlfs.check import sandbox
    from dlfs.check.result import learner_frame

    paths = {name[len(PREFIX):].rpartition(SEPARATOR)[0]: name for name in names}

    def child():
        try:
            return {"value": _jsonable(work())}
        except MemoryError as error:
            file, line = learner_frame(error, set(paths))
            return {"memory": [file, line]}
        except told as error:
            return {"told": line_of(error)}
        except Exception:  # noqa: BLE001 - reported with the experiments it fails
            return {"traceback": traceback.format_exc(limit=-4)}

    limit = _address_space() + memory_mb * 2**20
    ending = sandbox.run(child, timeout=timeout, memory=limit)
    value = ending.value if isinstance(ending.value, dict) else {}

    def who(file):
        name = paths.get(file) or names[0]
        path, _, cls = name[len(PREFIX):].rpartition(SEPARATOR)
        return cls, file or path

    if ending.status == "timeout":
        where = ending.where or {}
        cls, file = who(where.get("file"))
        raise _SaidLearnerError(
            "bounds.learner_update_timeout", cls=cls, file=file,
            line=where.get("line", "?"), seconds=f"{timeout:g}")
    if ending.status == "memory" or "memory" in value:
        file, line = value.get("memory") or (None, None)
        cls, file = who(file)
        raise _SaidLearnerError(
            "bounds.learner_update_memory", cls=cls, file=file,
            line=line if line is not None else "?", mb=memory_mb)
    if "told" in value:
        raise LearnerError(value["told"])
    if "traceback" in value:
        return "error", value["traceback"]
    if ending.status != "finished" or "value" not in value:
        cls, file = who(None)
        raise _SaidLearnerError(
            "bounds.learner_update_crashed", cls=cls, file=file,
            how=ending.signal or ending.error or f"exit status {ending.exit_code}")
    return "ok", value["value"]
