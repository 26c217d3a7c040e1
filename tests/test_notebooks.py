"""The chapter notebooks: generated from notebooks/build.py, stored without outputs, and run top
to bottom (small settings) in a real Jupyter kernel."""

import sys
from pathlib import Path

import nbformat
import pytest
from nbclient import NotebookClient

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "notebooks"))
import build  # noqa: E402

NOTEBOOKS = sorted(build.render())


def test_every_notebook_is_committed_as_build_py_writes_it():
    for path, text in build.render().items():
        assert path.is_file(), f"{path} is missing: run python notebooks/build.py"
        assert path.read_text(encoding="utf-8") == text, f"{path} differs from build.py's"


def test_both_languages_share_the_same_code():
    for name in build.NOTEBOOKS:
        en = nbformat.read(ROOT / "notebooks" / "en" / name, as_version=4)
        ko = nbformat.read(ROOT / "notebooks" / "ko" / name, as_version=4)
        assert sum(c.cell_type == "code" for c in ko.cells) == \
            sum(c.cell_type == "code" for c in en.cells) + 1  # + the Korean font cell
        assert not [c for c in en.cells + ko.cells if "{{" in c.source], "a label left untranslated"


@pytest.mark.parametrize("path", NOTEBOOKS, ids=lambda p: f"{p.parent.name}/{p.name}")
def test_notebook_runs_top_to_bottom(path, monkeypatch, tmp_path):
    monkeypatch.setenv("DLFS_QUICK", "1")
    nb = nbformat.read(path, as_version=4)
    assert all(not cell.get("outputs") for cell in nb.cells if cell.cell_type == "code")
    NotebookClient(nb, timeout=600, kernel_name="python3",
                   resources={"metadata": {"path": str(tmp_path)}}).execute()
    errors = [out for cell in nb.cells if cell.cell_type == "code"
              for out in cell.get("outputs", []) if out.get("output_type") == "error"]
    assert errors == []
