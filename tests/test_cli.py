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


def test_run_writes_each_result_folder_with_its_record_and_figures_in_png_and_svg(tmp_path):
    out = tmp_path / "results"
    assert main(["run", "numerical-diff", "--out", str(out)]) == 0
    folder = out / "numerical-diff"
    record = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert record["name"] == "numerical-diff" and record["verdict"]["held"] is True
    for lang in ("en", "ko"):
        files = record["figures"][lang]
        assert files["png"] == f"figure.{lang}.png" and files["svg"] == f"figure.{lang}.svg"
        assert files["labels"] in (lang, "en")
        assert (folder / files["png"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (folder / files["svg"]).read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert sorted(p.name for p in out.iterdir()) == ["numerical-diff", "run.json"]


def test_a_rerun_replaces_the_result_folder_whole(tmp_path):
    out = tmp_path / "results"
    assert main(["run", "numerical-diff", "--out", str(out)]) == 0
    (out / "numerical-diff" / "stale.txt").write_text("from an older run")
    assert main(["run", "numerical-diff", "--out", str(out)]) == 0
    assert sorted(p.name for p in (out / "numerical-diff").iterdir()) == [
        "figure.en.png", "figure.en.svg", "figure.ko.png", "figure.ko.svg", "results.json"]
    assert sorted(p.name for p in out.iterdir()) == ["numerical-diff", "run.json"]


def test_the_first_experiment_that_needs_data_names_the_data_set_everywhere(tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["run", "numerical-diff", "two-layer-net", "--quick", "--dataset",
                 "fashion-mnist", "--out", str(out)]) == 0
    record = json.loads((out / "two-layer-net" / "results.json").read_text(encoding="utf-8"))
    assert record["dataset"]["name"] == "fashion-mnist"
    assert json.loads((out / "numerical-diff" / "results.json").read_text())["dataset"] is None
    assert json.loads((out / "run.json").read_text())["dataset"] == record["dataset"]
    assert main(["report", "--out", str(out)]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count(f"Fashion-MNIST — {record['dataset']['source']}") == 2  # header, section


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
