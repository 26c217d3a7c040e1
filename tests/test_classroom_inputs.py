"""dlfs check --class on bad input (an empty folder, zips with '..', absolute paths, links or a
bomb, rubrics naming what dlfs does not know, an --out holding something else), a rubric's
partial credit, a real Ctrl-C, and Gradescope's autograder run in a scratch root laid out as
Gradescope lays it out."""

import json
import os
import shutil
import signal
import subprocess
import sys
import time
import zipfile
from pathlib import Path

import pytest
from conftest import process_alive

import dlfs
from benchmarks.check_class import make_class
from dlfs import catalogue
from dlfs.cli import main

SRC = str(Path(dlfs.__file__).resolve().parents[1])
RUBRIC = """
[objects]
AdaGrad = 10
SGD = {points = 5}
Dropout = {points = 2, required = false}

[codes]
eps-outside-denominator = -3
state-reset = -10
"""


def _one_error_line(capsys) -> str:
    err = capsys.readouterr().err.strip().splitlines()
    assert len(err) == 1, err
    return err[0]


def _class_zip(path: Path, members: dict, links: dict | None = None) -> Path:
    """A zip holding ``members`` (name -> text) and ``links`` (name -> target, stored as
    symbolic links, as `zip -y` stores them)."""
    with zipfile.ZipFile(path, "w") as archive:
        for name, text in members.items():
            archive.writestr(name, text)
        for name, target in (links or {}).items():
            info = zipfile.ZipInfo(name)
            info.external_attr = (0o120777 << 16)
            archive.writestr(info, target)
    return path


def test_an_empty_class_folder_is_one_line_and_writes_nothing(tmp_path, capsys):
    (tmp_path / "class").mkdir()
    (tmp_path / "class" / "README.txt").write_text("no learners yet")
    assert main(["check", "--class", str(tmp_path / "class"), "--out",
                 str(tmp_path / "out")]) == 2
    line = _one_error_line(capsys)
    assert "holds no learner" in line and str(tmp_path / "class") in line
    assert not (tmp_path / "out").exists()


def test_a_missing_class_folder_is_one_line(tmp_path, capsys):
    assert main(["check", "--class", str(tmp_path / "nowhere"), "--lang", "ko"]) == 2
    assert "그런 폴더나 .zip 파일이 없습니다" in _one_error_line(capsys)


@pytest.mark.parametrize("member", ["../escaped.py", "/tmp/dlfs-absolute-escape.py",
                                    "kim/../../escaped.py"])
def test_a_zip_member_outside_the_class_is_refused_and_nothing_is_written(tmp_path, capsys,
                                                                          member):
    archive = _class_zip(tmp_path / "class.zip",
                         {"kim/optimizer.py": "x = 1\n", member: "print('escaped')\n"})
    assert main(["check", "--class", str(archive), "--out", str(tmp_path / "out")]) == 2
    line = _one_error_line(capsys)
    assert repr(member) in line and "outside" in line
    assert not (tmp_path / "escaped.py").exists()
    assert not Path("/tmp/dlfs-absolute-escape.py").exists()
    assert not (tmp_path / "out").exists()


