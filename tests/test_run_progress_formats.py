"""dlfs run's bar of jobs (drawn by the CLI from the lab's JobDone events), the figure formats
set in a --config file, and --replot keeping the figure files of the formats it does not draw."""

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest
from conftest import write_idx_set

from dlfs import _progress
from dlfs.cli import main
from dlfs.records import load_record

N_TRAIN, N_TEST, CLASSES, SIDE = 300, 100, 3, 5
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def idx_folder(tmp_path_factory):
    """A small data set in MNIST's IDX layout: 5×5 images whose brightness tells the class."""
    return write_idx_set(tmp_path_factory.mktemp("idx"), 5, N_TRAIN, N_TEST, CLASSES, SIDE,
                         step=60)


@pytest.fixture
def bars(monkeypatch):
    """Each progress bar of unit "job" asked for: (enabled, the bar or None)."""
    asked = []
    real = _progress.progress_bar

    def recording(total, enabled, *args, **kwargs):
        bar = real(total, enabled, *args, **kwargs)
        if kwargs.get("unit") == "job":
            asked.append((enabled, bar))
        return bar

    monkeypatch.setattr(_progress, "progress_bar", recording)
    return asked


class _Terminal(io.StringIO):
    """A stderr that says it is a terminal."""

    def isatty(self) -> bool:
        return True


# -- the bar of jobs ---------------------------------------------------------------------------


@pytest.mark.slow  # a lab run each
@pytest.mark.parametrize("workers", ["1", "2"])
def test_the_bar_of_a_run_on_a_terminal_ends_at_its_number_of_distinct_jobs(
        idx_folder, tmp_path, monkeypatch, trained_jobs, bars, workers):
    terminal = _Terminal()
    monkeypatch.setattr(sys, "stderr", terminal)
    out = tmp_path / "results"
    # optimizer-compare's SGD run is weight-init-compare's He run: one job for both
    assert main(["run", "optimizer-compare", "weight-init-compare", "--quick", "--dataset",
                 str(idx_folder), "--workers", workers, "--out", str(out)]) == 0
    ran = trained_jobs()
    assert len(ran) == len(set(ran)) == 7 + 2
    ((enabled, bar),) = bars
    assert enabled and bar is not None
    assert bar.n == bar.total == len(ran)
    assert bar.unit == "job" and f"/{len(ran)}" in terminal.getvalue()


@pytest.mark.slow  # a lab run each
def test_the_bar_speaks_the_commands_language(idx_folder, tmp_path, monkeypatch, trained_jobs,
                                              bars):
    monkeypatch.setattr(sys, "stderr", _Terminal())
    assert main(["--lang", "ko", "run", "optimizer-paths", "weight-init-compare", "--quick",
                 "--dataset", str(idx_folder), "--out", str(tmp_path / "results")]) == 0
    ((_, bar),) = bars
    assert bar.unit == "작업" and bar.n == bar.total == len(trained_jobs()) == 1 + 3


def test_no_bar_is_drawn_where_stderr_is_not_a_terminal(idx_folder, tmp_path, bars, capsys):
    assert main(["run", "weight-init-compare", "--quick", "--dataset", str(idx_folder),
                 "--out", str(tmp_path / "results")]) == 0
    assert bars == [(False, None)]
    assert "\r" not in capsys.readouterr().err


# -- figure formats from --config --------------------------------------------------------------


def _figures(folder: Path) -> dict:
    return json.loads((folder / "results.json").read_text(encoding="utf-8"))["figures"]


def _files_listed_are_the_files_there(folder: Path) -> None:
    listed = sorted(name for files in _figures(folder).values()
                    for fmt, name in files.items() if fmt != "labels")
    assert listed == sorted(path.name for path in folder.glob("figure.*"))


@pytest.mark.slow  # a lab run each
@pytest.mark.parametrize("line", ['formats = ["png", "svg"]', 'formats = "svg,png"',
                                  'formats = ["SVG"]'])
def test_a_config_file_sets_the_figure_formats(tmp_path, line, capsys):
    config = tmp_path / "run.toml"
    config.write_text(f"{line}\nh = 0.001\n", encoding="utf-8")
    out = tmp_path / "results"
    assert main(["run", "numerical-diff", "--config", str(config), "--out", str(out)]) == 0
    folder = out / "numerical-diff"
    for lang in ("en", "ko"):
        assert _figures(folder)[lang]["png"] == f"figure.{lang}.png"
        assert _figures(folder)[lang]["svg"] == f"figure.{lang}.svg"
        assert (folder / f"figure.{lang}.svg").read_text(encoding="utf-8").lstrip().startswith(
            ("<?xml", "<svg"))
    _files_listed_are_the_files_there(folder)
    assert json.loads((out / "run.json").read_text(encoding="utf-8"))["formats"] == [
        "png", "svg"]
    # the experiment's own setting in the same file still applies
    assert json.loads((folder / "results.json").read_text(encoding="utf-8"))[
        "overrides"] == {"h": 0.001}


def test_formats_on_the_command_line_win_over_the_config_file(tmp_path):
    config = tmp_path / "run.toml"
    config.write_text('formats = ["png", "svg"]\n', encoding="utf-8")
    out = tmp_path / "results"
    assert main(["run", "numerical-diff", "--config", str(config), "--formats", "png",
                 "--out", str(out)]) == 0
    assert not list((out / "numerical-diff").glob("*.svg"))
    assert sorted(_figures(out / "numerical-diff")["en"]) == ["labels", "png"]


@pytest.mark.parametrize("line, shown", [('formats = ["gif"]', 'formats = ["gif"]'),
                                         ("formats = 3", "formats = 3"),
                                         ("formats = []", "formats = []"),
                                         ('formats = ",,"', 'formats = ",,"')])
