"""Running a learner's file (.py or .ipynb) in a sandboxed child process, with a time limit and
a memory limit, and checking what it defines there.

The parent (``check_file``, which ``dlfs check`` calls) reads the file first without running
it: a missing file, a syntax error (file and line; syntax of a newer Python says which), a
notebook that is not one or has no code are answered at once. It then starts the child through
``dlfs.check.sandbox`` — forked from this process where it can (NumPy and dlfs are imported
already, so it starts in milliseconds; DLFS_CHECK_FORK=0 or another running thread starts
``python -m dlfs.check.load --events PATH FILE [NAME…]`` instead) — in a session of its own,
with RLIMIT_AS as its memory limit, under a supervisor that is a child subreaper, so that every
process the learner's code starts (a daemon that left the session too) is killed when the child
ends; it waits at most the time limit. The child runs the file where its author ran it (see
``place``): in its own folder, as part of its package — a file in ``common/`` is the module
``common.NAME``, so ``from .functions import *`` works — with the folders above it that hold the
modules it imports (``common/``, ``dataset/``) on the path, so ``from common.layers import …``
works from any folder. A .py runs as a module (``__name__`` is not "__main__"), statement by
statement: its top-level statements that define (imports, functions, classes, constants; see
``_defines``) run, a script's training, data loading and plots at the top level do not, and a
definition that raises is skipped with its error. A notebook runs its code cells that only
import and define (see ``cell_blocker``) and the imports of the others. It plans every class and
function defined there (``dlfs.check.plan``: checked, unfinished, or skipped with the reason),
checks each and writes one JSON line per event to PATH: ``cells``, ``plan``, ``start``,
``result``, ``error`` (a usage error: a catalogue key and its fields), ``done``. A learner's
print goes nowhere; one object that raises or cannot be built fails alone. An infinite loop ends
with the time limit: the sandbox has faulthandler dump the child's stacks (SIGABRT), which name
the learner's line that was running. An allocation past the memory limit raises MemoryError:
while the file loads it is a usage error at the learner's line (``memory_loading_at``), while an
object is checked that object fails with ``memory``. A crash of the process itself
(``os._exit``, a segmentation fault, its supervisor killed) while one name is checked fails
that name and the child is started again for the names after it.
"""

from __future__ import annotations

import argparse
import ast
import importlib.util
import json
import linecache
import os
import re
import signal
import sys
import tempfile
import time
import types
from dataclasses import dataclass, field
from pathlib import Path

from dlfs import catalogue
from dlfs.check.result import CheckError, Diagnosis, Result

MODULE = "__dlfs_check__"  # the learner's code runs as this module in the child
# calls an assignment in a notebook cell may make: building arrays and tables, not training
SAFE_CALLS = ("np", "numpy", "math", "dict", "list", "tuple", "set", "float", "int", "str",
              "OrderedDict", "collections")


@dataclass
class Cell:
    number: int        # the code cell's number, from 1
    code: str          # its source, IPython magics blanked
    filename: str      # what tracebacks and messages call it: "nb.ipynb [cell 3]"
    blocker: tuple[int, str] | None = None  # (line, code) of the statement that skips it
    statements: list = field(default_factory=list)  # a .py's skipped statements: (line, code)


@dataclass
class Source:
    path: str
    notebook: bool
    cells: list[Cell]

    @property
    def ran(self) -> list[int]:
        return [c.number for c in self.cells if c.blocker is None]

    @property
    def skipped(self) -> list[Cell]:
        return [c for c in self.cells if c.blocker is not None]


# -- reading the file, without running it --------------------------------------------------------


def read_source(path: str | os.PathLike) -> Source:
    """The file's code, checked for syntax, and which cells of a notebook would run; raises
    CheckError for a missing file, a syntax error, a notebook without code."""
    shown = str(path)
    file = Path(path)
    if not file.exists():
        raise CheckError("check.no_file", file=shown)
    if not file.is_file():
        raise CheckError("check.not_file", file=shown)
    if file.suffix.lower() not in (".py", ".ipynb"):
        raise CheckError("check.wrong_suffix", file=shown)
    try:
        text = file.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as error:
        raise CheckError("check.unreadable", file=shown,
                         reason=getattr(error, "strerror", None) or str(error)) from None
    if file.suffix.lower() == ".py":
        cell = Cell(1, text, shown)
        _parse(cell)
        return Source(shown, False, [cell])
    cells = [_parse(cell) for cell in _notebook_cells(text, shown)]
    if not cells:
        raise CheckError("check.no_code", file=shown)
    for cell in cells:
        cell.blocker = cell.blocker or cell_blocker(ast.parse(cell.code))
    return Source(shown, True, cells)


