"""The report: in a real browser (Debian's Chromium, headless, reading the page's self-test), its
verdicts held / not held / not judged, its quick-settings marks, and its words in every language."""

import html
import json
import re
import shutil
import subprocess
from pathlib import Path

import pytest

from dlfs import catalogue
from dlfs.catalogue import LANGS
from dlfs.cli import main
from dlfs.data import describe_location
from dlfs.data.locations import Location, Place
from dlfs.experiments import EXPERIMENTS
from dlfs.report import build_report, source_in

HANGUL = re.compile("[\uac00-\ud7a3]")
CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    out = tmp_path_factory.mktemp("lab")
    assert main(["run", "numerical-diff", "gradient-field", "optimizer-paths", "--out",
                 str(out)]) == 0
    assert main(["report", "--out", str(out)]) == 0
    return out / "report.html"


def _chromium(url, tmp_path):
    if CHROMIUM is None:
        pytest.fail("chromium is missing: `make test` installs Debian's chromium package")
    result = subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={tmp_path / 'profile'}", "--enable-logging=stderr",
         "--v=0", "--virtual-time-budget=10000", "--dump-dom", url],
        capture_output=True, text=True, timeout=120)
    return result


@pytest.mark.slow
def test_report_opens_in_chromium_with_every_figure_and_a_working_language_switch(report,
                                                                                    tmp_path):
    result = _chromium(report.as_uri() + "#selftest", tmp_path)
    found = re.search(r'<pre id="selftest-result">(.*?)</pre>', result.stdout, re.S)
    assert found, result.stderr[-2000:]
    selftest = json.loads(found.group(1).replace("&quot;", '"'))
    assert selftest["images"] == 6  # 3 experiments × 2 languages
    assert selftest["decoded"] == selftest["images"]
    assert set(selftest["switch"]) == set(LANGS)
    for lang in LANGS:
        assert selftest["switch"][lang]["shown"] > 0
        assert selftest["switch"][lang]["hidden_other"] is True
        assert selftest["switch"][lang]["html_lang"] == lang
    assert selftest["errors"] == []
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    assert not [line for line in console if "Uncaught" in line or "rror" in line], console


@pytest.mark.slow
def test_report_opens_in_korean_with_lang_query(report, tmp_path):
    result = _chromium(report.as_uri() + "?lang=ko", tmp_path)
    assert '<body data-lang="ko"' in result.stdout


@pytest.mark.slow
def test_report_takes_its_words_from_the_catalogue_with_one_button_per_language(report):
    page = report.read_text(encoding="utf-8")
    for lang in LANGS:
        assert (f'<button type="button" data-set-lang="{lang}">'
                f'{catalogue.text("language", lang)}</button>') in page
        for key in ("report.title", "report.claim", "report.verdict", "words.held"):
            assert f'<span lang="{lang}">{html.escape(catalogue.text(key, lang))}</span>' in page
        assert f'body[data-lang="{lang}"] [lang]:not([lang="{lang}"])' in page
    assert '<span lang="ko">4장</span>' in page  # numerical-diff is in chapter 4
    shown = re.sub(r"<style>.*?</style>|<script[^>]*>.*?</script>|<details>.*?</details>", "", page,
                   flags=re.S)
    assert "{" not in shown and "}" not in shown


# -- verdicts: held, not held, not judged; quick results marked ----------------------------------


@pytest.fixture(scope="module")
def quick_page(tmp_path_factory):
    """The report of a quick run in which numerical-diff's quick h = 1e-50 rounds x + h back to
    x (not judged: quick settings), gradient-descent's 5 quick steps stop short of the minimum
    (not held: judged in quick mode anyway) and gradient-field runs the book's settings (held)."""
    out = tmp_path_factory.mktemp("quick")
    with pytest.MonkeyPatch.context() as patch:
        patch.setattr(EXPERIMENTS["numerical-diff"], "quick_params", {"h": 1e-50})
        patch.setattr(EXPERIMENTS["gradient-descent"], "quick_params", {"compare_steps": 5})
        patch.setattr(EXPERIMENTS["gradient-descent"], "judged_when_quick", True)
        assert main(["run", "numerical-diff", "gradient-descent", "gradient-field", "--quick",
                     "--out", str(out)]) == 0
    page, count = build_report(out)
    assert count == 3
    return page


def _section(page, name):
    return re.search(rf'<section id="{name}">(.*?)</section>', page, re.S).group(1)


def _spans(key, **fields):
    """The catalogue's ``key`` as the page shows it: one span per language."""
    return "".join(f'<span lang="{lang}">{html.escape(catalogue.text(key, lang, **fields))}'
                   "</span>" for lang in LANGS)


@pytest.mark.slow
def test_a_claim_not_judged_is_a_grey_badge_with_its_numbers_and_the_reason(quick_page):
    section = _section(quick_page, "numerical-diff")
    assert f'<span class="badge not-judged">{_spans("words.not_judged")}</span>' in section
    assert "badge not-held" not in section and "badge held" not in section
    assert _spans("report.not_judged_why") in section
    assert "largest error against the exact derivative 3.0e-01" in section
    assert re.search(r'<a href="#numerical-diff">.*?</a> –</li>', quick_page)


