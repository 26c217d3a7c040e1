"""The report's live figures: Vega-Lite specs of the grids the lab computed.

Where the book varies a setting (the learning rate of gradient descent, each optimizer's rate on
the book's bowl), the lab computes the figure at every value of a small grid and results.json
holds them (an experiment's ``results["explore"]``). Here each grid becomes one Vega-Lite spec
with its numbers inline and its controls bound (a slider, a select), in one language: the report
embeds one per language; vega-embed draws it in the page, vl-convert draws the same spec as a
still image without a browser (``still``). JavaScript only filters the lab's numbers; nothing is
computed in the page.

``CONTROLS`` says how a control's state reads in the page's address (``report.html#optimizer-
paths:rule=adam,lr=0.3``): each key of the fragment names a signal of the spec and the values it
may take. The report's script reads and writes the fragment from it.

A record without grids (a results folder of an older dlfs) has no spec: ``spec`` returns None and
the report keeps the still figure alone."""

from __future__ import annotations

import csv
import functools
import io
import json
import math
from collections.abc import Callable

from dlfs import catalogue

WIDTH, HEIGHT = 400, 300  # one panel; the page's text column is about 1,000 px wide


def _number(value) -> float | None:
    """A coordinate as results.json holds it (a float, "inf", None for NaN) as a finite float,
    or None: Vega leaves a None out of a line."""
    return value if isinstance(value, int | float) and math.isfinite(value) else None


def _lr(value: float) -> str:
    """A learning rate as the fragment and the labels write it: 4 significant digits."""
    return f"{value:.4g}"


def _grid_valid(runs) -> bool:
    return isinstance(runs, list) and len(runs) > 0 and all(
        isinstance(run, dict) and isinstance(run.get("lr"), int | float)
        and isinstance(run.get("path"), list) for run in runs)


# -- gradient-descent (book 4.4.1) ---------------------------------------------------------------


