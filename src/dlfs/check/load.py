"""Running a learner's file (.py or .ipynb) in a child process with a time limit, and checking
what it defines there.

The parent (``check_file``, which ``dlfs check`` calls) reads the file first without running
it: a missing file, a syntax error (file and line), a notebook that is not one or has no code
are answered at once. It then starts ``python -m dlfs.check.load --events PATH FILE [NAME…]``
in a new session and waits at most the time limit. The child runs the file — a .py as a module
(``__name__`` is not "__main__", so its training under ``if __name__ == "__main__":`` does not
run); a notebook's code cells that only import and define (see ``cell_blocker``) —, checks each
recognised name with ``dlfs.check.check`` and writes one JSON line per event to PATH:
``plan`` (the names it will check), ``start``, ``result``, ``skipped``, ``error`` (a usage
error: a catalogue key and its fields), ``done``. A learner's print goes nowhere; an infinite
loop ends with the time limit (the whole session is killed); a crash of the process itself
(``os._exit``, a segmentation fault) while one name is checked fails that name and the child
is started again for the names after it.
"""

from __future__ import annotations

import argparse
import ast
import json
import os
import signal
import subprocess
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
            cell.code = "\n".join("" if line.lstrip().startswith(("%", "!")) else line
                                  for line in lines)
        cells.append(cell)
    return cells


def _parse(cell: Cell) -> Cell:
    try:
        ast.parse(cell.code, cell.filename)
    except SyntaxError as error:
        raise CheckError("check.syntax", file=cell.filename, line=error.lineno or 1,
                         message=error.msg) from None
    return cell


def cell_blocker(tree: ast.Module) -> tuple[int, str] | None:
    """(line, code) of the first statement that makes a notebook cell more than definitions —
    a loop, a call such as train() or plt.plot(), an assignment from a call other than NumPy's —
    or None when the cell only imports, defines and assigns."""
    for statement in tree.body:
        if not _defines(statement):
            code = ast.unparse(statement).split("\n")[0]
            return statement.lineno, code if len(code) <= 60 else code[:57] + "..."
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


def load(source: Source) -> tuple[types.ModuleType, list[Cell]]:
    """Runs the file's code (its cells that define) as the module MODULE; (the module, the
    cells that raised when run, their blocker set to the error)."""
    module = types.ModuleType(MODULE)
    module.__file__ = source.path
    sys.modules[MODULE] = module
    folder = str(Path(source.path).resolve().parent)
    if folder not in sys.path:
        sys.path.insert(0, folder)  # as running the file would: its neighbours import
    failed = []
    for cell in source.cells:
        if cell.blocker is not None:
            continue
        code = compile(cell.code, cell.filename, "exec")
        if not source.notebook:
            exec(code, module.__dict__)  # an error here is the file's: the caller reports it
            continue
        try:
            exec(code, module.__dict__)
        except Exception as error:  # a cell that needs a skipped one: skip it too, say why
            line = _error_line(error, cell.filename)
            cell.blocker = (line, f"{type(error).__name__}: {error}"[:60])
            failed.append(cell)
    return module, failed


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
    """The child's work: load, plan, check each name, writing events."""
    from dlfs.check import check, recognise

    say = _Events(events_path)
    devnull = open(os.devnull, "w", encoding="utf-8")  # noqa: SIM115
    sys.stdout = devnull  # the learner's prints go nowhere
    try:
        source = read_source(path)
        try:
            module, failed = load(source)
        except Exception as error:
            say("error", key="check.crash_loading", fields={
                "file": path, "line": _error_line(error, path),
                "error": f"{type(error).__name__}: {error}"[:300]})
            return 0
        say("cells", ran=[c.number for c in source.cells if c.blocker is None],
            skipped=[[c.number, *c.blocker] for c in source.cells if c.blocker is not None])
        defined = {name: obj for name, obj in vars(module).items()
                   if not name.startswith("_") and getattr(obj, "__module__", None) == MODULE
                   and isinstance(obj, (type, types.FunctionType))}
        if names:
            for name in names:
                if name not in vars(module):
                    raise CheckError("check.missing_name", file=path, name=name,
                                     names=", ".join(defined) or "-")
            plan, skipped = list(names), []
        else:
            plan = [name for name in defined if recognise(name) is not None]
            skipped = [name for name in defined if name not in plan]
            if not plan:
                from dlfs.check import known_names

                raise CheckError("check.nothing_recognised", file=path,
                                 names=", ".join(defined) or "-",
                                 known=", ".join(known_names()))
        say("plan", names=plan, skipped=skipped)
        for name in plan:
            say("start", name=name)
            result = check(getattr(module, name), name=name)
            say("result", result=result.as_dict())
        say("done")
    except CheckError as error:
        say("error", key=error.key, fields=error.fields)
    return 0


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
    """What ``check_file`` found: the results, the names it did not check, the cells."""

    results: list[Result] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)
    cells_ran: list[int] = field(default_factory=list)
    cells_skipped: list[list] = field(default_factory=list)  # [number, line, code]
    notebook: bool = False


