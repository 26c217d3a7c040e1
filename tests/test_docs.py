"""The documentation: every code block of README.md and docs/ runs as written, and the site
(English and Korean, with its generated experiment and notebook pages) builds with --strict and
opens in headless Chromium without console errors."""

import contextlib
import functools
import http.server
import re
import shlex
import shutil
import subprocess
import sys
import threading
from pathlib import Path

import numpy as np
import pytest

ROOT = Path(__file__).resolve().parents[1]
DOCS = ROOT / "docs"
sys.path.insert(0, str(DOCS))
import gen_figures  # noqa: E402
import gen_pages  # noqa: E402

from dlfs import catalogue  # noqa: E402
from dlfs.experiments import EXPERIMENTS  # noqa: E402

CHROMIUM = shutil.which("chromium") or shutil.which("chromium-browser")
HANGUL = re.compile("[\uac00-\ud7a3]")
PAGES = [ROOT / "README.md", *sorted(DOCS.rglob("*.md"))]
FENCE = re.compile(r"^```(\w*)[^\n]*\n(.*?)^```", re.S | re.M)


def blocks(path: Path, *languages: str) -> list[str]:
    """The fenced code blocks of ``path`` written in one of ``languages``, in order."""
    return [code for lang, code in FENCE.findall(path.read_text(encoding="utf-8"))
            if lang in languages]


def page_id(path: Path) -> str:
    return path.relative_to(ROOT).as_posix()


# -- code blocks -------------------------------------------------------------------------------


def small_dataset(name="mnist", root=None, download=True, normalize=True, flatten=True,
                  one_hot_label=False, dtype=np.float32, verify=True, progress=True):
    """load_dataset's stand-in for the code blocks: 600 training and 200 test images of
    28 × 28 pixels in 10 classes (a noisy template per class), so a page's training loop
    runs in seconds and without the network; the shapes and types are load_dataset's."""
    rng = np.random.default_rng(0)
    templates = rng.integers(0, 256, (10, 28, 28))

    def split(n):
        t = rng.integers(0, 10, n)
        noise = rng.integers(-60, 61, (n, 28, 28))
        images = np.clip(templates[t] + noise, 0, 255).astype(np.uint8)
        x = images.astype(dtype) / 255 if normalize else images
        x = x.reshape(n, -1) if flatten else x.reshape(n, 1, 28, 28)
        return x, (np.eye(10, dtype=x.dtype)[t] if one_hot_label else t)

    return split(600), split(200)


@pytest.fixture
def small_data(monkeypatch):
    import dlfs.data
    import dlfs.data.datasets

    for module in (dlfs.data, dlfs.data.datasets):
        monkeypatch.setattr(module, "load_dataset", small_dataset)


def run_blocks(page: Path) -> dict:
    """Runs the python blocks of ``page`` in order in one namespace; the first that fails
    raises AssertionError naming the page, the block's number and the error."""
    namespace = {"__name__": "__docs__"}
    for number, code in enumerate(blocks(page, "python"), start=1):
        try:
            exec(compile(code, f"{page.name}, python block {number}", "exec"), namespace)
        except Exception as error:
            raise AssertionError(f"{page.name}, python block {number}: "
                                 f"{type(error).__name__}: {error}") from error
    return namespace


@pytest.mark.slow
@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p, "python")], ids=page_id)
def test_every_python_block_of_a_page_runs_in_order_in_one_namespace(page, small_data,
                                                                     monkeypatch, tmp_path):
    from threadpoolctl import threadpool_limits

    monkeypatch.chdir(tmp_path)  # a block that saves a file writes it here
    # One BLAS thread: the pages' loops take small matrices, which more threads on shared
    # cores only slow down (a README loop ran many times slower with the default here).
    with threadpool_limits(1):
        run_blocks(page)


