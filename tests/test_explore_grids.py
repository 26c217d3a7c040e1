"""The report's grids for weight-decay and dropout (jobs of the lab, the baseline and the book's
value shared) and the live views built from them and from optimizer-compare's and
weight-init-compare's runs over several seeds: every number in a spec is one of results.json,
the fragment's controls name each of them, a record without them gives no view; --explore (or
explore = true in a --config file) asks for finer grids."""

import csv
import io
import json
import math
from dataclasses import replace
from types import SimpleNamespace

import numpy as np
import pytest

from dlfs import catalogue
from dlfs.catalogue import LANGS
from dlfs.cli import build_parser
from dlfs.cli.run import run_request
from dlfs.cli.text import CliError
from dlfs.experiments import EXPERIMENTS, Request, jobs
from dlfs.experiments.base import smooth_curve
from dlfs.experiments.lab import plan
from dlfs.experiments.overfitting import grid_epochs
from dlfs.explore import EXAMPLES, VIEWS, view

REMEDIES = ("weight-decay", "dropout")
# MNIST's shape: what jobs.cost counts a job's multiply-adds from
MNIST = SimpleNamespace(input_size=784, n_classes=10, t_train=np.zeros(60_000),
                        t_test=np.zeros(10_000))


def _rows(spec: dict, name: str) -> list[dict]:
    """A dataset of a spec as explore._as_csv wrote it, read back the way Vega parses it."""
    parse = next(node["format"]["parse"] for node in _data_nodes(spec)
                 if node.get("name") == name)
    rows = list(csv.DictReader(io.StringIO(spec["datasets"][name])))
    return [{key: (None if value == "" else float(value)) if key in parse else value
             for key, value in row.items()} for row in rows]


def _data_nodes(node):
    if isinstance(node, dict):
        if isinstance(node.get("data"), dict) and "format" in node["data"]:
            yield node["data"]
        for value in node.values():
            yield from _data_nodes(value)
    elif isinstance(node, list):
        for value in node:
            yield from _data_nodes(value)


def _params(spec: dict) -> dict:
    return {param["name"]: param for param in spec["params"]}


# -- the jobs -------------------------------------------------------------------------------


@pytest.mark.parametrize("name", REMEDIES)
def test_a_remedys_grid_is_declared_as_jobs_whose_zero_and_book_value_are_its_runs_beginnings(
        name):
    experiment = EXPERIMENTS[name]
    params = experiment.parameters(quick=False)
    (argument, book), = params["regulariser"].items()
    listed = experiment.jobs(params, 0)
    baseline, remedy, grid = listed[0], listed[1], listed[2:]
    assert len(grid) == len(params["explore_values"]) == 4
    assert all(job.epochs == 101 for job in grid)
    for value, job in zip(params["explore_values"], grid):
        network = jobs.thaw(job.network)
        if value == 0:
            assert job == baseline.with_length(101) and argument not in network
        else:
            assert network[argument] == value
        if value == book:
            assert job == remedy.with_length(101)
    trained = jobs.longest(listed)
    assert trained[grid[0]] == baseline and trained[grid[params["explore_values"].index(book)]] \
        == remedy


def test_overfit_weight_decay_and_dropout_train_one_baseline_two_remedies_and_four_grid_values():
    made = plan(Request([EXPERIMENTS[name] for name in ("overfit", *REMEDIES)]))
    trainings = made.distinct
    assert len(trainings) == 1 + 2 + 4  # before the grids: 3
    epochs = sorted(job.epochs for job in trainings)
    assert epochs == [101, 101, 101, 101, 201, 301, 301]  # the baseline is dropout's 301


def test_the_grids_add_at_most_a_fifth_to_the_cost_of_dlfs_run_all():
    everything = list(EXPERIMENTS.values())

    def cost(experiments):
        return sum(jobs.cost(job, MNIST) for job in plan(Request(experiments)).distinct)

    # before the grids: the remedies without theirs (the other grids are tasks of no cost to
    # speak of: a few hundred steps on a bowl, histograms of 1,000 samples)
    bare = [replace(e, params={**e.params, "explore_values": []}) if e.name in REMEDIES else e
            for e in everything]
    assert cost(bare) < cost(everything) <= 1.2 * cost(bare)
    assert cost(everything) / cost(bare) == pytest.approx(1.18, abs=0.01)


