"""The lab's runner (dlfs.experiments.lab): every job of a whole run trained once, over one
process pool; a longer training serving a shorter one's first epochs bit for bit; a failing
job failing its experiments only; Ctrl-C leaving no worker behind; and a new experiment, one
module, run through it."""

import json
import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import numpy as np
import pytest
from conftest import process_alive, write_idx_set

from dlfs.cli import main
from dlfs.data import load_lab_data
from dlfs.experiments import EXPERIMENTS, Request, jobs, run_lab
from dlfs.experiments.base import can_fork
from dlfs.experiments.lab import plan

N_TRAIN, N_TEST, CLASSES, SIDE = 300, 100, 3, 5
ROOT = Path(__file__).resolve().parents[1]


@pytest.fixture(scope="module")
def idx_folder(tmp_path_factory):
    """A small data set in MNIST's IDX layout: 5×5 images whose brightness tells the class."""
    return write_idx_set(tmp_path_factory.mktemp("idx"), 11, N_TRAIN, N_TEST, CLASSES, SIDE,
                         step=60)


@pytest.fixture(scope="module")
def data(idx_folder):
    return load_lab_data(str(idx_folder))


def _records(request, data):
    records = {}
    for outcome in run_lab(request, data):
        records[outcome.record["name"]] = outcome.record
    return records


# -- each job once -------------------------------------------------------------------------


@pytest.mark.slow
@pytest.mark.parametrize("workers", [1, 2])
def test_equal_specs_train_once_optimizer_compares_sgd_is_weight_init_compares_he(
        data, trained_jobs, workers):
    compare, inits = EXPERIMENTS["optimizer-compare"], EXPERIMENTS["weight-init-compare"]
    records = _records(Request([compare, inits], quick=True, workers=workers), data)
    ran = trained_jobs()
    assert len(ran) == len(set(ran)) == len(compare.params["optimizers"]) + 2  # He: once
    sgd = records["optimizer-compare"]["results"]["losses"]["SGD"]
    assert records["weight-init-compare"]["results"]["losses"]["He"] == sgd
    alone = _records(Request([inits], quick=True), data)["weight-init-compare"]
    assert alone["results"] == records["weight-init-compare"]["results"]


@pytest.mark.slow
def test_the_first_epochs_of_a_longer_training_are_bit_for_bit_the_shorter_training(
        data, trained_jobs):
    overfit, dropout = EXPERIMENTS["overfit"], EXPERIMENTS["dropout"]
    alone = _records(Request([overfit], quick=True), data)["overfit"]
    assert len(trained_jobs()) == 1
    together = _records(Request([overfit, dropout], {"dropout": {"max_epochs": 20}},
                                quick=True, workers=2), data)
    # the 20-epoch baseline, dropout's own and its grid's two other ratios (its 0 and 0.2 are
    # the first two): no 15-epoch one
    assert len(trained_jobs()) == 1 + 2 + 2
    assert together["overfit"]["results"] == alone["results"]  # every number, bit for bit
    assert together["overfit"]["verdict"] == alone["verdict"]
    baseline = together["dropout"]["results"]["baseline"]
    assert len(baseline["train_acc"]) == 21 and len(alone["results"]["baseline"]["train_acc"]) == 16
    assert baseline["train_acc"][:16] == alone["results"]["baseline"]["train_acc"]


