"""dlfs run --seeds: every experiment over several seeds, each seed's run judged, the verdict
held only when the claim held in every seed; a seed's numbers the same alone or among others;
--replot from saved results; bad --seeds refused in one line."""

import json
import re
import shutil

import numpy as np
import pytest
from conftest import write_idx_set

from dlfs import catalogue
from dlfs.cli import main
from dlfs.experiments import EXPERIMENTS, Context, Experiment, Verdict, figures, run_experiment
from dlfs.experiments.jobs import task
from dlfs.records import RecordError, load_record

N_TRAIN, N_TEST, CLASSES, SIDE = 400, 100, 4, 6


@pytest.fixture(scope="module")
def idx_folder(tmp_path_factory):
    """A small data set in MNIST's IDX layout: 6×6 images whose brightness tells the class."""
    return write_idx_set(tmp_path_factory.mktemp("idx"), 5, N_TRAIN, N_TEST, CLASSES, SIDE,
                         step=50)


def _run(*argv):
    assert main(["run", *argv]) == 0


def _record(out, name):
    return json.loads((out / name / "results.json").read_text(encoding="utf-8"))


NAMES = ["optimizer-compare", "weight-init-compare", "batch-norm"]


@pytest.mark.slow
def test_three_seeds_write_each_seeds_run_and_verdict_and_the_report_reads_them(
        idx_folder, tmp_path, capsys):
    out = tmp_path / "results"
    _run(*NAMES, "--quick", "--seeds", "3", "--dataset", str(idx_folder), "--out", str(out))
    printed = capsys.readouterr().out
    for name in NAMES:
        record = _record(out, name)
        assert record["seeds"] == [0, 1, 2] and record["seed"] == 0
        assert record["deterministic"] is False
        assert [run["seed"] for run in record["runs"]] == [0, 1, 2]
        assert record["results"] == record["runs"][0]["results"]
        assert record["runs"][0]["results"] != record["runs"][1]["results"]  # seeds differ
        verdict, runs = record["verdict"], record["runs"]
        assert verdict["seeds"] == [{"seed": r["seed"], "held": r["verdict"]["held"],
                                     "judged": r["verdict"]["judged"]} for r in runs]
        assert verdict["held_in"] == sum(r["verdict"]["held"] for r in runs)
        assert verdict["of"] == sum(r["verdict"]["judged"] for r in runs)
        assert verdict["held"] == all(r["verdict"]["held"] for r in runs)
        for lang in ("en", "ko"):
            assert (out / name / record["figures"][lang]["png"]).stat().st_size > 0
        assert load_record(out / name / "results.json")["runs"] == runs
        said = (f"seeds 0, 1, 2: the claim held in {verdict['held_in']} of {verdict['of']}"
                if verdict["of"] else "seeds 0, 1, 2: not judged in quick mode with any of them")
        assert said in printed
    summary = json.loads((out / "run.json").read_text())
    assert summary["seeds"] == [0, 1, 2]
    assert main(["report", "--out", str(out)]) == 0
    assert main(["show", "batch-norm", "--out", str(out)]) == 0


@pytest.mark.slow
def test_a_seeds_numbers_are_identical_alone_and_among_three(idx_folder, tmp_path):
    names = ["optimizer-compare", "overfit", "weight-decay"]
    common = ["--quick", "--dataset", str(idx_folder), "--workers", "2"]
    _run(*names, *common, "--seed", "7", "--out", str(tmp_path / "alone"))
    _run(*names, *common, "--seeds", "3,7,11", "--out", str(tmp_path / "among"))
    for name in names:
        alone = _record(tmp_path / "alone", name)
        among = _record(tmp_path / "among", name)
        assert among["seeds"] == [3, 7, 11] and alone["seeds"] == [7]
        (seven,) = [run for run in among["runs"] if run["seed"] == 7]
        assert alone["results"] == alone["runs"][0]["results"], name
        # Every number but the report's grid, which only the run's first seed trains
        # (Experiment.grid): seed 7 is first alone, second among three.
        grid = alone["results"].pop("explore", None)
        assert (grid is not None) == (name == "weight-decay")
        assert "explore" not in seven["results"]
        assert seven["results"] == alone["results"], name
        assert seven["verdict"] == alone["runs"][0]["verdict"], name