def test_a_grid_never_trains_longer_than_its_experiment():
    params = EXPERIMENTS["weight-decay"].parameters(quick=True)
    assert grid_epochs(params) == params["max_epochs"] == 15
    listed = EXPERIMENTS["weight-decay"].jobs(params, 3)
    assert {job.epochs for job in listed} == {15}
    assert len(set(listed)) == 2 + 2  # 0 is the baseline, 0.1 the remedy


# -- the views --------------------------------------------------------------------------------


def _history(rng, epochs: int) -> dict:
    train = np.sort(rng.random(epochs + 1)).tolist()
    return {"train_acc": train, "test_acc": [0.9 * a for a in train],
            "train_loss": rng.random(3 * epochs).tolist(), "iter_per_epoch": 3,
            "diverged_at": None}


def _remedy_record(name: str, rng) -> dict:
    experiment = EXPERIMENTS[name]
    params = experiment.parameters(quick=True)
    histories = [_history(rng, 15) for _ in experiment.jobs(params, 0)]
    results = experiment.run(histories, params)
    return {"name": name, "results": results, "seed": 0}


@pytest.mark.parametrize("name", REMEDIES)
def test_a_remedys_live_view_holds_the_grids_curves_and_gaps_of_results_json(name, rng):
    record = _remedy_record(name, rng)
    grid = record["results"]["explore"]
    assert [run["value"] for run in grid["runs"]] == EXPERIMENTS[name].params["explore_values"]
    for lang in LANGS:
        spec, controls = view(record, lang)
        curves = _rows(spec, "curves")
        for i, run in enumerate(grid["runs"]):
            for which in ("train", "test"):
                assert [row["accuracy"] for row in curves
                        if row["i"] == i and row["set"] == which] == run[f"{which}_acc"]
            gap = float(np.mean(np.subtract(run["train_acc"], run["test_acc"])[-10:]))
            assert run["gap"] == pytest.approx(gap)
        assert [row["gap"] for row in _rows(spec, "gaps")] == [run["gap"] for run in grid["runs"]]
        key = "lambda" if name == "weight-decay" else "ratio"
        book = EXPERIMENTS[name].params["regulariser"]
        (value,) = book.values()
        assert controls == {key: {"signal": "value_index", "values": [
            [f"{run['value']:.4g}", i] for i, run in enumerate(grid["runs"])]}}
        slider = _params(spec)["value_index"]
        assert grid["runs"][slider["value"]]["value"] == value  # the book's value first
        assert slider["bind"]["name"] == catalogue.text(f"live.{key}_index", lang, count=4)
        assert slider["bind"]["input"] == "range"


def test_a_view_of_a_run_of_several_seeds_says_it_shows_the_first(rng):
    record = _remedy_record("weight-decay", rng)
    for lang in LANGS:
        assert "title" not in view(record, lang)[0]  # one seed: nothing to say
    record["seeds"] = [4, 7, 9]
    for lang in LANGS:
        said = catalogue.text("explore.first_seed", lang, seed=4, count=3)
        assert view(record, lang)[0]["title"] == said
        assert "4" in said and "3" in said


def test_a_views_own_title_stays_above_the_seed_it_shows(monkeypatch, rng):
    from dlfs import explore

    monkeypatch.setitem(explore.VIEWS, "weight-decay", lambda results, lang: (
        {"title": "own", "mark": "point", "datasets": {"a": [{"x": 1}]}}, {}))
    record = {**_remedy_record("weight-decay", rng), "seeds": [2, 3]}
    assert view(record, "en")[0]["title"] == {
        "text": ["own", catalogue.text("explore.first_seed", "en", seed=2, count=2)]}


def test_the_remedy_grid_holds_the_first_epochs_of_the_baseline_and_of_the_remedy(rng):
    experiment = EXPERIMENTS["dropout"]
    params = experiment.parameters(quick=False)
    listed = experiment.jobs(params, 0)
    trained = jobs.longest(listed)
    long = {job: _history(rng, job.epochs) for job in set(trained.values())}
    histories = [jobs.prefix(job, trained[job], long[trained[job]]) for job in listed]
    results = experiment.run(histories, params)
    runs = results["explore"]["runs"]
    assert results["explore"]["epochs"] == 101
    assert runs[0]["train_acc"] == results["baseline"]["train_acc"][:102]
    assert runs[2]["value"] == 0.2
    assert runs[2]["test_acc"] == results["regularised"]["test_acc"][:102]