def test_a_zip_holding_a_symbolic_link_is_refused(tmp_path, capsys):
    secret = tmp_path / "secret.txt"
    secret.write_text("not the learner's")
    archive = _class_zip(tmp_path / "class.zip", {"kim/optimizer.py": "x = 1\n"},
                         links={"kim/common.py": str(secret)})
    assert main(["check", "--class", str(archive), "--out", str(tmp_path / "out")]) == 2
    assert "'kim/common.py'" in _one_error_line(capsys)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_zip_bomb_is_refused_by_what_it_writes(tmp_path, capsys):
    archive = tmp_path / "class.zip"
    with zipfile.ZipFile(archive, "w", zipfile.ZIP_DEFLATED) as bomb:
        with bomb.open("kim/optimizer.py", "w", force_zip64=True) as member:
            block = b"#" * (1 << 20)
            for _ in range(60):  # 60 MB of one byte: a few kB compressed
                member.write(block)
    assert archive.stat().st_size < 1 << 20
    assert main(["check", "--class", str(archive), "--out", str(tmp_path / "out")]) == 2
    assert "unpacks to more than" in _one_error_line(capsys)
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_zip_of_the_class_folder_is_checked_like_the_folder(tmp_path):
    make_class(tmp_path / "class", kinds=["correct", "state-reset"])
    archive = Path(shutil.make_archive(str(tmp_path / "class"), "zip", tmp_path, "class"))
    assert main(["check", "--class", str(archive), "--out", str(tmp_path / "out"),
                 "--no-progress"]) == 1
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert [entry["id"] for entry in results["learners"]] == ["learner001", "learner002"]
    assert results["totals"]["codes"] == {"state-reset": ["learner002"]}


@pytest.mark.parametrize(("text", "said"), [
    ("[objects]\nAdaGradd = 10\n", "names the object 'AdaGradd'"),
    ("[objects]\nAdaGrad = 10\n[codes]\nstate-resett = -10\n",
     "names the diagnosis code 'state-resett'"),
    ("[objects\nAdaGrad = 10\n", "is not valid TOML"),
    ("[objects]\nAdaGrad = 'ten'\n", "AdaGrad's points must be a number"),
])
def test_a_rubric_naming_what_dlfs_does_not_know_is_one_line_before_any_check(tmp_path, capsys,
                                                                            text, said):
    make_class(tmp_path / "class", kinds=["correct"])
    (tmp_path / "rubric.toml").write_text(text)
    began = time.monotonic()
    assert main(["check", "--class", str(tmp_path / "class"), "--out", str(tmp_path / "out"),
                 "--rubric", str(tmp_path / "rubric.toml")]) == 2
    assert said in _one_error_line(capsys)
    assert time.monotonic() - began < 3  # refused before the learners are checked
    assert not (tmp_path / "out").exists()


@pytest.mark.slow
def test_a_rubric_gives_partial_credit_and_names_a_missing_required_object(tmp_path):
    make_class(tmp_path / "class", kinds=["correct", "state-reset", "eps-outside-denominator"])
    rubric = RUBRIC.replace("[codes]", "Nesterov = {points = 4, required = true}\n\n[codes]")
    (tmp_path / "rubric.toml").write_text(rubric)
    assert main(["check", "--class", str(tmp_path / "class"), "--out", str(tmp_path / "out"),
                 "--rubric", str(tmp_path / "rubric.toml"), "--no-progress"]) == 1
    csv = (tmp_path / "out" / "grades.csv").read_text(encoding="utf-8").splitlines()
    assert csv == ["learner,status,AdaGrad,SGD,Dropout,Nesterov,total,max",
                   "learner001,checked,10,5,0,0,15,19",
                   "learner002,checked,0,5,0,0,5,19",  # state-reset: 10 − 10
                   "learner003,checked,7,5,0,0,12,19"]  # eps-outside-denominator: 10 − 3
    feedback = (tmp_path / "out" / "feedback" / "learner001.md").read_text(encoding="utf-8")
    assert catalogue.text("classroom.note_missing", "en", name="Nesterov") in feedback
    assert "Dropout" not in feedback  # extra credit: not asked for


@pytest.mark.slow
def test_out_holding_another_runs_results_is_kept_without_force_and_replaced_with_it(tmp_path,
                                                                                  capsys):
    make_class(tmp_path / "class", kinds=["correct"])
    command = ["check", "--class", str(tmp_path / "class"), "--out", str(tmp_path / "out"),
               "--no-progress"]
    assert main(command) == 0
    first = (tmp_path / "out" / "results.json").read_text(encoding="utf-8")
    capsys.readouterr()
    assert main(command) == 2
    assert "--force" in _one_error_line(capsys)
    assert (tmp_path / "out" / "results.json").read_text(encoding="utf-8") == first
    assert main([*command, "--force"]) == 0
    assert sorted(p.name for p in tmp_path.iterdir()) == ["class", "out"]  # no leftovers


