"""Changing an experiment's parameters: `dlfs run NAME --set KEY=VALUE` and `--config FILE`,
checked against the parameters the experiment declares, and recorded with its results."""

import json

import pytest

from dlfs.cli import main
from dlfs.experiments import EXPERIMENTS, Context, run_experiment
from dlfs.experiments.settings import SettingError, check_setting, parse_setting, settings_for

ACCEPTED = [
    (2000, 10000, 2000),
    (0.5, 0.1, 0.5),
    (5, 0.1, 5.0),  # a float parameter takes a whole number, as a float
    (-2, 0, -2),  # a count of 0 or less declares no lower bound
    (-0.5, -1.0, -0.5),
    (True, False, True),
    ("he", "xavier", "he"),
    ([50, 50, 50], [100, 100], [50, 50, 50]),
    ([0, 3], [-3.0, 4.0], [0.0, 3.0]),
    (["relu"], ["sigmoid", "tanh", "relu"], ["relu"]),
]


@pytest.mark.parametrize(("value", "default", "expected"), ACCEPTED)
def test_a_value_of_the_defaults_kind_is_accepted_as_that_kind(value, default, expected):
    checked = check_setting("key", value, default)
    assert checked == expected and type(checked) is type(expected)


REFUSED = [
    (2.5, 10000, "key must be a whole number >= 1, got 2.5"),
    (0, 100, "key must be a whole number >= 1, got 0"),
    (True, 100, "key must be a whole number >= 1, got true"),
    ("abc", 0.1, 'key must be a number > 0, got "abc"'),
    (-0.5, 0.1, "key must be a number > 0, got -0.5"),
    (float("inf"), 0.1, "key must be a number > 0, got inf"),
    (float("nan"), -1.0, "key must be a number, got nan"),
    (1, False, "key must be true or false, got 1"),
    (3, "xavier", "key must be a text (in quotes where it reads as a number), got 3"),
    ([], [100, 100], "key must be a list of whole numbers >= 1, like [100, 100], got []"),
    ([50, 0], [100, 100], "key must be a list of whole numbers >= 1, like [100, 100], got [50, 0]"),
    (50, [100, 100], "key must be a list of whole numbers >= 1, like [100, 100], got 50"),
    ([1.0], [-3.0, 4.0], "key must be a list of 2 numbers, like [-3.0, 4.0], got [1.0]"),
    (["gelu"], ["sigmoid", "relu"], 'key must be a list of one or more of ["sigmoid", "relu"], '
                                    'got ["gelu"]'),
    ({"SGD": ["sgd", 0.1]}, {"SGD": ["sgd", 0.01]},
     "key cannot be set: it is a table of settings, not one value"),
    (0.1, None, "key cannot be set: it is off in this experiment"),
    ([1.0, "he"], [1.0, 0.01, "xavier", "he"],
     'key cannot be set: it is a list of mixed values, [1.0, 0.01, "xavier", "he"]'),
]


@pytest.mark.parametrize(("value", "default", "message"), REFUSED)
def test_a_value_unlike_the_default_is_refused_saying_what_would_work(value, default, message):
    with pytest.raises(SettingError) as info:
        check_setting("key", value, default)
    assert str(info.value) == message


def test_overrides_win_over_the_book_and_the_quick_parameters():
    experiment = EXPERIMENTS["two-layer-net"]
    params = experiment.parameters(quick=True, overrides={"iters_num": 40, "lr": 1})
    assert params == {**experiment.params, **experiment.quick_params, "iters_num": 40,
                      "lr": 1.0}
    assert experiment.parameters(quick=False) == experiment.params


def test_an_unknown_key_lists_the_experiments_keys_and_the_nearest_one():
    with pytest.raises(SettingError) as info:
        EXPERIMENTS["two-layer-net"].parameters(False, {"iter_num": 5})
    assert str(info.value) == (
        "unknown setting 'iter_num' for two-layer-net; did you mean iters_num? its settings: "
        "hidden_size, iters_num, batch_size, lr, train_samples, test_samples")


def test_a_parameter_the_claim_is_stated_for_is_fixed():
    with pytest.raises(SettingError, match=r"compare_lr of gradient-descent is fixed: the claim "
                                           r"is stated for compare_lr = \[0.1, 10.0, 1e-10\]"):
        EXPERIMENTS["gradient-descent"].parameters(False, {"compare_lr": [0.2, 20.0, 1e-9]})