# -- a claim that holds for some seeds only ----------------------------------------------------


def _draw(params, seed):
    """The experiment below: one draw of U(0, 1) from the seed's own stream."""
    return {"draw": float(np.random.default_rng([seed, 0]).random())}


def _coin_jobs(params, seed):
    return [task(_draw, params, seed=seed)]


def _broken(params, seed):
    raise FloatingPointError(f"overflow in the coin of seed {seed}")


def _broken_jobs(params, seed):
    return [task(_broken, params, seed=seed)]


def _below(results):
    held = results["draw"] < 0.5
    return Verdict(held, {lang: f"draw {results['draw']:.3f}" for lang in catalogue.LANGS},
                   {"draw": results["draw"]})


class _Coin(Experiment):
    def texts(self, params):
        return {part: {lang: f"coin {part}" for lang in catalogue.LANGS}
                for part in ("title", "claim", "about")}


def _plot(results, lang):
    fig, ax = figures.figure(lang)
    ax.bar([0], [results["draw"]])
    return figures.finish(fig)


def _plot_runs(runs, lang):
    fig, ax = figures.figure(lang)
    ax.bar(range(len(runs)), [results["draw"] for results in runs])
    ax.set_title(f"{len(runs)} runs")
    return figures.finish(fig)


@pytest.fixture
def coin(monkeypatch):
    """An experiment whose claim (the seed's first draw is below 0.5) holds for some seeds
    and not for others, registered as `coin`; and two seeds it holds for, one it fails for,
    found by running it."""
    experiment = _Coin(name="coin", chapter=6, section="0", jobs=_coin_jobs, plot=_plot,
                       check=_below, plot_runs=_plot_runs, params={"n": 1},
                       quick_params={"n": 2})
    monkeypatch.setitem(EXPERIMENTS, "coin", experiment)
    held = {seed: _below(_draw({}, seed)).held for seed in range(40)}
    holding = [seed for seed, ok in held.items() if ok][:2]
    failing = [seed for seed, ok in held.items() if not ok][0]
    return experiment, [holding[0], failing, holding[1]]


@pytest.mark.slow
def test_a_claim_failing_on_one_seed_of_three_is_not_held_and_held_in_two(coin, tmp_path,
                                                                          capsys):
    experiment, seeds = coin
    out = tmp_path / "results"
    _run("coin", "--seeds", ",".join(map(str, seeds)), "--out", str(out))
    record = _record(out, "coin")
    verdict = record["verdict"]
    assert verdict["held"] is False and verdict["judged"] is True
    assert (verdict["held_in"], verdict["of"]) == (2, 3)
    assert [(s["seed"], s["held"]) for s in verdict["seeds"]] == [
        (seeds[0], True), (seeds[1], False), (seeds[2], True)]
    # The verdict quotes the seed that failed.
    assert verdict["detail"] == record["runs"][1]["verdict"]["detail"]
    assert float(verdict["detail"]["en"].split()[-1]) >= 0.5
    assert f"held in 2 of 3 judged runs; not held with seed {seeds[1]}" in \
        capsys.readouterr().out
    assert json.loads((out / "run.json").read_text())["experiments"][0]["held_in"] == 2
    assert main(["report", "--out", str(out)]) == 0
    assert main(["show", "coin", "--out", str(out)]) == 0


def test_one_seed_writes_the_same_fields_with_of_one(coin):
    experiment, seeds = coin
    record = run_experiment(experiment, Context(seed=seeds[1]), langs=("en",)).record
    assert record["seeds"] == [seeds[1]] and len(record["runs"]) == 1
    assert record["verdict"]["held"] is False
    assert (record["verdict"]["held_in"], record["verdict"]["of"]) == (0, 1)


@pytest.mark.slow
def test_plot_runs_draws_several_runs_and_plot_draws_one(coin):
    experiment, seeds = coin
    several = run_experiment(experiment, Context(), langs=("en",), seeds=seeds)
    one = run_experiment(experiment, Context(), langs=("en",), seeds=seeds[:1])
    assert several.figures["en"].axes[0].get_title() == "3 runs"
    assert one.figures["en"].axes[0].get_title() == ""
    several.close()
    one.close()


