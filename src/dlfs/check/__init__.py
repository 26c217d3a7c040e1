"""Check your own code: is a learner's optimizer, layer or function right, and if not, what is
the mistake?

    >>> from dlfs.check import check
    >>> result = check(AdaGrad)          # a class in the book's interface, written by a learner
    >>> result.verdict, result.codes()
    ('fail', ['state-reset'])
    >>> print(result.text("ko"))

``check`` recognises what the object is meant to be from its name (case-insensitive: the
book's names and common aliases, "AdaGrad", "rmsprop", "NAG", "MomentumSGD", …) or from an
explicit ``kind=`` ("optimizer", "layer", "function") and ``reference=``, builds the matching
dlfs reference with the same hyperparameters and compares them in float64 on deterministic
inputs. The result (``dlfs.check.result.Result``) has a verdict — pass, variant (a documented
variant such as the book's Adam, named), warn, fail —, the first step where it departs and by
how much, and diagnoses with stable codes and messages in every language of the catalogue.

``check`` runs the code in this process: an update that never returns hangs it. The command
``dlfs check FILE`` runs a learner's file in a child process with a time limit instead.
Optimizers are checked by ``dlfs.check.optimizers``; layers and functions by
``dlfs.check.layers`` and ``dlfs.check.functions``.
"""

from __future__ import annotations

import importlib
import inspect

from dlfs.check.optimizers import OPTIMIZER_NAMES, check_optimizer, rule_key
from dlfs.check.result import CheckError, Diagnosis, Result

__all__ = ["check", "check_many", "recognise", "known_names", "CheckError", "Diagnosis",
           "Result", "KINDS"]

KINDS = ("optimizer", "layer", "function")
# kind -> (module, its name table, its check function), the last two read lazily
_CHECKERS = {"layer": ("dlfs.check.layers", "LAYER_NAMES", "check_layer"),
             "function": ("dlfs.check.functions", "FUNCTION_NAMES", "check_function")}


def _module(kind: str):
    """The checker module of ``kind``, or None where this installation has none."""
    name = _CHECKERS[kind][0]
    try:
        return importlib.import_module(name)
    except ModuleNotFoundError as error:
        if error.name == name:
            return None
        raise


def name_tables() -> dict[str, dict[str, str]]:
    """kind -> {lower-case name or alias: reference name}, for every kind there is a checker
    of."""
    tables = {"optimizer": dict(OPTIMIZER_NAMES)}
    for kind, (_, table, _) in _CHECKERS.items():
        module = _module(kind)
        if module is not None:
            tables[kind] = dict(getattr(module, table))
    return tables


def known_names() -> list[str]:
    """Every name (and alias) ``check`` recognises, sorted."""
    return sorted({name for table in name_tables().values() for name in table})


def recognise(name: str, kind: str | None = None) -> tuple[str, str] | None:
    """(kind, reference) that ``name`` means, or None: "AdaGrad" -> ("optimizer", "adagrad")."""
    if kind is not None and kind not in KINDS:
        raise CheckError("check.unknown_kind", kinds=", ".join(KINDS), kind=kind)
    for table_kind, table in name_tables().items():
        if kind not in (None, table_kind):
            continue
        if table_kind == "optimizer":
            found = rule_key(name)
        else:
            found = table.get(str(name).lower())
        if found is not None:
            return table_kind, found
    return None


def check(obj, *, kind: str | None = None, reference: str | None = None,
          name: str | None = None, lang: str | None = None) -> Result:
    """The check of ``obj``, a learner's class (or instance) or function in the book's
    interface.

    kind: "optimizer", "layer" or "function" (default: from the name). reference: what it is
    meant to be, a name ``check`` knows ("adagrad", "Affine", "softmax"; default: ``name``).
    name: how to call it in the messages (default: its ``__name__``). lang: the language a
    notebook shows the result in (default: the locale's). Raises ``CheckError`` (a
    ValueError) naming the accepted names for a name it does not know, and for a class with
    another interface.
    """
    name = name or getattr(obj, "__name__", type(obj).__name__)
    found = recognise(reference or name, kind)
    if found is None:
        names = ", ".join(sorted({n for k, table in name_tables().items()
                                  if kind in (None, k) for n in table}))
        raise CheckError("check.unknown_name", name=reference or name, names=names)
    found_kind, ref = found
    if found_kind == "optimizer":
        result = check_optimizer(obj, ref, name)
    else:
        module_name, _, function = _CHECKERS[found_kind]
        result = getattr(importlib.import_module(module_name), function)(obj, ref, name)
    result.lang = lang
    return result


def check_many(namespace, lang: str | None = None) -> tuple[list[Result], list[str]]:
    """(results, skipped) for a module's or a notebook's names (a module or a dict such as
    ``globals()``): every class and function defined there whose name ``check`` recognises
    is checked, in order; the other ones defined there are skipped. Names starting with "_"
    and what was imported from elsewhere are left out."""
    items = vars(namespace) if inspect.ismodule(namespace) else dict(namespace)
    module = items.get("__name__")
    results, skipped = [], []
    for name, obj in items.items():
        if name.startswith("_") or not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if module is not None and getattr(obj, "__module__", None) != module:
            continue
        if recognise(name) is None:
            skipped.append(name)
        else:
            results.append(check(obj, name=name, lang=lang))
    return results, skipped
