"""Check your own code: is a learner's optimizer, layer or function right, and if not, what is
the mistake?

    >>> from dlfs.check import check
    >>> result = check(AdaGrad)          # a class in the book's interface, written by a learner
    >>> result.verdict, result.codes()
    ('fail', ['state-reset'])
    >>> print(result.text("ko"))

``check`` recognises what the object is meant to be from what it is and its name (see
``plan``): a function among the functions, a class with forward/backward among the layers, one
with update among the optimizers; the name case-insensitive with the book's names and common
aliases ("AdaGrad", "rmsprop", "NAG", "MomentumSGD", "sigmoid" the function, "Sigmoid" the
layer, …). Or from an explicit ``kind=`` ("optimizer", "layer", "function") and
``reference=``. It builds the matching dlfs reference with the same hyperparameters and
compares them in float64 on deterministic inputs. The result (``dlfs.check.result.Result``)
has a verdict — pass, variant (a documented variant such as the book's Adam, named), warn,
fail —, the first step where it departs and by how much, and diagnoses with stable codes and
messages in every language of the catalogue.

``check`` runs the code in this process: an update that never returns hangs it. The command
``dlfs check FILE`` runs a learner's file in a child process with a time limit instead.
Optimizers are checked by ``dlfs.check.optimizers``; layers and functions by
``dlfs.check.layers`` and ``dlfs.check.functions``.
"""

from __future__ import annotations

import importlib
import inspect
import linecache
import re
from dataclasses import dataclass, field

from dlfs import catalogue
from dlfs.check.optimizers import OPTIMIZER_NAMES, check_optimizer, rule_key
from dlfs.check.result import CheckError, Diagnosis, Result

__all__ = ["check", "check_many", "recognise", "plan", "Plan", "run_plan", "known_names",
           "CheckError", "Diagnosis", "Result", "KINDS"]

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


def recognise(name: str, kind: str | None = None, obj=None) -> tuple[str, str] | None:
    """(kind, reference) that ``name`` means, or None: "AdaGrad" -> ("optimizer", "adagrad").

    With ``obj`` (the learner's class, instance or function) the kind is read from what it is,
    not only from its name: a function is a function ("sigmoid"), a class with forward and
    backward a layer ("Sigmoid"), one with update an optimizer; see ``plan``."""
    if kind is not None and kind not in KINDS:
        raise CheckError("check.unknown_kind", kinds=", ".join(KINDS), kind=kind)
    if obj is not None:
        found = plan(name, obj, kind)
        return (found.kind, found.reference) if found.reference is not None else None
    for table_kind, table in name_tables().items():
        if kind not in (None, table_kind):
            continue
        found = _lookup(table_kind, table, name)
        if found is not None:
            return table_kind, found
    return None


def _lookup(kind: str, table: dict[str, str], name: str) -> str | None:
    """The reference ``name`` means in ``kind``'s table: case-insensitive, with or without
    underscores, and for a layer with or without a "Layer" suffix ("ReluLayer")."""
    if kind == "optimizer":
        return rule_key(name)
    key = str(name).lower()
    spellings = [key, key.replace("_", "")]
    if kind == "layer":
        spellings += [s.removesuffix("layer") for s in spellings if s.endswith("layer")]
    return next((table[s] for s in spellings if s in table), None)


@dataclass
class Plan:
    """What ``check`` will do with one of the learner's objects.

    kind and reference: the checker and the dlfs object it is compared with, when it is
    checked. missing: the methods of its kind the class lacks (["update"], ["backward"]): an
    unfinished class, failed with ``unfinished``. why: a catalogue key and its fields saying
    why it is skipped, when it is not checked (a function or class of no kind dlfs knows)."""

    name: str
    kind: str | None = None
    reference: str | None = None
    missing: list[str] = field(default_factory=list)
    why: tuple[str, dict] | None = None

    @property
    def checked(self) -> bool:
        return self.reference is not None

    def why_text(self) -> dict[str, str]:
        """Why it is skipped, {lang: text}."""
        key, fields = self.why
        return catalogue.both(key, **fields)


def _methods(cls) -> set[str]:
    """The public methods the learner wrote in ``cls`` (and its own base classes)."""
    found = set()
    for klass in inspect.getmro(cls):
        if klass is object or klass.__module__ == "builtins":
            continue
        found |= {name for name, value in vars(klass).items()
                  if callable(value) and (not name.startswith("_") or name == "__call__")}
    return found