def test_every_declared_parameter_is_either_settable_or_refused_by_name():
    """No default makes the check itself fail: each is accepted back, or refused clearly."""
    for experiment in EXPERIMENTS.values():
        for key, default in experiment.params.items():
            overrides = {key: default}
            if key in experiment.fixed:
                continue
            try:
                assert experiment.parameters(False, overrides)[key] == default
            except SettingError as error:
                assert str(error).startswith(f"{key} of {experiment.name} cannot be set: ")


def test_with_several_experiments_a_key_applies_to_those_that_declare_it():
    experiments = [EXPERIMENTS[n] for n in ("numerical-diff", "gradient-descent", "batch-norm")]
    chosen = settings_for(experiments, {"lr": 1, "h": 0.001})
    assert chosen == {"numerical-diff": {"h": 0.001}, "gradient-descent": {"lr": 1.0},
                      "batch-norm": {"lr": 1.0}}
    with pytest.raises(SettingError, match=r"unknown setting 'iters_num' \(no experiment of "
                                           r"this run has it\); did you mean step_num\? the "
                                           r"settings they have: h, tangent_at, init_x, lr, "):
        settings_for(experiments, {"iters_num": 5})
    with pytest.raises(SettingError, match="lr of gradient-descent must be a number > 0"):
        settings_for(experiments, {"lr": -1})


@pytest.mark.slow
def test_the_runner_records_the_overrides_beside_the_parameters_used():
    ctx = Context(seed=0, quick=True)
    result = run_experiment(EXPERIMENTS["numerical-diff"], ctx, overrides={"h": 0.01})
    result.close()
    record = result.record
    assert record["overrides"] == {"h": 0.01} and record["parameters"]["h"] == 0.01
    assert "h = 0.01 " in record["claim"]["en"]
    # A larger step: the central difference is exact for a quadratic up to rounding only.
    assert record["verdict"]["held"] is True
    assert run_experiment(EXPERIMENTS["numerical-diff"], ctx).record["overrides"] == {}


@pytest.mark.parametrize(
    ("text", "value"),
    [("0.5", 0.5), ("2000", 2000), ("1e-3", 0.001), (".5", 0.5), ("[50, 50]", [50, 50]),
     ("true", True), ('"relu"', "relu"), ("relu", "relu"), ("", "")],
)
def test_a_set_value_is_read_as_toml_then_as_a_python_number_then_as_text(text, value):
    key, parsed = parse_setting(f" lr ={text}")
    assert key == "lr" and parsed == value and type(parsed) is type(value)


# -- through dlfs run --------------------------------------------------------------------------


@pytest.mark.slow
def test_dlfs_run_set_changes_parameters_says_where_and_records_them(tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["run", "numerical-diff", "gradient-descent", "--set", "lr=0.05",
                 "--set", "step_num=30", "--set", "h=1e-3", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "setting lr = 0.05 for gradient-descent\n" in printed
    assert "setting h = 0.001 for numerical-diff\n" in printed
    descent = json.loads((out / "gradient-descent" / "results.json").read_text())
    assert descent["overrides"] == {"lr": 0.05, "step_num": 30}
    assert (descent["parameters"]["lr"], descent["parameters"]["step_num"]) == (0.05, 30)
    assert len(descent["results"]["path"]) == 31 and descent["results"]["lr"] == 0.05
    diff = json.loads((out / "numerical-diff" / "results.json").read_text())
    assert diff["overrides"] == {"h": 0.001}


@pytest.mark.slow
def test_a_config_file_holds_several_settings_and_set_wins_over_it(tmp_path, capsys):
    config = tmp_path / "mine.toml"
    config.write_text("lr = 0.2\nstep_num = 5\ninit_x = [1.0, -1.0]\n")
    out = tmp_path / "results"
    assert main(["run", "gradient-descent", "--config", str(config), "--set", "lr=0.3",
                 "--lang", "ko", "--out", str(out)]) == 0
    assert "설정 lr = 0.3: gradient-descent에 적용" in capsys.readouterr().out
    record = json.loads((out / "gradient-descent" / "results.json").read_text())
    assert record["overrides"] == {"lr": 0.3, "step_num": 5, "init_x": [1.0, -1.0]}
    assert record["results"]["path"][0] == [1.0, -1.0]


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["two-layer-net", "--set", "lrr=0.5"], "unknown setting 'lrr' for two-layer-net; did you "
      "mean lr? its settings: hidden_size, iters_num"),
     (["all", "--set", "colour=1"], "unknown setting 'colour' (no experiment of this run has "
      "it)"),
     (["two-layer-net", "--set", "iters_num=2e3"], "iters_num of two-layer-net must be a whole "
      "number >= 1, got 2000.0"),
     (["optimizer-compare", "--set", 'optimizers={SGD=["sgd", 0.1]}'],
      "optimizers of optimizer-compare cannot be set: it is a table of settings"),
     (["two-layer-net", "--set", "lr"], "setting 'lr' is not KEY=VALUE, like lr=0.5"),
     (["two-layer-net", "--config", "CONFIG"], "--config CONFIG: not valid TOML"),
     (["two-layer-net", "--config", "/nonexistent/dlfs.toml"],
      "--config /nonexistent/dlfs.toml: cannot be read")],
    ids=["unknown", "unknown-in-all", "not-whole", "table", "no-value", "bad-toml", "no-file"])
