"""The documentation's generated pages, in every language of the site, and the folder mkdocs
builds from:

    python docs/gen_pages.py OUT [--results RESULTS_DIR]

writes into OUT what ``mkdocs build`` builds (hooks.py calls ``stage``): a copy of docs/ (its
pages, the Korean versions NAME.ko.md beside the English NAME.md, and the assets) with

- experiments/NAME.LANG.md, one page per experiment: its title, the book's section, the claim
  and the about text from dlfs's catalogue (``Experiment.texts``), the figure, the verdict on
  the run the figure comes from, the book's parameters and the command that reproduces it;
  experiments/index.LANG.md lists them all;
- notebooks/NAME.LANG.md, each chapter notebook of notebooks/LANG/ as stored, outputs included
  (nbconvert's Markdown; nothing is executed), with its formulas as MathML, which browsers
  draw without any script;
- api/NAME.ko.md for every API page without a Korean version: the English reference (it is
  generated from the docstrings) under a note in Korean that says so.

The figures are docs/assets/figures/NAME-LANG.png (committed, from a full run), or, with
``results`` (mkdocs: the environment variable DLFS_DOCS_RESULTS), drawn from that saved run by
gen_figures.py into OUT only. The sentences of these pages that are not the lab's are in
docs/text/LANG.toml, read with dlfs's Catalogue.
"""

from __future__ import annotations

import argparse
import html
import json
import re
import shutil
import sys
from pathlib import Path

DOCS = Path(__file__).resolve().parent
ROOT = DOCS.parent
NOTEBOOKS = ROOT / "notebooks"
sys.path.insert(0, str(DOCS))

import gen_figures  # noqa: E402
from gen_figures import FIGURES, LANGS, figure_name  # noqa: E402

DEFAULT = LANGS[0]  # the language of the unsuffixed pages (NAME.md)
# Not pages of the site: the generators, their texts, caches.
NOT_COPIED = {"text", "hooks.py", "gen_pages.py", "gen_figures.py", "__pycache__"}
WIDGET = "application/vnd.jupyter.widget-view+json"
MATH = re.compile(r"\$\$(.+?)\$\$|(?<![\\$])\$(?!\s)(.+?)(?<![\s\\])\$", re.S)


def texts():
    """The site's own sentences: docs/text/LANG.toml as a dlfs Catalogue."""
    from dlfs.catalogue import Catalogue

    return Catalogue(DOCS / "text")


def escape_markdown(text: str) -> str:
    """A catalogue text as Markdown that reads as written: HTML escaped, and * _ [ ] kept
    literal, except inside `code`, which the catalogue uses for commands."""
    parts = re.split(r"(`[^`]*`)", text)
    for i in range(0, len(parts), 2):
        part = html.escape(parts[i], quote=False)
        parts[i] = re.sub(r"([*_\[\]])", r"\\\1", part)
    return "".join(parts)


def book_parameters(experiment) -> str:
    """Every setting of ``experiment`` as TOML lines, with the book's value: exactly the keys
    --set and --config take (dlfs.experiments.settings.settable; a table of update rules as
    one TABLE.RULE.lr line per rule)."""
    from dlfs.experiments.settings import as_toml, settable

    return "\n".join(f"{key} = {as_toml(value)}" for key, value in settable(experiment).items())


def fixed_parameters(experiment) -> str:
    """The parameters of ``experiment`` that no setting changes, as TOML lines: those the
    claim is stated for, and those no single value stands for."""
    from dlfs.experiments.settings import as_toml, settable

    keys = settable(experiment)
    return "\n".join(f"{key} = {as_toml(value)}" for key, value in experiment.params.items()
                     if key not in keys and not any(k.startswith(key + ".") for k in keys))


def run_keys() -> str:
    """The keys of a --config file that set the run itself, not an experiment, as TOML lines
    with their defaults (dlfs.cli.run.RUN_KEYS)."""
    from dlfs.cli.run import RUN_KEYS
    from dlfs.experiments.settings import as_toml

    return "\n".join(f"{key} = {as_toml(value)}" for key, value in RUN_KEYS.items())


# -- experiment pages --------------------------------------------------------------------------