def test_a_quick_failure_on_one_seed_leaves_the_whole_not_judged(coin):
    experiment, seeds = coin
    record = run_experiment(experiment, Context(quick=True), langs=("en",), seeds=seeds).record
    verdict = record["verdict"]
    assert verdict["held"] is False and verdict["judged"] is False
    assert (verdict["held_in"], verdict["of"]) == (2, 2)
    assert verdict["seeds"][1] == {"seed": seeds[1], "held": False, "judged": False}


@pytest.mark.slow
def test_a_deterministic_experiment_runs_once_for_all_seeds(tmp_path, capsys):
    out = tmp_path / "results"
    _run("numerical-diff", "--seed", "5", "--seeds", "3", "--out", str(out))
    record = _record(out, "numerical-diff")
    assert record["seeds"] == [5, 6, 7] and record["deterministic"] is True
    assert [run["seed"] for run in record["runs"]] == [5]
    assert (record["verdict"]["held_in"], record["verdict"]["of"]) == (1, 1)
    assert "one run stands for all 3 seeds" in capsys.readouterr().out


# -- bad --seeds ---------------------------------------------------------------------------------


@pytest.mark.parametrize(("value", "message"), [
    ("0", "expected a number of seeds >= 1 (--seeds 5) or seeds separated by commas "
          "(--seeds 3,7,11), got '0'"),
    ("-1", "expected a number of seeds >= 1 (--seeds 5) or seeds separated by commas "
           "(--seeds 3,7,11), got '-1'"),
    ("", "expected a number of seeds >= 1 (--seeds 5) or seeds separated by commas "
         "(--seeds 3,7,11), got ''"),
    ("a,b", "expected seeds that are whole numbers >= 0 separated by commas (--seeds 3,7,11), "
            "got 'a' in 'a,b'"),
    ("3,-2", "expected seeds that are whole numbers >= 0 separated by commas "
             "(--seeds 3,7,11), got '-2' in '3,-2'"),
    ("3,,7", "expected seeds that are whole numbers >= 0 separated by commas "
             "(--seeds 3,7,11), got '' in '3,,7'"),
    ("3,7,3", "seed 3 appears twice in '3,7,3'; give each seed once"),
])
def test_bad_seeds_are_refused_in_one_line_with_status_2(value, message, tmp_path, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "all", f"--seeds={value}", "--out", str(tmp_path / "r")])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == \
        f"dlfs run: error: argument --seeds: {message}"
    assert not (tmp_path / "r").exists()


def test_bad_seeds_are_refused_in_korean(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "all", "--seeds", "3,3", "--lang", "ko"])
    assert exit_.value.code == 2
    assert capsys.readouterr().err.splitlines()[-1] == (
        "dlfs run: 오류: 인자 --seeds: '3,3'에 시드 3이 두 번 있습니다. "
        "시드는 한 번씩만 적으십시오")


def test_the_runner_refuses_seeds_that_repeat_or_are_negative():
    with pytest.raises(ValueError, match="seeds must differ, got 4 twice"):
        run_experiment(EXPERIMENTS["numerical-diff"], Context(), seeds=[4, 4])
    with pytest.raises(ValueError, match=r"seeds must be whole numbers >= 0, got -1"):
        run_experiment(EXPERIMENTS["numerical-diff"], Context(), seeds=[-1])
    with pytest.raises(ValueError, match="seeds must name at least one seed"):
        run_experiment(EXPERIMENTS["numerical-diff"], Context(), seeds=[])


# -- --replot ------------------------------------------------------------------------------------


@pytest.mark.slow
def test_replot_draws_again_from_the_saved_results_without_running(coin, tmp_path,
                                                                   monkeypatch):
    experiment, seeds = coin
    out = tmp_path / "results"
    _run("coin", "--seeds", ",".join(map(str, seeds)), "--out", str(out))
    before = _record(out, "coin")
    (out / "coin" / "figure.en.png").unlink()

    def no_training(params, seed):
        raise AssertionError("--replot trained")

    monkeypatch.setattr(experiment, "jobs", no_training)
    _run("coin", "--replot", "--out", str(out))
    after = _record(out, "coin")
    assert (out / "coin" / "figure.en.png").read_bytes()[:4] == b"\x89PNG"
    for key in ("seeds", "runs", "verdict", "results", "wall_time_s", "versions", "seed"):
        assert after[key] == before[key], key