def _notebook_cells(text: str, shown: str) -> list[Cell]:
    try:
        notebook = json.loads(text)
    except json.JSONDecodeError as error:
        raise CheckError("check.not_notebook", file=shown,
                         reason=f"invalid JSON (line {error.lineno})") from None
    if not isinstance(notebook, dict) or not isinstance(notebook.get("cells"), list):
        raise CheckError("check.not_notebook", file=shown, reason="no list of cells")
    cells = []
    for entry in notebook["cells"]:
        if not isinstance(entry, dict) or entry.get("cell_type") != "code":
            continue
        source = entry.get("source", "")
        source = "".join(source) if isinstance(source, list) else str(source)
        if not source.strip():
            continue
        number = len(cells) + 1
        cell = Cell(number, source, f"{shown} [cell {number}]")
        lines = source.split("\n")
        if lines[0].lstrip().startswith("%%"):
            cell.blocker, cell.code = (1, lines[0].strip()), ""
        else:  # line magics and shell commands: blank lines, so line numbers stay
            cell.code = "\n".join("" if _ipython_line(line) else line for line in lines)
        cells.append(cell)
    return cells


# IPython's line magics and shell aliases that it runs without % (automagic), as learners'
# Colab notebooks write them: `ls -l /content/drive`, `pip install cupy`, `cd ..`.
AUTOMAGIC = frozenset({"cat", "cd", "clear", "conda", "cp", "env", "less", "ll", "ls", "man",
                       "mkdir", "more", "mv", "pip", "pwd", "rm", "rmdir"})


def _ipython_line(line: str) -> bool:
    """Whether IPython, not Python, runs ``line`` of a notebook cell: a line magic (%) or shell
    command (!), or an automagic (AUTOMAGIC) followed by what Python cannot read, such as
    options or a path (`ls -l /usr/lib`). Such lines are blanked, the rest of the cell kept."""
    stripped = line.strip()
    if stripped.startswith(("%", "!")):
        return True
    if stripped.split(" ", 1)[0] not in AUTOMAGIC or " " not in stripped:
        return False
    try:
        ast.parse(stripped)
    except SyntaxError:
        return True
    return False  # Python reads it (ls - l): run as Python, as IPython would with ls defined


# syntax that a newer Python added: (version, pattern of the line that uses it, what it is)
NEWER_SYNTAX = (
    ((3, 10), re.compile(r"^\s*match\s+\S.*:\s*(#.*)?$"), "match"),
    ((3, 11), re.compile(r"^\s*except\s*\*"), "except_star"),
    ((3, 12), re.compile(r"^\s*type\s+[A-Za-z_]\w*\s*(\[.*\])?\s*="), "type"),
    ((3, 12), re.compile(r"^\s*(async\s+)?def\s+[A-Za-z_]\w*\s*\["), "generic_function"),
    ((3, 12), re.compile(r"^\s*class\s+[A-Za-z_]\w*\s*\["), "generic_class"),
    ((3, 14), re.compile(r"^\s*except\s+[^(:\s][^:]*,[^:]*:"), "except_comma"),
    ((3, 14), re.compile(r"""(^|[^\w])[tT][rR]?["']"""), "template_string"),
)


def _parse(cell: Cell) -> Cell:
    try:
        ast.parse(cell.code, cell.filename)
    except SyntaxError as error:
        line = error.lineno or 1
        newer = newer_syntax(cell.code, line)
        if newer is not None:
            (major, minor), what = newer
            raise CheckError("check.syntax_newer", file=cell.filename, line=line,
                             what=catalogue.both(f"check.syntax_{what}"),
                             needs=f"{major}.{minor}",
                             this=f"{sys.version_info[0]}.{sys.version_info[1]}") from None
        raise CheckError("check.syntax", file=cell.filename, line=line,
                         message=error.msg) from None
    return cell


def newer_syntax(code: str, line: int):
    """((major, minor), what) where the syntax error at ``line`` of ``code`` is syntax a newer
    Python than this one added (a ``type X = …`` statement, PEP 695 generics, ``except*``, …),
    else None; ``what`` names it in the catalogue: check.syntax_WHAT."""
    lines = code.split("\n")
    text = lines[line - 1] if 0 < line <= len(lines) else ""
    for version, pattern, what in NEWER_SYNTAX:
        if version > sys.version_info[:2] and pattern.search(text):
            return version, what
    return None


