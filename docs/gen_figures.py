"""Draws the documentation's experiment figures from a saved lab run:

    python docs/gen_figures.py RESULTS_DIR [--out docs/assets/figures] [--dpi 72]

For every experiment with a RESULTS_DIR/NAME/results.json (what ``dlfs run NAME --out
RESULTS_DIR`` writes), the figure is drawn again from the saved numbers (the lab's own
``plot``; nothing is trained) in every language of the site, saved as NAME-LANG.png at a modest
dpi (the committed copies stay small), and the run is described in runs.json beside them: quick
or full, data set, seed and the verdict, which the experiment pages quote. Experiments the run
lacks keep the figures already in the folder.

The committed figures under docs/assets/figures/ come from a full run (the book's settings);
``mkdocs build`` with DLFS_DOCS_RESULTS=RESULTS_DIR draws them from that run instead, into the
site only.
"""

from __future__ import annotations

import argparse
import json
import sys
import warnings
from pathlib import Path

DOCS = Path(__file__).resolve().parent
FIGURES = DOCS / "assets" / "figures"
RUNS = "runs.json"
LANGS = ("en", "ko")  # the site's languages, as in mkdocs.yml
DPI = 72


class FigureError(ValueError):
    """A results folder that cannot give the site its figures."""


def figure_name(name: str, lang: str) -> str:
    """The file of experiment ``name``'s figure in ``lang``: NAME-LANG.png (a dash, not the
    i18n plugin's .LANG. suffix, so both languages' figures are plain assets of every build)."""
    return f"{name}-{lang}.png"


def read_runs(folder: Path) -> dict:
    """runs.json of ``folder`` ({} when there is none)."""
    path = Path(folder) / RUNS
    if not path.is_file():
        return {}
    return json.loads(path.read_text(encoding="utf-8"))


def describe(record: dict) -> dict:
    """What a page says about the run a figure comes from."""
    from dlfs.experiments import quick_settings, verdict_state

    dataset = record.get("dataset") or {}
    return {"quick": quick_settings(record), "seed": record["seed"],
            "dataset": dataset.get("title"), "state": verdict_state(record["verdict"]),
            "detail": record["verdict"]["detail"]}


def draw(results: str | Path, out: str | Path = FIGURES, dpi: int = DPI) -> list[str]:
    """Draws the figures of every experiment saved under ``results`` into ``out`` and updates
    ``out``/runs.json; returns the experiments drawn. A results.json the lab will not read is
    skipped with a warning naming it; a folder with none raises FigureError."""
    from dlfs.experiments import EXPERIMENTS
    from dlfs.experiments.figures import close, figure_lang
    from dlfs.io import atomic_file, write_text
    from dlfs.records import RecordError, load_record

    results, out = Path(results), Path(out)
    if not results.is_dir():
        raise FigureError(f"{results} is not a folder; give the --out folder of a "
                          "`dlfs run` (results, results-quick)")
    found = [name for name in EXPERIMENTS if (results / name / "results.json").is_file()]
    if not found:
        raise FigureError(f"{results} holds no NAME/results.json of any experiment; run "
                          f"`dlfs run all --out {results}` first")
    out.mkdir(parents=True, exist_ok=True)
    labels = {}
    for lang in LANGS:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", RuntimeWarning)
            labels[lang] = figure_lang(lang)
        if labels[lang] != lang:
            warnings.warn(f"no font for {lang!r} figures here (for Korean: fonts-noto-cjk); "
                          f"they are labelled in {labels[lang]!r}", stacklevel=2)
    runs, drawn = read_runs(out), []
    for name in found:
        try:
            record = load_record(results / name / "results.json")
        except RecordError as error:
            warnings.warn(f"skipped: {error}", stacklevel=2)
            continue
        if not isinstance(record.get("results"), dict):
            warnings.warn(f"skipped: {results / name / 'results.json'} has no results to "
                          "draw", stacklevel=2)
            continue
        for lang in LANGS:
            fig = EXPERIMENTS[name].plot(record["results"], labels[lang])
            with atomic_file(out / figure_name(name, lang)) as handle:
                fig.savefig(handle, format="png", dpi=dpi)
            close(fig)
        runs[name] = describe(record)
        drawn.append(name)
    ordered = {name: runs[name] for name in EXPERIMENTS if name in runs}
    write_text(out / RUNS, json.dumps(ordered, ensure_ascii=False, indent=1) + "\n")
    return drawn


def main(argv=None) -> int:
    import matplotlib

    matplotlib.use("Agg")
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("results", help="a folder `dlfs run --out` wrote (results/)")
    parser.add_argument("--out", default=str(FIGURES), help="where the figures go")
    parser.add_argument("--dpi", type=int, default=DPI, help=f"PNG resolution ({DPI})")
    args = parser.parse_args(argv)
    try:
        drawn = draw(args.results, args.out, args.dpi)
    except FigureError as error:
        print(f"gen_figures: {error}", file=sys.stderr)
        return 2
    print(f"drew {len(drawn)} experiments into {args.out}: {', '.join(drawn)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