def test_a_wrong_formats_key_in_a_config_file_names_the_file_and_the_value(tmp_path, capsys,
                                                                           line, shown):
    config = tmp_path / "run.toml"
    config.write_text(line + "\n", encoding="utf-8")
    out = tmp_path / "results"
    assert main(["run", "numerical-diff", "--config", str(config), "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1
    assert f"--config {config}: {shown}: choose from png, svg" in err
    assert not out.exists()


def test_every_run_key_the_docs_list_is_accepted_in_a_config_file(tmp_path):
    sys.path.insert(0, str(ROOT / "docs"))
    import gen_pages

    documented = gen_pages.run_keys().splitlines()
    assert documented  # the docs list the run's keys (formats, at least)
    for i, line in enumerate(documented):
        config = tmp_path / f"run{i}.toml"
        config.write_text(line + "\n", encoding="utf-8")
        assert main(["run", "numerical-diff", "--config", str(config),
                     "--out", str(tmp_path / f"results{i}")]) == 0, line
    index = gen_pages.experiments_index("en")
    assert all(line in index for line in documented)


# -- --replot keeps what it does not draw ------------------------------------------------------


@pytest.mark.slow  # a lab run each
def test_replot_in_svg_keeps_the_png_figures_drawn_before_and_lists_both(tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["run", "numerical-diff", "--out", str(out)]) == 0
    folder = out / "numerical-diff"
    pngs = {lang: (folder / f"figure.{lang}.png").read_bytes() for lang in ("en", "ko")}
    assert main(["run", "numerical-diff", "--replot", "--formats", "svg", "--out",
                 str(out)]) == 0
    for lang in ("en", "ko"):
        assert (folder / f"figure.{lang}.png").read_bytes() == pngs[lang]  # kept, not redrawn
        assert (folder / f"figure.{lang}.svg").is_file()
        files = _figures(folder)[lang]
        assert (files["png"], files["svg"]) == (f"figure.{lang}.png", f"figure.{lang}.svg")
    _files_listed_are_the_files_there(folder)
    load_record(folder / "results.json")  # the report and dlfs show still read it
    # and a PNG-only replot afterwards keeps the SVG files
    assert main(["run", "numerical-diff", "--replot", "--out", str(out)]) == 0
    assert sorted(_figures(folder)["ko"]) == ["labels", "png", "svg"]
    _files_listed_are_the_files_there(folder)


@pytest.mark.slow  # a lab run each
def test_a_replot_in_svg_draws_a_png_where_none_is_left(tmp_path):
    out = tmp_path / "results"
    assert main(["run", "numerical-diff", "--out", str(out)]) == 0
    folder = out / "numerical-diff"
    (folder / "figure.en.png").unlink()
    assert main(["run", "numerical-diff", "--replot", "--formats", "svg", "--out",
                 str(out)]) == 0
    assert (folder / "figure.en.png").read_bytes().startswith(b"\x89PNG")
    _files_listed_are_the_files_there(folder)
    load_record(folder / "results.json")


@pytest.mark.slow  # a lab run each
def test_a_run_asked_for_svg_alone_still_writes_the_png_the_report_reads(tmp_path):
    out = tmp_path / "results"
    assert main(["run", "numerical-diff", "--formats", "svg", "--out", str(out)]) == 0
    folder = out / "numerical-diff"
    _files_listed_are_the_files_there(folder)
    record = load_record(folder / "results.json")
    assert sorted(record["figures"]["en"]) == ["labels", "png", "svg"]


@pytest.mark.slow  # a lab run each
def test_a_replot_keeps_no_link_planted_as_a_figure(tmp_path):
    out = tmp_path / "results"
    assert main(["run", "numerical-diff", "--out", str(out)]) == 0
    folder = out / "numerical-diff"
    target = tmp_path / "elsewhere.svg"
    target.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>", encoding="utf-8")
    (folder / "figure.en.svg").symlink_to(target)
    assert main(["run", "numerical-diff", "--replot", "--out", str(out)]) == 0
    assert not (folder / "figure.en.svg").exists() and not (folder / "figure.en.svg").is_symlink()
    assert "svg" not in _figures(folder)["en"]
    assert target.read_text(encoding="utf-8").startswith("<svg")


# -- a worker killed under its job --------------------------------------------------------------

KILLS_ADAM = '''
import os, signal, sys
from dlfs.cli import main
from dlfs.experiments import jobs

parent, real = os.getpid(), jobs.run_job


def run_job(job, data):
    if os.getpid() != parent and "adam" in repr(job).lower():
        os.kill(os.getpid(), signal.SIGKILL)  # as the out-of-memory killer ends a process
    return real(job, data)


jobs.run_job = run_job
sys.exit(main(sys.argv[1:]))
'''


@pytest.mark.slow  # a lab run each
def test_a_worker_killed_under_its_job_fails_that_experiment_and_the_others_finish(
        idx_folder, tmp_path):
    script = tmp_path / "kills_adam.py"
    script.write_text(KILLS_ADAM, encoding="utf-8")
    out = tmp_path / "results"
    done = subprocess.run(
        [sys.executable, str(script), "run", "optimizer-compare", "weight-init-compare",
         "--quick", "--dataset", str(idx_folder), "--workers", "2", "--out", str(out)],
        env={**os.environ, "PYTHONPATH": str(ROOT / "src")},
        capture_output=True, text=True, timeout=300)  # before: it waited forever
    assert done.returncode == 1, done.stderr
    assert ("optimizer-compare failed (seeds 0): the worker process running it died before it "
            "ended (killed: the out-of-memory killer") in done.stderr
    assert (out / "weight-init-compare" / "results.json").is_file()
    assert not (out / "optimizer-compare").exists()
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["failed"] == [{"name": "optimizer-compare", "seeds": [0]}]