def test_a_block_that_fails_is_named_by_its_page_and_number(tmp_path):
    page = tmp_path / "page.md"
    page.write_text("```python\nx = 1\n```\n\n```sh\nls\n```\n\n```python\nprint(x + y)\n```\n",
                    encoding="utf-8")
    with pytest.raises(AssertionError, match="page.md, python block 2: NameError: .*'y'"):
        run_blocks(page)
    page.write_text("```python\nx = 1\n```\n\n```python\ny = x + 1\n```\n", encoding="utf-8")
    assert run_blocks(page)["y"] == 2  # one namespace per page, blocks in order


def dlfs_commands(code: str) -> list[list[str]]:
    """Every `dlfs …` command of a shell block, as its arguments after `dlfs`."""
    found = []
    for line in code.replace("\\\n", " ").splitlines():
        line = line.split(" #", 1)[0] if not line.lstrip().startswith("#") else ""
        for part in re.split(r"&&|\|\||;|\|", line):
            words = shlex.split(part)
            while words and re.fullmatch(r"[A-Z_]+=\S*", words[0]):
                words.pop(0)  # LANG=ko_KR.UTF-8 dlfs --help
            if words and words[0] == "dlfs":
                found.append(words[1:])
    return found


SHELL_PAGES = [p for p in PAGES if any(dlfs_commands(c) for c in blocks(p, "sh", "bash"))]


@pytest.mark.parametrize("page", SHELL_PAGES, ids=page_id)
def test_every_dlfs_command_of_a_page_parses_and_names_real_experiments(page, capsys):
    from dlfs.cli import build_parser

    for code in blocks(page, "sh", "bash"):
        for argv in dlfs_commands(code):
            try:
                args = build_parser("en").parse_args(argv)
            except SystemExit as stop:  # --help and --version exit 0 after printing
                assert stop.code == 0, f"{page_id(page)}: dlfs {shlex.join(argv)} does not parse"
                continue
            names = getattr(args, "names", None) if args.command == "run" else \
                [args.name] if args.command == "show" else []
            unknown = set(names or []) - {*EXPERIMENTS, "all"}
            assert not unknown, f"{page_id(page)}: dlfs {shlex.join(argv)}: no experiment {unknown}"
    capsys.readouterr()


def test_the_shell_block_reader_finds_commands_behind_variables_and_after_and():
    assert dlfs_commands("LANG=ko_KR.UTF-8 dlfs --help  # help\n"
                         "dlfs run all && dlfs open\n# dlfs run nothing\n") == \
        [["--help"], ["run", "all"], ["open"]]


def english_pages() -> list[Path]:
    """The hand-written English pages (NAME.md) of docs/, the API reference aside (it is
    generated from the docstrings; hooks.py puts a Korean note on its Korean side)."""
    return [path for path in sorted(DOCS.rglob("*.md"))
            if path.name.count(".") == 1 and "api" not in path.relative_to(DOCS).parts]


def code_only(code: str) -> list[str]:
    """A block's code lines without their comments: what two languages' pages share."""
    lines = (line.split("#", 1)[0].rstrip() for line in code.splitlines())
    return [line for line in lines if line]


@pytest.mark.parametrize("page", english_pages(), ids=page_id)
def test_every_page_has_a_korean_version_with_the_same_code(page):
    korean = page.with_name(page.stem + ".ko.md")
    assert korean.is_file(), f"{page_id(page)} has no Korean version: write {korean.name}"
    assert HANGUL.search(korean.read_text(encoding="utf-8"))
    for languages in (("python",), ("sh", "bash")):
        assert [code_only(c) for c in blocks(korean, *languages)] == \
            [code_only(c) for c in blocks(page, *languages)], f"{korean.name}'s code differs"


def test_the_navigation_leaves_out_the_check_page_until_it_is_written(tmp_path):
    import hooks

    nav = [{"Home": "index.md"}, {"Check your own code": "check.md"},
           {"Experiments": "experiments/*.md"}, {"API": [{"dlfs.io": "api/io.md"}]}]
    generated = {"experiments": ["experiments/index.md", "experiments/dropout.md"]}
    assert hooks._expand(nav, tmp_path, generated) == [
        {"Home": "index.md"}, {"Experiments": generated["experiments"]},
        {"API": [{"dlfs.io": "api/io.md"}]}]
    (tmp_path / "check.md").write_text("# Check\n", encoding="utf-8")
    assert {"Check your own code": "check.md"} in hooks._expand(nav, tmp_path, generated)


