"""dlfs check FILE: .py and .ipynb input, the JSON form, exit statuses 0/1/2, one-line errors,
and learner code that loops forever or ends the process cannot hang or kill the checker."""

import json
import re
import time
from pathlib import Path

import pytest

from dlfs.cli import main

FIXTURES = Path(__file__).parent / "fixtures" / "check"
HANGUL = re.compile("[\uac00-\ud7a3]")
KEYS = ["name", "kind", "reference", "verdict", "variant", "first_bad_step", "max_rel_error",
        "diagnoses"]


def _check(capsys, *argv):
    status = main(["check", *map(str, argv)])
    out = capsys.readouterr()
    return status, out.out, out.err


def test_the_books_classes_pass_and_exit_0(capsys):
    status, out, err = _check(capsys, FIXTURES / "book_optimizer.py")
    assert status == 0 and err == ""
    assert "AdaGrad: pass" in out and "Adam: variant" in out
    assert "6 checked: 6 pass or variant, 0 warn, 0 fail" in out


def test_a_py_file_with_a_mistake_exits_1_and_names_the_code_and_line(capsys):
    status, out, _ = _check(capsys, FIXTURES / "learner.py")
    assert status == 1
    lines = out.splitlines()
    assert lines[0] == "SGD: pass — equals dlfs SGD"
    assert lines[1].startswith("AdaGrad: fail — departs from dlfs AdaGrad at step 2")
    assert lines[2].startswith("  - state-reset: ") and "learner.py, line 22" in lines[2]
    assert "not checked: train — train is a function dlfs check has no reference for" in out


def test_the_json_form_has_the_results_the_skipped_the_cells_and_the_error_with_stable_keys(
        capsys):
    status, out, _ = _check(capsys, FIXTURES / "learner.py", "--json")
    data = json.loads(out)
    assert status == 1 and list(data) == ["results", "skipped", "cells", "error"]
    assert data["error"] is None and data["cells"] == {"ran": [1], "skipped": []}
    assert [entry["name"] for entry in data["skipped"]] == ["train"]
    assert set(data["skipped"][0]["why"]) == {"en", "ko"}
    assert [r["name"] for r in data["results"]] == ["SGD", "AdaGrad"]
    for result in data["results"]:
        assert list(result) == KEYS
        for diagnosis in result["diagnoses"]:
            assert list(diagnosis) == ["code", "message", "line"]
            assert HANGUL.search(diagnosis["message"]["ko"])
    adagrad = data["results"][1]
    assert (adagrad["verdict"], adagrad["first_bad_step"]) == ("fail", 2)
    assert adagrad["diagnoses"][0]["code"] == "state-reset"
    assert adagrad["diagnoses"][0]["line"] == 22


def test_names_choose_what_is_checked(capsys):
    status, out, _ = _check(capsys, FIXTURES / "learner.py", "SGD", "--json")
    assert status == 0
    assert [r["name"] for r in json.loads(out)["results"]] == ["SGD"]


def test_a_notebook_runs_its_defining_cells_and_says_which_it_skipped(capsys):
    status, out, _ = _check(capsys, FIXTURES / "learner.ipynb")
    assert status == 1
    assert "ran cells: 1, 2, 4, 5" in out
    assert "skipped cells: 3 (line 2: opt = Momentum())" in out
    assert "Momentum: pass" in out
    assert "nesterov-order: " in out and "learner.ipynb [cell 4], line 14" in out
    assert "Adam: fail — not written yet" in out


def test_korean_output_is_korean(capsys):
    status, out, _ = _check(capsys, FIXTURES / "learner.ipynb", "--lang", "ko")
    assert status == 1
    assert "실행한 셀: 1, 2, 4, 5" in out and "Momentum: 통과" in out
    assert "Adam: 실패 — 아직 작성되지 않았습니다" in out
    assert "3개 검사: 통과·변형 1개, 경고 0개, 실패 2개" in out


def _one_line_error(status, out, err, *words):
    assert status == 2 and out == ""
    assert err.count("\n") == 1 and err.startswith("dlfs: ")
    assert "Traceback" not in err
    for word in words:
        assert word in err


def test_a_missing_file_is_a_usage_error(capsys, tmp_path):
    _one_line_error(*_check(capsys, tmp_path / "nope.py"), "nope.py: no such file")


def test_a_syntax_error_names_the_file_and_line(capsys, tmp_path):
    broken = tmp_path / "syntax_error.py"
    broken.write_text("class SGD:\n    def update(self, params, grads)\n        pass\n",
                      encoding="utf-8")
    _one_line_error(*_check(capsys, broken), "syntax_error.py, line 2: syntax error")


def test_a_syntax_error_in_a_notebook_names_the_cell_and_line(capsys, tmp_path):
    notebook = {"cells": [{"cell_type": "code", "source": ["import numpy as np\n"]},
                          {"cell_type": "code", "source": ["x = 1\n", "def f(:\n"]}],
                "nbformat": 4, "nbformat_minor": 5, "metadata": {}}
    path = tmp_path / "nb.ipynb"
    path.write_text(json.dumps(notebook), encoding="utf-8")
    _one_line_error(*_check(capsys, path), "nb.ipynb [cell 2], line 2: syntax error")