def experiment_page(experiment, lang: str, runs: dict, figures: Path) -> str:
    """The page of one experiment in ``lang``; ``runs`` is runs.json of the ``figures``."""
    from dlfs import catalogue

    say = texts()
    name = experiment.name
    info = experiment.texts(experiment.parameters(quick=False))
    title = info["title"][lang]
    book = say.text("experiment.book", lang, section=experiment.section,
                    chapter=experiment.chapter)
    lines = [f"# {escape_markdown(title)}", "", f"*{book}* · `dlfs run {name}`", "",
             f'!!! quote "{say.text("experiment.claim", lang)}"', "",
             f"    {escape_markdown(info['claim'][lang])}", ""]
    figure = figure_name(name, lang)
    run = runs.get(name)
    if (figures / figure).is_file() and run is not None:
        alt = say.text("experiment.figure_alt", lang, title=title)
        lines += [f"![{escape_markdown(alt)}](../assets/figures/{figure})", ""]
        key = "experiment.run_" + ("quick" if run["quick"] else "full") + \
            ("" if run["dataset"] else "_no_data")
        lines += [say.text(key, lang, dataset=run["dataset"], seed=run["seed"]), ""]
        state = catalogue.word(run["state"], lang)
        lines += [f"**{say.text('experiment.verdict', lang)}** ({state}): "
                  f"{escape_markdown(run['detail'][lang])}", ""]
        if run["dataset"] == "Fashion-MNIST":
            lines += [say.text("experiment.fashion", lang), ""]
    else:
        lines += [say.text("experiment.no_figure", lang, name=name), ""]
    from dlfs.explore import EXAMPLES

    if name in EXAMPLES:  # the report draws this figure live
        lines += [say.text("experiment.live", lang, name=name, fragment=EXAMPLES[name]), ""]
        if experiment.explore_params:  # dlfs run --explore makes its grid finer
            lines += [say.text("grids.explore", lang, name=name), ""]
    lines += [escape_markdown(info["about"][lang]), "",
              f"## {say.text('experiment.reproduce', lang)}", "",
              "```sh", f"dlfs run {name}", f"dlfs show {name}", "```", "",
              say.text("experiment.reproduce_text", lang, name=name), ""]
    if book_parameters(experiment):
        lines += [f"### {say.text('experiment.parameters', lang)}", "",
                  say.text("experiment.parameters_text", lang), "",
                  "```toml", book_parameters(experiment), "```", ""]
    if fixed_parameters(experiment):
        lines += [say.text("experiment.fixed_text", lang), "",
                  "```toml", fixed_parameters(experiment), "```", ""]
    return "\n".join(lines)


def experiments_index(lang: str) -> str:
    """experiments/index: every experiment with its section and claim."""
    from dlfs.experiments import EXPERIMENTS

    say = texts()
    lines = [f"# {say.text('experiments.title', lang)}", "",
             say.text("experiments.intro", lang), "",
             f"| {say.text('experiments.experiment', lang)} | {say.text('experiments.book', lang)} "
             f"| {say.text('experiments.claim', lang)} |", "|---|---|---|"]
    for name, experiment in EXPERIMENTS.items():
        info = experiment.texts(experiment.parameters(quick=False))
        claim = escape_markdown(info["claim"][lang]).replace("|", "\\|").replace("\n", " ")
        lines.append(f"| [{escape_markdown(info['title'][lang])}]({name}.md) "
                     f"| {experiment.section} | {claim} |")
    lines += ["", f"## {say.text('run_keys.title', lang)}", "",
              say.text("run_keys.text", lang), "", "```toml", run_keys(), "```"]
    return "\n".join(lines) + "\n"


# -- notebook pages ----------------------------------------------------------------------------


def mathml(tex: str, block: bool) -> str:
    """``tex`` as MathML, with the characters Markdown would act on written as entities."""
    from latex2mathml.converter import convert

    markup = convert(tex.strip(), display="block" if block else "inline")
    markup = re.sub(r"[*_`\\\[\]]", lambda m: f"&#{ord(m.group())};", markup)
    # In a span: Markdown takes a line that starts with <math> for a block of its own.
    return f'<span class="dlfs-math">{markup}</span>'



def with_mathml(source: str) -> str:
    """A Markdown cell with its $…$ and $$…$$ formulas as MathML (code spans left alone)."""
    parts = re.split(r"(`[^`]*`)", source)
    for i in range(0, len(parts), 2):
        parts[i] = MATH.sub(lambda m: mathml(m.group(1) or m.group(2), m.group(1) is not None),
                            parts[i])
    return "".join(parts)


