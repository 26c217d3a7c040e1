"""dlfs show (one result in the terminal, read from results.json) and dlfs open (the report in
the web browser), as a learner tries them right after `dlfs run`."""

import json
import os
import re
import shutil

import numpy as np
import pytest

from dlfs.cli import main
from dlfs.cli.results import show_text
from dlfs.data import Data
from dlfs.experiments import EXPERIMENTS

HANGUL = re.compile("[\uac00-\ud7a3]")


def _synthetic_data():
    rng = np.random.default_rng(0)
    x, t = rng.random((150, 12)).astype(np.float32), rng.integers(0, 3, 150)
    return Data("fashion-mnist", "Fashion-MNIST", "/data/fashion-mnist (user cache)", x[:120],
                t[:120], x[120:], t[120:])


@pytest.fixture(scope="module")
def lab_once(tmp_path_factory):
    """A folder of quick results, as `dlfs run … --quick --out lab` leaves it: weight-init-compare
    (on a small stand-in data set) and numerical-diff under quick settings whose h = 1e-50
    rounds x + h back to x, so its claim is not judged. Run once for the module."""
    import dlfs.data

    out = tmp_path_factory.mktemp("show") / "lab"
    with pytest.MonkeyPatch.context() as patch:
        for variable in ("LC_ALL", "LC_MESSAGES"):
            patch.delenv(variable, raising=False)
        patch.setenv("LANG", "C.UTF-8")
        patch.setattr(dlfs.data, "load_lab_data", lambda *a, **k: _synthetic_data())
        patch.setattr(EXPERIMENTS["numerical-diff"], "quick_params", {"h": 1e-50})
        assert main(["run", "weight-init-compare", "numerical-diff", "--quick", "--workers",
                     "1", "--out", str(out)]) == 0
    return out


@pytest.fixture
def lab(lab_once, tmp_path):
    """The module's quick results, copied for this test (some tests rewrite a results.json or
    the report)."""
    out = tmp_path / "lab"
    shutil.copytree(lab_once, out)
    return out


def _record(out, name):
    return json.loads((out / name / "results.json").read_text(encoding="utf-8"))


def _flat(text):
    return " ".join(text.split())


# -- dlfs show ----------------------------------------------------------------------------------


def test_show_prints_title_claim_verdict_numbers_data_set_seed_time_and_parameters(lab,
                                                                                    capsys):
    capsys.readouterr()
    assert main(["show", "weight-init-compare", "--out", str(lab)]) == 0
    shown = capsys.readouterr().out
    record = _record(lab, "weight-init-compare")
    lines = shown.splitlines()
    assert lines[0] == "weight-init-compare — Weight initialisations compared"
    assert lines[1] == (f"Chapter 6, §{record['section']} · seed 0 · Wall time "
                        f"{record['wall_time_s']:.1f} s · quick settings")
    flat = _flat(shown)
    assert f"The book's claim: {_flat(record['claim']['en'])}" in flat
    state = {True: "claim held (quick settings)", False: "not judged in quick mode"}[
        record["verdict"]["held"]]
    assert f"On these numbers: {state} {_flat(record['verdict']['detail']['en'])}" in flat
    assert "Data set: Fashion-MNIST — /data/fashion-mnist (user cache)" in flat
    for name, value in record["parameters"].items():
        assert re.search(rf"^  {name} +{re.escape(json.dumps(value))}$", shown, re.M), name
    assert lines[-1] == f"result: {lab / 'weight-init-compare' / 'results.json'}"


def test_show_reads_the_saved_result_and_trains_nothing(lab, monkeypatch, capsys):
    def refuse(*args):
        raise AssertionError("dlfs show ran the experiment")

    monkeypatch.setattr(EXPERIMENTS["weight-init-compare"], "run", refuse)
    record = _record(lab, "weight-init-compare")
    record["verdict"]["detail"]["en"] = "numbers as saved"
    (lab / "weight-init-compare" / "results.json").write_text(json.dumps(record))
    assert main(["show", "weight-init-compare", "--out", str(lab)]) == 0
    assert "  numbers as saved" in capsys.readouterr().out.splitlines()