# -- generated pages ---------------------------------------------------------------------------


def test_the_sites_own_texts_have_the_same_keys_in_every_language():
    texts = gen_pages.texts()
    assert set(texts.langs) == set(gen_figures.LANGS)
    keys = {lang: texts.keys(lang) for lang in texts.langs}
    assert keys["ko"] == keys["en"]
    assert all(HANGUL.search(texts.template(key, "ko")) for key in keys["ko"]
               if texts.template(key, "en") and key not in ("language",))


def test_an_experiment_page_holds_the_catalogues_claim_the_figure_and_the_command(tmp_path):
    experiment = EXPERIMENTS["optimizer-paths"]
    runs = {"optimizer-paths": {"quick": True, "seed": 0, "dataset": None, "state": "held",
                                "detail": {"en": "SGD 29 sign changes", "ko": "SGD 29번"}}}
    (tmp_path / "optimizer-paths-ko.png").write_bytes(b"\x89PNG\r\n\x1a\n")
    page = gen_pages.experiment_page(experiment, "ko", runs, tmp_path)
    texts = experiment.texts(experiment.parameters(quick=False))
    assert page.startswith(f"# {texts['title']['ko']}\n")
    assert gen_pages.escape_markdown(texts["claim"]["ko"]) in page
    assert "![" in page and "(../assets/figures/optimizer-paths-ko.png)" in page
    assert "```sh\ndlfs run optimizer-paths\n" in page
    assert catalogue.word("held", "ko") in page and "SGD 29번" in page
    assert "--quick" in page  # the figure is said to come from a quick run
    (tmp_path / "optimizer-paths-ko.png").unlink()
    assert "python docs/gen_figures.py" in gen_pages.experiment_page(experiment, "ko", runs,
                                                                     tmp_path)


def test_markdown_in_catalogue_texts_is_shown_literally_but_code_stays_code():
    assert gen_pages.escape_markdown("[100]×4 of *x* < 1, `a_b`") == \
        r"\[100\]×4 of \*x\* &lt; 1, `a_b`"


def test_formulas_become_mathml_and_code_and_prices_stay_as_written():
    text = gen_pages.with_mathml("loss $E = \\frac{1}{2}\\sum_k y_k^2$, `$HOME`, costs $5")
    assert text.startswith('loss <span class="dlfs-math"><math xmlns="http://www.w3.org/1998/Math/MathML"')
    assert "<mfrac>" in text and "`$HOME`" in text and text.endswith("costs $5")
    assert "_" not in text.split("`")[0]  # nothing Markdown would read as emphasis


@pytest.mark.slow
def test_a_notebook_page_shows_stored_outputs_images_and_a_note_for_widgets(tmp_path):
    import nbformat

    png = b"\x89PNG\r\n\x1a\nfake"
    nb = nbformat.v4.new_notebook(cells=[
        nbformat.v4.new_markdown_cell("# Chapter 9\n\nThe loss $L$."),
        nbformat.v4.new_code_cell("print('hi')", outputs=[
            nbformat.v4.new_output("stream", name="stdout", text="hi\n")]),
        nbformat.v4.new_code_cell("plot()", outputs=[nbformat.v4.new_output(
            "display_data", data={"image/png": __import__("base64").b64encode(png).decode()})]),
        nbformat.v4.new_code_cell("slider()", outputs=[nbformat.v4.new_output(
            "display_data", data={gen_pages.WIDGET: {"model_id": "1"},
                                  "text/plain": "interactive(children=…)"})]),
    ])
    path = tmp_path / "ch09.ipynb"
    nbformat.write(nb, path)
    page, files = gen_pages.notebook_page(path, "ko")
    assert page.startswith("# Chapter 9\n\n") and "<math" in page
    assert "hi" in page and "interactive(children" not in page
    assert gen_pages.texts().text("notebook.widget", "ko") in page
    images = [name for name in files if name.endswith(".png")]
    assert len(images) == 1 and files[images[0]] == png and f"]({images[0]})" in page
    assert files["ch09-ko.ipynb"] == path.read_bytes()