def test_a_bad_setting_is_one_line_with_exit_status_2_before_anything_runs(
        tmp_path, capsys, argv, message):
    config = tmp_path / "bad.toml"
    config.write_text("lr = [")
    out = tmp_path / "results"
    argv = [str(config) if item == "CONFIG" else item for item in argv]
    assert main(["run", *argv, "--out", str(out)]) == 2
    captured = capsys.readouterr()
    assert message.replace("CONFIG", str(config)) in captured.err
    assert len(captured.err.strip().splitlines()) == 1 and captured.out == ""
    assert not out.exists()


def test_a_binary_config_file_is_one_line_saying_it_is_not_text(tmp_path, capsys):
    config = tmp_path / "weights.toml"
    config.write_bytes(b"lr = 0.1\n\x89PNG\r\n\x1a\n\x00\x00\x00\rIHDR")  # a PNG renamed
    assert main(["run", "two-layer-net", "--config", str(config), "--out",
                 str(tmp_path / "out")]) == 2
    err = capsys.readouterr().err.strip()
    assert err == (f"dlfs: error: --config {config}: not a text file (byte 0x89 at position 9 "
                   "is not UTF-8); a --config file holds TOML lines such as lr = 0.01")


# -- dotted keys into tables of update rules, and the documented settings ----------------------


def test_a_dotted_key_sets_one_rules_learning_rate_whatever_the_case_of_its_name():
    experiment = EXPERIMENTS["optimizer-compare"]
    chosen = settings_for([experiment], {"optimizers.sgd.lr": 0.05})
    assert chosen == {"optimizer-compare": {"optimizers.SGD.lr": 0.05}}
    params = experiment.parameters(False, {"optimizers.SGD.lr": 0.05})
    assert params["optimizers"] == {**experiment.params["optimizers"], "SGD": ["sgd", 0.05]}
    assert experiment.params["optimizers"]["SGD"] == ["sgd", 0.01]  # the book's kept
    with pytest.raises(SettingError, match=r"optimizers.Adam.lr of optimizer-compare must be a "
                                           r"number > 0, got -1"):
        experiment.parameters(False, {"optimizers.Adam.lr": -1})


def test_a_bare_lr_for_a_table_of_rules_points_to_the_dotted_keys():
    with pytest.raises(SettingError) as info:
        settings_for([EXPERIMENTS["optimizer-compare"]], {"lr": 0.05})
    assert str(info.value) == (
        "unknown setting 'lr' for optimizer-compare; did you mean optimizers.SGD.lr? its "
        "settings: hidden_sizes, batch_size, iters, optimizers.SGD.lr, optimizers.Momentum.lr, "
        "optimizers.Nesterov.lr, optimizers.AdaGrad.lr, optimizers.RMSprop.lr, "
        "optimizers.AdaDelta.lr, optimizers.Adam.lr")


@pytest.mark.parametrize("key", ["optimizers.sgdd.lr", "optimizers.SGD.momentum",
                                 "optimizers.SGD", "optimisers.SGD.lr"])