def cell_blocker(tree: ast.Module) -> tuple[int, str] | None:
    """(line, code) of the first statement that makes a notebook cell more than definitions —
    a loop, a call such as train() or plt.plot(), an assignment from a call other than NumPy's —
    or None when the cell only imports, defines and assigns."""
    for statement in tree.body:
        if not _defines(statement):
            return statement.lineno, _shown(statement)
    return None


def _defines(node: ast.stmt) -> bool:
    if isinstance(node, (ast.Import, ast.ImportFrom, ast.FunctionDef, ast.AsyncFunctionDef,
                         ast.ClassDef, ast.Pass)):
        return True
    if isinstance(node, ast.Expr):
        value = node.value
        return isinstance(value, ast.Constant) or (
            isinstance(value, ast.Call) and ast.unparse(value.func) in
            ("sys.path.append", "sys.path.insert"))
    if isinstance(node, (ast.Assign, ast.AnnAssign, ast.AugAssign)):
        return node.value is None or _static(node.value)
    if isinstance(node, ast.If):
        return all(map(_defines, node.body + node.orelse))
    if isinstance(node, ast.Try):
        return all(map(_defines, node.body + node.orelse + node.finalbody
                       + [s for handler in node.handlers for s in handler.body]))
    return False


def _static(expression: ast.expr) -> bool:
    for node in ast.walk(expression):
        if isinstance(node, ast.Call):
            if ast.unparse(node.func).split(".")[0] not in SAFE_CALLS:
                return False
        elif isinstance(node, (ast.Await, ast.Yield, ast.YieldFrom, ast.NamedExpr)):
            return False
    return True


# -- the child ----------------------------------------------------------------------------------


@dataclass
class Place:
    """Where and as what the learner's file runs: the module name (``common.layers`` for a
    file in ``common/``, else MODULE), its package (for relative imports), the folder it runs
    in and the folders put first on the import path."""

    module: str
    package: str | None
    folder: str
    paths: list[str]
    here: str = "."  # the folder dlfs check was run from


def place(source: Source) -> Place:
    """How the file is loaded as its author had it. Its folder is the working folder and the
    first on the path (as ``python FILE`` run there). A file in a package (folders with
    __init__.py) is the module of its dotted path from the package's top; a file in a folder
    ``common/`` (a namespace package, as in the book's repository) is ``common.NAME``. Every
    folder above the file that holds a module it imports by an absolute name (``common/``,
    ``dataset/``, ``two_layer_net.py``) goes on the path, the nearest first; failing those,
    the folder dlfs check was run from, where it holds the module."""
    file = Path(source.path).resolve()
    folder = file.parent
    paths = [str(folder)]
    module, package = MODULE, None
    if not source.notebook:
        top = folder
        while (top / "__init__.py").is_file() and top.parent != top:
            top = top.parent
        if top == folder and folder.name.isidentifier() and _imports_relative(source):
            top = folder.parent  # no __init__.py, yet relative imports: a namespace package
        elif top == folder and folder.name == "common":
            top = folder.parent
        if top != folder:
            parts = [*folder.relative_to(top).parts, file.stem]
            if all(part.isidentifier() for part in parts):
                module, package = ".".join(parts), ".".join(parts[:-1])
                paths.append(str(top))
    here = Path.cwd()  # the folder dlfs check was run from: the last place to look
    for name in _absolute_imports(source):
        if _findable(name, paths):
            continue
        for above in [folder, *folder.parents, here]:
            if (above / name).is_dir() or (above / f"{name}.py").is_file():
                if str(above) not in paths:
                    paths.append(str(above))
                break
    return Place(module, package, str(folder), paths, str(here))


def _trees(source: Source):
    for cell in source.cells:
        try:
            yield ast.parse(cell.code)
        except SyntaxError:  # a notebook cell skipped for its magics
            continue


def _imports_relative(source: Source) -> bool:
    return any(isinstance(node, ast.ImportFrom) and node.level > 0
               for tree in _trees(source) for node in ast.walk(tree))


def _absolute_imports(source: Source) -> list[str]:
    """The top-level names of the modules the file imports by an absolute name, in order."""
    names = []
    for tree in _trees(source):
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                found = [node.module]
            else:
                continue
            for name in found:
                top = name.split(".")[0]
                if top not in names:
                    names.append(top)
    return names


