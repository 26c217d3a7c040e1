import argparse
import inspect
import json
import os
import re
import subprocess
import sys

import numpy as np
import pytest

from dlfs.cli import main
from dlfs.cli.text import argparse_words, wanted_lang
from dlfs.data import Data
from dlfs.experiments import EXPERIMENTS


def test_list_names_every_experiment(capsys):
    assert main(["list"]) == 0
    out = capsys.readouterr().out
    for name in EXPERIMENTS:
        assert name in out


@pytest.mark.slow
def test_run_and_report_end_to_end(tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["run", "numerical-diff", "gradient-descent", "--out", str(out)]) == 0
    printed = capsys.readouterr().out
    assert "[1/2] numerical-diff" in printed and "claims held" in printed
    summary = json.loads((out / "run.json").read_text())
    assert [e["name"] for e in summary["experiments"]] == ["numerical-diff", "gradient-descent"]
    assert main(["report", "--out", str(out), "--lang", "ko"]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count("data:image/png;base64,") == 4
    assert '<body data-lang="ko">' in page


@pytest.mark.slow
def test_run_writes_each_result_folder_with_its_record_and_figures_in_png_and_svg(tmp_path):
    out = tmp_path / "results"
    assert main(["run", "numerical-diff", "--formats", "png,svg", "--out", str(out)]) == 0
    folder = out / "numerical-diff"
    record = json.loads((folder / "results.json").read_text(encoding="utf-8"))
    assert record["name"] == "numerical-diff" and record["verdict"]["held"] is True
    for lang in ("en", "ko"):
        files = record["figures"][lang]
        assert files["png"] == f"figure.{lang}.png" and files["svg"] == f"figure.{lang}.svg"
        assert files["labels"] in (lang, "en")
        assert (folder / files["png"]).read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
        assert (folder / files["svg"]).read_text(encoding="utf-8").lstrip().startswith("<?xml")
    assert sorted(p.name for p in out.iterdir()) == ["numerical-diff", "run.json"]


@pytest.mark.slow
def test_a_rerun_replaces_the_result_folder_whole(tmp_path):
    out = tmp_path / "results"
    assert main(["run", "numerical-diff", "--out", str(out)]) == 0
    (out / "numerical-diff" / "stale.txt").write_text("from an older run")
    assert main(["run", "numerical-diff", "--out", str(out)]) == 0
    assert sorted(p.name for p in (out / "numerical-diff").iterdir()) == [
        "figure.en.png", "figure.ko.png", "results.json"]  # PNG unless --formats asks for SVG
    assert sorted(p.name for p in out.iterdir()) == ["numerical-diff", "run.json"]


@pytest.mark.slow
def test_the_first_experiment_that_needs_data_names_the_data_set_everywhere(tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["run", "numerical-diff", "two-layer-net", "--quick", "--dataset",
                 "fashion-mnist", "--out", str(out)]) == 0
    record = json.loads((out / "two-layer-net" / "results.json").read_text(encoding="utf-8"))
    assert record["dataset"]["name"] == "fashion-mnist"
    assert json.loads((out / "numerical-diff" / "results.json").read_text())["dataset"] is None
    assert json.loads((out / "run.json").read_text())["dataset"] == record["dataset"]
    assert main(["report", "--out", str(out)]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert page.count(f"Fashion-MNIST — {record['dataset']['source']}") == 2  # header, section


@pytest.mark.parametrize(
    ("argv", "message"),
    [(["run", "optimiser-paths"],
      "unknown experiment 'optimiser-paths'; did you mean optimizer-paths? choose from"),
     (["run"], "name at least one experiment, or all"),
     (["report", "--out", "/nonexistent/dlfs"], "is not a folder; run experiments first"),
     (["data", "cifar"], "unknown dataset 'cifar'")],
)
def test_bad_input_gets_one_line_and_exit_status_2(argv, message, capsys):
    assert main(argv) == 2
    err = capsys.readouterr().err
    assert message in err and "Traceback" not in err
    assert len(err.strip().splitlines()) == 1


def test_an_unwritable_out_folder_is_refused(tmp_path, capsys):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["run", "numerical-diff", "--out", str(blocker / "sub")]) == 2
    assert "is not a writable folder" in capsys.readouterr().err


@pytest.mark.skipif(os.geteuid() == 0, reason="root can write anywhere")
def test_a_read_only_out_folder_is_refused(tmp_path, capsys):
    tmp_path.chmod(0o500)
    try:
        assert main(["run", "numerical-diff", "--out", str(tmp_path)]) == 2
    finally:
        tmp_path.chmod(0o700)


@pytest.mark.slow
def test_bad_option_values_exit_2_without_traceback():
    result = subprocess.run([sys.executable, "-m", "dlfs.cli", "run", "all", "--seed", "-3"],
                            capture_output=True, text=True)
    assert result.returncode == 2
    assert "--seed" in result.stderr and "Traceback" not in result.stderr


def test_data_command_says_where_fashion_mnist_is(capsys):
    assert main(["data", "fashion-mnist"]) == 0
    assert "Fashion-MNIST: /usr/share/datasets/fashion-mnist (system)" in capsys.readouterr().out


def test_data_command_says_where_a_missing_set_would_go(tmp_path, monkeypatch, capsys):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert main(["data", "mnist", "--root", str(tmp_path / "r")]) == 0
    assert f"MNIST: not found; a download would go to {tmp_path / 'r' / 'mnist'}" in \
        capsys.readouterr().out


# -- quick runs: their own folder, never over a full result, judged honestly ---------------------


@pytest.fixture
def quick_breaks_claims(monkeypatch):
    """Quick settings under which two cheap claims do not hold: numerical-diff's h = 1e-50
    rounds x + h back to x (book 4.3.1), and gradient-descent's 5 steps stop short of the
    minimum; gradient-descent is judged in quick mode anyway, numerical-diff is not."""
    monkeypatch.setattr(EXPERIMENTS["numerical-diff"], "quick_params", {"h": 1e-50})
    monkeypatch.setattr(EXPERIMENTS["gradient-descent"], "quick_params", {"compare_steps": 5})
    monkeypatch.setattr(EXPERIMENTS["gradient-descent"], "judged_when_quick", True)


def _record(folder, name):
    return json.loads((folder / name / "results.json").read_text(encoding="utf-8"))


@pytest.mark.slow
def test_a_quick_run_goes_to_results_quick_and_a_full_run_to_results(tmp_path, monkeypatch,
                                                                        capsys):
    monkeypatch.chdir(tmp_path)
    assert main(["run", "numerical-diff", "--quick"]) == 0
    assert "results in results-quick" in capsys.readouterr().out
    assert not (tmp_path / "results").exists()
    assert main(["run", "numerical-diff"]) == 0
    assert "results in results\n" in capsys.readouterr().out
    assert _record(tmp_path / "results-quick", "numerical-diff")["quick"] is True
    assert _record(tmp_path / "results", "numerical-diff")["quick"] is False


@pytest.mark.slow
def test_a_quick_run_over_a_full_result_is_refused_unless_forced(tmp_path, capsys,
                                                                   quick_breaks_claims):
    out = tmp_path / "mine"
    assert main(["run", "gradient-descent", "--out", str(out)]) == 0
    full = (out / "gradient-descent" / "results.json").read_bytes()
    capsys.readouterr()
    assert main(["run", "gradient-descent", "--quick", "--out", str(out)]) == 2
    err = capsys.readouterr().err
    assert len(err.strip().splitlines()) == 1
    assert f"--out {out} holds full-size results (gradient-descent)" in err and "--force" in err
    assert (out / "gradient-descent" / "results.json").read_bytes() == full
    assert main(["run", "gradient-descent", "--quick", "--force", "--out", str(out)]) == 0
    assert _record(out, "gradient-descent")["quick"] is True


@pytest.mark.slow
def test_a_full_run_replaces_a_quick_result(tmp_path, quick_breaks_claims):
    out = tmp_path / "mine"
    assert main(["run", "gradient-descent", "--quick", "--out", str(out)]) == 0
    assert main(["run", "gradient-descent", "--out", str(out)]) == 0
    assert _record(out, "gradient-descent")["quick"] is False


@pytest.mark.slow
def test_a_quick_run_that_is_the_full_run_may_replace_a_full_result(tmp_path):
    out = tmp_path / "mine"
    assert EXPERIMENTS["numerical-diff"].quick_params == {}
    assert main(["run", "numerical-diff", "--out", str(out)]) == 0
    assert main(["run", "numerical-diff", "--quick", "--out", str(out)]) == 0
    assert _record(out, "numerical-diff")["quick_settings"] is False


@pytest.mark.slow
def test_run_json_counts_held_not_held_and_not_judged(tmp_path, capsys, quick_breaks_claims):
    out = tmp_path / "mine"
    names = ["numerical-diff", "gradient-descent", "gradient-field"]
    assert main(["run", *names, "--quick", "--out", str(out)]) == 0
    summary = json.loads((out / "run.json").read_text())
    assert summary["verdicts"] == {"held": 1, "not_held": 1, "not_judged": 1}
    assert [(e["name"], e["verdict"], e["held"], e["judged"]) for e in summary["experiments"]] \
        == [("numerical-diff", "not_judged", False, False),
            ("gradient-descent", "not_held", False, True),
            ("gradient-field", "held", True, True)]
    printed = capsys.readouterr().out.splitlines()
    # Each experiment's lines, in the order they finished (the lab prints each as it ends).
    first = {name: next(i for i, line in enumerate(printed) if line.startswith("[")
                        and f"] {name}: " in line) for name in names}
    diff, descent, field = (first[name] for name in names)
    assert " s, not judged in quick mode: central-difference" in printed[diff + 1]
    assert printed[diff + 2] == ("    quick settings are too small to judge this claim; run "
                                 "without --quick")
    assert "claim not held (quick settings): distance" in printed[descent + 1]
    assert "claim held: smallest cosine" in printed[field + 1]  # the book's: no quick badge
    assert printed[-1].endswith("1 claim held, 1 not, 1 not judged in quick mode; results in "
                                f"{out}")


# -- every line in Korean ------------------------------------------------------------------------

HANGUL = re.compile("[\uac00-\ud7a3]")
ENGLISH_SENTENCE = re.compile(r"\b[A-Za-z]{2,}(?: [A-Za-z]{2,}){2,}\b")


def _synthetic_data(source):
    """A small data set standing in for Fashion-MNIST, as if MNIST had been asked for."""
    rng = np.random.default_rng(0)
    x, t = rng.random((150, 12)).astype(np.float32), rng.integers(0, 3, 150)
    return Data("fashion-mnist", "Fashion-MNIST", source, x[:120], t[:120], x[120:], t[120:],
                substitute_for="MNIST")


def _prose(line):
    """A printed line without its paths and the commands it suggests, (dlfs run all)."""
    line = re.sub(r"\(dlfs [^)]*\)", "", line)
    return " ".join(word for word in line.split() if "/" not in word)


def _not_korean(lines):
    return [line for line in lines if _prose(line) and (
        not HANGUL.search(line) or ENGLISH_SENTENCE.search(_prose(line)))]


def _joined(lines):
    """dlfs show's lines, each wrapped text (indented) joined to its heading."""
    joined = []
    for line in lines:
        if line.startswith("  ") and joined:
            joined[-1] += " " + line.strip()
        else:
            joined.append(line)
    return joined


@pytest.mark.slow
def test_every_line_the_cli_prints_in_korean_is_korean(tmp_path, monkeypatch, capsys,
                                                       quick_breaks_claims):
    import dlfs.data

    monkeypatch.chdir(tmp_path)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    source = f"{tmp_path / 'cache' / 'dlfs' / 'fashion-mnist'} (user cache)"
    monkeypatch.setattr(dlfs.data, "load_lab_data", lambda *a, **k: _synthetic_data(source))
    monkeypatch.setattr("webbrowser.open", lambda url: False)  # no browser here
    out, full, blocker = tmp_path / "quick", tmp_path / "full", tmp_path / "file"
    blocker.write_text("not a folder")
    assert main(["run", "gradient-descent", "--out", str(full)]) == 0
    capsys.readouterr()
    commands = [
        ["list"], ["data"],
        ["run", "numerical-diff", "gradient-descent", "weight-init-compare", "--quick",
         "--workers", "1", "--out", str(out)],
        ["show", "weight-init-compare", "--out", str(out)], ["report", "--out", str(out)],
        ["open", "--out", str(out)],
        ["search", "--quick", "--n-trials", "2", "--epochs", "1", "--out", str(tmp_path / "s")],
        # errors
        ["run", "optimiser-paths"], ["run"], ["run", "gradient-descent", "--quick", "--out",
                                             str(full)],
        ["run", "numerical-diff", "--out", str(blocker / "sub")], ["show", "overfit"],
        ["show", "all"], ["report", "--out", str(tmp_path / "nowhere")],
        ["report", "--out", str(tmp_path)], ["data", "cifar"],
        ["search", "--storage", "mysql://x", "--out", str(tmp_path / "s")]]
    printed = []
    for argv in commands:
        main([*argv, "--lang", "ko"])
        captured = capsys.readouterr()
        lines = (captured.out + captured.err).splitlines()
        if argv[0] == "show" and len(lines) > 2:  # parameter rows are names and values
            lines = _joined(lines[:lines.index("매개변수:") + 1]) + lines[-1:]
        assert lines, argv
        printed += lines
    assert _not_korean(printed) == [], "\n".join(_not_korean(printed))
    joined = "\n".join(printed)  # the paths less travelled were all taken:
    for words in ("데이터셋은 여기서 쓸 수 없어", "(사용자 캐시)", "판정하기에 너무 작습니다",
                  "빠른 모드라 판정하지 않음", "--force를 붙이십시오",
                  "웹 브라우저를 열 수 없습니다", "최고 검증 정확도", "쓸 수 있는 폴더가 아닙니다",
                  "보고서:", "결과 파일:"):
        assert words in joined, words


def test_argparse_errors_in_korean_are_korean(capsys):
    with pytest.raises(SystemExit) as exit_:
        main(["run", "all", "--seed", "-3", "--lang", "ko"])
    assert exit_.value.code == 2
    err = capsys.readouterr().err
    assert err.startswith("사용법: dlfs run") and ENGLISH_SENTENCE.findall(err) == []
    assert err.splitlines()[-1] == ("dlfs run: 오류: 인자 --seed: 0 이상의 수가 필요합니다 "
                                    "(받은 값: -3)")


# -- help in Korean ------------------------------------------------------------------------------

COMMANDS = ["list", "run", "show", "report", "open", "search", "data", "check"]


def _help(argv, capsys):
    with pytest.raises(SystemExit) as exit_:
        main(argv)
    assert exit_.value.code == 0
    return capsys.readouterr().out


@pytest.mark.parametrize("command", [[], *([name] for name in COMMANDS)],
                         ids=["dlfs", *COMMANDS])
def test_lang_ko_help_is_korean_for_dlfs_and_every_command(command, capsys):
    shown = _help([*command, "--lang", "ko", "--help"], capsys)
    assert shown.startswith("사용법: dlfs") and "\n옵션:\n" in shown
    assert "이 도움말을 보여 주고 끝냅니다" in shown
    assert ENGLISH_SENTENCE.findall(shown) == []
    english = _help([*command, "--lang", "en", "--help"], capsys)
    assert english.startswith("usage: dlfs") and "\noptions:\n" in english
    # The same options, in the same order, in both languages.
    assert re.findall(r"^  (-[-\w]+)", shown, re.M) == re.findall(r"^  (-[-\w]+)", english,
                                                                     re.M)


def test_lang_ko_anywhere_in_the_command_line_makes_the_help_korean(capsys):
    assert _help(["--lang", "ko", "run", "--help"], capsys).startswith("사용법: dlfs run")
    assert _help(["run", "--help", "--lang=ko"], capsys).startswith("사용법: dlfs run")


@pytest.mark.slow
def test_a_korean_locale_makes_dlfs_help_korean_and_lc_all_decides_first():
    def help_in(**env):
        result = subprocess.run([sys.executable, "-m", "dlfs", "--help"], capture_output=True,
                                text=True, timeout=60, env={**os.environ, **env})
        assert result.returncode == 0, result.stderr
        return result.stdout

    assert help_in(LANG="ko_KR.UTF-8").startswith("사용법: dlfs")
    assert help_in(LANG="ko_KR.UTF-8", LC_ALL="C.UTF-8").startswith("usage: dlfs")


@pytest.mark.parametrize(("argv", "environ", "lang"), [
    ([], {}, "en"), ([], {"LANG": "ko_KR.UTF-8"}, "ko"), ([], {"LANG": "ko"}, "ko"),
    ([], {"LC_MESSAGES": "ko_KR.UTF-8", "LANG": "en_GB.UTF-8"}, "ko"),
    ([], {"LC_ALL": "C", "LANG": "ko_KR.UTF-8"}, "en"), ([], {"LANG": "fr_FR.UTF-8"}, "en"),
    (["run", "--lang", "ko"], {}, "ko"), (["--lang=ko", "list"], {}, "ko"),
    (["--lang", "en", "run", "--lang", "ko"], {"LANG": "en_US"}, "ko"),
    (["--lang", "en"], {"LANG": "ko_KR.UTF-8"}, "en"), (["--lang", "fr"], {"LANG": "ko"}, "ko"),
    (["--", "--lang", "ko"], {}, "en")])
def test_the_command_speaks_the_last_lang_else_the_locales_language(argv, environ, lang):
    assert wanted_lang(argv, environ) == lang


def test_every_argparse_entry_of_the_catalogue_is_a_message_argparse_translates():
    source = inspect.getsource(argparse)
    for english in argparse_words("en"):
        assert f"_({english!r})" in source, english
    assert set(argparse_words("ko")) == set(argparse_words("en"))


def test_argparse_is_left_as_it_was_after_a_korean_command(capsys):
    before = argparse._
    _help(["--lang", "ko", "--help"], capsys)
    assert argparse._ is before
    assert argparse.ArgumentParser(prog="x").format_usage() == "usage: x [-h]\n"


@pytest.mark.slow
def test_one_experiment_is_counted_in_the_singular_and_two_in_the_plural(tmp_path, capsys):
    out = tmp_path / "results"
    assert main(["run", "numerical-diff", "--out", str(out), "--workers", "1"]) == 0
    printed = capsys.readouterr().out
    assert "running 1 experiment: 1 job over 1 process," in printed
    assert "1 experiment in " in printed and "; 1 claim held, 0 not;" in printed
    assert "experiments" not in printed and "claims" not in printed
    assert main(["report", "--out", str(out)]) == 0
    assert "report of 1 experiment:" in capsys.readouterr().out
    assert main(["run", "numerical-diff", "gradient-field", "--out", str(out),
                 "--workers", "2"]) == 0
    printed = capsys.readouterr().out
    assert "running 2 experiments: 2 jobs over 2 processes" in printed
    assert "2 experiments in " in printed and "; 2 claims held, 0 not;" in printed


@pytest.mark.parametrize("command", ["run", "show"])
def test_a_mistyped_experiment_name_gets_the_nearest_one_in_both_languages(command, capsys):
    assert main([command, "optimizer-compre"]) == 2
    err = capsys.readouterr().err.strip()
    assert "unknown experiment 'optimizer-compre'; did you mean optimizer-compare? " in err
    assert len(err.splitlines()) == 1
    assert main([command, "optimizer-compre", "--lang", "ko"]) == 2
    assert "혹시 optimizer-compare를 찾으시나요?" in capsys.readouterr().err
    assert main([command, "zzzz"]) == 2  # nothing near: no guess
    assert "did you mean" not in capsys.readouterr().err


@pytest.mark.parametrize("lang", ["en", "ko"])
def test_the_help_and_the_report_name_the_labs_chapters_alike(lang, capsys):
    from dlfs import catalogue

    shown = " ".join(_help(["--lang", lang, "--help"], capsys).split())
    title = catalogue.text("report.title", lang)  # the report's <h1>
    assert ("chapters 4 and 6" if lang == "en" else "4장·6장") in title
    assert title in shown
    assert "4-6: the experiment lab" not in shown and "4-6장: 실험실" not in shown
