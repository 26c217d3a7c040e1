"""Errors and notices raised below the command line come from the catalogue (issue 25), so
``dlfs --lang ko`` says them in Korean, not English behind a Korean prefix: settings, a
learner's --optimizer, the Trainer's divergence and collapse, a network too large, a search's
settings, the own-data reader; and what is recorded is what was used: a default sample count
larger than the data set is capped to what exists and said so, while a count that was set is
refused naming both numbers."""

import json
import os
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import dlfs
from dlfs import search
from dlfs.cli import main
from dlfs.data import Data, DatasetError
from dlfs.optim import SGD
from dlfs.train import Trainer, TrainingCollapsed

HANGUL = re.compile("[\uac00-\ud7a3]")
N_TRAIN, N_TEST, CLASSES, SIDE = 200, 50, 4, 8


def _images(rng, n):
    """(n, 8, 8) uint8 images whose brightness tells the class, and their labels."""
    t = np.arange(n) % CLASSES
    rng.shuffle(t)
    x = rng.random((n, SIDE, SIDE)) * 60 + t[:, None, None] * 50
    return x.astype(np.uint8), t.astype(np.uint8)


def _tiny_npz(path, **changes):
    """A learner's own data set of 200 training and 50 test images, as an .npz."""
    rng = np.random.default_rng(3)
    (x, t), (xt, tt) = _images(rng, N_TRAIN), _images(rng, N_TEST)
    np.savez(path, **{"x_train": x, "t_train": t, "x_test": xt, "t_test": tt, **changes})
    return str(path)


RAISES = '''class Momentum:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        raise RuntimeError("boom")
'''
NO_CLASS = '''class Other:
    pass
'''


def _file(tmp_path, name, text, binary=False):
    path = tmp_path / name
    if binary:
        path.write_bytes(text)
    else:
        path.write_text(text, encoding="utf-8")
    return str(path)


# (argv after "--lang ko", exit status, Korean words the line holds, English words it lost)
PATHS = {
    "setting-kind": (lambda p: ["run", "two-layer-net", "--set", "lr=-1"], 2,
                     "0보다 큰 수만 쓸 수 있습니다", "must be a number"),
    "setting-unknown": (lambda p: ["run", "two-layer-net", "--set", "iter_num=5"], 2,
                        "설정이 없습니다", "unknown setting"),
    "setting-not-pair": (lambda p: ["run", "two-layer-net", "--set", "lr"], 2,
                         "KEY=VALUE 꼴이 아닙니다", "is not KEY=VALUE"),
    "setting-fixed": (lambda p: ["run", "gradient-descent", "--set",
                                 "compare_lr=[0.2, 20.0, 1e-9]"], 2,
                      "고정되어 있습니다", "is fixed"),
    "config-binary": (lambda p: ["run", "two-layer-net", "--config",
                                 _file(p, "c.toml", b"\xff\xfe\x00lr", binary=True)], 2,
                      "텍스트 파일이 아닙니다", "not a text file"),
    "optimizer-spec": (lambda p: ["run", "optimizer-paths", "--optimizer", "mine"], 2,
                       "꼴로 쓰세요", "write NAME=FILE::CLASS"),
    "optimizer-no-file": (lambda p: ["run", "optimizer-paths", "--optimizer",
                                     f"mine={p / 'none.py'}::SGD"], 2,
                          "파일이 없습니다", "no such file"),
    "optimizer-no-class": (lambda p: ["run", "optimizer-paths", "--optimizer",
                                      f"mine={_file(p, 'o.py', NO_CLASS)}::SGD:lr=0.1"], 2,
                           "클래스가 없습니다", "defines no class"),
    "optimizer-raises": (lambda p: ["run", "optimizer-paths", "--workers", "1", "--optimizer",
                                    f"mine={_file(p, 'm.py', RAISES)}::Momentum:lr=0.1"], 1,
                         "예외가 발생했습니다", "raised RuntimeError"),
    "network-too-large": (lambda p: ["run", "two-layer-net", "--workers", "1", "--dataset",
                                     _tiny_npz(p / "d.npz"), "--set", "hidden_size=1000000000",
                                     "--set", "train_samples=200", "--set",
                                     "test_samples=50"], 1,
                          "메모리", "would need"),
    "diverged": (lambda p: ["run", "two-layer-net", "--workers", "1", "--dataset",
                            _tiny_npz(p / "d.npz"), "--set", "lr=1e300", "--set", "iters_num=20",
                            "--set", "train_samples=200", "--set", "test_samples=50"], 1,
                 "훈련 손실이", "the training loss became"),
    "pickled-npz": (lambda p: ["run", "two-layer-net", "--dataset",
                               _tiny_npz(p / "d.npz", t_test=np.array([None] * N_TEST))], 2,
                    "Python 객체(피클)를 담고 있어서", "holds Python objects"),
    "search-config-value": (lambda p: ["search", "--config", _file(p, "s.toml", "n_trials = 0\n"),
                                       "--data-root", str(p / "none")], 2,
                            "양의 정수만 쓸 수 있습니다", "must be a positive integer"),
    "search-workers": (lambda p: ["search", "--workers", "100000", "--data-root",
                                  str(p / "none")], 2,
                       "workers는 많아야", "must be at most"),
}