def _findable(name: str, paths: list[str]) -> bool:
    """Whether ``import name`` finds it: a module already loaded or built in, one in the
    given folders, or an installed one."""
    if name in sys.modules or name in sys.builtin_module_names:
        return True
    if any(os.path.exists(os.path.join(path, name)) or
           os.path.exists(os.path.join(path, f"{name}.py")) for path in paths):
        return True
    try:
        return importlib.util.find_spec(name) is not None
    except (ImportError, ValueError):
        return False


# heavy modules a learner's file imports for plots and training (``import matplotlib.pyplot as
# plt``), which the definitions dlfs check runs seldom use: imported when first used
DEFERRED = ("matplotlib", "seaborn", "pandas", "optuna", "plotly", "tqdm")


class _Deferred(types.ModuleType):
    """Stands for a module in DEFERRED until the learner's code first reads from it; then the
    real module is imported and every attribute read goes to it."""

    def __getattr__(self, attribute: str):
        real = vars(self).get("_dlfs_real")
        if real is None:
            real = _import_for_real(self.__name__)
            vars(self)["_dlfs_real"] = real
        return getattr(real, attribute)


class _DeferredFinder:
    """A meta-path finder that hands out a _Deferred for the modules in DEFERRED."""

    def find_spec(self, name, path=None, target=None):
        if name.split(".")[0] not in DEFERRED:
            return None
        return importlib.util.spec_from_loader(name, self, is_package=True)

    def create_module(self, spec):
        module = _Deferred(spec.name)
        module.__path__ = []
        return module

    def exec_module(self, module):
        pass


_FINDER = _DeferredFinder()


def _import_for_real(name: str) -> types.ModuleType:
    """The real module ``name``: the stand-ins of its package leave sys.modules first."""
    if _FINDER in sys.meta_path:
        sys.meta_path.remove(_FINDER)
    top = name.split(".")[0]
    for key in [key for key, value in sys.modules.items()
                if (key == top or key.startswith(top + ".")) and isinstance(value, _Deferred)]:
        del sys.modules[key]
    return importlib.import_module(name)


def defer_heavy_imports() -> None:
    """Makes the modules of the packages in DEFERRED that are not imported yet (all of them,
    or matplotlib.pyplot where the process has matplotlib already) import only when first
    used."""
    if _FINDER not in sys.meta_path:
        sys.meta_path.insert(0, _FINDER)


def load(source: Source, own_process: bool = False) -> tuple[types.ModuleType, list[Cell]]:
    """Runs the file's code (its cells that define, and the imports of the other ones) as
    the module ``place(source).module``; (the module, the cells that raised when run, their
    blocker set to the error). Raises CheckError for a module the file imports that is found
    nowhere (``missing_module``, with the folder to run from). ``own_process``: the process
    is the checker's child, so it may also move to the file's folder and defer the heavy
    imports (``defer_heavy_imports``); the lab, which loads a learner's optimizer into its
    own processes, leaves both as they are."""
    where = place(source)
    module = types.ModuleType(where.module)
    module.__file__ = str(Path(source.path).resolve())
    if where.package is not None:
        module.__package__ = where.package
    sys.modules[where.module] = module
    for path in reversed(where.paths):
        if path in sys.path:
            sys.path.remove(path)
        sys.path.insert(0, path)  # as running the file would: its neighbours import
    if own_process:
        os.chdir(where.folder)
        defer_heavy_imports()
    for cell in source.cells:  # so that tracebacks and inspect read a notebook's cells
        lines = cell.code.splitlines(keepends=True)
        linecache.cache[cell.filename] = (len(cell.code), None, lines, cell.filename)
    failed = []
    for cell in source.cells:
        if cell.blocker is not None:
            _run_imports(cell, module)
            continue
        if not source.notebook:
            _run_statements(cell, module, source, where)
            continue
        code = compile(cell.code, cell.filename, "exec")
        try:
            exec(code, module.__dict__)
        except MemoryError as error:
            raise past_memory(error, cell) from None
        except Exception as error:  # a cell that needs a skipped one: skip it too, say why
            line = _error_line(error, cell.filename)
            cell.blocker = (line, f"{type(error).__name__}: {error}"[:60])
            failed.append(cell)
    return module, failed