def _gradient_descent(results: dict, lang: str) -> tuple[dict, dict] | None:
    runs = results.get("explore")
    if not _grid_valid(runs):
        return None
    rows = [{"i": i, "lr": run["lr"], "step": step, "x0": _number(point[0]),
             "x1": _number(point[1])}
            for i, run in enumerate(runs) for step, point in enumerate(run["path"])]
    default = next((i for i, run in enumerate(runs) if run["lr"] == results.get("lr")),
                   len(runs) // 2)
    label = catalogue.text("explore.lr_index", lang, count=len(runs))
    params = [{"name": "lr_index", "value": default,
               "bind": {"input": "range", "min": 0, "max": len(runs) - 1, "step": 1,
                        "name": label}}]
    chosen = {"filter": "datum.i == lr_index"}
    caption = {"mark": {"type": "text", "align": "left", "baseline": "top", "fontSize": 13},
               "transform": [chosen, {"filter": "datum.step == 0"},
                             {"calculate": "'η = ' + format(datum.lr, '.4~g')", "as": "text"}],
               "encoding": {"text": {"field": "text"}, "x": {"value": 6}, "y": {"value": 6}}}
    path = {
        "width": WIDTH, "height": HEIGHT,
        "title": catalogue.text("explore.path", lang),
        "data": {"name": "path"},
        "layer": [
            {"name": "path", "mark": {"type": "line", "point": True, "clip": True},
             "transform": [chosen],
             "encoding": {"x": {"field": "x0", "type": "quantitative", "title": "x0",
                                "scale": {"domain": [-5, 5]}},
                          "y": {"field": "x1", "type": "quantitative", "title": "x1",
                                "scale": {"domain": [-5, 5]}},
                          "order": {"field": "step"}}},
            caption,
        ]}
    distance = {
        "width": WIDTH, "height": HEIGHT,
        "title": catalogue.text("gradient-descent.distance", lang),
        "data": {"name": "path"},
        "transform": [chosen,
                      {"calculate": "max(sqrt(datum.x0 * datum.x0 + datum.x1 * datum.x1), "
                                    "1e-300)", "as": "distance"}],
        "mark": {"type": "line", "point": True},
        "encoding": {"x": {"field": "step", "type": "quantitative",
                           "title": catalogue.text("words.step", lang)},
                     "y": {"field": "distance", "type": "quantitative", "scale": {"type": "log"},
                           "title": catalogue.text("gradient-descent.distance", lang)}}}
    spec = {"params": params, "hconcat": [path, distance], "datasets": {"path": rows}}
    controls = {"lr": {"signal": "lr_index",
                       "values": [[_lr(run["lr"]), i] for i, run in enumerate(runs)]}}
    return spec, controls


# -- optimizer-paths (book 6.1.7) ----------------------------------------------------------------


def _bowl(levels=(0.5, 1, 2, 4, 7, 10)) -> list[dict]:
    """Level lines of f(x, y) = x²/20 + y²: ellipses x = √(20c)·cos t, y = √c·sin t."""
    return [{"level": c, "t": k, "x": math.sqrt(20 * c) * math.cos(2 * math.pi * k / 36),
             "y": math.sqrt(c) * math.sin(2 * math.pi * k / 36)}
            for c in levels for k in range(37)]


def _rule_key(label: str) -> str:
    """A rule's name in the fragment: its label in lower case (Adam → adam)."""
    return label.lower()


def _optimizer_paths(results: dict, lang: str) -> tuple[dict, dict] | None:
    from dlfs.experiments import learner

    grid = results.get("explore")
    if not isinstance(grid, dict) or not grid or not all(
            isinstance(entry, dict) and _grid_valid(entry.get("runs"))
            and len(entry["runs"]) == len(next(iter(grid.values()))["runs"])
            for entry in grid.values()):
        return None
    if len({_rule_key(label) for label in grid}) < len(grid):
        return None
    count = len(next(iter(grid.values()))["runs"])
    rows = [{"rule": label, "i": i, "lr": run["lr"], "step": step,
             "x": _number(point[0]), "y": _number(point[1])}
            for label, entry in grid.items() for i, run in enumerate(entry["runs"])
            for step, point in enumerate(run["path"])]
    shown = {label: catalogue.text("words.yours", lang, name=label)
             if learner.is_learner(str(entry.get("optimizer", ""))) else label
             for label, entry in grid.items()}
    labels = list(grid)
    first = "Adam" if "Adam" in grid else labels[0]
    params = [
        {"name": "rule", "value": first,
         "bind": {"input": "select", "options": labels, "labels": [shown[k] for k in labels],
                  "name": catalogue.text("explore.rule", lang)}},
        {"name": "lr_index", "value": count // 2,
         "bind": {"input": "range", "min": 0, "max": count - 1, "step": 1,
                  "name": catalogue.text("explore.lr_index", lang, count=count)}},
    ]
    chosen = {"filter": "datum.rule == rule && datum.i == lr_index"}
    x = {"field": "x", "type": "quantitative", "title": "x", "scale": {"domain": [-10, 10]}}
    y = {"field": "y", "type": "quantitative", "title": "y", "scale": {"domain": [-5, 5]}}
    spec = {
        "width": 760, "height": HEIGHT,
        "title": catalogue.text("explore.paths_title", lang),
        "params": params,
        "layer": [
            {"data": {"values": _bowl()}, "mark": {"type": "line", "color": "#9aa5b1",
                                                   "strokeWidth": 0.8, "clip": True},
             "encoding": {"x": x, "y": y, "detail": {"field": "level"},
                          "order": {"field": "t"}}},
            {"name": "path", "data": {"name": "path"}, "transform": [chosen],
             "mark": {"type": "line", "point": {"color": "#d62728"}, "color": "#d62728",
                      "clip": True},
             "encoding": {"x": x, "y": y, "order": {"field": "step"}}},
            {"data": {"values": [{"x": 0, "y": 0}]},
             "mark": {"type": "point", "shape": "cross", "color": "black"},
             "encoding": {"x": x, "y": y}},
            {"data": {"name": "path"},
             "transform": [chosen, {"filter": "datum.step == 0"},
                           {"calculate": "'η = ' + format(datum.lr, '.4~g')", "as": "text"}],
             "mark": {"type": "text", "align": "left", "baseline": "top", "fontSize": 13},
             "encoding": {"text": {"field": "text"}, "x": {"value": 6}, "y": {"value": 6}}},
        ],
        "datasets": {"path": rows}}
    controls = {"rule": {"signal": "rule", "values": [[_rule_key(k), k] for k in labels]},
                "lr": {"signal": "lr_index", "by": "rule",
                       "values": {k: [[_lr(run["lr"]), i] for i, run in
                                      enumerate(grid[k]["runs"])] for k in labels}}}
    return spec, controls


# -- activation-histograms (book 6.2.2-6.2.3) ----------------------------------------------------


def _activation_histograms(results: dict, lang: str, nodes: int = 100) -> tuple[dict, dict] | None:
    from dlfs.experiments.activation_histograms import _init_label
    from dlfs.init import weight_scale

    runs, extra = results.get("runs"), results.get("explore")
    if not isinstance(runs, dict) or not isinstance(extra, dict):
        return None
    every = {**runs, **extra}
    try:
        activations = list(dict.fromkeys(run["activation"] for run in every.values()))
        inits = sorted(dict.fromkeys(run["init"] for run in every.values()),
                       key=lambda init: weight_scale(init, nodes, nodes))
        rows = [{"activation": run["activation"], "init": str(run["init"]), "layer": k + 1,
                 "left": run["edges"][b], "right": run["edges"][b + 1], "count": count,
                 "zeros": run["zeros"][k]}
                for run in every.values() for k, counts in enumerate(run["histograms"])
                for b, count in enumerate(counts)]
    except (KeyError, TypeError, IndexError, ValueError):
        return None
    if any(f"{a}/{init}" not in every for a in activations for init in inits):
        return None
    params = [
        {"name": "activation", "value": activations[0],
         "bind": {"input": "select", "options": activations,
                  "labels": [catalogue.word(a, lang) for a in activations],
                  "name": catalogue.text("explore.activation", lang)}},
        {"name": "init", "value": str(inits[-1]),
         "bind": {"input": "select", "options": [str(init) for init in inits],
                  "labels": [_init_label(init, lang) for init in inits],
                  "name": catalogue.text("explore.init", lang)}},
    ]
    spec = {
        "params": params,
        "data": {"name": "layers"},
        "transform": [
            {"filter": "datum.activation == activation && datum.init == init"},
            # ReLU's exact zeros fall in the first bin; the still figure counts them apart
            {"calculate": "datum.activation == 'relu' && datum.left == 0 ? "
                          "datum.count - datum.zeros : datum.count", "as": "shown"}],
        "facet": {"column": {"field": "layer", "type": "ordinal",
                             "title": catalogue.text("explore.layer", lang)}},
        "spec": {"width": 110, "height": 160, "name": "layers",
                 "mark": {"type": "rect", "color": "#3b7dd8"},
                 "encoding": {"x": {"field": "left", "type": "quantitative",
                                    "title": catalogue.text("activation-histograms.axis", lang)},
                              "x2": {"field": "right"},
                              "y": {"field": "shown", "type": "quantitative",
                                    "title": catalogue.text("explore.count", lang)},
                              "y2": {"datum": 0}}},
        "resolve": {"scale": {"y": "independent"}},
        "datasets": {"layers": rows},
    }
    controls = {"activation": {"signal": "activation", "values": [[a, a] for a in activations]},
                "init": {"signal": "init", "values": [[str(init), str(init)] for init in inits]}}
    return spec, controls


# -- batch-norm (book 6.3.2) ---------------------------------------------------------------------


def _batch_norm(results: dict, lang: str) -> tuple[dict, dict] | None:
    """Its 16 scales are the book's figure already: the slider walks them."""
    scales, runs = results.get("scales"), results.get("runs")
    if not (isinstance(scales, list) and isinstance(runs, list) and len(scales) == len(runs)
            and scales and all(isinstance(run, dict) for run in runs)):
        return None
    names = {key: catalogue.text(f"batch-norm.{key}", lang)
             for key in ("with", "without")}
    # the rows hold no words (the page shares them between its languages); labels come after
    rows = [{"i": i, "scale": scale, "network": key, "epoch": epoch, "accuracy": acc}
            for i, (scale, run) in enumerate(zip(scales, runs))
            for key, field in (("with", "batchnorm"), ("without", "plain"))
            if isinstance(run.get(field), list)
            for epoch, acc in enumerate(run[field]) if isinstance(acc, int | float)]
    spec = {
        "width": 680, "height": HEIGHT,
        "params": [{"name": "scale_index", "value": 0,
                    "bind": {"input": "range", "min": 0, "max": len(scales) - 1, "step": 1,
                             "name": catalogue.text("explore.scale_index", lang,
                                                    count=len(scales))}}],
        "data": {"name": "curves"},
        "transform": [{"filter": "datum.i == scale_index"},
                      {"calculate": f"datum.network == 'with' ? {json.dumps(names['with'])} : "
                                    f"{json.dumps(names['without'])}", "as": "label"}],
        "layer": [
            {"name": "curves",
             "mark": {"type": "line", "point": True},
             "encoding": {
                 "x": {"field": "epoch", "type": "quantitative",
                       "title": catalogue.text("words.epoch", lang)},
                 "y": {"field": "accuracy", "type": "quantitative",
                       "scale": {"domain": [0, 1]},
                       "title": catalogue.text("words.training_accuracy", lang)},
                 "color": {"field": "label", "type": "nominal", "title": None,
                           "scale": {"domain": [names["with"], names["without"]]}},
                 "strokeDash": {"field": "label", "type": "nominal", "title": None,
                                "scale": {"domain": [names["with"], names["without"]]}}}},
            {"transform": [{"filter": "datum.epoch == 0"}, {"aggregate": [
                {"op": "min", "field": "scale", "as": "scale"}]},
                {"calculate": "'W ~ ' + format(datum.scale, '.3~g') + '·N(0, 1)'",
                 "as": "text"}],
             "mark": {"type": "text", "align": "left", "baseline": "top", "fontSize": 13},
             "encoding": {"text": {"field": "text"}, "x": {"value": 6}, "y": {"value": 6}}}],
        "datasets": {"curves": rows},
    }
    controls = {"scale": {"signal": "scale_index",
                          "values": [[f"{scale:.4g}", i] for i, scale in enumerate(scales)]}}
    return spec, controls


# -- hyperparameter-search (book 6.5.3) ---------------------------------------------------------


def _hyperparameter_search(results: dict, lang: str) -> tuple[dict, dict] | None:
    """The trials as points on the searched plane; hovering shows one, dragging a rectangle
    lists the best five inside it."""
    from dlfs.experiments.hyperparameter_search import _name

    trials = results.get("trials")
    if not isinstance(trials, list):
        return None
    done = [t for t in trials if isinstance(t, dict) and t.get("state") == "COMPLETE"
            and isinstance(t.get("value"), int | float) and isinstance(t.get("params"), dict)]
    names = sorted({name for t in done for name in t["params"]})
    if len(names) < 2 or not all(set(t["params"]) == set(names) for t in done):
        return None
    x_name, y_name = ("lr", "weight_decay_lambda") if {"lr", "weight_decay_lambda"} <= set(
        names) else names[:2]
    rows = [{"number": t["number"], "accuracy": t["value"], "x": t["params"][x_name],
             "y": t["params"][y_name]} for t in done]
    x_title, y_title = _name(x_name, lang), _name(y_name, lang)

    def short(name):  # a value's name in the list of the best, as the book's figure says it
        return {"lr": "lr", "weight_decay_lambda": "λ"}.get(name, name)

    accuracy = catalogue.text("words.validation_accuracy", lang)
    trial = catalogue.text("explore.trial", lang)
    points = {
        "width": WIDTH, "height": HEIGHT, "name": "trials",
        "params": [{"name": "brush", "select": {"type": "interval"}}],
        "mark": {"type": "point", "filled": True, "size": 60},
        "encoding": {
            "x": {"field": "x", "type": "quantitative", "scale": {"type": "log"},
                  "title": x_title, "axis": {"format": ".0e"}},
            "y": {"field": "y", "type": "quantitative", "scale": {"type": "log"},
                  "title": y_title, "axis": {"format": ".0e"}},
            "color": {"field": "accuracy", "type": "quantitative", "title": accuracy,
                      "scale": {"scheme": "viridis"}},
            "tooltip": [{"field": "number", "title": trial},
                        {"field": "accuracy", "title": accuracy, "format": ".3f"},
                        {"field": "x", "title": x_title, "format": ".3g"},
                        {"field": "y", "title": y_title, "format": ".3g"}]}}
    best = {
        "width": 300, "height": HEIGHT, "name": "best",
        "title": catalogue.text("explore.best_in_brush", lang),
        "transform": [{"filter": {"param": "brush"}},
                      {"window": [{"op": "row_number", "as": "rank"}],
                       "sort": [{"field": "accuracy", "order": "descending"},
                                {"field": "number"}]},
                      {"filter": "datum.rank <= 5"},
                      {"calculate": f"'#' + datum.number + '  ' + format(datum.accuracy, '.3f')"
                                    f" + '  {short(x_name)} ' + format(datum.x, '.2e') + '  "
                                    f"{short(y_name)} ' + format(datum.y, '.2e')", "as": "line"}],
        "mark": {"type": "text", "align": "left", "fontSize": 11},
        "encoding": {"y": {"field": "rank", "type": "ordinal", "title": None},
                     "x": {"value": 0}, "text": {"field": "line"}}}
    spec = {"data": {"name": "trials"}, "hconcat": [points, best],
            "datasets": {"trials": rows}}
    return spec, {}


VIEWS: dict[str, Callable[[dict, str], tuple[dict, dict] | None]] = {
    "gradient-descent": _gradient_descent,
    "optimizer-paths": _optimizer_paths,
    "activation-histograms": _activation_histograms,
    "batch-norm": _batch_norm,
    "hyperparameter-search": _hyperparameter_search,
}


# A view of each live figure that tells something, as the notebooks and docs link to it.
EXAMPLES = {
    "gradient-descent": "gradient-descent:lr=1.05",
    "optimizer-paths": "optimizer-paths:rule=sgd,lr=0.95",
    "activation-histograms": "activation-histograms:activation=relu,init=he",
    "batch-norm": "batch-norm:scale=0.01359",
    "hyperparameter-search": "hyperparameter-search:",
}


def view(record: dict, lang: str) -> tuple[dict, dict] | None:
    """(the Vega-Lite spec in ``lang``, its fragment controls) of a record whose results hold
    the grids, else None (an experiment without a live figure, or an older results.json)."""
    make = VIEWS.get(record.get("name"))
    results = record.get("results")
    if make is None or not isinstance(results, dict):
        return None
    made = make(results, lang)
    if made is None:
        return None
    spec, controls = made
    return _as_csv({"config": {"font": FONT}, **spec}), controls


def _as_csv(spec: dict) -> dict:
    """``spec`` with each of its datasets as CSV text, about half the size of JSON objects: a
    column of numbers (None left empty) is parsed back as numbers, exactly (Python's repr of a
    float is the shortest text that JavaScript reads back to the same float); any other column
    stays text."""
    formats = {}
    for name, rows in spec["datasets"].items():
        columns = list(rows[0]) if rows else []
        numeric = [c for c in columns if all(
            row[c] is None or (isinstance(row[c], int | float) and not isinstance(row[c], bool))
            for row in rows)]
        text = io.StringIO()
        writer = csv.writer(text, lineterminator="\n")
        writer.writerow(columns)
        writer.writerows([("" if row[c] is None else repr(row[c]) if c in numeric else row[c])
                          for c in columns] for row in rows)
        spec["datasets"][name] = text.getvalue()
        formats[name] = {"type": "csv", "parse": {c: "number" for c in numeric}}

    def refer(node):
        if isinstance(node, dict):
            data = node.get("data")
            if isinstance(data, dict) and data.get("name") in formats and "values" not in data:
                data["format"] = formats[data["name"]]
            for value in node.values():
                refer(value)
        elif isinstance(node, list):
            for value in node:
                refer(value)

    refer(spec)
    return spec


# The page's fonts, Korean first found: Debian's fonts-noto-cjk names it "Noto Sans CJK KR".
FONT = "Noto Sans CJK KR, NanumGothic, Apple SD Gothic Neo, Malgun Gothic, sans-serif"


@functools.lru_cache(maxsize=1)
def bundle() -> str:
    """Vega, Vega-Lite and vega-embed in one script (from vl-convert, no network), which sets
    window.vegaEmbed, window.vega and window.vegaLite."""
    import vl_convert

    return vl_convert.javascript_bundle()


@functools.lru_cache(maxsize=1)
def still_font() -> str | None:
    """The family of the installed font with Hangul (dlfs.experiments.figures finds it by file,
    as matplotlib's figures do), its folder registered with vl-convert: vl-convert reads the
    system's usual font folders itself, and a font elsewhere (~/.fonts, a folder fontconfig
    knows) reaches it so. None where no such font is installed."""
    import vl_convert

    from dlfs.experiments import figures

    family = figures.korean_font()
    if family is not None:
        for folder in dict.fromkeys(path.parent for path in figures.korean_font_files()):
            try:
                vl_convert.register_font_directory(str(folder))
            except (OSError, ValueError):  # a folder it cannot read: the others still count
                continue
    return family


def still(spec: dict, format: str = "png", scale: float = 1) -> bytes | str:  # noqa: A002
    """The spec's still image at its default controls, drawn by vl-convert (no browser): PNG
    bytes (``scale`` pixels per CSS pixel of the live view; 2 for a sharp image on a high-
    density screen), or SVG text. The spec is the live view's, word for word, but for its
    font: the installed Korean font's family alone where one is found (``still_font``), so
    Korean labels are drawn in it (never as boxes) wherever it is installed, and vl-convert
    does not look for the page's other fonts at every label (a third of the time)."""
    import vl_convert

    family = still_font()
    if family is not None:
        spec = {**spec, "config": {**(spec.get("config") or {}), "font": family}}
    if format == "svg":
        return vl_convert.vegalite_to_svg(spec)
    return vl_convert.vegalite_to_png(spec, scale=scale)