def plan(name: str, obj, kind: str | None = None) -> Plan:
    """How ``obj`` (the learner's class, instance or function called ``name``) is checked.

    A function is looked up among the functions only; a class among the layers when it has
    forward or backward, among the optimizers when it has update, whatever the case of its
    name. A class named after a layer or optimizer that has none of its methods yet (a stub:
    __init__ and nothing else) is unfinished. Anything else is skipped, with the reason — a
    layer with forward but no backward too (the second book's forward-only layers of 1.3 are
    right as they are)."""
    tables = name_tables()
    if kind is not None and kind not in KINDS:
        raise CheckError("check.unknown_kind", kinds=", ".join(KINDS), kind=kind)
    if not inspect.isclass(obj) and (inspect.isroutine(obj) or not _is_instance(obj)):
        if kind not in (None, "function"):
            return Plan(name, why=("check.why_not_class", {"name": name, "kind": kind}))
        reference = _lookup("function", tables.get("function", {}), name)
        if reference is not None:
            return Plan(name, "function", reference)
        meant = next((k for k in ("optimizer", "layer") if k in tables
                      and _lookup(k, tables[k], name) is not None), None)
        if meant is not None:  # gradient_descent(f, init_x, …): the book's loop, not SGD
            return Plan(name, why=(f"check.why_function_not_{meant}", {"name": name}))
        return Plan(name, why=("check.why_unknown_function", {"name": name}))
    cls = obj if inspect.isclass(obj) else type(obj)
    methods = _methods(cls)
    layer = _lookup("layer", tables.get("layer", {}), name) if "layer" in tables else None
    optimizer = _lookup("optimizer", tables["optimizer"], name)
    is_layer = bool(methods & {"forward", "backward"})
    is_optimizer = "update" in methods
    if kind == "function":
        return Plan(name, why=("check.why_not_function", {"name": name}))
    wants = {"layer": (layer, is_layer, ["forward", "backward"]),
             "optimizer": (optimizer, is_optimizer, ["update"])}
    order = ["layer", "optimizer"] if is_layer or not is_optimizer else ["optimizer", "layer"]
    for candidate in order:
        reference, fits, needed = wants[candidate]
        if kind not in (None, candidate) or reference is None or not fits:
            continue
        missing = [method for method in needed if method not in methods]
        if missing:  # forward without backward: the book's forward-only layers (2nd book 1.3)
            return Plan(name, why=("check.why_layer_partial", {
                "name": name, "has": ", ".join(m for m in needed if m in methods),
                "missing": ", ".join(missing)}))
        return Plan(name, candidate, reference)
    for candidate in order:  # named after one, but without its methods
        reference, _, needed = wants[candidate]
        if kind not in (None, candidate) or reference is None:
            continue
        if methods - {"__call__"}:  # other methods: another interface, not an unfinished one
            return Plan(name, why=(f"check.why_interface_{candidate}", {
                "name": name, "methods": ", ".join(sorted(methods))}))
        return Plan(name, candidate, reference, missing=needed)
    if is_layer:
        return Plan(name, why=("check.why_unknown_layer", {
            "name": name, "known": ", ".join(sorted(set(tables.get("layer", {}).values())))}))
    if is_optimizer:
        return Plan(name, why=("check.why_unknown_optimizer", {
            "name": name, "known": _optimizer_names()}))
    return Plan(name, why=("check.why_no_kind", {"name": name}))


def _kind_of(obj) -> str | None:
    """The kind ``obj`` has by what it is: "function", "layer" (forward/backward),
    "optimizer" (update), or None."""
    if not inspect.isclass(obj) and (inspect.isroutine(obj) or not _is_instance(obj)):
        return "function"
    methods = _methods(obj if inspect.isclass(obj) else type(obj))
    if methods & {"forward", "backward"}:
        return "layer"
    return "optimizer" if "update" in methods else None


def _is_instance(obj) -> bool:
    """An instance of a learner's class (an optimizer or layer object), not a function."""
    return not inspect.isroutine(obj) and type(obj).__module__ not in ("builtins",)


def _optimizer_names() -> str:
    from dlfs.check.optimizers import RULES

    return ", ".join(sorted({RULES[key].reference for key in set(OPTIMIZER_NAMES.values())}))