def test_a_wrong_dotted_key_names_the_valid_ones(key):
    with pytest.raises(SettingError) as info:
        EXPERIMENTS["optimizer-paths"].parameters(False, {key: 0.1})
    message = str(info.value)
    assert message.startswith(f"unknown setting {key!r} for optimizer-paths; ")
    listed = message.partition("its settings: ")[2].split(", ")
    assert listed[:2] == ["init", "steps"]
    assert [k for k in listed if k.startswith("optimizers")] == [
        f"optimizers.{rule}.lr" for rule in EXPERIMENTS["optimizer-paths"].params["optimizers"]]


@pytest.mark.slow
def test_a_config_file_sets_rules_by_nested_tables_or_dotted_keys_and_set_wins(tmp_path,
                                                                                capsys):
    config = tmp_path / "rates.toml"
    config.write_text("steps = 12\noptimizers.Momentum.lr = 0.2\n\n[optimizers.SGD]\nlr = 0.5\n"
                      "\n[optimizers.adam]\nlr = 0.1\n")
    out = tmp_path / "results"
    assert main(["run", "optimizer-paths", "--config", str(config), "--set",
                 "optimizers.ADAM.lr=0.25", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "setting optimizers.Adam.lr = 0.25 for optimizer-paths\n" in printed
    record = json.loads((out / "optimizer-paths" / "results.json").read_text())
    assert record["overrides"] == {"steps": 12, "optimizers.Momentum.lr": 0.2,
                                   "optimizers.SGD.lr": 0.5, "optimizers.Adam.lr": 0.25}
    rules = record["parameters"]["optimizers"]
    assert (rules["SGD"], rules["Momentum"], rules["Adam"]) == (
        ["sgd", 0.5], ["book-momentum", 0.2], ["book-adam", 0.25])
    assert rules["AdaGrad"] == ["book-adagrad", 1.5]
    paths = record["results"]["paths"]
    assert paths["SGD"]["lr"] == 0.5 and len(paths["SGD"]["path"]) == 13


def _documented(experiment) -> list[str]:
    """The settings the experiment's docs page lists (docs/gen_pages.py), as KEY=VALUE."""
    import sys
    from pathlib import Path

    sys.path.insert(0, str(Path(__file__).resolve().parents[1] / "docs"))
    import gen_pages

    return [line.replace(" = ", "=", 1)
            for line in gen_pages.book_parameters(experiment).splitlines()]


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_every_setting_the_docs_list_is_accepted_by_set(name):
    experiment = EXPERIMENTS[name]
    documented = _documented(experiment)
    given = dict(parse_setting(line) for line in documented)
    chosen = settings_for([experiment], given)[name]
    assert list(chosen) == list(given)  # each accepted, under the name the docs give it
    # and every parameter is either listed or stated fixed on the page
    import gen_pages

    fixed = [line.split(" = ")[0] for line in gen_pages.fixed_parameters(experiment).splitlines()]
    for key in experiment.params:
        assert key in fixed or any(k == key or k.startswith(key + ".") for k in given)
    for key in fixed:
        with pytest.raises(SettingError):
            experiment.parameters(False, {key: experiment.params[key]})


def test_the_weight_decay_lambda_and_the_dropout_ratio_are_set_by_dotted_keys():
    decay, dropout = EXPERIMENTS["weight-decay"], EXPERIMENTS["dropout"]
    chosen = settings_for([decay, dropout], {"regulariser.weight_decay_lambda": 0.3,
                                             "regulariser.dropout_ratio": 0.5})
    assert chosen == {"weight-decay": {"regulariser.weight_decay_lambda": 0.3},
                      "dropout": {"regulariser.dropout_ratio": 0.5}}
    params = decay.parameters(True, {"regulariser.weight_decay_lambda": 0.3})
    assert params["regulariser"] == {"weight_decay_lambda": 0.3}
    assert "0.3" in decay.texts(params)["about"]["en"] + decay.texts(params)["claim"]["en"]
    with pytest.raises(SettingError, match=r"unknown setting 'regulariser.dropout_ratio' for "
                                           r"weight-decay; its settings: .*, max_epochs, "
                                           r"regulariser.weight_decay_lambda, explore_values, "
                                           r"explore_epochs$"):
        decay.parameters(False, {"regulariser.dropout_ratio": 0.5})
