"""dlfs run's plan: two experiments side by side, a core each, the costliest chains first."""

from __future__ import annotations

import json
import os
import time

import pytest

from dlfs import catalogue
from dlfs.cli import main
from dlfs.cli.plan import RunPlan
from dlfs.experiments import EXPERIMENTS, Experiment, Verdict, figures
from dlfs.experiments.base import can_fork

pytestmark = pytest.mark.skipif(not can_fork(), reason="side by side needs fork")


class _Timed(Experiment):
    def texts(self, params):
        return {part: {lang: f"{self.name} {part}" for lang in catalogue.LANGS}
                for part in ("title", "claim", "about")}


def _check(results):
    return Verdict(True, {lang: "ran" for lang in catalogue.LANGS}, {})


def _plot(results, lang):
    fig, ax = figures.figure(lang)
    ax.plot([0, 1])
    return figures.finish(fig)


def _timed(name: str, cost: float, log) -> Experiment:
    """An experiment of its own chain (its run has a module of its own) that writes when it
    started and with how many workers, then takes 0.4 s."""

    def run(ctx, params):
        with open(log, "a", encoding="utf-8") as handle:
            handle.write(json.dumps({"name": name, "at": time.monotonic(),
                                     "workers": ctx.workers}) + "\n")
        time.sleep(0.4)
        return {"pid": os.getpid()}

    run.__module__ = f"tests.chain_{name.replace('-', '_')}"
    return _Timed(name=name, chapter=6, section="0", run=run, plot=_plot, check=_check,
                  cost=cost, deterministic=True)


@pytest.fixture
def timed(monkeypatch, tmp_path):
    log = tmp_path / "started.jsonl"
    made = [_timed(name, cost, log) for name, cost in
            (("cheap-a", 1), ("costly-b", 5), ("cheap-c", 1), ("middle-d", 3))]
    for experiment in made:
        monkeypatch.setitem(EXPERIMENTS, experiment.name, experiment)
    return made, log


@pytest.mark.slow
def test_side_by_side_the_costliest_start_first_each_on_one_core_and_run_json_keeps_the_order(
        timed, tmp_path, capsys):
    made, log = timed
    out = tmp_path / "results"
    assert main(["run", *[e.name for e in made], "--workers", "2", "--out", str(out)]) == 0
    started = [json.loads(line) for line in log.read_text(encoding="utf-8").splitlines()]
    first_two = sorted(started, key=lambda s: s["at"])[:2]
    assert {s["name"] for s in first_two} == {"costly-b", "middle-d"}
    assert min(s["at"] for s in started if s["name"].startswith("cheap")) > \
        max(s["at"] for s in first_two)
    assert {s["workers"] for s in started} == {1}  # a core each: no pool beside another lane
    run = json.loads((out / "run.json").read_text(encoding="utf-8"))
    assert run["side_by_side"] == 2
    assert [e["name"] for e in run["experiments"]] == [e.name for e in made]
    # Printed as they finish, numbered in that order: the cheap ones, started last, end last.
    printed = [line for line in capsys.readouterr().out.splitlines() if line.startswith("[")]
    assert [line.split("]")[0] for line in printed] == ["[1/4", "[2/4", "[3/4", "[4/4"]
    assert {line.split()[1].rstrip(":") for line in printed[2:]} == {"cheap-a", "cheap-c"}


def test_one_chain_costing_more_than_the_others_together_runs_them_one_after_another(timed):
    made, _ = timed
    by_name = {e.name: e for e in made}
    alone = [by_name["costly-b"], by_name["cheap-a"], by_name["cheap-c"]]  # 5 against 2
    plan = RunPlan(alone, {e.name: {} for e in alone}, [0], True, 2, None)
    assert plan.lanes == 1 and plan.context({}).workers == 2  # costly-b spreads its own runs
    balanced = made  # costly-b's 5 against 1 + 1 + 3
    plan = RunPlan(balanced, {e.name: {} for e in balanced}, [0], True, 2, None)
    assert plan.lanes == 2 and plan.context({}).workers == 1
    assert RunPlan(balanced, {e.name: {} for e in balanced}, [0], True, 1, None).lanes == 1


def test_every_lab_experiment_states_what_it_costs_and_the_full_lab_runs_side_by_side():
    lab = list(EXPERIMENTS.values())
    assert all(e.cost > 0 for e in lab)
    plan = RunPlan(lab, {e.name: {} for e in lab}, [0], False, 2, None)
    assert plan.lanes == 2
    # The search, the costliest chain, starts first; the overfitting chain beside it.
    firsts = [indices[0] for indices in plan.chains.values()]
    search = lab.index(EXPERIMENTS["hyperparameter-search"])
    assert plan._next(firsts) == search
    firsts.remove(search)
    assert lab[plan._next(firsts)].name == "overfit"