def class_line(cls) -> tuple[str | None, int | None]:
    """(file, line) of ``class NAME`` of the learner's class, as its code names the file (a
    notebook's "nb.ipynb [cell 3]"); (None, None) where it cannot be found."""
    codes = [value.__code__ for value in vars(cls).values() if hasattr(value, "__code__")]
    if codes:
        first = min(codes, key=lambda code: code.co_firstlineno)
        lines = linecache.getlines(first.co_filename)
        pattern = re.compile(rf"\s*class\s+{re.escape(cls.__name__)}\b")
        for number in range(min(first.co_firstlineno, len(lines)), 0, -1):
            if pattern.match(lines[number - 1]):
                return first.co_filename, number
        return first.co_filename, first.co_firstlineno
    try:
        return inspect.getsourcefile(cls), inspect.getsourcelines(cls)[1]
    except (OSError, TypeError):
        return None, None


def unfinished(found: Plan, obj) -> Result:
    """The fail of a class named after a layer or optimizer that lacks its methods."""
    file, line = class_line(obj if inspect.isclass(obj) else type(obj))
    reference = found.reference
    if found.kind == "optimizer":
        from dlfs.check.optimizers import RULES

        reference = RULES[reference].reference if reference in RULES else reference
    methods = ", ".join(f"{m}()" for m in found.missing)
    message = {}
    for lang in catalogue.LANGS:
        where = (catalogue.text("check.where", lang, file=file, line=line)
                 if file is not None else "")
        message[lang] = catalogue.text(f"check.unfinished_class_{found.kind}", lang,
                                       where=where, name=found.name, methods=methods)
    return Result(found.name, found.kind, reference, "fail",
                  diagnoses=[Diagnosis("unfinished", message, line, file)])


def check(obj, *, kind: str | None = None, reference: str | None = None,
          name: str | None = None, lang: str | None = None) -> Result:
    """The check of ``obj``, a learner's class (or instance) or function in the book's
    interface.

    kind: "optimizer", "layer" or "function" (default: from what ``obj`` is and its name, see
    ``plan``). reference: what it is meant to be, a name ``check`` knows ("adagrad", "Affine",
    "softmax"; default: ``name``), looked up among the references of ``obj``'s kind first.
    name: how to call it in the messages (default: its ``__name__``). lang: the language a
    notebook shows the result in (default: the locale's). Raises ``CheckError`` (a
    ValueError) naming the accepted names for a name it does not know, and for a class with
    another interface.
    """
    name = name or getattr(obj, "__name__", type(obj).__name__)
    if reference is not None:
        found = recognise(reference, kind or _kind_of(obj)) or recognise(reference, kind)
        if found is None:
            names = ", ".join(sorted({n for k, table in name_tables().items()
                                      if kind in (None, k) for n in table}))
            raise CheckError("check.unknown_name", name=reference, names=names)
        found = Plan(name, *found)
    else:
        found = plan(name, obj, kind)
        why = found.why[0] if found.why else None
        if why == "check.why_unknown_optimizer":  # reference= can name it
            raise CheckError("check.unknown_optimizer", name=name,
                             names=", ".join(sorted(set(OPTIMIZER_NAMES))))
        if why in ("check.why_unknown_layer", "check.why_unknown_function"):
            tables = name_tables()
            raise CheckError("check.unknown_name", name=name, names=", ".join(sorted(
                {n for k, table in tables.items() if k != "optimizer" for n in table})))
        if not found.checked:
            raise CheckError(found.why[0], **found.why[1])
    result = run_plan(found, obj)
    result.lang = lang
    return result


def run_plan(found: Plan, obj) -> Result:
    """The check ``found`` (from ``plan``) of the learner's ``obj``: its checker's Result, or the
    fail of an unfinished class."""
    if found.missing:
        return unfinished(found, obj)
    if found.kind == "optimizer":
        return check_optimizer(obj, found.reference, found.name)
    module_name, _, function = _CHECKERS[found.kind]
    return getattr(importlib.import_module(module_name), function)(obj, found.reference,
                                                                   found.name)


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
        if plan(name, obj).checked:
            results.append(check(obj, name=name, lang=lang))
        else:
            skipped.append(name)
    return results, skipped