def test_a_training_that_diverges_early_is_the_same_whatever_length_it_serves(data):
    job = jobs.training({"hidden_sizes": [20] * 5, "weight_init": 3.0, "seed": 0}, "sgd",
                        {"lr": 0.1}, samples=200, epochs=10, batch_size=20, batches=[0, 3])
    with np.errstate(all="ignore"):
        long = jobs.run_job(job, data)
        assert long["diverged_at"] is not None  # five layers of weights of scale 3 overflow
        short = job.with_length(long["diverged_at"] // long["iter_per_epoch"] + 2)
        assert short.epochs < job.epochs
        assert jobs.prefix(short, job, long) == jobs.run_job(short, data)


def test_all_experiments_over_three_seeds_plan_each_distinct_job_once():
    experiments = list(EXPERIMENTS.values())
    for quick in (True, False):
        made = plan(Request(experiments, seeds=[0, 1, 2], quick=quick))
        deterministic = [e for e in experiments if e.deterministic]
        assert {e.name for e in deterministic} == {
            "numerical-diff", "function-surface", "gradient-field", "gradient-descent",
            "sgd-function", "optimizer-paths"}
        scales = EXPERIMENTS["batch-norm"].parameters(quick)["scales"]
        per_seed = (1 + 1  # two-layer-net, numerical-vs-backprop
                    + 7 + 2  # optimizer-compare's seven; weight-init-compare's He is its SGD
                    + 1 + 2 * scales + 1  # activation histograms, batch norm, its gradcheck
                    + 3  # one baseline (overfit's are dropout's first epochs), two remedies
                    + 1)  # the search
        grids = 2 + 2  # the report's λ and dropout grids (their 0 and book value shared),
        # trained for the first seed alone: the live view shows that one
        assert len(made.distinct) == len(deterministic) + 3 * per_seed + grids, quick


@pytest.mark.slow
def test_all_experiments_over_three_seeds_train_the_planned_jobs_once(idx_folder, tmp_path,
                                                                     trained_jobs):
    out = tmp_path / "results"
    assert main(["run", "all", "--quick", "--seeds", "3", "--dataset", str(idx_folder),
                 "--workers", "2", "--out", str(out)]) == 0
    ran = trained_jobs()
    made = plan(Request(list(EXPERIMENTS.values()), seeds=[0, 1, 2], quick=True),
                load_lab_data(str(idx_folder)))  # the defaults the folder is too small for
    assert len(ran) == len(set(ran)) == len(made.distinct)
    assert sorted(ran) == sorted(repr(job) for job in made.distinct)
    assert all((out / name / "results.json").exists() for name in EXPERIMENTS)


@pytest.mark.slow
def test_the_costliest_job_runs_first(data, trained_jobs):
    _records(Request([EXPERIMENTS["gradient-descent"], EXPERIMENTS["overfit"],
                      EXPERIMENTS["weight-init-compare"]], quick=True), data)
    first = trained_jobs()[0]
    assert "epochs=15" in first  # the 15-epoch Trainer run: 300 samples, 16 evaluations


# -- failures and Ctrl-C ---------------------------------------------------------------------


def _children(pid: int) -> set[int]:
    found = set()
    for task in Path(f"/proc/{pid}/task").iterdir():
        text = (task / "children").read_text().split()
        found.update(int(child) for child in text)
    return found


@pytest.mark.slow
@pytest.mark.skipif(not (can_fork() and Path("/proc/self/task").exists()),
                    reason="needs fork and /proc")
def test_ctrl_c_during_a_run_leaves_no_worker_process_behind(idx_folder, tmp_path):
    env = {**os.environ, "PYTHONPATH": str(ROOT / "src")}
    process = subprocess.Popen(
        [sys.executable, "-m", "dlfs", "run", "batch-norm", "overfit", "optimizer-compare",
         "--dataset", str(idx_folder), "--workers", "2", "--out", str(tmp_path / "r")],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE, start_new_session=True)
    try:
        deadline = time.monotonic() + 60
        workers: set[int] = set()
        while len(workers) < 2 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
            workers = _children(process.pid)
        assert len(workers) >= 2, process.communicate()
        time.sleep(0.5)  # the pool at work
        os.killpg(process.pid, signal.SIGINT)  # as a terminal sends Ctrl-C: to the group
        _, err = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, err
    assert "interrupted" in err.decode()
    deadline = time.monotonic() + 10
    while any(process_alive(pid) for pid in workers) and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not any(process_alive(pid) for pid in workers)


# -- a new experiment is one module ----------------------------------------------------------

TOY = '''
"""A toy experiment: two trainings of a small net, one with a larger learning rate."""

from dlfs.experiments.base import Experiment, Verdict
from dlfs.experiments.jobs import training


def jobs(params, seed):
    return [training({"hidden_sizes": [8], "seed": seed}, "sgd", {"lr": lr},
                     iterations=params["iters"], batch_size=10, batches=[seed, 1])
            for lr in params["lrs"]]


def run(losses, params):
    return {"final": [float(loss[-1]) for loss in losses]}


def plot(results, lang):
    from dlfs.experiments import figures

    fig, ax = figures.figure(lang)
    ax.bar(range(len(results["final"])), results["final"])
    return figures.finish(fig)


def check(results):
    held = results["final"][1] < results["final"][0]
    return Verdict(held, {"en": "toy", "ko": "toy"}, {"final": results["final"]})


class Toy(Experiment):
    def texts(self, params):  # a real one has catalogue entries instead
        return {part: {"en": f"toy {part}", "ko": f"toy {part}"}
                for part in ("title", "claim", "about")}


EXPERIMENT = Toy(name="toy", chapter=4, section="0", jobs=jobs, run=run, plot=plot,
                 check=check, params={"iters": 40, "lrs": [0.001, 0.5]})
'''


@pytest.mark.slow
def test_a_toy_experiment_in_a_module_of_its_own_runs_through_the_real_runner(
        tmp_path, monkeypatch, idx_folder, trained_jobs):
    (tmp_path / "toy_experiment.py").write_text(textwrap.dedent(TOY), encoding="utf-8")
    monkeypatch.syspath_prepend(str(tmp_path))
    import toy_experiment

    monkeypatch.setitem(EXPERIMENTS, "toy", toy_experiment.EXPERIMENT)
    out = tmp_path / "results"
    assert main(["run", "toy", "optimizer-compare", "--quick", "--seeds", "2", "--dataset",
                 str(idx_folder), "--workers", "2", "--out", str(out)]) == 0
    record = json.loads((out / "toy" / "results.json").read_text(encoding="utf-8"))
    assert record["deterministic"] is False and record["dataset"]["name"].startswith("own")
    assert [run["seed"] for run in record["runs"]] == [0, 1]
    assert len(record["runs"][0]["results"]["final"]) == 2
    assert (out / "toy" / "figure.en.png").read_bytes()[:4] == b"\x89PNG"
    assert not (out / "toy" / "figure.en.svg").exists()  # PNG unless --formats asks for more
    assert len(trained_jobs()) == 2 * (2 + 7)  # the toy's two and optimizer-compare's seven


@pytest.mark.slow
def test_figures_are_png_unless_asked_and_replot_draws_any_format(tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["run", "gradient-descent", "--out", str(out)]) == 0
    folder = out / "gradient-descent"
    assert sorted(p.suffix for p in folder.glob("figure.*")) == [".png", ".png"]
    assert main(["run", "gradient-descent", "--replot", "--formats", "svg,png", "--out",
                 str(out)]) == 0
    record = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert record["figures"]["ko"]["svg"] == "figure.ko.svg"
    assert (folder / "figure.ko.svg").read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert (folder / "figure.ko.png").read_bytes()[:4] == b"\x89PNG"
    capsys.readouterr()
    assert main(["run", "gradient-descent", "--formats", "pdf", "--out", str(out)]) == 2
    assert capsys.readouterr().err == ("dlfs: error: --formats 'pdf': choose from png, svg, "
                                       "separated by commas (e.g. png,svg)\n")


# -- the report's grid: the first seed's ----------------------------------------------------


def test_over_several_seeds_a_remedys_grid_is_trained_for_the_first_seed_alone(data):
    experiment = EXPERIMENTS["weight-decay"]
    request = Request([experiment], {"weight-decay": {"max_epochs": 4, "explore_epochs": 2}},
                      seeds=[3, 5], quick=True, workers=1)
    made = plan(request, data)
    grid = len(made.params["weight-decay"]["explore_values"])
    assert len(made.jobs["weight-decay", 3]) == 2 + grid  # baseline, remedy, the grid
    assert len(made.jobs["weight-decay", 5]) == 2  # baseline, remedy

    record = _records(request, data)["weight-decay"]
    first, second = record["runs"]
    assert [first["seed"], second["seed"]] == [3, 5]
    assert [run["value"] for run in first["results"]["explore"]["runs"]] == \
        made.params["weight-decay"]["explore_values"]
    assert "explore" not in second["results"]
    # the second seed's figure is the book's all the same: its own baseline and remedy, and
    # its claim judged on them
    assert second["results"]["regularised"]["train_acc"] != first["results"]["regularised"][
        "train_acc"]
    assert len(second["results"]["baseline"]["train_acc"]) == 4 + 1
    assert second["verdict"]["detail"]