def test_a_name_the_file_does_not_define_is_a_usage_error(capsys):
    _one_line_error(*_check(capsys, FIXTURES / "learner.py", "Adam"),
                    "defines no 'Adam'", "SGD, AdaGrad, train")


def test_a_class_with_another_interface_is_skipped_with_the_reason_not_a_usage_error(capsys):
    status, out, err = _check(capsys, FIXTURES / "other_interface.py")
    assert status == 0 and err == ""
    assert ("not checked: Adam — Adam is named after an optimizer but has no "
            "update(params, grads) (its methods: step)") in out


def test_a_notebook_without_code_is_a_usage_error(capsys):
    _one_line_error(*_check(capsys, FIXTURES / "no_code.ipynb"), "has no code cells")


def test_a_file_that_is_not_a_notebook_is_a_usage_error(capsys, tmp_path):
    bad = tmp_path / "bad.ipynb"
    bad.write_text("{not json", encoding="utf-8")
    _one_line_error(*_check(capsys, bad), "is not a Jupyter notebook")
    other = tmp_path / "notes.txt"
    other.write_text("x = 1\n", encoding="utf-8")
    _one_line_error(*_check(capsys, other), "expected a .py file or a Jupyter notebook")


def test_a_usage_error_is_korean_in_korean(capsys, tmp_path):
    status, out, err = _check(capsys, tmp_path / "nope.py", "--lang", "ko")
    _one_line_error(status, out, err, "파일이 없습니다")


@pytest.mark.slow
def test_an_update_that_never_returns_fails_by_the_time_limit_at_the_line_it_was_running(
        capsys):
    start = time.monotonic()
    status, out, err = _check(capsys, FIXTURES / "endless.py", "--timeout", "3", "--json")
    assert time.monotonic() - start < 30  # the limit, the child's start-up, and no more
    assert status == 1 and err == ""
    (result,) = json.loads(out)["results"]
    assert (result["name"], result["verdict"]) == ("Momentum", "fail")
    (found,) = result["diagnoses"]
    assert found["code"] == "timeout" and found["line"] in range(14, 20)  # inside the loop
    assert "did not finish within 3 s" in found["message"]["en"]
    assert f"endless.py, line {found['line']}: " in found["message"]["en"]


def test_a_scripts_top_level_loop_is_not_run_and_is_listed(capsys, tmp_path):
    looping = tmp_path / "loops.py"
    looping.write_text("class SGD:\n    pass\n\nwhile True:\n    pass\n", encoding="utf-8")
    status, out, err = _check(capsys, looping, "--timeout", "20")
    assert status == 1 and err == ""  # SGD is unfinished: no update yet
    assert "not run (not a definition): line 4: while True:" in out
    assert "SGD: fail — not written yet" in out


@pytest.mark.slow
def test_a_loop_while_loading_times_out_naming_the_learners_line(capsys, tmp_path):
    (tmp_path / "trains.py").write_text("while True:\n    pass\n", encoding="utf-8")
    learner = tmp_path / "uses.py"
    learner.write_text("import numpy as np\n\nimport trains\n", encoding="utf-8")
    status, out, err = _check(capsys, learner, "--timeout", "3")
    _one_line_error(status, out, err, "uses.py, line 3: loading the file did not finish "
                                      "within 3 s")


def test_a_process_that_ends_inside_update_fails_that_name_and_the_others_are_checked(capsys):
    status, out, _ = _check(capsys, FIXTURES / "exits.py", "--json")
    results = {r["name"]: r for r in json.loads(out)["results"]}
    assert status == 1
    assert results["RMSprop"]["verdict"] == "fail"
    assert results["RMSprop"]["diagnoses"][0]["code"] == "crash"
    assert "exit status 3" in results["RMSprop"]["diagnoses"][0]["message"]["en"]
    assert results["SGD"]["verdict"] == "pass"


def test_a_top_level_statement_that_raises_is_listed_with_its_error_not_fatal(capsys,
                                                                              tmp_path):
    broken = tmp_path / "broken.py"
    broken.write_text("import numpy as np\n\nx = np.zeros(2) + undefined_name\n\n\n"
                      "def relu(x):\n    return np.maximum(0, x)\n", encoding="utf-8")
    status, out, err = _check(capsys, broken, "--json")
    document = json.loads(out)
    assert status == 0 and err == ""
    assert document["cells"]["skipped"] == [
        {"cell": 1, "line": 3, "code": "NameError: name 'undefined_name' is not defined"}]
    assert [r["verdict"] for r in document["results"]] == ["pass"]


def test_a_file_that_defines_nothing_says_so_and_is_not_a_usage_error(capsys, tmp_path):
    empty = tmp_path / "notes.py"
    empty.write_text("import numpy as np\n", encoding="utf-8")
    status, out, err = _check(capsys, empty)
    assert status == 0 and err == ""
    assert "notes.py defines no class or function to check" in out


@pytest.mark.parametrize("value", ["0", "-1"])
def test_a_timeout_must_be_positive(capsys, value):
    status, _, err = _check(capsys, FIXTURES / "learner.py", "--timeout", value)
    assert status == 2 and "Traceback" not in err