def test_out_holding_other_files_is_refused_even_with_force(tmp_path, capsys):
    make_class(tmp_path / "class", kinds=["correct"])
    (tmp_path / "out").mkdir()
    (tmp_path / "out" / "thesis.tex").write_text("mine")
    assert main(["check", "--class", str(tmp_path / "class"), "--out", str(tmp_path / "out"),
                 "--force"]) == 2
    assert "not dlfs check --class's results" in _one_error_line(capsys)
    assert (tmp_path / "out" / "thesis.tex").read_text() == "mine"




@pytest.mark.slow
def test_ctrl_c_leaves_a_complete_summary_of_the_learners_done_and_says_so(tmp_path):
    make_class(tmp_path / "class", kinds=["correct", "state-reset", "correct", "correct"])
    marker = tmp_path / "looping"
    looper = tmp_path / "class" / "learner003" / "common" / "optimizer.py"
    # its SGD's update says it has begun, then loops: the check of learner003 is under way
    update = "    def update(self, params, grads):\n"
    text = looper.read_text()
    assert update in text
    looper.write_text(text.replace(update, update + (
        f"        import os\n        open({str(marker)!r}, 'w').write(str(os.getpid()))\n"
        "        while True:\n            pass\n"), 1))
    env = dict(os.environ, PYTHONPATH=os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")]))
    process = subprocess.Popen(
        [sys.executable, "-m", "dlfs", "check", "--class", str(tmp_path / "class"), "--out",
         str(tmp_path / "out"), "--workers", "1", "--timeout", "120", "--lang", "en"],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env,
        start_new_session=True)
    deadline = time.monotonic() + 90
    while not (marker.exists() and marker.read_text()) and time.monotonic() < deadline:
        assert process.poll() is None
        time.sleep(0.1)
    os.killpg(process.pid, signal.SIGINT)  # as Ctrl-C does: the whole foreground group
    _, err = process.communicate(timeout=60)
    assert process.returncode == 130
    assert catalogue.text("classroom.interrupted", "en", out=tmp_path / "out", done=2,
                          total=4) in err
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert results["totals"]["interrupted"] is True
    assert [entry["id"] for entry in results["learners"]] == ["learner001", "learner002"]
    assert results["totals"]["codes"] == {"state-reset": ["learner002"]}
    assert 'id="interrupted"' in (tmp_path / "out" / "summary.html").read_text(encoding="utf-8")
    assert sorted(p.name for p in (tmp_path / "out" / "feedback").iterdir()) == [
        "learner001.md", "learner002.md"]
    assert not process_alive(int(marker.read_text()))


@pytest.mark.slow
def test_gradescopes_run_autograder_grades_a_submission_in_a_scratch_root(tmp_path):
    (tmp_path / "rubric.toml").write_text(RUBRIC)
    bundle = tmp_path / "bundle"
    assert main(["check", "--autograder-bundle", str(bundle), "--rubric",
                 str(tmp_path / "rubric.toml")]) == 0
    assert sorted(p.name for p in bundle.iterdir()) == ["rubric.toml", "run_autograder",
                                                         "setup.sh"]
    assert f"dlfs-lab=={dlfs.__version__}" in (bundle / "setup.sh").read_text()
    # Gradescope's layout: the bundle in source/, the learner's files in submission/
    root = tmp_path / "autograder"
    shutil.copytree(bundle, root / "source")
    make_class(tmp_path / "class", kinds=["state-reset"])
    shutil.copytree(tmp_path / "class" / "learner001", root / "submission")
    env = dict(os.environ, DLFS_AUTOGRADER_ROOT=str(root), DLFS=f"{sys.executable} -m dlfs",
               PYTHONPATH=os.pathsep.join([SRC, os.environ.get("PYTHONPATH", "")]))
    done = subprocess.run([str(root / "source" / "run_autograder")], env=env,
                          capture_output=True, text=True, timeout=300)
    assert done.returncode == 0, done.stderr
    results = json.loads((root / "results" / "results.json").read_text(encoding="utf-8"))
    assert results["score"] == 5.0  # SGD 5; AdaGrad 10 − 10 for state-reset
    tests = {test["name"]: test for test in results["tests"]}
    assert list(tests) == ["AdaGrad", "SGD", "Dropout"]
    assert (tests["AdaGrad"]["score"], tests["AdaGrad"]["max_score"],
            tests["AdaGrad"]["status"]) == (0.0, 10.0, "failed")
    assert "state-reset" in tests["AdaGrad"]["output"]
    assert (tests["SGD"]["score"], tests["SGD"]["status"]) == (5.0, "passed")
    assert (tests["Dropout"]["max_score"], tests["Dropout"]["status"]) == (0.0, "failed")
    assert set(results) >= {"score", "tests", "output", "visibility"}


@pytest.mark.slow
def test_a_class_named_by_a_relative_path_still_imports_each_learners_common_package(
        tmp_path, monkeypatch):
    make_class(tmp_path / "class", kinds=["correct"])
    monkeypatch.chdir(tmp_path)
    assert main(["check", "--class", "class", "--out", "out", "--no-progress"]) == 0
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert {"Relu", "Affine"} <= set(results["learners"][0]["objects"])  # from common.functions
    assert results["learners"][0]["notes"] == []


@pytest.mark.slow
def test_learners_as_a_notebook_a_single_file_and_one_that_kills_its_checker(tmp_path):
    fixtures = Path(__file__).parent / "fixtures" / "check"
    (tmp_path / "class" / "park").mkdir(parents=True)
    shutil.copy(fixtures / "learner.ipynb", tmp_path / "class" / "kim.ipynb")
    shutil.copy(fixtures / "learner.py", tmp_path / "class" / "lee.py")
    # park's file imports its training script, which kills the process that watches the check
    # as it is imported and goes on training: the learner crashed (its check is killed with
    # its watcher)
    (tmp_path / "class" / "park" / "optimizer.py").write_text("import train\n")
    (tmp_path / "class" / "park" / "train.py").write_text(
        "import os\nimport signal\nimport time\n\nos.kill(os.getppid(), signal.SIGKILL)\n"
        "time.sleep(30)\n")
    assert main(["check", "--class", str(tmp_path / "class"), "--out", str(tmp_path / "out"),
                 "--no-progress"]) == 1
    results = json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    learners = {entry["id"]: entry for entry in results["learners"]}
    assert {name: entry["status"] for name, entry in learners.items()} == {
        "kim": "checked", "lee": "checked", "park": "crash"}
    assert {ref: o["codes"] for ref, o in learners["kim"]["objects"].items()} == {
        "Momentum": [], "Nesterov": ["nesterov-order"], "Adam": ["unfinished"]}
    assert learners["lee"]["objects"]["AdaGrad"]["codes"] == ["state-reset"]
    note = learners["park"]["notes"][0]
    assert note["code"] == "crash" and "SIGKILL" in note["message"]["en"]
    assert results["totals"]["statuses"]["crash"] == ["park"]


@pytest.mark.slow
def test_json_prints_what_results_json_holds(tmp_path, capsys):
    make_class(tmp_path / "class", kinds=["ignores-lr"])
    assert main(["check", "--class", str(tmp_path / "class"), "--out", str(tmp_path / "out"),
                 "--json", "--no-progress"]) == 1
    printed = json.loads(capsys.readouterr().out)
    assert printed == json.loads((tmp_path / "out" / "results.json").read_text(encoding="utf-8"))
    assert printed["totals"]["codes"] == {"ignores-lr": ["learner001"]}