def _compare_record(name: str, seeds, rng, lengths=None) -> dict:
    experiment = EXPERIMENTS[name]
    params = experiment.parameters(quick=True)
    labels = list(params["optimizers" if name == "optimizer-compare" else "inits"])
    runs = []
    for seed in seeds:
        losses = [rng.random((lengths or {}).get((seed, label), 60)).tolist()
                  for label in labels]
        runs.append({"seed": seed, "results": experiment.run(losses, params)})
    return {"name": name, "seed": seeds[0], "results": runs[0]["results"], "runs": runs}


def _smoothed(curve):
    return [None if not math.isfinite(v) else float(v) for v in smooth_curve(curve)]


@pytest.mark.parametrize("name", ["optimizer-compare", "weight-init-compare"])
def test_a_comparisons_band_and_each_seeds_curve_are_the_smoothed_losses_of_results_json(
        name, rng):
    record = _compare_record(name, [0, 1, 2], rng, {(1, "He"): 40, (1, "Adam"): 40})
    labels = list(record["results"]["losses"])
    spec, controls = view(record, "en")
    band, per_seed = _rows(spec, "band"), _rows(spec, "per_seed")
    for k, label in enumerate(labels):
        curves = {run["seed"]: _smoothed(run["results"]["losses"][label])
                  for run in record["runs"]}
        for seed, curve in curves.items():
            assert [row["loss"] for row in per_seed if row["k"] == k and row["seed"] == seed] \
                == curve  # 60 iterations: every one drawn
        for row in (row for row in band if row["k"] == k):
            there = [curve[int(row["it"])] for curve in curves.values()
                     if row["it"] < len(curve)]
            assert (row["low"], row["high"]) == (min(there), max(there))
            assert row["mean"] == pytest.approx(sum(there) / len(there))
        assert len([row for row in band if row["k"] == k]) == max(map(len, curves.values()))
    keys = {"optimizer-compare": ["sgd", "momentum", "nesterov", "adagrad", "rmsprop",
                                  "adadelta", "adam"],
            "weight-init-compare": ["std_0.01", "xavier", "he"]}[name]
    assert list(controls) == [*keys, "seeds"]
    assert all(controls[key] == {"signal": f"show_{k}", "values": [["on", True], ["off", False]]}
               for k, key in enumerate(keys))
    assert controls["seeds"] == {"signal": "seeds", "values": [["band", "band"], ["0", "0"],
                                                               ["1", "1"], ["2", "2"]]}
    params = _params(spec)
    assert all(params[f"show_{k}"]["bind"]["input"] == "checkbox" and params[f"show_{k}"]["value"]
               for k in range(len(keys)))
    assert params["seeds"]["bind"]["name"] == catalogue.text("live.seeds", "en")


def test_a_long_comparison_draws_two_hundred_points_of_each_smoothed_curve(rng):
    record = _compare_record("weight-init-compare", [5], rng,
                             {(5, label): 2000 for label in ("std=0.01", "Xavier", "He")})
    spec, controls = view(record, "ko")
    band = _rows(spec, "band")
    curve = _smoothed(record["results"]["losses"]["Xavier"])
    drawn = [row for row in band if row["k"] == 1]
    assert [row["it"] for row in drawn] == list(range(0, 2000, 10))
    assert [row["mean"] for row in drawn] == curve[::10]
    assert "per_seed" not in spec["datasets"] and "seeds" not in controls  # one seed: no select
    assert _params(spec)["show_0"]["bind"]["name"] == catalogue.text(
        "weight-init-compare.std", "ko", std=0.01)


def test_a_record_older_than_runs_gives_a_comparison_of_its_one_result(rng):
    record = _compare_record("optimizer-compare", [0], rng)
    del record["runs"]
    spec, controls = view(record, "en")
    assert "seeds" not in controls and len(controls) == 7