def _run_statements(cell: Cell, module: types.ModuleType, source: Source, where: Place):
    """Runs a .py file's top-level statements that define (imports, functions, classes,
    constants), one by one, as the notebook's cells are run: a script's training, data
    loading and plotting at the top level are skipped, and so is a definition that raises;
    each lands in ``cell.statements`` as (line, code). An import of a module found nowhere
    raises CheckError (``missing_module``)."""
    tree = ast.parse(cell.code, cell.filename)
    flags = 0
    for statement in tree.body:
        if isinstance(statement, ast.ImportFrom) and statement.module == "__future__":
            for alias in statement.names:
                feature = getattr(__import__("__future__"), alias.name, None)
                flags |= getattr(feature, "compiler_flag", 0)
    for statement in tree.body:
        if not _defines(statement):
            if not _main_guard(statement):
                cell.statements.append((statement.lineno, _shown(statement)))
            continue
        code = compile(ast.Module([statement], []), cell.filename, "exec", flags=flags,
                       dont_inherit=True)
        try:
            exec(code, module.__dict__)
        except MemoryError as error:
            raise past_memory(error, cell) from None
        except ModuleNotFoundError as error:
            if isinstance(statement, (ast.Import, ast.ImportFrom)):
                raise _missing(error, cell, source, where) from None
            cell.statements.append((_error_line(error, cell.filename),
                                    f"{type(error).__name__}: {error}"[:60]))
        except Exception as error:  # a definition that needs what was skipped: skip it too
            cell.statements.append((_error_line(error, cell.filename),
                                    f"{type(error).__name__}: {error}"[:60]))


def _main_guard(statement: ast.stmt) -> bool:
    """``if __name__ == "__main__":``, which a module never runs anyway."""
    return isinstance(statement, ast.If) and "__main__" in ast.unparse(statement.test)


def _shown(statement: ast.stmt) -> str:
    code = ast.unparse(statement).split("\n")[0]
    return code if len(code) <= 60 else code[:57] + "..."


def _run_imports(cell: Cell, module: types.ModuleType) -> None:
    """The import statements at the top level of a skipped cell: the names a later cell
    uses (``import numpy as np`` beside a print)."""
    try:
        tree = ast.parse(cell.code, cell.filename)
    except SyntaxError:
        return
    imports = [node for node in tree.body if isinstance(node, (ast.Import, ast.ImportFrom))]
    if not imports:
        return
    try:
        exec(compile(ast.Module(imports, []), cell.filename, "exec"), module.__dict__)
    except MemoryError as error:
        raise past_memory(error, cell) from None
    except Exception:  # noqa: S110 - a later cell that needs it says so
        pass


def memory_limit_mb() -> str:
    """This process's memory limit (RLIMIT_AS) in MB, as shown in messages; "?" if none."""
    import resource

    soft = resource.getrlimit(resource.RLIMIT_AS)[0]
    return "?" if soft == resource.RLIM_INFINITY else f"{soft / 2**20:.0f}"


def past_memory(error: MemoryError, cell: Cell) -> CheckError:
    """The usage error for the file's code running past the memory limit while it loads: at
    the learner's line that asked for the memory."""
    line = _error_line(error, cell.filename)
    lines = cell.code.split("\n")
    code = lines[line - 1].strip() if 0 < line <= len(lines) else ""
    return CheckError("check.memory_loading_at", file=cell.filename, line=line,
                      code=code[:80] or "…", limit=memory_limit_mb())


def _missing(error: ModuleNotFoundError, cell: Cell, source: Source, where: Place):
    """The usage error for a module the file imports that is found nowhere."""
    name = (error.name or "?").split(".")[0]
    return CheckError("check.missing_module", file=cell.filename,
                      line=_error_line(error, cell.filename), module=error.name or name,
                      top=name, folder=where.folder, here=where.here)


def _error_line(error: BaseException, filename: str) -> int:
    line, trace = 1, error.__traceback__
    while trace is not None:
        if trace.tb_frame.f_code.co_filename == filename:
            line = trace.tb_lineno
        trace = trace.tb_next
    return line


class _Events:
    def __init__(self, path: str):
        self.file = open(path, "a", encoding="utf-8")  # noqa: SIM115 (open for the run)

    def __call__(self, event: str, **fields) -> None:
        self.file.write(json.dumps({"event": event, **fields}) + "\n")
        self.file.flush()