def check_file(path: str | os.PathLike, names=(), timeout: float = 60.0) -> Outcome:
    """Checks what the learner's file ``path`` defines (``names``, else every recognised one)
    in a child process that may run ``timeout`` seconds in all. Raises CheckError for a usage
    error: a bad file, a name it does not define, code that does not end in time."""
    source = read_source(path)
    shown = str(path)
    outcome = Outcome(notebook=source.notebook)
    deadline = time.monotonic() + timeout
    pending = list(names)
    while True:
        events, ended = _run_child(shown, pending, deadline - time.monotonic())
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
                current = event["name"]
            elif kind == "result":
                outcome.results.append(_result(event["result"]))
                current = None
            elif kind == "done":
                return outcome
        if ended == "timeout":
            if current is None:
                raise CheckError("check.timeout_loading", file=shown, seconds=timeout)
            raise CheckError("check.timeout", name=current, file=shown, seconds=timeout)
        if plan is None or current is None:
            raise CheckError("check.died_loading", file=shown, how=_how(ended, "en"))
        outcome.results.append(_died(current, ended))
        pending = plan[plan.index(current) + 1:]
        if not pending:
            return outcome


def _run_child(path: str, names: list[str], seconds: float):
    """(events, how it ended: "timeout" or the return code) of one child run."""
    import dlfs

    package_root = str(Path(dlfs.__file__).resolve().parents[1])
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join(filter(None, [package_root, env.get("PYTHONPATH")]))
    with tempfile.TemporaryDirectory(prefix="dlfs-check-") as folder:
        events_path = os.path.join(folder, "events.jsonl")
        command = [sys.executable, "-m", "dlfs.check.load", "--events", events_path, "--",
                   path, *names]
        process = subprocess.Popen(command, stdin=subprocess.DEVNULL,
                                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                                   env=env, start_new_session=True)
        try:
            ended = process.wait(timeout=max(seconds, 0.1))
        except subprocess.TimeoutExpired:
            ended = "timeout"
        finally:
            _kill_session(process)
        try:
            with open(events_path, encoding="utf-8") as file:
                lines = file.read().splitlines()
        except FileNotFoundError:
            lines = []
    events = []
    for line in lines:
        try:
            events.append(json.loads(line))
        except json.JSONDecodeError:
            break  # a line cut short by the process's end
    return events, ended


def _kill_session(process: subprocess.Popen) -> None:
    """Ends the child and anything it started (its own session), then reaps it."""
    try:
        os.killpg(process.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass
    process.wait()


def _how(ended, lang: str) -> str:
    if isinstance(ended, int) and ended < 0:
        try:
            name = signal.Signals(-ended).name
        except ValueError:
            name = str(-ended)
        return catalogue.text("check.how_signal", lang, signal=name)
    return catalogue.text("check.how_exit", lang, status=ended)


def _died(name: str, ended) -> Result:
    from dlfs.check import recognise
    from dlfs.check.optimizers import RULES

    kind, reference = recognise(name) or ("optimizer", name)
    if kind == "optimizer" and reference in RULES:
        reference = RULES[reference].reference
    message = {lang: catalogue.text("check.crash_process", lang, name=name,
                                    how=_how(ended, lang)) for lang in catalogue.LANGS}
    return Result(name, kind, reference, "fail", diagnoses=[Diagnosis("crash", message)])


def _result(data: dict) -> Result:
    diagnoses = [Diagnosis(d["code"], d["message"], d["line"]) for d in data["diagnoses"]]
    fields = {k: v for k, v in data.items() if k != "diagnoses"}
    return Result(**fields, diagnoses=diagnoses)


if __name__ == "__main__":
    sys.exit(main())
