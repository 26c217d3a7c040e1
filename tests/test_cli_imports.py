"""What `dlfs check` imports before it checks anything: the command's own modules only. The lab's
experiments, data sets (with the downloader's urllib) and matplotlib cost `dlfs check` about a
second of its start on this machine (python -X importtime), so dlfs.cli imports a command's
module when the command runs and sets matplotlib's backend without importing it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

import dlfs

SRC = str(Path(dlfs.__file__).resolve().parents[1])
FIXTURE = Path(__file__).parent / "fixtures" / "check" / "book_optimizer.py"
PROBE = """
import json, sys
from dlfs.cli import main
status = main(sys.argv[1:])
heavy = sorted({name for name in sys.modules
                if name.split(".")[0] in ("matplotlib", "optuna", "pandas", "scipy")
                or name.startswith(("dlfs.experiments", "dlfs.data", "dlfs.cli.run",
                                    "dlfs.cli.results", "dlfs.cli.search", "urllib.request"))})
print(json.dumps({"status": status, "heavy": heavy}))
"""


def _probe(*argv) -> dict:
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [SRC,
                                                                    os.environ.get("PYTHONPATH")])))
    env.pop("MPLBACKEND", None)
    done = subprocess.run([sys.executable, "-c", PROBE, *argv], capture_output=True, text=True,
                          env=env, timeout=120, check=False)
    return json.loads(done.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_dlfs_check_imports_neither_the_lab_nor_matplotlib():
    found = _probe("check", str(FIXTURE), "--json")
    assert found["status"] == 0
    assert found["heavy"] == []


@pytest.mark.slow
def test_the_lab_still_finds_its_commands_and_draws_without_a_window():
    code = ("import os\nfrom dlfs.cli import main, load_lab_data, write_result\n"
            "main(['list'])\nimport matplotlib\n"
            "print(matplotlib.get_backend(), callable(load_lab_data), callable(write_result))")
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [SRC,
                                                                    os.environ.get("PYTHONPATH")])))
    env.pop("MPLBACKEND", None)
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, env=env,
                          timeout=120, check=True)
    assert done.stdout.strip().splitlines()[-1].lower() == "agg true true"


def test_main_puts_the_matplotlib_backend_variable_back_for_what_the_caller_starts_later(
        monkeypatch, capsys):
    from dlfs.cli import main

    monkeypatch.delenv("MPLBACKEND", raising=False)
    assert main(["list"]) == 0
    assert "MPLBACKEND" not in os.environ  # a Jupyter kernel started now may draw inline
    monkeypatch.setenv("MPLBACKEND", "module://matplotlib_inline.backend_inline")
    assert main(["list"]) == 0
    assert os.environ["MPLBACKEND"] == "module://matplotlib_inline.backend_inline"
    assert "numerical-diff" in capsys.readouterr().out


LAB_PROBE = """
import json, sys
from dlfs.cli import main
status = main(sys.argv[1:])
print(json.dumps({"status": status, "dlfs": sorted(name for name in sys.modules
                                                   if name.split(".")[0] == "dlfs")}))
"""


@pytest.mark.slow
def test_dlfs_run_imports_neither_the_checker_nor_the_report(tmp_path):
    # The parser that every command builds holds dlfs check's options (cli/check_options.py),
    # not the checker; where a data set came from is said by dlfs.data.locations, not the report.
    env = dict(os.environ, PYTHONPATH=os.pathsep.join(filter(None, [SRC,
                                                                    os.environ.get("PYTHONPATH")])))
    done = subprocess.run([sys.executable, "-c", LAB_PROBE, "run", "numerical-diff", "--workers",
                           "1", "--out", str(tmp_path / "out")], capture_output=True, text=True,
                          env=env, timeout=120, check=False)
    found = json.loads(done.stdout.strip().splitlines()[-1])
    assert found["status"] == 0
    assert "dlfs.experiments.lab" in found["dlfs"]  # it did run the lab
    assert [name for name in found["dlfs"] if name.startswith("dlfs.check") or name in (
        "dlfs.cli.check", "dlfs.cli.classroom", "dlfs.report", "dlfs.explore")] == []