@pytest.mark.parametrize("case", list(PATHS))
def test_an_error_raised_below_the_command_line_is_said_in_korean_under_lang_ko(
        tmp_path, capsys, case):
    argv, status, korean, english = PATHS[case]
    code = main(["--lang", "ko", *argv(tmp_path), "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    lines = [line for line in err.splitlines() if korean in line]
    assert code == status, err
    assert len(lines) == 1, err
    assert english not in err, err


def test_a_default_sample_count_above_the_data_set_is_capped_said_and_recorded(tmp_path,
                                                                               capsys):
    out = tmp_path / "out"
    code = main(["--lang", "ko", "run", "two-layer-net", "--workers", "1", "--dataset",
                 _tiny_npz(tmp_path / "d.npz"), "--set", "iters_num=4", "--out", str(out)])
    err = capsys.readouterr().err
    assert code == 0, err
    notices = [line for line in err.splitlines() if "기본값은" in line]
    assert len(notices) == 2, err
    assert "train_samples의 기본값은 60000개인데" in notices[0] and "200개뿐" in notices[0]
    assert "test_samples의 기본값은 10000개인데" in notices[1] and "50개뿐" in notices[1]
    record = json.loads((out / "two-layer-net" / "results.json").read_text(encoding="utf-8"))
    assert record["parameters"]["train_samples"] == N_TRAIN  # what was used, not 60 000
    assert record["parameters"]["test_samples"] == N_TEST
    assert record["samples_capped"] == {"train_samples": {"default": 60000, "used": N_TRAIN},
                                        "test_samples": {"default": 10000, "used": N_TEST}}
    assert record["overrides"] == {"iters_num": 4}


def test_a_sample_count_that_was_set_above_the_data_set_is_refused_naming_both(tmp_path,
                                                                             capsys):
    code = main(["run", "two-layer-net", "--dataset", _tiny_npz(tmp_path / "d.npz"),
                 "--set", "train_samples=1000", "--out", str(tmp_path / "out")])
    err = capsys.readouterr().err
    assert code == 1 and "train_samples = 1000" in err and "only 200" in err, err
    assert not (tmp_path / "out" / "two-layer-net").exists()


def _tiny_data(n=120):
    rng = np.random.default_rng(0)
    centres = rng.standard_normal((3, 20)) * 3
    t = rng.integers(0, 3, n)
    x = (centres[t] + 0.5 * rng.standard_normal((n, 20))).astype(np.float32)
    return Data("tiny", "Tiny", "test", x, t, x[:30], t[:30])


def _recorded_train_samples(url):
    with sqlite3.connect(url.removeprefix("sqlite:///")) as db:
        (value,), = db.execute("SELECT value_json FROM study_user_attributes "
                               "WHERE key = 'settings'").fetchall()
    return json.loads(value)["train_samples"]


@pytest.mark.slow  # a search's study in SQLite
def test_a_searchs_default_train_samples_above_the_data_set_is_capped_warned_and_recorded(
        tmp_path):
    url = search.default_storage(tmp_path)
    config = search.load_config(n_trials=1, epochs=1, hidden_sizes=[8])  # train_samples: 500
    with pytest.warns(UserWarning, match=r"train_samples is 500 by default, but Tiny has only "
                                         r"120 training samples"):
        assert search.work(config, "s", url, _tiny_data()) == 1
    assert _recorded_train_samples(url) == 120  # before: 500, though 120 were used


def test_a_searchs_train_samples_set_above_the_data_set_is_refused_naming_both(tmp_path):
    config = search.load_config(n_trials=1, epochs=1, hidden_sizes=[8], train_samples=1000)
    with pytest.raises(DatasetError, match=r"train_samples = 1000, but Tiny has only 120"):
        search.work(config, "s", search.default_storage(tmp_path), _tiny_data())


@pytest.mark.slow  # a search's study in SQLite
def test_a_search_trial_is_not_refused_midway_by_the_trainers_time_limit(tmp_path,
                                                                         monkeypatch):
    # A limit far below any trial's time: the Trainer refuses such a run after its first
    # updates (TrainingTooLong), which ended the search in the middle; trials run unlimited.
    monkeypatch.setenv("DLFS_TIME_LIMIT", "0.000001")
    config = search.load_config(n_trials=1, epochs=40, hidden_sizes=[8], train_samples=120,
                                batch_size=1)
    assert search.work(config, "s", search.default_storage(tmp_path), _tiny_data()) == 1


def _blob_data(rng):
    """Ten classes around random centres in [0, 1]^64, pixels clipped as images are."""
    centres, t = rng.random((10, 64)), rng.integers(0, 10, 1200)
    x = np.clip(centres[t] + 0.3 * rng.normal(size=(1200, 64)), 0, 1)
    return x[:1000], t[:1000], x[1000:], t[1000:]


def test_the_collapse_warning_is_said_in_the_commands_language_and_kept_in_english(
        monkeypatch):
    from dlfs.network import MultiLayerNet

    monkeypatch.setenv("DLFS_LANG", "ko")  # what dlfs --lang ko sets for its workers
    x, t, xt, tt = _blob_data(np.random.default_rng(1))
    trainer = Trainer(MultiLayerNet(64, [32, 32], 10, seed=0), SGD(lr=3.0), x, t, xt, tt,
                      epochs=6, batch_size=50, seed=0)
    with pytest.warns(TrainingCollapsed) as caught:
        history = trainer.train()
    said = str(caught[0].message)
    assert said.startswith("훈련이 찍기 수준에서 끝났습니다") and "학습률 (SGD lr 3)이" in said
    assert "training ended" not in said
    assert history.warnings[0].startswith("training ended at chance: ")


def test_a_schedule_that_returns_a_text_is_refused_in_either_language():
    from dlfs._said import Said
    from dlfs.network import MultiLayerNet

    x, t, xt, tt = _blob_data(np.random.default_rng(1))
    trainer = Trainer(MultiLayerNet(64, [8], 10, seed=0), SGD(lr=0.1), x, t, xt, tt, epochs=1,
                      lr_schedule=lambda it: "fast")
    with pytest.raises(ValueError) as info:
        trainer.train()
    assert isinstance(info.value, Said)
    assert str(info.value).startswith("lr_schedule(0) returned 'fast' (str); a schedule")
    assert info.value.text("ko").startswith("lr_schedule(0) 호출의 결과: 'fast'(str). 스케줄은")


def test_progress_bars_name_their_units_and_numbers_in_the_commands_language(monkeypatch):
    from dlfs._progress import _said, bar_word

    monkeypatch.setenv("DLFS_LANG", "ko")
    assert [bar_word(word) for word in ("loss", "test_acc", "train_acc", "it")] == [
        "손실", "시험 정확도", "훈련 정확도", "회"]
    assert _said("learner", "ko") == "학습자" and _said("learner", "en") == "learner"


def test_a_parameter_file_holding_a_pickle_is_refused_in_korean(tmp_path):
    from dlfs.io import ParamsError, load_params
    from dlfs.network import TwoLayerNet

    net = TwoLayerNet(4, 3, 2, seed=0)
    path = tmp_path / "p.npz"
    np.savez(path, **{**net.params, "W1": np.array([None] * 12).reshape(4, 3)})
    with pytest.raises(ParamsError) as info:
        load_params(net, path)
    assert "holds Python objects (a pickle)" in str(info.value)
    korean = info.value.text("ko")
    assert "Python 객체(피클)를 담고 있어서" in korean and "holds Python" not in korean


@pytest.mark.slow  # a search's study in SQLite
def test_resuming_a_study_with_other_settings_is_refused_in_korean_naming_the_differences(
        tmp_path):
    url = search.default_storage(tmp_path)
    tiny = dict(n_trials=1, hidden_sizes=[8], train_samples=120)
    search.work(search.load_config(**tiny, epochs=2), "s", url, _tiny_data())
    with pytest.raises(ValueError) as info:
        search.work(search.load_config(**tiny, epochs=1), "s", url, _tiny_data())
    assert "was run with other settings (epochs 2 then, 1 now)" in str(info.value)
    korean = info.value.text("ko")
    assert "스터디 's'는 다른 설정으로 실행되었습니다(epochs: 그때 2, 지금 1)" in korean
    assert "other settings" not in korean


def test_a_search_that_cannot_go_on_is_said_in_korean_with_english_kept_for_str():
    from dlfs.search.storage import SearchError

    error = SearchError(key="said.search_wait_timeout", seconds=2, trials="0, 3",
                        study="'s'")
    assert str(error).startswith("waited 2 s (wait_timeout) for trial(s) 0, 3 of study 's'")
    assert error.text("ko").startswith("다른 워커에서 실행 중인 스터디 's'의 시행 0, 3이 끝나거나")
    assert str(SearchError("a fixed line")) == SearchError("a fixed line").text("ko")


@pytest.mark.slow
def test_a_collapse_warning_on_the_command_line_is_one_line_in_its_language(tmp_path):
    # lr 30 on the two-layer net: the loss jumps to 12 times its start and training ends at
    # chance. Python's own format said "…/two_layer_net.py:25: TrainingCollapsed: …" and then
    # the source line. A real process: pytest would catch the warning itself.
    data = _tiny_npz(tmp_path / "own.npz")
    done = subprocess.run(
        [sys.executable, "-m", "dlfs", "--lang", "ko", "run", "two-layer-net", "--quick",
         "--set", "lr=30", "--dataset", data, "--out", str(tmp_path / "out"), "--workers", "1"],
        capture_output=True, text=True, timeout=300,
        env={**os.environ, "PYTHONPATH": str(Path(dlfs.__file__).parents[1])})
    assert done.returncode == 0, done.stderr
    err = done.stderr
    (line,) = [line for line in err.splitlines() if "경고" in line]
    assert line.startswith("dlfs: 경고: 훈련이") and "낮추세요" in line
    assert "TrainingCollapsed" not in err and "train.py" not in err