def child(events_path: str, path: str, names: list[str]) -> int:
    """The child's work: load, plan, check each name, writing events. (At the time limit the
    sandbox makes faulthandler dump its stacks, which name the learner's running line.)"""
    from dlfs.check import plan as plan_of

    say = _Events(events_path)
    devnull = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    sys.stdout = devnull  # the learner's prints go nowhere
    try:
        source = read_source(path)
        try:
            module, failed = load(source, own_process=True)
        except CheckError:
            raise
        except Exception as error:
            say("error", key="check.crash_loading", fields={
                "file": path, "line": _error_line(error, path),
                "error": f"{type(error).__name__}: {error}"[:300]})
            return 0
        say("cells", ran=[c.number for c in source.cells if c.blocker is None],
            skipped=[[c.number, *c.blocker] for c in source.cells if c.blocker is not None]
            + [[c.number, *statement] for c in source.cells for statement in c.statements])
        defined = {name: obj for name, obj in vars(module).items()
                   if not name.startswith("_")
                   and getattr(obj, "__module__", None) == module.__name__
                   and isinstance(obj, (type, types.FunctionType))}
        if names:
            for name in names:
                if name not in vars(module):
                    raise CheckError("check.missing_name", file=path, name=name,
                                     names=", ".join(defined) or "-")
            chosen = {name: vars(module)[name] for name in names}
        else:
            chosen = defined
        plans = {name: plan_of(name, obj) for name, obj in chosen.items()}
        planned = [name for name, found in plans.items() if found.checked]
        skipped = [{"name": name, "why": found.why_text()} for name, found in plans.items()
                   if not found.checked]
        say("plan", names=planned, skipped=skipped)
        for name in planned:
            found = plans[name]
            say("start", name=name, kind=found.kind, reference=found.reference)
            result = check_one(found, chosen[name])
            say("result", result=result.as_dict())
        say("done")
    except CheckError as error:
        say("error", key=error.key, fields=error.fields)
    return 0


def check_one(found, obj) -> Result:
    """The check of one planned object; what the checker cannot get through (a class that
    cannot be built, an exception out of the learner's code) fails this object alone."""
    from dlfs.check import run_plan

    try:
        return run_plan(found, obj)
    except MemoryError as error:  # the checkers raise it again: the memory limit
        from dlfs.check.result import learner_frame

        mine = _line_of(obj)[0]
        file, line = learner_frame(error, {mine} if mine else None)
        if file is None:
            file, line = learner_frame(error)
        return _past_memory(found, file, line, limit=memory_limit_mb())
    except CheckError as error:
        message = {lang: error.text(lang) for lang in catalogue.LANGS}
        file, line = _line_of(obj)
    except Exception as error:  # the learner's code may raise anything, anywhere
        from dlfs.check.result import error_line, learner_frame

        file, line = learner_frame(error)
        text = error_line(error)
        message = {lang: catalogue.text("check.crash_checking", lang, name=found.name,
                                        error=text) for lang in catalogue.LANGS}
    if file is not None and line is not None:
        message = {lang: catalogue.text("check.where", lang, file=file, line=line) + text
                   for lang, text in message.items()}
    return Result(found.name, found.kind, _reference_name(found.kind, found.reference), "fail",
                  diagnoses=[Diagnosis("crash", message, line, file)])


def _line_of(obj) -> tuple[str | None, int | None]:
    """(file, line) of a learner's class's __init__ (else its first method) or function."""
    members = [obj]
    if isinstance(obj, type):
        members = [vars(obj)[name] for name in ("__init__", *vars(obj)) if name in vars(obj)]
    for member in members:
        code = getattr(member, "__code__", None)
        if code is not None:
            return code.co_filename, code.co_firstlineno
    return None, None


def _reference_name(kind: str | None, reference: str | None) -> str:
    """The dlfs name of an optimizer rule key ("adagrad" -> "AdaGrad"); others as they are."""
    if kind == "optimizer":
        from dlfs.check.optimizers import RULES

        if reference in RULES:
            return RULES[reference].reference
    return reference or "?"


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(prog="python -m dlfs.check.load")
    parser.add_argument("--events", required=True)
    parser.add_argument("file")
    parser.add_argument("names", nargs="*")
    args = parser.parse_args(argv)
    return child(args.events, args.file, args.names)


# -- the parent ---------------------------------------------------------------------------------


@dataclass
class Outcome:
    """What ``check_file`` found: the results, the objects it did not check (name and why, in
    every language), the notebook's cells."""

    results: list[Result] = field(default_factory=list)
    skipped: list[dict] = field(default_factory=list)  # {"name": …, "why": {lang: text}}
    cells_ran: list[int] = field(default_factory=list)
    cells_skipped: list[list] = field(default_factory=list)  # [number, line, code]
    notebook: bool = False
    descendants: int = 0  # processes the file's code left running, killed when it ended

    def as_dict(self, error: CheckError | None = None) -> dict:
        """The JSON form ``dlfs check --json`` prints."""
        return {"results": [r.as_dict() for r in self.results],
                "skipped": [dict(entry) for entry in self.skipped],
                "cells": {"ran": list(self.cells_ran),
                          "skipped": [{"cell": number, "line": line, "code": code}
                                      for number, line, code in self.cells_skipped]},
                "error": None if error is None else {
                    "code": error.key.split(".", 1)[-1],
                    "message": {lang: error.text(lang) for lang in catalogue.LANGS}}}



