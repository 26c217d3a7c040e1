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

from dlfs import optim

PREFIX = "file:"
SEPARATOR = "::"
# The experiments a learner's optimizer can join: they compare update rules.
EXPERIMENTS = ("optimizer-paths", "optimizer-compare")

_MODULES: dict[tuple[str, float], object] = {}


class LearnerError(ValueError):
    """A --optimizer that cannot be used: the message says why and what to write."""


def is_learner(name: str) -> bool:
    return isinstance(name, str) and name.startswith(PREFIX)


def parse(spec: str) -> tuple[str, str, str, float | None]:
    """'NAME=FILE::CLASS[:lr=…]' -> (NAME, FILE, CLASS, lr or None)."""
    label, equals, rest = spec.partition("=")
    path, colons, rest = rest.rpartition(SEPARATOR)
    cls, _, option = rest.partition(":")
    if not (equals and colons and label.strip() and path and cls.isidentifier()):
        raise LearnerError(f"--optimizer {spec!r}: write NAME=FILE::CLASS or "
                           "NAME=FILE::CLASS:lr=0.01 (e.g. mine=my_optim.py::AdaGrad:lr=1.5)")
    lr = None
    if option:
        key, _, value = option.partition("=")
        try:
            lr = float(value) if key.strip() == "lr" else None
        except ValueError:
            lr = None
        if lr is None or not lr > 0:
            raise LearnerError(f"--optimizer {spec!r}: after the class only :lr=NUMBER (> 0) "
                               f"can follow, got {option!r}")
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
        raise LearnerError(f"--optimizer: no such file {path}")
    key = (str(file), file.stat().st_mtime)
    if key not in _MODULES:
        module, _ = load(read_source(file))
        _MODULES[key] = module
    found = getattr(_MODULES[key], cls, None)
    if not inspect.isclass(found) or not callable(getattr(found, "update", None)):
        raise LearnerError(f"--optimizer: {path} defines no class {cls} with update(params, "
                           "grads) (check the spelling, and that its cell defines it)")
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
    from dlfs import catalogue
    from dlfs.check.result import learner_frame

    update = optimizer.update
    path, _, cls = name[len(PREFIX):].rpartition(SEPARATOR)

    def guarded_update(params, grads):
        try:
            return update(params, grads)
        except Exception as error:
            file, line = learner_frame(error, {path})
            raise LearnerError(catalogue.text(
                "bounds.learner_update_raised", "en", cls=cls, file=file or path,
                line=line if line is not None else "?", kind=type(error).__name__,
                error=error)) from None

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
        raise LearnerError(f"--optimizer {spec!r}: {error}") from None
    except LearnerError:
        raise
    except Exception as error:  # the learner's own code raised while loading or building
        raise LearnerError(f"--optimizer {spec!r}: running {path} raised "
                           f"{type(error).__name__}: {error}") from None
    if not isinstance(lr, (int, float)) or isinstance(lr, bool) or not lr > 0:
        raise LearnerError(f"--optimizer {spec!r}: {cls} has no numeric lr to read; give one: "
                           f"{label}={path}::{cls}:lr=0.01")
    return label, [name, float(lr)]
