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

weight-decay's and dropout's grids (λ, the dropout ratio) are trainings of the lab; optimizer-
compare's and weight-init-compare's views take no grid but every seed's run of the record (its
``runs``): curves switched on and off by checkboxes, the seeds as a band or one at a time.

A record without grids (a results folder of an older dlfs) has no spec: ``spec`` returns None and
the report keeps the still figure alone."""

from __future__ import annotations

import csv
import functools
import io
import json
import math
import re
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


# -- weight-decay and dropout (book 6.4.2-6.4.3) ------------------------------------------------

# Each remedy's grid: its name in the fragment, its catalogue words (the slider, the value as a
# caption, the gap panel's axis).
REMEDY_KEYS = {"weight_decay_lambda": "lambda", "dropout_ratio": "ratio"}


def _js_text(key: str, lang: str, value: str, **fields) -> str:
    """A Vega expression of the catalogue's sentence ``key`` with ``{value}`` filled in by the
    expression ``value``, wherever the language puts it."""
    before, _, after = catalogue.text(key, lang, value="\0", **fields).partition("\0")
    return (f"{json.dumps(before, ensure_ascii=False)} + {value} + "
            f"{json.dumps(after, ensure_ascii=False)}")


def _remedy_grid(results: dict, lang: str) -> tuple[dict, dict] | None:
    """A slider over λ (or the dropout ratio): train and test accuracy per epoch at the chosen
    value, the train − test gap said under it, and the gap at every value of the grid beside
    it, the chosen one marked."""
    grid = results.get("explore")
    if not isinstance(grid, dict) or grid.get("argument") not in REMEDY_KEYS:
        return None
    runs = grid.get("runs")
    if not (isinstance(runs, list) and runs and all(
            isinstance(run, dict) and isinstance(run.get("value"), int | float)
            and isinstance(run.get("gap"), int | float) and isinstance(run.get("train_acc"), list)
            and isinstance(run.get("test_acc"), list) for run in runs)):
        return None
    key = REMEDY_KEYS[grid["argument"]]
    rows = [{"i": i, "value": run["value"], "set": which, "epoch": epoch,
             "accuracy": _number(acc)}
            for i, run in enumerate(runs) for which in ("train", "test")
            for epoch, acc in enumerate(run[f"{which}_acc"])]
    gaps = [{"i": i, "value": run["value"], "gap": _number(run["gap"])}
            for i, run in enumerate(runs)]
    book = (results.get("regulariser") or {}).get(grid["argument"])
    default = next((i for i, run in enumerate(runs) if run["value"] == book), 0)
    names = {which: catalogue.word(which, lang) for which in ("train", "test")}
    chosen = {"filter": "datum.i == value_index"}
    shown = _js_text(f"live.{key}_is", lang, "format(datum.value, '.4~g')")
    gap_line = _js_text("live.gap_is", lang, "format(datum.gap, '.3f')",
                        last=grid.get("last", 10))
    curves = {
        "width": 460, "height": HEIGHT,
        "title": catalogue.text("live.curves_title", lang),
        "layer": [
            {"name": "curves", "data": {"name": "curves"},
             "transform": [chosen, {"calculate": f"datum.set == 'train' ? "
                                                 f"{json.dumps(names['train'])} : "
                                                 f"{json.dumps(names['test'])}", "as": "label"}],
             "mark": {"type": "line"},
             "encoding": {
                 "x": {"field": "epoch", "type": "quantitative",
                       "title": catalogue.word("epochs", lang)},
                 "y": {"field": "accuracy", "type": "quantitative", "scale": {"domain": [0, 1]},
                       "title": catalogue.word("accuracy", lang)},
                 "color": {"field": "label", "type": "nominal", "title": None,
                           "scale": {"domain": [names["train"], names["test"]]}},
                 "strokeDash": {"field": "label", "type": "nominal", "title": None,
                                "scale": {"domain": [names["train"], names["test"]]}}}},
            {"data": {"name": "gaps"},
             "transform": [chosen, {"calculate": f"{shown} + ' · ' + {gap_line}", "as": "text"}],
             "mark": {"type": "text", "align": "left", "baseline": "top", "fontSize": 13},
             "encoding": {"text": {"field": "text"}, "x": {"value": 6}, "y": {"value": 6}}}]}
    axis = catalogue.text(f"live.{key}", lang)
    x = {"field": "value", "type": "ordinal", "title": axis, "axis": {"labelAngle": 0}}
    y = {"field": "gap", "type": "quantitative", "title": catalogue.text("live.gap", lang)}
    panel = {
        "width": 220, "height": HEIGHT, "data": {"name": "gaps"},
        "title": catalogue.text("live.gaps_title", lang),
        "layer": [
            {"name": "gaps", "mark": {"type": "line", "point": True, "color": "#8c959f"},
             "encoding": {"x": x, "y": y}},
            {"name": "chosen", "transform": [chosen],
             "mark": {"type": "point", "filled": True, "size": 140, "color": "#d62728"},
             "encoding": {"x": x, "y": y}}]}
    params = [{"name": "value_index", "value": default,
               "bind": {"input": "range", "min": 0, "max": len(runs) - 1, "step": 1,
                        "name": catalogue.text(f"live.{key}_index", lang, count=len(runs))}}]
    spec = {"params": params, "hconcat": [curves, panel],
            "datasets": {"curves": rows, "gaps": gaps}}
    controls = {key: {"signal": "value_index",
                      "values": [[f"{run['value']:.4g}", i] for i, run in enumerate(runs)]}}
    return spec, controls


# -- optimizer-compare and weight-init-compare (book 6.1.8, 6.2.4) --------------------------------

POINTS = 200  # points per loss curve drawn live: every (iterations / 200)-th of the smoothed loss


def _seed_runs(record: dict) -> list[tuple[int, dict]] | None:
    """(seed, results) of every run of a record (dlfs run --seeds), or of its one run."""
    runs = record.get("runs")
    if isinstance(runs, list) and runs and all(
            isinstance(run, dict) and isinstance(run.get("seed"), int)
            and isinstance(run.get("results"), dict) for run in runs):
        return [(run["seed"], run["results"]) for run in runs]
    if isinstance(record.get("results"), dict) and isinstance(record.get("seed"), int):
        return [(record["seed"], record["results"])]
    return None


def _switch_key(label: str, taken: set) -> str:
    """A curve's name in the fragment: its label in lower case, anything but letters, digits
    and dots as _ (std=0.01 → std_0.01), made unique."""
    key = re.sub(r"[^a-z0-9.]+", "_", label.lower()).strip("_") or "curve"
    unique, n = key, 2
    while unique in taken or unique == "seeds":
        unique, n = f"{key}_{n}", n + 1
    taken.add(unique)
    return unique


def smoothed(losses) -> list[float | None]:
    """A loss curve as the still figure draws it (the book's smooth_curve), NaN as None."""
    from dlfs.experiments.base import smooth_curve

    values = [value if isinstance(value, int | float) else math.nan for value in losses]
    return [_number(float(v)) for v in smooth_curve(values)]


def loss_rows(seeds: list[tuple[int, dict]], labels: list[str]) -> tuple[list, list]:
    """The live figure's numbers: every seed's smoothed loss at every ``step``-th iteration
    (``seeds`` rows), and their mean, min and max over the seeds there (``band`` rows), a
    seed whose run stopped early counting where it has values (as the still figure's band)."""
    length = max(len(results["losses"][label]) for _, results in seeds for label in labels)
    step = max(1, length // POINTS)
    curves = {(seed, label): smoothed(results["losses"][label])
              for seed, results in seeds for label in labels}
    per_seed = [{"k": k, "seed": seed, "it": it, "loss": curve[it]}
                for k, label in enumerate(labels) for seed, _ in seeds
                for curve in [curves[seed, label]] for it in range(0, len(curve), step)]
    band = []
    for k, label in enumerate(labels):
        for it in range(0, length, step):
            there = [curves[seed, label][it] for seed, _ in seeds
                     if it < len(curves[seed, label]) and curves[seed, label][it] is not None]
            if there:
                band.append({"k": k, "it": it, "mean": sum(there) / len(there),
                             "low": min(there), "high": max(there)})
    return per_seed, band


def _loss_compare(record: dict, lang: str, legend: Callable[[str, dict, str], str]
                  ) -> tuple[dict, dict] | None:
    """Each curve switched on and off by a checkbox, the seeds as a band (their mean line and
    min–max) or one seed at a time; the y axis follows the curves shown."""
    seeds = _seed_runs(record)
    if seeds is None or not all(isinstance(results.get("losses"), dict) and results["losses"]
                                for _, results in seeds):
        return None
    labels = list(seeds[0][1]["losses"])
    if not all(list(results["losses"]) == labels and all(
            isinstance(results["losses"][label], list) and results["losses"][label]
            for label in labels) for _, results in seeds):
        return None
    per_seed, band = loss_rows(seeds, labels)
    shown = [legend(label, seeds[0][1], lang) for label in labels]
    taken: set = set()
    keys = [_switch_key(label, taken) for label in labels]
    params = [{"name": f"show_{k}", "value": True,
               "bind": {"input": "checkbox", "name": shown[k]}} for k in range(len(labels))]
    many = len(seeds) > 1
    if many:
        params.append({"name": "seeds", "value": "band", "bind": {
            "input": "select", "options": ["band", *(str(seed) for seed, _ in seeds)],
            "labels": [catalogue.text("live.band", lang, n=len(seeds)),
                       *(catalogue.text("live.one_seed", lang, seed=seed) for seed, _ in seeds)],
            "name": catalogue.text("live.seeds", lang)}})
    on = "[" + ", ".join(f"show_{k}" for k in range(len(labels))) + "][datum.k]"
    label = {"calculate": f"{json.dumps(shown, ensure_ascii=False)}[datum.k]", "as": "label"}
    color = {"field": "label", "type": "nominal", "title": None, "scale": {"domain": shown},
             "legend": {"symbolOpacity": 1}}  # not the band's faint shade
    x = {"field": "it", "type": "quantitative", "title": catalogue.word("iterations", lang)}
    y_title = catalogue.word("smoothed_loss", lang)
    layers = [
        {"name": "means", "data": {"name": "band"},
         "transform": [{"filter": on + (" && seeds == 'band'" if many else "")}, label],
         "mark": {"type": "line", "strokeWidth": 1.5, "clip": True},
         "encoding": {"x": x, "y": {"field": "mean", "type": "quantitative", "title": y_title},
                      "color": color}}]
    if many:
        layers.insert(0, {
            "name": "bands", "data": {"name": "band"},
            "transform": [{"filter": on + " && seeds == 'band'"}, label],
            "mark": {"type": "area", "opacity": 0.2, "clip": True},
            "encoding": {"x": x, "y": {"field": "low", "type": "quantitative", "title": y_title},
                         "y2": {"field": "high"}, "color": color}})
        layers.append({
            "name": "seed", "data": {"name": "per_seed"},
            "transform": [{"filter": on + " && seeds != 'band' && datum.seed == toNumber(seeds)"},
                          label],
            "mark": {"type": "line", "strokeWidth": 1.5, "clip": True},
            "encoding": {"x": x, "y": {"field": "loss", "type": "quantitative",
                                       "title": y_title}, "color": color}})
    spec = {"width": 620, "height": HEIGHT, "params": params,
            "title": catalogue.text("live.compare_title", lang),
            "layer": layers, "datasets": {"band": band, **({"per_seed": per_seed} if many else {})}}
    onoff = [["on", True], ["off", False]]
    controls = {key: {"signal": f"show_{k}", "values": onoff} for k, key in enumerate(keys)}
    if many:
        controls["seeds"] = {"signal": "seeds", "values": [["band", "band"], *(
            [str(seed), str(seed)] for seed, _ in seeds)]}
    return spec, controls


def _optimizer_compare(record: dict, lang: str) -> tuple[dict, dict] | None:
    from dlfs.experiments import learner

    def legend(label, results, lang):
        entry = (results.get("optimizers") or {}).get(label)
        if not (isinstance(entry, list) and len(entry) == 2
                and isinstance(entry[1], int | float)):
            return label
        name = catalogue.text("words.yours", lang, name=label) \
            if learner.is_learner(str(entry[0])) else label
        return catalogue.text("optimizer-compare.legend", lang, name=name, lr=entry[1])
    return _loss_compare(record, lang, legend)


def _weight_init_compare(record: dict, lang: str) -> tuple[dict, dict] | None:
    from dlfs.experiments.weight_init_compare import _legend

    return _loss_compare(record, lang, lambda label, _, lang: _legend(label, lang))


# Views drawn from every seed's results (the record), not the first seed's alone.
RECORD_VIEWS: dict[str, Callable[[dict, str], tuple[dict, dict] | None]] = {
    "optimizer-compare": _optimizer_compare,
    "weight-init-compare": _weight_init_compare,
}


VIEWS: dict[str, Callable[[dict, str], tuple[dict, dict] | None]] = {
    "gradient-descent": _gradient_descent,
    "optimizer-paths": _optimizer_paths,
    "activation-histograms": _activation_histograms,
    "batch-norm": _batch_norm,
    "hyperparameter-search": _hyperparameter_search,
    "weight-decay": _remedy_grid,
    "dropout": _remedy_grid,
    **RECORD_VIEWS,
}


# A view of each live figure that tells something, as the notebooks and docs link to it.
EXAMPLES = {
    "gradient-descent": "gradient-descent:lr=1.05",
    "optimizer-paths": "optimizer-paths:rule=sgd,lr=0.95",
    "activation-histograms": "activation-histograms:activation=relu,init=he",
    "batch-norm": "batch-norm:scale=0.01359",
    "hyperparameter-search": "hyperparameter-search:",
    "weight-decay": "weight-decay:lambda=0.3",
    "dropout": "dropout:ratio=0.5",
    "optimizer-compare": "optimizer-compare:sgd=on,momentum=off,nesterov=off,adagrad=on,"
                         "rmsprop=off,adadelta=off,adam=on",
    "weight-init-compare": "weight-init-compare:std_0.01=off,xavier=on,he=on",
}


def view(record: dict, lang: str) -> tuple[dict, dict] | None:
    """(the Vega-Lite spec in ``lang``, its fragment controls) of a record whose results hold
    the grids, else None (an experiment without a live figure, or an older results.json)."""
    make = VIEWS.get(record.get("name"))
    results = record.get("results")
    if make is None or not isinstance(results, dict):
        return None
    made = make(record if record["name"] in RECORD_VIEWS else results, lang)
    if made is None:
        return None
    spec, controls = made
    seeds = record.get("seeds")
    if (record["name"] not in RECORD_VIEWS and not record.get("deterministic")
            and isinstance(seeds, list) and len(seeds) > 1):
        # A run of several seeds: this view is the first seed's (its grid is trained for that
        # seed alone, Experiment.grid), which the page says above it.
        said = catalogue.text("explore.first_seed", lang, seed=seeds[0], count=len(seeds))
        title = spec.get("title")
        spec = {**spec, "title": said if title is None else {
            "text": [title.get("text") if isinstance(title, dict) else title, said]}}
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