DEFAULT_MEMORY = 2 * 2**30  # bytes of address space the learner's code may use


def check_file(path: str | os.PathLike, names=(), timeout: float = 60.0,
               outcome: Outcome | None = None, memory: int | None = DEFAULT_MEMORY) -> Outcome:
    """Checks what the learner's file ``path`` defines (``names``, else every one it holds)
    in a sandboxed child process (``dlfs.check.sandbox``) that may run ``timeout`` seconds in
    all and use ``memory`` bytes of address space (None: no limit); every process its code
    starts ends with it. Raises CheckError for a usage error: a bad file, a name it does not
    define, a file that does not load (in time, within the memory). Code that runs out of
    time or memory while one object is checked fails that object (``timeout`` or ``memory``,
    at the learner's line) and leaves the ones after it unchecked (time) or checks them in a
    new child (memory, a crash). ``outcome``: the Outcome to fill (what was found before a
    usage error is then still in it)."""
    source = read_source(path)
    shown = str(path)
    outcome = outcome if outcome is not None else Outcome()
    outcome.notebook = source.notebook
    files = {cell.filename: cell.code.split("\n") for cell in source.cells}
    deadline = time.monotonic() + timeout
    pending = list(names)
    while True:
        events, ending = _run_child(shown, pending, deadline - time.monotonic(), memory)
        outcome.descendants += ending.descendants_killed
        current, plan = None, None
        for event in events:
            kind = event["event"]
            if kind == "error":
                raise CheckError(event["key"], **event["fields"])
            if kind == "cells":
                outcome.cells_ran = event["ran"]
                outcome.cells_skipped = event["skipped"]
            elif kind == "plan":
                plan = event["names"]
                outcome.skipped = outcome.skipped or event["skipped"]
            elif kind == "start":
                current = event
            elif kind == "result":
                outcome.results.append(_result(event["result"]))
                current = None
            elif kind == "done":
                return outcome
        if ending.status == "timeout":
            file, line = learner_line(ending.stderr, files)
            if current is None:
                if line is not None:
                    raise CheckError("check.timeout_loading_at", file=file, line=line,
                                     seconds=timeout)
                raise CheckError("check.timeout_loading", file=shown, seconds=timeout)
            code = files[file][line - 1].strip() if line and line <= len(files[file]) else ""
            outcome.results.append(_timed_out(current, shown, timeout, file, line, code))
            left = plan[plan.index(current["name"]) + 1:] if plan else []
            outcome.skipped += [{"name": name, "why": catalogue.both(
                "check.why_no_time", name=name, seconds=timeout)} for name in left]
            return outcome
        limit = "?" if memory is None else f"{memory / 2**20:.0f}"
        if plan is None or current is None:
            if ending.status == "memory":
                raise CheckError("check.memory_loading", file=shown, limit=limit)
            raise CheckError("check.died_loading", file=shown, how=_how(_ended(ending), "en"))
        if ending.status == "memory":
            outcome.results.append(_past_memory(current, None, None, limit))
        else:
            outcome.results.append(_died(current, _ended(ending)))
        pending = plan[plan.index(current["name"]) + 1:]
        if not pending:
            return outcome


def _ended(ending) -> int:
    """The child's exit status, negative for the signal that ended it."""
    if ending.signal is not None:
        return -int(signal.Signals[ending.signal])
    return ending.exit_code if ending.exit_code is not None else 1


_STACK_LINE = re.compile(r'^\s*File "(.*)", line (\d+) in ')


def learner_line(stack: str, files) -> tuple[str | None, int | None]:
    """(file, line) of the innermost frame of the dumped stacks (``faulthandler``'s text, most
    recent call first) that lies in the learner's ``files``; (None, None) if none does."""
    for text in stack.splitlines():
        found = _STACK_LINE.match(text)
        if found and found.group(1) in files:
            return found.group(1), int(found.group(2))
    return None, None