@pytest.mark.slow
def test_figures_are_drawn_from_a_saved_run_in_every_language(tmp_path):
    from dlfs.cli import main

    assert main(["run", "numerical-diff", "--out", str(tmp_path / "run")]) == 0
    assert gen_figures.main([str(tmp_path / "run"), "--out", str(tmp_path / "fig")]) == 0
    for lang in gen_figures.LANGS:
        assert (tmp_path / "fig" / f"numerical-diff-{lang}.png").read_bytes()[:4] == b"\x89PNG"
    runs = gen_figures.read_runs(tmp_path / "fig")
    assert list(runs) == ["numerical-diff"]
    assert runs["numerical-diff"]["state"] == "held" and not runs["numerical-diff"]["quick"]


def test_gen_figures_says_what_is_wrong_with_a_folder_without_results(tmp_path, capsys):
    assert gen_figures.main([str(tmp_path)]) == 2
    assert "holds no NAME/results.json" in capsys.readouterr().err
    assert gen_figures.main([str(tmp_path / "missing")]) == 2
    assert "is not a folder" in capsys.readouterr().err


def test_every_experiment_has_a_committed_figure_in_every_language_and_its_run():
    runs = gen_figures.read_runs(gen_figures.FIGURES)
    for name in EXPERIMENTS:
        assert name in runs, f"run python docs/gen_figures.py RESULTS_DIR for {name}"
        for lang in gen_figures.LANGS:
            path = gen_figures.FIGURES / gen_figures.figure_name(name, lang)
            assert path.read_bytes()[:4] == b"\x89PNG"
            assert path.stat().st_size < 300_000, f"{path.name}: draw it at a smaller dpi"


# -- the site ----------------------------------------------------------------------------------


def build(site: Path, **env) -> subprocess.CompletedProcess:
    import os

    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT, capture_output=True, text=True,
        env={**os.environ, "NO_MKDOCS_2_WARNING": "1", **env}, timeout=900)


@pytest.fixture(scope="module")
def site(tmp_path_factory):
    """The site, built once with --strict from a saved run of one experiment
    (DLFS_DOCS_RESULTS), on a coarser grid than the book's: its figure is drawn from that run,
    the others are the committed ones."""
    from dlfs.cli import main

    run = tmp_path_factory.mktemp("run")
    assert main(["run", "gradient-field", "--out", str(run), "--seed", "3",
                 "--set", "grid=[-2.0, 2.5, 0.5]"]) == 0
    site = tmp_path_factory.mktemp("site")
    result = build(site, DLFS_DOCS_RESULTS=str(run))
    assert result.returncode == 0, result.stderr[-3000:]
    assert "WARNING" not in result.stderr, result.stderr[-3000:]
    assert "figures drawn from" in result.stderr
    return site


def html(site: Path, page: str) -> str:
    return (site / page / "index.html").read_text(encoding="utf-8")


@pytest.mark.slow
def test_the_site_builds_strictly_with_every_page_in_english_and_korean(site):
    for prefix, lang in (("", "en"), ("ko/", "ko")):
        optim = html(site, f"{prefix}api/optim")
        assert "BookAdam" in optim and "m̂ = m / (1 − β₁ᵗ)" in optim
        assert f'<html lang="{lang}"' in optim
        for name, experiment in EXPERIMENTS.items():
            page = html(site, f"{prefix}experiments/{name}")
            title = experiment.texts(experiment.parameters(quick=False))["title"][lang]
            assert html_escape(title) in page
            assert f"dlfs run {name}" in page and f"{name}-{lang}.png" in page
        for notebook in gen_pages.notebook_paths("en"):
            assert "<pre" in html(site, f"{prefix}notebooks/{notebook.stem}")
    assert HANGUL.search(html(site, "ko/tutorial")) and not HANGUL.search(
        html(site, "tutorial").split("<article", 1)[1].split("</article>")[0])
    assert gen_pages.texts().text("api.note", "ko") in html(site, "ko/api/optim")
    # the language switch of every page leads to the same page in the other language
    assert 'hreflang="ko"' in html(site, "experiments/dropout")
    assert "/ko/experiments/dropout/" in html(site, "experiments/dropout")
    for lang in gen_figures.LANGS:
        assert (site / "assets" / "figures" / f"dropout-{lang}.png").is_file()


