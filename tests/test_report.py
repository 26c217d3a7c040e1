"""The report in a real browser: Debian's Chromium, headless, reading the page's self-test."""

import html
import json
import re
import shutil
import subprocess

import pytest

from dlfs import catalogue
from dlfs.catalogue import LANGS
from dlfs.cli import main

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


def test_report_opens_in_korean_with_lang_query(report, tmp_path):
    result = _chromium(report.as_uri() + "?lang=ko", tmp_path)
    assert '<body data-lang="ko"' in result.stdout


def test_report_takes_its_words_from_the_catalogue_with_one_button_per_language(report):
    page = report.read_text(encoding="utf-8")
    for lang in LANGS:
        assert (f'<button type="button" data-set-lang="{lang}">'
                f'{catalogue.text("language", lang)}</button>') in page
        for key in ("report.title", "report.claim", "report.verdict", "words.held"):
            assert f'<span lang="{lang}">{html.escape(catalogue.text(key, lang))}</span>' in page
        assert f'body[data-lang="{lang}"] [lang]:not([lang="{lang}"])' in page
    assert '<span lang="ko">4장</span>' in page  # numerical-diff is in chapter 4
    shown = re.sub(r"<style>.*?</style>|<script>.*?</script>|<details>.*?</details>", "", page,
                   flags=re.S)
    assert "{" not in shown and "}" not in shown