def notebook_page(path: Path, lang: str) -> tuple[str, dict[str, bytes]]:
    """The notebook at ``path`` as a page in ``lang`` and its images: ({file name: bytes})
    relative to the page's folder. Outputs are shown as stored; widgets, which need a kernel,
    become a note."""
    import nbformat
    from nbconvert import MarkdownExporter

    say = texts()
    nb = nbformat.read(path, as_version=4)
    has_outputs = False
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = with_mathml(cell.source)
        elif cell.cell_type == "code":
            kept = [out for out in cell.get("outputs", []) if WIDGET not in out.get("data", {})]
            if len(kept) < len(cell.get("outputs", [])):
                kept.append(nbformat.v4.new_output(
                    "display_data", data={"text/markdown": say.text("notebook.widget", lang)}))
            cell.outputs = kept
            has_outputs = has_outputs or bool(kept)
    stem = f"{path.stem}-{lang}"
    body, resources = MarkdownExporter().from_notebook_node(
        nb, resources={"output_files_dir": f"{stem}-files", "unique_key": stem})
    relative = path.relative_to(ROOT).as_posix() if path.is_relative_to(ROOT) else path.name
    key = "notebook.intro" if has_outputs else "notebook.intro_no_outputs"
    intro = say.text(key, lang, path=relative, file=f"{stem}.ipynb")
    title, _, rest = body.lstrip().partition("\n")
    if not title.startswith("# "):  # a notebook without a title cell: the file's name
        title, rest = f"# {path.stem}", body
    page = f"{title}\n\n{intro}\n{rest}"
    files = dict(resources.get("outputs", {}))
    files[f"{stem}.ipynb"] = path.read_bytes()
    return page, files


# -- the staged docs folder --------------------------------------------------------------------


def notebook_paths(lang: str) -> list[Path]:
    return sorted((NOTEBOOKS / lang).glob("*.ipynb"))


def generated_nav() -> dict[str, list[str]]:
    """The generated pages for the navigation, by section: "experiments" and "notebooks"."""
    from dlfs.experiments import EXPERIMENTS

    return {"experiments": ["experiments/index.md",
                            *(f"experiments/{name}.md" for name in EXPERIMENTS)],
            "notebooks": [f"notebooks/{path.stem}.md" for path in notebook_paths(DEFAULT)]}


def localized(page: str, lang: str) -> str:
    """api/optim.md in ``lang``: api/optim.md for the default language, else api/optim.ko.md."""
    return page if lang == DEFAULT else page.removesuffix(".md") + f".{lang}.md"


def _write(path: Path, data: str | bytes) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    if isinstance(data, str):
        path.write_text(data, encoding="utf-8")
    else:
        path.write_bytes(data)


def api_pages(out: Path) -> None:
    """api/NAME.LANG.md for every API page of OUT that has no version in LANG: its English
    text under the note [api] note of LANG (where that note is not empty)."""
    say = texts()
    for page in sorted((out / "api").glob("*.md")):
        if page.name.count(".") > 1:
            continue  # a translation itself
        for lang in LANGS[1:]:
            target = page.with_name(localized(page.name, lang))
            note = say.text("api.note", lang)
            if target.exists() or not note:
                continue
            title, _, rest = page.read_text(encoding="utf-8").partition("\n")
            _write(target, f"{title}\n\n!!! note \"\"\n\n    {note}\n{rest}")


def stage(out: str | Path, results: str | Path | None = None) -> Path:
    """Fills ``out`` (a new or empty folder) with the site's sources: docs/ and every
    generated page; figures drawn from ``results`` when given. Returns ``out``."""
    from dlfs.experiments import EXPERIMENTS

    out = Path(out)
    shutil.copytree(DOCS, out, dirs_exist_ok=True,
                    ignore=lambda folder, names: [n for n in names if n in NOT_COPIED])
    figures = out / FIGURES.relative_to(DOCS)
    if results is not None:
        gen_figures.draw(results, figures)
    runs = gen_figures.read_runs(figures)
    for lang in LANGS:
        suffix = f".{lang}.md"
        _write(out / "experiments" / f"index{suffix}", experiments_index(lang))
        for name, experiment in EXPERIMENTS.items():
            _write(out / "experiments" / f"{name}{suffix}",
                   experiment_page(experiment, lang, runs, figures))
        by_stem = {path.stem: path for path in notebook_paths(lang)}
        for stem in (path.stem for path in notebook_paths(DEFAULT)):
            source = by_stem.get(stem, NOTEBOOKS / DEFAULT / f"{stem}.ipynb")
            page, files = notebook_page(source, lang)
            _write(out / "notebooks" / f"{stem}{suffix}", page)
            for name, data in files.items():
                _write(out / "notebooks" / name, data)
    api_pages(out)
    return out


def main(argv=None) -> int:
    import matplotlib

    matplotlib.use("Agg")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("out", help="an empty folder for the site's sources")
    parser.add_argument("--results", default=None, help="draw the figures from this lab run")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if out.exists() and any(out.iterdir()):
        print(f"gen_pages: {out} is not empty; give a new folder", file=sys.stderr)
        return 2
    try:
        stage(out, args.results)
    except gen_figures.FigureError as error:
        print(f"gen_pages: {error}", file=sys.stderr)
        return 2
    print(json.dumps({"out": str(out), **generated_nav()}, indent=1))
    return 0


if __name__ == "__main__":
    sys.exit(main())