def test_show_of_a_claim_not_judged_says_so_and_why_in_both_languages(lab, capsys):
    capsys.readouterr()
    for lang, state, why in (
            ("en", "On these numbers: not judged in quick mode",
             "quick settings are too small to judge this claim; run without --quick"),
            ("ko", "이번 실행의 수치: 빠른 모드라 판정하지 않음",
             "빠른 설정은 이 주장을 판정하기에 너무 작습니다. --quick 없이 실행하십시오")):
        assert main(["show", "numerical-diff", "--out", str(lab), "--lang", lang]) == 0
        shown = capsys.readouterr().out
        assert state in shown.splitlines()
        assert why in _flat(shown)
        assert "claim not held" not in shown and "주장 불성립" not in shown


def test_show_in_korean_labels_everything_in_korean(lab, capsys):
    capsys.readouterr()
    assert main(["show", "weight-init-compare", "--out", str(lab), "--lang", "ko"]) == 0
    lines = capsys.readouterr().out.splitlines()
    record = _record(lab, "weight-init-compare")
    assert lines[0] == f"weight-init-compare — {record['title']['ko']}"
    assert lines[1].startswith(f"6장, §{record['section']} · 시드 0 · 실행 시간 ")
    assert lines[1].endswith("초 · 빠른 설정")
    for heading in ("책의 주장:", "데이터셋:", "매개변수:"):
        assert heading in lines
    assert "Fashion-MNIST — /data/fashion-mnist (사용자 캐시)" in _flat("\n".join(lines))
    assert lines[-1].startswith("결과 파일: ")


def test_show_wraps_to_the_terminal_counting_hangul_as_two_columns(lab):
    record = _record(lab, "weight-init-compare")
    for lang in ("en", "ko"):
        text = show_text(record, lang, width=50)
        for line in text.splitlines():
            columns = sum(2 if HANGUL.match(char) else 1 for char in line)
            assert columns <= 50 or len(line.split()) == 1, line
        assert _flat(record["claim"][lang]) in _flat(text)


@pytest.mark.slow
def test_show_finds_a_quick_result_in_results_quick_when_results_has_none(tmp_path,
                                                                          monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "gradient-field", "--quick"]) == 0
    capsys.readouterr()
    assert main(["show", "gradient-field"]) == 0
    assert capsys.readouterr().out.splitlines()[-1] == \
        f"result: {os.path.join('results-quick', 'gradient-field', 'results.json')}"
    assert main(["run", "gradient-field"]) == 0
    capsys.readouterr()
    assert main(["show", "gradient-field"]) == 0  # the full result comes first
    assert capsys.readouterr().out.splitlines()[-1] == \
        f"result: {os.path.join('results', 'gradient-field', 'results.json')}"


