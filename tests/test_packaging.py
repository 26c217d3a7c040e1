"""What `pip install dlfs-lab` gives: the whole lab from the plain install, a version, and a
one-line pip command where an optional extra is missing."""

from __future__ import annotations

import ast
import subprocess
import sys
import tomllib
from importlib import metadata
from pathlib import Path

import pytest

import dlfs
from dlfs import cli

ROOT = Path(__file__).resolve().parent.parent
PYPROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))
# Import names installed under another distribution: SQLAlchemy comes with Optuna, vl_convert is
# vl-convert-python.
PROVIDED_BY = {"sqlalchemy": "optuna", "vl_convert": "vl-convert-python", "PIL": "pillow"}


def _requirement_name(requirement: str) -> str:
    for stop in "<>=!~[; ":
        requirement = requirement.split(stop)[0]
    return requirement.lower()


def _third_party_imports() -> dict[str, set[str]]:
    """Top-level module -> the dlfs files importing it, lazy imports inside functions too."""
    found: dict[str, set[str]] = {}
    for path in (ROOT / "src" / "dlfs").rglob("*.py"):
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Import):
                names = [alias.name for alias in node.names]
            elif isinstance(node, ast.ImportFrom) and node.level == 0 and node.module:
                names = [node.module]
            else:
                continue
            for name in names:
                top = name.split(".")[0]
                if top != "dlfs" and top not in sys.stdlib_module_names:
                    found.setdefault(top, set()).add(path.name)
    return found


@pytest.mark.slow
def test_every_package_the_library_imports_is_a_base_dependency():
    base = {_requirement_name(r) for r in PYPROJECT["project"]["dependencies"]}
    imported = _third_party_imports()
    assert {"numpy", "matplotlib", "optuna"} <= set(imported)  # the walk really finds imports
    missing = {name: files for name, files in imported.items()
               if PROVIDED_BY.get(name, name) not in base}
    assert not missing, f"imported but not installed by `pip install dlfs-lab`: {missing}"


def test_the_installed_metadata_declares_the_lab_and_an_spdx_licence():
    meta = metadata.metadata("dlfs-lab")
    required = {_requirement_name(r) for r in meta.get_all("Requires-Dist")
                if "extra ==" not in r}
    assert {"numpy", "matplotlib", "tqdm", "threadpoolctl", "optuna"} <= required
    assert meta["License-Expression"] == "MIT"
    assert meta["Version"] == dlfs.__version__
    extras = set(meta.get_all("Provides-Extra"))
    assert {"postgres", "test", "docs", "notebook"} <= extras


def test_the_readme_states_the_python_version_pyproject_requires():
    required = PYPROJECT["project"]["requires-python"].removeprefix(">=")
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    assert f"Python ≥ {required}" in readme
    assert "Python ≥ 3.10" not in readme or required == "3.10"


@pytest.mark.slow
@pytest.mark.parametrize("command", [["-m", "dlfs"], ["-m", "dlfs.cli"]])
def test_python_dash_m_dlfs_prints_the_version_like_the_dlfs_command(command):
    result = subprocess.run([sys.executable, *command, "--version"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == f"dlfs {dlfs.__version__}"


@pytest.mark.slow
def test_python_dash_m_dlfs_runs_a_command():
    result = subprocess.run([sys.executable, "-m", "dlfs", "list"], capture_output=True,
                            text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    assert "two-layer-net" in result.stdout


@pytest.mark.slow
def test_a_postgresql_storage_without_its_driver_names_the_pip_command(monkeypatch, tmp_path,
                                                                      capsys):
    monkeypatch.setitem(sys.modules, "psycopg", None)  # as if not installed: import fails
    status = cli.main(["search", "--storage", "postgresql://someone@127.0.0.1/db", "--out",
                       str(tmp_path)])
    err = capsys.readouterr().err
    assert status == 2
    assert "pip install 'dlfs-lab[postgres]'" in err
    assert "Traceback" not in err and len(err.strip().splitlines()) == 1


def test_the_makefiles_apt_step_waits_for_a_busy_dpkg_lock(tmp_path):
    # The Makefile's apt_install run for real on a package that is not installed, with SUDO
    # pointing at a script that records the apt-get command lines instead of running them.
    import shutil

    if shutil.which("make") is None or shutil.which("dpkg") is None:
        pytest.fail("make and dpkg are needed: `make test` runs on Debian or Ubuntu")
    log, sudo = tmp_path / "apt.log", tmp_path / "sudo"
    sudo.write_text(f'#!/bin/sh\necho "$@" >> {log}\n', encoding="utf-8")
    sudo.chmod(0o755)
    subprocess.run(["make", "-s", "--eval",
                    "probe: ; $(call apt_install,dlfs-no-such-package)", "probe",
                    f"SUDO={sudo}"], cwd=ROOT, check=True, timeout=60, capture_output=True)
    calls = log.read_text(encoding="utf-8").splitlines()
    assert [call.split()[:3] for call in calls] == [
        ["apt-get", "-o", "DPkg::Lock::Timeout=300"]] * 2
    assert [call.split()[3] for call in calls] == ["update", "install"]