@pytest.mark.slow
def test_replot_of_a_record_from_before_several_seeds(tmp_path, capsys):
    out = tmp_path / "results"
    _run("gradient-descent", "--out", str(out))
    path = out / "gradient-descent" / "results.json"
    old = _record(out, "gradient-descent")
    for key in ("seeds", "runs", "deterministic"):
        del old[key]
    for key in ("held_in", "of", "seeds"):
        del old["verdict"][key]
    path.write_text(json.dumps(old), encoding="utf-8")
    _run("gradient-descent", "--replot", "--out", str(out))
    again = _record(out, "gradient-descent")
    assert again["runs"][0]["results"] == old["results"] and again["seeds"] == [0]
    assert (again["verdict"]["held_in"], again["verdict"]["of"]) == (1, 1)


@pytest.mark.parametrize(("argv", "message"), [
    ([], "no result of gradient-descent in {out}; run it first "
         "(dlfs run gradient-descent --out {out})"),
    (["--seeds", "3"], "--replot draws the saved results again and trains nothing, so "
                       "--seeds would change nothing; leave it out, or run without --replot"),
])
def test_replot_without_a_saved_result_or_with_training_options_is_an_error(
        argv, message, tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["run", "gradient-descent", "--replot", "--out", str(out), *argv]) == 2
    assert capsys.readouterr().err == f"dlfs: error: {message.format(out=out)}\n"


# -- records -------------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def saved_once(tmp_path_factory):
    out = tmp_path_factory.mktemp("saved") / "results"
    _run("gradient-descent", "--seeds", "2", "--out", str(out))
    return out


@pytest.fixture
def saved(saved_once, tmp_path):
    """gradient-descent's results.json of two seeds: the module's run, copied for this test
    (the tests rewrite it)."""
    out = tmp_path / "results"
    shutil.copytree(saved_once, out)
    return out / "gradient-descent" / "results.json"


@pytest.mark.slow
def test_a_record_from_before_several_seeds_reads_as_one_run_of_its_seed(saved):
    record = json.loads(saved.read_text(encoding="utf-8"))
    for key in ("seeds", "runs", "deterministic"):
        del record[key]
    for key in ("held_in", "of", "seeds"):
        del record["verdict"][key]
    record["seed"] = 4
    saved.write_text(json.dumps(record), encoding="utf-8")
    loaded = load_record(saved)
    assert loaded["seeds"] == [4] and loaded["deterministic"] is False
    assert loaded["runs"] == [{"seed": 4, "results": record["results"],
                               "verdict": record["verdict"]}]
    assert (loaded["verdict"]["held_in"], loaded["verdict"]["of"]) == (1, 1)
    assert loaded["verdict"]["seeds"] == [{"seed": 4, "held": True, "judged": True}]


@pytest.mark.slow
@pytest.mark.parametrize(("change", "message"), [
    (lambda r: r.update(seeds=[1, 1]),
     "seeds should be a list of distinct whole numbers >= 0, at least one"),
    (lambda r: r.update(seeds=[]),
     "seeds should be a list of distinct whole numbers >= 0, at least one"),
    (lambda r: r.update(runs={}),
     "runs should be a list of at least one run, each a table (JSON object)"),
    (lambda r: r["runs"][0].pop("results"), "runs[0].results is missing"),
    (lambda r: r["runs"][0]["verdict"].update(held="yes"),
     "runs[0].verdict.held should be true or false"),
    (lambda r: r["verdict"].update(held_in=1.5), "verdict.held_in should be a whole number"),
    (lambda r: r["verdict"].update(held_in=3, of=1),
     "verdict.held_in (3) is more than verdict.of (1)"),
    (lambda r: r["verdict"]["seeds"][0].update(seed="0"),
     "verdict.seeds[0].seed should be a whole number"),
    (lambda r: r["verdict"].update(seeds=[1]), "verdict.seeds[0] should be a table (JSON object)"),
])
def test_a_record_with_a_bad_seeds_field_is_refused_naming_it(saved, change, message):
    record = json.loads(saved.read_text(encoding="utf-8"))
    change(record)
    saved.write_text(json.dumps(record), encoding="utf-8")
    with pytest.raises(RecordError) as error:
        load_record(saved)
    assert str(error.value) == f"{saved}: {message}"