@pytest.mark.parametrize(("argv", "message"), [
    (["show", "two-layer-net", "--out", "{lab}"],
     "no result of two-layer-net in {lab}; run it first (dlfs run two-layer-net --out {lab})"),
    (["show", "two-layer-net"], "no result of two-layer-net in results or results-quick; run it "
                                "first (dlfs run two-layer-net)"),
    (["show", "two-layer-nett"], "unknown experiment 'two-layer-nett'; did you mean "
                                 "two-layer-net? choose from: numerical-diff, function-surface,"),
    (["show", "gradient-field", "--out", "{lab}/nowhere"], "--out {lab}/nowhere is not a folder"),
])
def test_show_without_a_result_is_one_line_saying_where_it_looked(argv, message, lab, tmp_path,
                                                                  monkeypatch, capsys):
    monkeypatch.chdir(tmp_path)
    capsys.readouterr()
    assert main([arg.format(lab=lab) for arg in argv]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert err.startswith("dlfs: error: " + message.format(lab=lab))


# -- dlfs open ----------------------------------------------------------------------------------


@pytest.fixture
def browser(monkeypatch):
    """webbrowser.open, recording each URL it is given and saying it opened it."""
    opened = []
    monkeypatch.setattr("webbrowser.open", lambda url: opened.append(url) or True)
    return opened


def test_open_writes_the_missing_report_and_opens_its_file_url(lab, browser, capsys):
    capsys.readouterr()
    assert main(["open", "--out", str(lab), "--lang", "ko"]) == 0
    page = lab / "report.html"
    assert browser == [page.resolve().as_uri() + "?lang=ko"]
    assert '<body data-lang="ko">' in page.read_text(encoding="utf-8")
    assert capsys.readouterr().out.splitlines() == [
        f"실험 2개의 보고서: {page} ({page.stat().st_size / 1e6:.1f} MB)",
        f"브라우저로 여는 중: {browser[0]}"]


def test_open_rewrites_a_report_older_than_a_result_and_keeps_a_current_one(lab, browser):
    page = lab / "report.html"
    page.write_text("an old report")
    result = lab / "numerical-diff" / "results.json"
    os.utime(page, (result.stat().st_mtime - 10,) * 2)
    assert main(["open", "--out", str(lab)]) == 0
    assert page.read_text(encoding="utf-8").startswith("<!doctype html>")
    page.write_text("a current report")
    assert main(["open", "--out", str(lab)]) == 0
    assert page.read_text(encoding="utf-8") == "a current report"
    assert browser == [page.resolve().as_uri() + "?lang=en"] * 2


def test_open_says_which_file_to_open_when_no_browser_starts(lab, monkeypatch, capsys):
    monkeypatch.setattr("webbrowser.open", lambda url: False)
    capsys.readouterr()
    assert main(["open", "--out", str(lab)]) == 0
    assert capsys.readouterr().err == \
        f"no web browser could be started; open {lab / 'report.html'} yourself\n"


def test_open_without_results_is_one_line_and_opens_nothing(tmp_path, monkeypatch, browser,
                                                            capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["open"]) == 2
    assert capsys.readouterr().err == ("dlfs: error: no results in results or results-quick; "
                                       "run experiments first (dlfs run all)\n")
    (tmp_path / "empty").mkdir()
    assert main(["open", "--out", "empty"]) == 2
    assert "no results in empty; run experiments first" in capsys.readouterr().err
    assert browser == []


@pytest.fixture(scope="module")
def gradient_descent_lab(tmp_path_factory):
    """gradient-descent run once for the module, as `dlfs run gradient-descent` leaves it."""
    out = tmp_path_factory.mktemp("deterministic") / "lab"
    assert main(["run", "gradient-descent", "--out", str(out), "--workers", "1"]) == 0
    return out


@pytest.fixture(scope="module")
def changed_settings_lab(tmp_path_factory):
    """gradient-descent and optimizer-paths run once for the module with two --set values."""
    out = tmp_path_factory.mktemp("changed") / "lab"
    assert main(["run", "gradient-descent", "optimizer-paths", "--out", str(out), "--workers",
                 "1", "--set", "lr=0.2", "--set", "optimizers.sgd.lr=0.5"]) == 0
    return out


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_show_says_deterministic_instead_of_a_seed_for_an_experiment_that_draws_nothing(
        gradient_descent_lab, capsys, lang):
    from dlfs import catalogue

    out = gradient_descent_lab
    capsys.readouterr()
    assert main(["show", "gradient-descent", "--out", str(out), "--lang", lang]) == 0
    meta = capsys.readouterr().out.splitlines()[1]
    assert catalogue.text("report.deterministic", lang) in meta
    assert catalogue.text("report.seed", lang) + " 0" not in meta
    record = _record(out, "gradient-descent")
    del record["deterministic"]  # a record older than the field: the experiment says it
    assert catalogue.text("report.deterministic", lang) in show_text(record, lang).splitlines()[1]


@pytest.mark.slow
@pytest.mark.parametrize("lang", ["en", "ko"])
def test_show_marks_the_settings_a_run_changed_and_no_others(changed_settings_lab, capsys,
                                                             lang):
    out = changed_settings_lab
    capsys.readouterr()
    assert main(["show", "gradient-descent", "--out", str(out), "--lang", lang]) == 0
    shown = capsys.readouterr().out
    mark = {"en": "← changed", "ko": "← 바꾼 값"}[lang]
    assert re.search(rf"^  lr +0\.2 {mark} \(--set, --config\)$", shown, re.M)
    assert len([line for line in shown.splitlines() if mark in line]) == 1
    assert main(["show", "optimizer-paths", "--out", str(out), "--lang", lang]) == 0
    shown = capsys.readouterr().out
    marked = [line for line in shown.splitlines() if mark in line]
    assert len(marked) == 1 and f"{mark}: SGD.lr" in _flat(shown)
    assert '"SGD": ["sgd", 0.5]' in _flat(shown)
