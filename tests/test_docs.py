import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def test_documentation_builds_without_a_single_warning(tmp_path):
    result = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir",
                             str(tmp_path / "site")], cwd=ROOT, capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-3000:]
    assert "WARNING" not in result.stderr
    page = (tmp_path / "site" / "api" / "optim" / "index.html").read_text(encoding="utf-8")
    assert "BookAdam" in page and "m̂ = m / (1 − β₁ᵗ)" in page