@pytest.mark.parametrize("name", ["weight-decay", "dropout", "optimizer-compare",
                                  "weight-init-compare"])
def test_a_record_without_the_numbers_a_view_needs_gives_no_view(name, rng):
    if name in REMEDIES:
        record = _remedy_record(name, rng)
        del record["results"]["explore"]  # what a results.json of dlfs before the grids holds
        assert view(record, "en") is None
        record["results"]["explore"] = {"argument": "lr", "runs": []}
    else:
        record = _compare_record(name, [0, 1], rng)
        record["runs"][1]["results"]["losses"].popitem()  # the seeds disagree on the curves
    assert view(record, "en") is None


def test_every_live_view_has_an_example_address_for_the_docs_and_notebooks():
    assert set(EXAMPLES) == set(VIEWS)


# -- --explore: finer grids ---------------------------------------------------------------------


FINER = {"gradient-descent": "explore_lr", "optimizer-paths": "explore_factors",
         "activation-histograms": "explore_stds", "weight-decay": "explore_values",
         "dropout": "explore_values"}


@pytest.mark.parametrize("name", sorted(FINER))
def test_explore_asks_for_about_twice_as_many_values_on_each_grid(name):
    experiment = EXPERIMENTS[name]
    key = FINER[name]
    book, finer = experiment.parameters(False)[key], experiment.parameters(False, explore=True)[key]
    assert 1.9 <= len(finer) / len(book) <= 2.1
    assert set(book) <= set(finer)
    assert finer == sorted(finer) and len(set(finer)) == len(finer)
    assert experiment.parameters(True, explore=True)[key] == finer  # quick mode too


def test_explore_trains_the_finer_grids_as_more_jobs():
    experiments = [EXPERIMENTS[name] for name in ("overfit", *REMEDIES)]
    assert len(plan(Request(experiments, explore=True)).distinct) == 1 + 2 + 2 * 6


def _request(tmp_path, *options, config=None):
    argv = ["run", "weight-decay", "--out", str(tmp_path / "out"), *options]
    if config is not None:
        (tmp_path / "run.toml").write_text(config, encoding="utf-8")
        argv += ["--config", str(tmp_path / "run.toml")]
    args = build_parser().parse_args(argv)
    return run_request(args, [EXPERIMENTS["weight-decay"]])


def test_the_explore_flag_and_the_config_key_ask_for_finer_grids(tmp_path, capsys):
    assert not _request(tmp_path).explore
    assert _request(tmp_path, "--explore").explore
    assert _request(tmp_path, config="explore = true\nmax_epochs = 30\n").explore
    assert _request(tmp_path, "--set", "explore=true").explore
    assert not _request(tmp_path, config="explore = false\n").explore
    request = _request(tmp_path, "--explore")
    assert plan(request).params["weight-decay"]["explore_values"] == \
        EXPERIMENTS["weight-decay"].explore_params["explore_values"]


@pytest.mark.parametrize("lang", LANGS)
def test_an_explore_key_that_is_not_true_or_false_stops_the_run_in_one_line(tmp_path, lang):
    with pytest.raises(CliError) as info:
        _request(tmp_path, "--lang", lang, config='explore = "yes"\n')
    assert str(info.value) == catalogue.text("live.explore_wrong", lang, value='"yes"')


@pytest.mark.parametrize("lang", LANGS)
def test_the_explore_flag_is_described_in_the_help_in_the_languages_own_words(lang, capsys):
    with pytest.raises(SystemExit):
        build_parser(lang).parse_args(["run", "--help"])
    said = " ".join(capsys.readouterr().out.split())
    # the help's first words (argparse may break its lines after a hyphen further on)
    assert "--explore " + " ".join(catalogue.text("live.explore_help", lang).split()[:6]) in said


def test_a_remedy_view_says_its_value_and_gap_in_the_pages_language(rng):
    record = _remedy_record("weight-decay", rng)
    for lang in LANGS:
        spec, _ = view(record, lang)
        text = json.dumps(spec, ensure_ascii=False)
        before = catalogue.text("live.gap_is", lang, last=10, value="\0").split("\0")[0]
        assert json.dumps(before, ensure_ascii=False)[1:-1] in text
        assert catalogue.text("live.gaps_title", lang) in text
