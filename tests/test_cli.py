import json
import os
import subprocess
import sys

import pytest

from dlfs.cli import main
from dlfs.experiments import EXPERIMENTS


def test_list_names_every_experiment(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in EXPERIMENTS:
        assert name in out


def test_run_and_report_end_to_end(tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["run", "numerical-diff", "gradient-descent", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "[1/2] numerical-diff" in printed and "claims held" in printed
    summary = json.loads((out / "run.json").read_text())
    assert [e["name"] for e in summary["experiments"]] == ["numerical-diff", "gradient-descent"]
    assert main(["report", "--out", str(out), "--lang", "ko"]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 4
    assert '<body data-lang="ko">' in page


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["run", "optimiser-paths"], "unknown experiment 'optimiser-paths'; choose from"),
     (["run"], "name at least one experiment, or all"),
     (["report", "--out", "/nonexistent/dlfs"], "is not a folder; run experiments first"),
     (["data", "cifar"], "unknown dataset 'cifar'")],
)
def test_bad_input_gets_one_line_and_exit_status_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_an_unwritable_out_folder_is_refused(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["run", "numerical-diff", "--out", str(blocker / "sub")]) == 2
    assert "is not a writable folder" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_a_read_only_out_folder_is_refused(tmp_path, capsys):
    tmp_path.chmod(0o500)
    try:
        assert main(["run", "numerical-diff", "--out", str(tmp_path)]) == 2
    finally:
        tmp_path.chmod(0o700)


def test_bad_option_values_exit_2_without_traceback():
    result = subprocess.run([sys.executable, "-m", "dlfs.cli", "run", "all", "--seed", "-3"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "--seed" in result.stderr and "Traceback" not in result.stderr


def test_data_command_says_where_fashion_mnist_is(capsys):
    assert main(["data", "fashion-mnist"]) == 0
    assert "Fashion-MNIST: /usr/share/datasets/fashion-mnist (system)" in capsys.readouterr().out


def test_data_command_says_where_a_missing_set_would_go(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert main(["data", "mnist", "--root", str(tmp_path / "r")]) == 0
    assert f"MNIST: not found; a download would go to {tmp_path / 'r' / 'mnist'}" in \
        capsys.readouterr().out
