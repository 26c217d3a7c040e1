"""dlfs check --class on a generated class (benchmarks/check_class.py's generator, each mistake
of a known code injected once, with learners that loop forever, allocate 20 GB, call os._exit,
leave a daemon behind or hand in no Python): the counts equal the injected ones, every other
learner is checked, and grades.csv, feedback/ and summary.html say what results.json says."""

import csv
import json
import os
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from conftest import process_alive

from benchmarks.check_class import MISTAKES, compare, make_class
from dlfs import catalogue
from dlfs.cli import main

KINDS = ["correct", *MISTAKES, "no-python", "correct"]
TIMEOUT = 8
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")




@pytest.fixture(scope="module")
def checked(tmp_path_factory):
    """The generated class, checked once: (class folder, injected, out folder, exit status)."""
    root = tmp_path_factory.mktemp("class")
    injected = make_class(root / "class", kinds=KINDS)
    out = root / "out"
    status = main(["check", "--class", str(root / "class"), "--out", str(out), "--timeout",
                   str(TIMEOUT), "--feedback-lang", "both", "--no-progress"])
    results = json.loads((out / "results.json").read_text(encoding="utf-8"))
    return root / "class", injected, out, status, results


def _learner(results, kind, injected):
    learner = next(name for name, k in injected["kinds"].items() if k == kind)
    return next(entry for entry in results["learners"] if entry["id"] == learner)


@pytest.mark.slow
def test_the_counts_per_code_and_per_status_equal_the_injected_ones(checked):
    _, injected, _, status, results = checked
    assert compare(results["totals"], injected) == []
    assert status == 1
    assert results["totals"]["learners"] == len(KINDS) == results["totals"]["done"]


@pytest.mark.slow
def test_every_learner_beside_the_bombs_is_checked_with_every_object(checked):
    _, injected, _, _, results = checked
    for entry in results["learners"]:
        kind = injected["kinds"][entry["id"]]
        if kind in ("correct", "state-reset", "ignores-lr", "crash", "daemon"):
            assert entry["status"] == "checked"
            assert set(entry["objects"]) == {"softmax", "cross_entropy_error", "Relu", "Affine",
                                             "SGD", "Momentum", "AdaGrad"}, entry["id"]


@pytest.mark.slow
def test_a_learner_that_loops_forever_is_reported_with_its_line_within_its_limit(checked):
    folder, injected, _, _, results = checked
    entry = _learner(results, "loop", injected)
    assert entry["status"] == "timeout"
    assert entry["seconds"] < TIMEOUT + 6
    text = (folder / entry["id"] / "common" / "optimizer.py").read_text(encoding="utf-8")
    loop = next(n for n, line in enumerate(text.splitlines(), 1) if "while i <" in line)
    note = next(n for n in entry["notes"] if n["code"] == "timeout")
    assert note["file"] == "common/optimizer.py" and note["line"] in (loop, loop + 1)
    assert f"common/optimizer.py:{note['line']} (SGD)" in note["message"]["en"]
    assert entry["objects"]["SGD"]["codes"] == ["timeout"]


@pytest.mark.slow
def test_a_learner_that_allocates_20_gb_is_reported_as_past_the_memory_limit(checked):
    _, injected, _, _, results = checked
    entry = _learner(results, "memory", injected)
    assert entry["status"] == "memory"
    assert entry["seconds"] < TIMEOUT  # refused at once, not swapped
    assert any(n["code"] == "memory" for n in entry["notes"])


@pytest.mark.slow
def test_a_learner_calling_os_exit_fails_that_object_and_keeps_the_others(checked):
    _, injected, _, _, results = checked
    entry = _learner(results, "os-exit", injected)
    assert entry["status"] == "checked"
    assert entry["objects"]["Momentum"]["codes"] == ["crash"]
    assert entry["objects"]["AdaGrad"]["verdict"] == "pass"


@pytest.mark.slow
def test_a_daemon_a_learner_leaves_behind_is_killed_and_noted(checked):
    folder, injected, _, _, results = checked
    entry = _learner(results, "daemon", injected)
    pid = int((folder / entry["id"] / "common" / "optimizer.py.pid").read_text())
    assert not process_alive(pid)
    assert [n for n in entry["notes"] if n["code"] == "descendants"]


@pytest.mark.slow
def test_a_learner_without_python_is_accounted_for(checked):
    _, injected, out, _, results = checked
    entry = _learner(results, "no-python", injected)
    assert entry["status"] == "no-python" and entry["files"] == []
    text = (out / "feedback" / f"{entry['id']}.md").read_text(encoding="utf-8")
    assert catalogue.text("classroom.note_no-python", "en") in text
    assert catalogue.text("classroom.note_no-python", "ko") in text


@pytest.mark.slow
def test_grades_csv_has_one_row_per_learner_with_the_points_of_results_json(checked):
    _, _, out, _, results = checked
    with open(out / "grades.csv", encoding="utf-8", newline="") as file:
        rows = list(csv.DictReader(file))
    assert [row["learner"] for row in rows] == [entry["id"] for entry in results["learners"]]
    for row, entry in zip(rows, results["learners"]):
        grade = entry["grade"]
        assert float(row["total"]) == grade["total"] and float(row["max"]) == grade["max"]
        assert row["status"] == entry["status"]
        for name in results["objects"]:
            expected = 1.0 if entry["objects"].get(name, {}).get("verdict") in (
                "pass", "variant") else 0.0
            assert float(row[name]) == grade["objects"][name] == expected