def html_escape(text: str) -> str:
    import html as html_module

    return html_module.escape(text, quote=False)


@pytest.mark.slow
def test_a_saved_run_given_to_the_build_draws_its_figures_and_the_rest_are_committed(site):
    from PIL import Image

    page = html(site, "experiments/gradient-field")
    assert "seed 3" in page  # the page describes the run its figure comes from
    assert "seed 3" not in html(site, "experiments/gradient-descent")
    for name in ("gradient-field", "gradient-descent"):
        built = site / "assets" / "figures" / f"{name}-en.png"
        committed = gen_figures.FIGURES / f"{name}-en.png"
        same = built.read_bytes() == committed.read_bytes()
        assert same == (name != "gradient-field")
        assert Image.open(built).size[0] > 0
    assert not [path for path in DOCS.rglob("*.md") if "experiments" in path.parts or
                "notebooks" in path.parts], "the build wrote pages into docs/"


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    failed: list[str] = []

    def log_message(self, format, *args):  # noqa: A002 (http.server's name)
        pass

    def log_request(self, code="-", size="-"):
        if str(code).isdigit() and int(code) >= 400:
            self.failed.append(f"{code} {self.path}")


@contextlib.contextmanager
def serve(folder: Path):
    handler = functools.partial(QuietHandler, directory=str(folder))
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)  # a free port
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()
        server.server_close()


def chromium(url: str, profile: Path) -> subprocess.CompletedProcess:
    if CHROMIUM is None:
        pytest.fail("chromium is missing: `make test` installs Debian's chromium package")
    return subprocess.run(
        [CHROMIUM, "--headless", "--no-sandbox", "--disable-gpu", "--disable-quic",
         "--no-first-run", "--disable-background-networking", "--disable-component-update",
         "--disable-sync", f"--user-data-dir={profile}", "--enable-logging=stderr", "--v=0",
         "--virtual-time-budget=10000", "--dump-dom", url],
        capture_output=True, text=True, timeout=120)


@pytest.mark.slow
@pytest.mark.parametrize("page, lang", [("", "en"), ("experiments/optimizer-paths/", "en"),
                                        ("ko/", "ko"), ("ko/notebooks/ch06/", "ko")])
def test_a_page_renders_in_chromium_without_console_errors(site, page, lang, tmp_path):
    QuietHandler.failed = []
    with serve(site) as address:
        result = chromium(f"{address}/{page}", tmp_path / "profile")
    dom = result.stdout
    assert f'<html lang="{lang}"' in dom, result.stderr[-2000:]
    assert '<article class="md-content__inner' in dom  # the page's text was drawn
    assert 'hreflang="en"' in dom and 'hreflang="ko"' in dom  # the language switch
    if lang == "ko":
        assert HANGUL.search(dom.split("<article", 1)[1])
    console = [line for line in result.stderr.splitlines() if "CONSOLE" in line]
    assert not [line for line in console if "Uncaught" in line or "rror" in line], console
    # Material prefetches sitemap.xml beside each <link rel="alternate"> (for its language
    # switch); the i18n plugin points those at the page itself in each language, which needs
    # no sitemap, and the switch's links lead there directly. Anything else must be there.
    missing = [request for request in QuietHandler.failed
               if not request.endswith("/sitemap.xml")]
    assert missing == [], "the page asked for files the site lacks"