def _run_child(path: str, names: list[str], seconds: float, memory: int | None):
    """(events, the sandbox's Ending) of one run of the child: forked from this process where
    ``can_fork``, else ``python -m dlfs.check.load``; either way under the sandbox's limits,
    in a session of its own, its stacks dumped at the time limit (in ``Ending.stderr``)."""
    from dlfs.check import sandbox

    seconds = max(seconds, 0.1)
    with tempfile.TemporaryDirectory(prefix="dlfs-check-") as folder:
        events_path = os.path.join(folder, "events.jsonl")
        if can_fork():
            for stream in (sys.stdout, sys.stderr):
                stream.flush()  # else the child holds a copy of what is still buffered
            running = sandbox.start(child, events_path, path, names, timeout=seconds,
                                    memory=memory)
        else:
            import dlfs

            package_root = str(Path(dlfs.__file__).resolve().parents[1])
            env = dict(os.environ)
            env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root,
                                                              env.get("PYTHONPATH")]))
            command = [sys.executable, "-m", "dlfs.check.load", "--events", events_path,
                       "--", path, *names]
            running = sandbox.start(command, timeout=seconds, memory=memory, env=env)
        try:
            ending = running.wait()
        except KeyboardInterrupt:  # Ctrl-C: end the child and everything it started
            running.stop()
            running.wait()
            raise
        lines = _read(events_path).splitlines()
    events = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            break  # a line cut short by the process's end
    return events, ending


def can_fork() -> bool:
    """Whether the child can be a fork of this process (POSIX, and no other thread running
    that a fork could catch holding a lock): it then starts with NumPy and dlfs imported,
    in milliseconds instead of the second a new interpreter takes."""
    import threading

    return (hasattr(os, "fork") and threading.active_count() == 1
            and os.environ.get("DLFS_CHECK_FORK", "1") != "0")


def _read(path: str) -> str:
    try:
        with open(path, encoding="utf-8", errors="replace") as file:
            return file.read()
    except FileNotFoundError:
        return ""


def _how(ended, lang: str) -> str:
    if isinstance(ended, int) and ended < 0:
        try:
            name = signal.Signals(-ended).name
        except ValueError:
            name = str(-ended)
        return catalogue.text("check.how_signal", lang, signal=name)
    return catalogue.text("check.how_exit", lang, status=ended)


def _died(current: dict, ended) -> Result:
    name = current["name"]
    message = {lang: catalogue.text("check.crash_process", lang, name=name,
                                    how=_how(ended, lang)) for lang in catalogue.LANGS}
    return Result(name, current["kind"], _reference_name(current["kind"], current["reference"]),
                  "fail", diagnoses=[Diagnosis("crash", message)])


def _timed_out(current: dict, shown: str, seconds: float, file, line, code: str) -> Result:
    """The fail of the object whose check ran out of time, at the learner's running line."""
    name = current["name"]
    message = {}
    for lang in catalogue.LANGS:
        if line is not None:
            message[lang] = catalogue.text("check.timeout_at", lang, name=name, file=file,
                                           line=line, seconds=seconds,
                                           code=code or "…")
        else:
            message[lang] = catalogue.text("check.timeout", lang, name=name, file=shown,
                                           seconds=seconds)
    return Result(name, current["kind"], _reference_name(current["kind"], current["reference"]),
                  "fail", diagnoses=[Diagnosis("timeout", message, line, file)])


def _past_memory(found, file, line, limit: str) -> Result:
    """The fail of the object whose check ran past the memory limit, at the learner's line
    that asked for the memory where it is known. ``found``: its plan (or the child's
    ``start`` event)."""
    name = found["name"] if isinstance(found, dict) else found.name
    kind = found["kind"] if isinstance(found, dict) else found.kind
    reference = found["reference"] if isinstance(found, dict) else found.reference
    message = {}
    for lang in catalogue.LANGS:
        if line is not None:
            code = linecache.getline(file, line).strip() or "…"
            message[lang] = catalogue.text("check.memory_at", lang, name=name, file=file,
                                           line=line, limit=limit, code=code[:80])
        else:
            message[lang] = catalogue.text("check.memory", lang, name=name, limit=limit)
    return Result(name, kind, _reference_name(kind, reference), "fail",
                  diagnoses=[Diagnosis("memory", message, line, file)])


def _result(data: dict) -> Result:
    diagnoses = [Diagnosis(d["code"], d["message"], d["line"]) for d in data["diagnoses"]]
    fields = {k: v for k, v in data.items() if k != "diagnoses"}
    return Result(**fields, diagnoses=diagnoses)


if __name__ == "__main__":
    sys.exit(main())