@pytest.mark.slow
def test_each_feedback_file_names_the_learners_diagnoses_with_their_lines(checked):
    _, _, out, _, results = checked
    for entry in results["learners"]:
        text = (out / "feedback" / f"{entry['id']}.md").read_text(encoding="utf-8")
        for document in (f["document"] for f in entry["files"] if f["document"]):
            for result in document["results"]:
                for diagnosis in result["diagnoses"]:
                    assert f"`{diagnosis['code']}`" in text
                    assert diagnosis["message"]["en"] in text
                    assert diagnosis["message"]["ko"] in text
                    if diagnosis["line"]:
                        assert catalogue.text("classroom.feedback_line", "en",
                                              line=diagnosis["line"]) in text


@pytest.mark.slow
def test_the_summary_page_shows_each_code_with_its_count_and_learners(checked):
    _, _, out, _, results = checked
    page = (out / "summary.html").read_text(encoding="utf-8")
    done = results["totals"]["done"]
    for code, ids in results["totals"]["codes"].items():
        row = re.search(rf'<tr data-code="{re.escape(code)}" data-count="(\d+)">(.*?)</tr>',
                        page, re.S)
        assert row and int(row.group(1)) == len(ids)
        assert catalogue.text("classroom.count", "en", count=len(ids), total=done) in row.group(2)
        assert ", ".join(ids) in row.group(2)
    assert "http://" not in page and "https://" not in page and "<link" not in page


@pytest.mark.slow
def test_a_learner_id_that_looks_like_html_is_escaped_everywhere(tmp_path):
    make_class(tmp_path / "class", kinds=["correct"])
    name = '<img src=x onerror="alert(1)">&y'
    os.rename(tmp_path / "class" / "learner001", tmp_path / "class" / name)
    assert main(["check", "--class", str(tmp_path / "class"), "--out", str(tmp_path / "out"),
                 "--no-progress"]) == 0
    page = (tmp_path / "out" / "summary.html").read_text(encoding="utf-8")
    assert name not in page and "<img" not in page
    assert "&lt;img src=x onerror=&quot;alert(1)&quot;&gt;&amp;y" in page
    assert [p.name for p in (tmp_path / "out" / "feedback").iterdir()] == [
        "_img_src_x_onerror__alert_1____y.md"]


def _page_requests(netlog: Path) -> list[str]:
    """The URLs the page (a file:// one) asked the network for, from Chromium's net log: the
    requests started for a file:// network isolation key, not the browser's own."""
    log = json.loads(netlog.read_text(encoding="utf-8"))
    start = log["constants"]["logEventTypes"]["URL_REQUEST_START_JOB"]
    return [event["params"]["url"] for event in log["events"]
            if event["type"] == start and "file://" in str(event["params"].get(
                "network_isolation_key")) and not event["params"]["url"].startswith(
                ("file:", "data:"))]


def _chromium(url: str, tmp_path: Path):
    netlog = tmp_path / f"netlog-{len(list(tmp_path.glob('netlog-*')))}.json"
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr",
         f"--log-net-log={netlog}", "--v=0", "--virtual-time-budget=10000", "--dump-dom", url],
        capture_output=True, text=True, timeout=120)
    return result, netlog


@pytest.mark.slow
@pytest.mark.skipif(CHROMIUM is None, reason="chromium is not installed")
def test_the_summary_opens_in_chromium_without_a_request_and_sorts_and_counts(checked,
                                                                             tmp_path):
    _, _, out, _, results = checked
    result, netlog = _chromium((out / "summary.html").as_uri() + "?lang=ko#selftest", tmp_path)
    found = re.search(r'<pre id="selftest-result">(.*?)</pre>', result.stdout, re.S)
    assert found, result.stderr[-2000:]
    selftest = json.loads(found.group(1).replace("&quot;", '"'))
    assert selftest["counts"] == {code: len(ids)
                                  for code, ids in results["totals"]["codes"].items()}
    # sorted twice by points: the highest first
    totals = {entry["id"]: entry["grade"]["total"] for entry in results["learners"]}
    assert [totals[learner] for learner in selftest["sorted"]] == sorted(totals.values(),
                                                                        reverse=True)
    assert '<body data-lang="ko"' in result.stdout
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    assert not [line for line in console if "Uncaught" in line or "rror" in line], console
    assert _page_requests(netlog) == []
    # the same watch sees a page that does load something
    control = tmp_path / "control.html"
    control.write_text('<img src="https://example.invalid/x.png">', encoding="utf-8")
    _, netlog = _chromium(control.as_uri(), tmp_path)
    assert _page_requests(netlog) == ["https://example.invalid/x.png"]


@pytest.mark.slow
def test_the_grid_tells_objects_not_reached_from_objects_not_handed_in(checked):
    _, injected, out, _, results = checked
    page = (out / "summary.html").read_text(encoding="utf-8")
    rows = dict(re.findall(r'<tr data-learner="([^"]+)">(.*?)</tr>', page, re.S))
    looping = _learner(results, "loop", injected)["id"]
    correct = _learner(results, "correct", injected)["id"]
    assert rows[looping].count("v-fail") == 1  # SGD: its update loops forever
    assert rows[looping].count("v-unchecked") == 2  # Momentum, AdaGrad: never reached
    assert "v-unchecked" not in rows[correct] and "v-missing" not in rows[correct]
    assert rows[correct].count("v-pass") + rows[correct].count("v-variant") == 7
