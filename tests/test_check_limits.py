"""dlfs check FILE under limits (issue 25): the learner's code has a memory limit (--memory MB,
RLIMIT_AS through dlfs.check.sandbox), and every process it starts ends with its check, a
daemon that left the check's session too. Real bombs: a file that allocates 20 GB, a layer
function that does, a function that starts a detached `sleep 300`."""

import json
import re
import time

import pytest
from conftest import process_alive

from dlfs import catalogue
from dlfs.cli import main

HANGUL = re.compile("[가-힣]")
BOMB = 20 * 10**9 // 8  # float64s: 20 GB


def _check(capsys, *argv):
    status = main(["check", *map(str, argv)])
    out, err = capsys.readouterr()
    return status, out, err




def test_a_file_that_allocates_20_gb_at_its_top_level_is_one_line_naming_its_line(capsys,
                                                                                 tmp_path):
    bomb = tmp_path / "bomb.py"
    bomb.write_text("import numpy as np\n\n"
                    f"TABLE = np.ones({BOMB})  # a lookup table far too big\n\n\n"
                    "def relu(x):\n    return np.maximum(0, x)\n", encoding="utf-8")
    began = time.monotonic()
    status, out, err = _check(capsys, bomb, "--json")
    assert time.monotonic() - began < 20  # refused at once, never swapped in
    assert status == 2
    error = json.loads(out)["error"]
    assert error["code"] == "memory_loading_at"
    assert error["message"]["en"].startswith(f"{bomb}, line 3: loading the file ran past the "
                                             "memory limit (2048 MB) on that line: TABLE = ")
    assert "--memory" in error["message"]["en"] and HANGUL.search(error["message"]["ko"])
    lines = err.strip().splitlines()
    assert len(lines) == 1 and error["message"]["en"] in lines[0]


def test_a_function_that_allocates_20_gb_fails_at_its_line_and_the_next_is_checked(capsys,
                                                                                   tmp_path):
    learner = tmp_path / "functions.py"
    learner.write_text("import numpy as np\n\n\n"
                       "def relu(x):\n"
                       f"    cache = np.ones({BOMB})\n"
                       "    return np.maximum(0, x)\n\n\n"
                       "def sigmoid(x):\n"
                       "    return 1 / (1 + np.exp(-x))\n", encoding="utf-8")
    status, out, err = _check(capsys, learner, "--json")
    assert status == 1 and err == ""
    results = {r["name"]: r for r in json.loads(out)["results"]}
    assert results["relu"]["verdict"] == "fail"
    (found,) = results["relu"]["diagnoses"]
    assert (found["code"], found["line"]) == ("memory", 5)
    assert f"cache = np.ones({BOMB})" in found["message"]["en"]
    assert "memory limit (2048 MB)" in found["message"]["en"]
    assert results["sigmoid"]["verdict"] == "pass"  # the same child goes on
    status, out, _ = _check(capsys, learner)
    assert catalogue.text("check.head_memory", "en", name="relu") in out


def test_memory_sets_the_limit_in_mb(capsys, tmp_path):
    learner = tmp_path / "functions.py"
    # 1 GB of address space, never touched: refused under 512 MB, given under 4096 MB
    learner.write_text("import numpy as np\n\n\n"
                       "def relu(x):\n"
                       "    scratch = np.empty(2**30, dtype=np.uint8)\n"
                       "    return np.maximum(0, x)\n", encoding="utf-8")
    status, out, _ = _check(capsys, learner, "--json", "--memory", "512")
    (result,) = json.loads(out)["results"]
    assert status == 1 and result["diagnoses"][0]["code"] == "memory"
    assert "memory limit (512 MB)" in result["diagnoses"][0]["message"]["en"]
    status, out, _ = _check(capsys, learner, "--json", "--memory", "4096")
    (result,) = json.loads(out)["results"]
    assert (status, result["verdict"]) == (0, "pass")


@pytest.mark.parametrize("value", ["100", "-1", "nan"])
def test_a_memory_limit_below_256_mb_is_one_line(capsys, tmp_path, value):
    status, out, err = _check(capsys, tmp_path / "any.py", "--memory", value)
    assert status == 2 and out == ""
    assert err.strip().splitlines() == [catalogue.text("errors.line", "en", message=catalogue.text(
        "check.bad_memory", "en", value=f"{float(value):g}"))]


@pytest.mark.parametrize("fork", ["1", pytest.param("0", marks=pytest.mark.slow)],
                         ids=["forked", "new-interpreter"])
def test_a_detached_grandchild_the_file_starts_is_gone_when_the_check_ends(capsys, tmp_path,
                                                                           monkeypatch, fork):
    """A function that starts a process in a session of its own (Popen(start_new_session=True),
    as a learner's helper that launches TensorBoard or a data server might): it left the
    check's session, so killing that session missed it; the sandbox's subreaper finds it."""
    monkeypatch.setenv("DLFS_CHECK_FORK", fork)
    pid_file = tmp_path / "daemon.pid"
    learner = tmp_path / "functions.py"
    learner.write_text("import subprocess\n\nimport numpy as np\n\n\n"
                       "def relu(x):\n"
                       "    daemon = subprocess.Popen(['sleep', '300'], start_new_session=True)\n"
                       f"    with open({str(pid_file)!r}, 'w') as file:\n"
                       "        file.write(str(daemon.pid))\n"
                       "    return np.maximum(0, x)\n", encoding="utf-8")
    status, out, err = _check(capsys, learner)
    assert (status, err) == (0, "")
    daemon = int(pid_file.read_text())
    assert not process_alive(daemon)
    killed = re.search(r"^(\d+) process\(es\) that the file's code started were still running",
                       out, re.M)
    assert killed and int(killed.group(1)) >= 1  # relu is called more than once
