"""The package's layers (STYLE.md): data → layers/functions → network ↔ optim → train →
experiments → cli/report. Nothing imports upward; every import is read from the source with
``ast``, lazy ones inside functions included."""

import ast
import os
import subprocess
import sys
from pathlib import Path

import pytest

import dlfs

PACKAGE = Path(dlfs.__file__).parent

# The library below the lab: none of it may reach into the lab or the command line.
LIBRARY = ("dlfs.search", "dlfs.network", "dlfs.optim", "dlfs.train", "dlfs.layers",
           "dlfs.functions", "dlfs.gradient", "dlfs.data", "dlfs.init", "dlfs.schedules",
           "dlfs.io", "dlfs._checks", "dlfs._progress", "dlfs.check")
LAB = ("dlfs.experiments", "dlfs.report", "dlfs.explore", "dlfs.records", "dlfs.cli")
# What sits above the data sets.
ABOVE_DATA = ("dlfs.layers", "dlfs.functions", "dlfs.gradient", "dlfs.init", "dlfs.network",
              "dlfs.optim", "dlfs.schedules", "dlfs.train", "dlfs.search", "dlfs.check", *LAB)


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def imported_modules(source: str, module: str, is_package: bool = False) -> set[str]:
    """Every module ``source`` (the text of ``module``) imports, wherever the import stands.
    ``from A import B`` yields A and A.B, since B may be a module."""
    found = set()
    package = module if is_package else module.rpartition(".")[0]
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:  # relative: from . import x, from ..data import y
                anchor = package.split(".")
                anchor = anchor[:len(anchor) - (node.level - 1)]
                base = ".".join(anchor + ([base] if base else []))
            found.add(base)
            found.update(f"{base}.{alias.name}" for alias in node.names)
    return found


def _imports_by_module() -> dict[str, set[str]]:
    return {module_name(path): imported_modules(path.read_text(encoding="utf-8"),
                                                module_name(path), path.name == "__init__.py")
            for path in sorted(PACKAGE.rglob("*.py"))}


IMPORTS = _imports_by_module()


def _within(module: str, prefixes) -> bool:
    return any(module == prefix or module.startswith(prefix + ".") for prefix in prefixes)


def _offences(importers, forbidden) -> list[str]:
    return sorted(f"{module} imports {target}" for module, targets in IMPORTS.items()
                  if _within(module, importers) for target in targets
                  if _within(target, forbidden) and not _within(module, forbidden))


def test_the_import_reader_finds_lazy_and_relative_imports():
    source = ("import numpy as np\n"
              "def plot():\n"
              "    from dlfs.experiments import figures\n"
              "    if True:\n"
              "        import dlfs.cli\n"
              "class Loader:\n"
              "    def load(self):\n"
              "        from ..data import lab\n"
              "        from . import idx\n")
    assert imported_modules(source, "dlfs.data.datasets") >= {
        "numpy", "dlfs.experiments", "dlfs.experiments.figures", "dlfs.cli", "dlfs.data.lab",
        "dlfs.data.idx"}


def test_every_layer_of_the_package_is_read():
    assert {"dlfs.cli", "dlfs.report", "dlfs.search", "dlfs.network", "dlfs.optim", "dlfs.train",
            "dlfs.data", "dlfs.data.lab", "dlfs.experiments", "dlfs.experiments.runner"} <= \
        set(IMPORTS)


def test_nothing_in_the_package_imports_the_command_line():
    # dlfs.__main__ is `python -m dlfs`: the command line itself, and imported by nothing.
    offences = _offences(["dlfs"], ["dlfs.cli"])
    assert [o for o in offences if not o.startswith("dlfs.__main__ ")] == []
    assert not any("dlfs.__main__" in targets for targets in IMPORTS.values())


@pytest.mark.parametrize("module", LIBRARY)
def test_the_library_imports_nothing_from_the_lab_or_the_report(module):
    assert _offences([module], ["dlfs.experiments", "dlfs.report"]) == []


def test_import_dlfs_loads_neither_the_lab_nor_the_report():
    assert sorted(target for target in IMPORTS["dlfs"] if _within(target, LAB)) == []


def test_the_data_sets_import_nothing_above_them():
    assert _offences(["dlfs.data"], ABOVE_DATA) == []


def test_the_checker_reaches_neither_the_lab_nor_the_command_line():
    # dlfs.check runs learners' code for notebooks and the CLI alike: library, below both
    assert _offences(["dlfs.check"], ["dlfs.cli", "dlfs.experiments", "dlfs.report",
                                      "dlfs.search", "dlfs.train"]) == []
    assert "dlfs.check" in IMPORTS["dlfs.cli.check"]


@pytest.mark.parametrize("module", ["dlfs.check.layers", "dlfs.check.functions",
                                    "dlfs.check._probe"])
def test_the_layer_and_function_checks_import_neither_the_lab_nor_the_command_line(module):
    # dlfs.check runs inside a notebook or the checker's child process: library and catalogue
    # only (the CLI imports dlfs.check, never the other way round).
    assert module in IMPORTS
    assert _offences([module], [*LAB]) == []


@pytest.mark.slow
def test_the_lab_runs_with_the_command_line_unimportable(tmp_path):
    # The data set is handed in; nothing below the command line calls back into it (it once
    # loaded the data through the CLI's load_lab_data).
    script = (
        "import sys\n"
        "sys.modules['dlfs.cli'] = None  # importing it now raises ImportError\n"
        "import numpy as np\n"
        "from dlfs.data import Data\n"
        "from dlfs.experiments import EXPERIMENTS, Request, run_lab\n"
        "rng = np.random.default_rng(0)\n"
        "x, t = rng.random((120, 9)).astype(np.float32), np.arange(120) % 3\n"
        "data = Data('tiny', 'Tiny', 'made here', x[:90], t[:90], x[90:], t[90:])\n"
        "names = ['numerical-diff', 'overfit', 'weight-decay']\n"
        "request = Request([EXPERIMENTS[n] for n in names], quick=True, workers=2)\n"
        "ended = sorted(result.record['name'] for result in run_lab(request, data))\n"
        "assert ended == sorted(names), ended\n"
        "assert sys.modules['dlfs.cli'] is None\n"
        "print('ran')\n")
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True,
                          env={**os.environ, "PYTHONPATH": str(PACKAGE.parent)}, timeout=300,
                          check=False)
    assert (done.returncode, done.stdout) == (0, "ran\n"), done.stderr