# -- experiments side by side, in one pool ---------------------------------------------------


def _printed_without_times(text):
    """Each experiment's lines without its time or its place in the order ([k/n]):
    experiments are printed as they finish."""
    blocks, lines = [], [line for line in text.splitlines()
                         if not re.match(r"\d+ experiments? in ", line)
                         and not line.startswith("running ")]
    for line in lines:
        if line.startswith("["):
            blocks.append([line.split("] ", 1)[1]])
        else:
            blocks[-1].append(line.split(" s, ", 1)[-1])
    return sorted(blocks)


@pytest.mark.slow
def test_experiments_side_by_side_give_the_numbers_and_lines_of_one_after_another(
        idx_folder, tmp_path, capsys):
    names = ["activation-histograms", "two-layer-net", "weight-init-compare", "gradient-descent"]
    common = ["--quick", "--dataset", str(idx_folder)]
    _run(*names, *common, "--workers", "1", "--out", str(tmp_path / "serial"))
    serial = capsys.readouterr().out
    _run(*names, *common, "--workers", "2", "--out", str(tmp_path / "paired"))
    paired = capsys.readouterr().out
    assert json.loads((tmp_path / "serial" / "run.json").read_text())["workers"] == 1
    assert json.loads((tmp_path / "paired" / "run.json").read_text())["workers"] == 2
    assert _printed_without_times(paired) == _printed_without_times(serial)
    for name in names:
        paired_runs, serial_runs = (_record(tmp_path / folder, name)["runs"]
                                    for folder in ("paired", "serial"))
        for run in paired_runs + serial_runs:
            del run["wall_time_s"], run["cpu_time_s"]  # the rest is every number
        assert paired_runs == serial_runs, name


@pytest.mark.slow
def test_an_experiment_failing_names_itself_and_its_seeds_and_the_others_finish(
        coin, tmp_path, monkeypatch, capsys):
    experiment, _ = coin
    monkeypatch.setattr(experiment, "jobs", _broken_jobs)
    out = tmp_path / "results"
    assert main(["run", "numerical-diff", "coin", "gradient-descent", "--seeds", "3,4",
                 "--workers", "2", "--out", str(out)]) == 1
    err = capsys.readouterr().err
    assert "coin failed (seeds 3, 4); the others go on:" in err
    assert "FloatingPointError: overflow in the coin of seed" in err
    assert not (out / "coin").exists()
    summary = json.loads((out / "run.json").read_text())
    assert summary["failed"] == [{"name": "coin", "seeds": [3, 4]}]
    assert [e["name"] for e in summary["experiments"]] == ["numerical-diff", "gradient-descent"]


@pytest.mark.slow
def test_a_quick_run_says_which_seeds_were_not_judged_not_that_they_failed(coin, tmp_path,
                                                                          capsys):
    _, seeds = coin
    _run("coin", "--quick", "--seeds", ",".join(map(str, seeds)), "--out", str(tmp_path / "q"))
    printed = capsys.readouterr().out
    assert f"held in 2 of 2 judged runs; not judged in quick mode with seed {seeds[1]}" in printed
    assert "not held with seed" not in printed
    failing = [seed for seed in range(40) if not _below(_draw({}, seed)).held][:2]
    _run("coin", "--quick", "--seeds", ",".join(map(str, failing)), "--lang", "ko", "--out",
         str(tmp_path / "ko"))
    printed = capsys.readouterr().out
    assert f"시드 {failing[0]}, {failing[1]}: 어느 시드도 판정하지 않음(빠른 모드)" in printed
    assert "성립하지 않은 시드" not in printed


@pytest.mark.parametrize("value", ["4294967296", ",".join(map(str, range(101)))],
                         ids=["a count of 2**32", "101 seeds listed"])
def test_more_than_a_hundred_seeds_is_refused_by_the_command_line_in_its_language(
        tmp_path, capsys, value):
    for lang in ("en", "ko"):
        with pytest.raises(SystemExit) as info:
            main(["--lang", lang, "run", "numerical-diff", "--seeds", value,
                  "--out", str(tmp_path)])
        assert info.value.code == 2
        err = capsys.readouterr().err
        assert catalogue.text("bounds.seeds_too_many", lang, value=value, most=100) in err
    assert not list(tmp_path.iterdir())  # nothing ran