@pytest.mark.slow
def test_a_claim_judged_in_quick_mode_that_fails_is_red_and_marked_quick(quick_page):
    section = _section(quick_page, "gradient-descent")
    assert f'<span class="badge not-held">{_spans("words.not_held")}</span>' in section
    assert _spans("report.not_judged_why") not in section
    assert re.search(r'<a href="#gradient-descent">.*?</a> ✘</li>', quick_page)


@pytest.mark.slow
def test_quick_results_wear_a_quick_settings_badge_and_the_page_a_banner(quick_page):
    badge = f'<span class="badge quick">{_spans("words.quick")}</span>'
    assert badge in _section(quick_page, "numerical-diff")
    assert badge in _section(quick_page, "gradient-descent")
    assert badge not in _section(quick_page, "gradient-field")  # the book's settings
    assert f'<p class="banner">{_spans("report.quick_banner")}</p>' in quick_page


@pytest.mark.slow
def test_the_header_counts_claims_held_among_those_judged_and_the_ones_not_judged(quick_page):
    assert (f'{_spans("report.summary")}: 1 / 2 · {_spans("report.not_judged_count", count=1)}'
            in quick_page)
    assert "1 not judged in quick mode" in quick_page and "빠른 모드라 판정하지 않음 1개" in \
        quick_page


@pytest.mark.slow
def test_a_page_of_full_results_has_no_quick_badge_no_banner_and_counts_all(report):
    page = report.read_text(encoding="utf-8")
    assert "badge quick" not in page and 'class="banner"' not in page
    assert "badge not-judged" not in page
    assert f'{_spans("report.summary")}: 3 / 3</p>' in page


# -- where the data came from, in every language -------------------------------------------------


@pytest.mark.parametrize("label", ["root", "$DLFS_DATA", "user cache", "system"])
def test_a_data_source_reads_in_every_language_and_unchanged_in_english(label):
    location = Location(Place(label, Path("/data/fashion-mnist")), {})
    source = describe_location("fashion-mnist", location)
    assert source_in(source, "en") == source
    korean = source_in(source, "ko")
    assert korean.startswith("/data/fashion-mnist (") and HANGUL.search(korean)
    assert ("데비안 패키지 dataset-fashion-mnist" in korean) == (label == "system")


def test_a_data_source_of_another_form_is_shown_as_it_is():
    assert source_in("tests", "ko") == "tests"


def test_the_report_names_the_data_source_in_each_language(tmp_path):
    folder = tmp_path / "two-layer-net"
    folder.mkdir()
    record = {"name": "two-layer-net", "chapter": 4, "section": "4.5", "seed": 0,
              "quick": False, "wall_time_s": 1.0, "parameters": {}, "figures": {},
              "dataset": {"name": "fashion-mnist", "title": "Fashion-MNIST",
                          "source": "/usr/share/datasets/fashion-mnist (system)"},
              "verdict": {"held": True, "detail": {lang: "numbers" for lang in LANGS}},
              **{part: {lang: part for lang in LANGS} for part in ("title", "claim", "about")}}
    (folder / "results.json").write_text(json.dumps(record))
    page, _ = build_report(tmp_path)
    english = "Fashion-MNIST — /usr/share/datasets/fashion-mnist (system)"
    korean = "Fashion-MNIST — /usr/share/datasets/fashion-mnist (시스템)"
    both = f'<span lang="en">{english}</span><span lang="ko">{korean}</span>'
    assert page.count(both) == 2  # the header and the section
    assert "badge held" in page  # a verdict saved without "judged" was judged
    # a record written before several seeds reads as one run of its seed: 1 of 1, no seed lines
    assert "held in 1 of 1 seed" in page and 'class="seeds"' not in page


@pytest.mark.slow
def test_the_report_names_the_settings_a_run_changed(tmp_path):
    from dlfs.cli import main

    out = tmp_path / "results"
    assert main(["run", "numerical-diff", "--set", "h=0.001", "--out", str(out),
                 "--lang", "en"]) == 0
    assert main(["report", "--out", str(out), "--lang", "en"]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    assert "changed from the book&#x27;s settings: h = 0.001" in page
    assert "<strong>0.001</strong>" in page


@pytest.mark.slow
def test_the_korean_view_says_its_figures_are_in_english_when_no_korean_font_was_found(
        tmp_path, monkeypatch):
    from dlfs.experiments import figures

    monkeypatch.setattr(figures, "korean_font", lambda: None)  # a machine without CJK fonts
    out = tmp_path / "lab"
    assert main(["run", "numerical-diff", "--out", str(out)]) == 0
    assert main(["report", "--out", str(out)]) == 0
    page = (out / "report.html").read_text(encoding="utf-8")
    note = html.escape(catalogue.text("bounds.figure_labels_fallback", "ko", labels="English"))
    assert f'<p lang="ko" class="meta">{note}</p>' in page
    assert "sudo apt-get install fonts-noto-cjk" in note and "영어" in note
    assert "figure_labels_fallback" not in page and catalogue.text(
        "bounds.figure_labels_fallback", "en", labels="English") not in page
