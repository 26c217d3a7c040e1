"""Book 4.4.1 (gradient_method.py): gradient descent on x0² + x1² from (−3, 4)."""

from __future__ import annotations

import textwrap

import numpy as np

from dlfs import catalogue
from dlfs.experiments import figures
from dlfs.experiments.base import Experiment, Verdict
from dlfs.experiments.jobs import task
from dlfs.gradient import gradient_descent


def function_2(x):
    return float(np.sum(x**2))


def descend(params):
    init = np.array(params["init_x"])
    path = gradient_descent(function_2, init, lr=params["lr"], step_num=params["step_num"])
    compare = {}
    for lr in params["compare_lr"]:
        with np.errstate(over="ignore", invalid="ignore"):
            trail = gradient_descent(function_2, init, lr=lr, step_num=params["compare_steps"])
        compare[f"{lr:g}"] = {"lr": lr, "distance": np.linalg.norm(trail, axis=1),
                              "final": trail[-1]}
    return {"lr": params["lr"], "path": path, "compare": compare,
            "explore": explore(function_2, init, params["explore_lr"], params["step_num"])}


def explore(function, init, rates, steps):
    """The report's learning-rate slider: the path at each rate of a grid from "barely moves"
    through "converges" to "diverges" (numbers only; the report looks them up)."""
    runs = []
    for lr in rates:
        with np.errstate(over="ignore", invalid="ignore"):
            runs.append({"lr": lr, "path": gradient_descent(function, init, lr=lr,
                                                            step_num=steps)})
    return runs


def plot(results, lang):
    fig, (left, right) = figures.figure(lang, 1, 2, figsize=(11, 4.5))
    path = np.asarray(results["path"])
    left.plot([-5, 5], [0, 0], "--b")
    left.plot([0, 0], [-5, 5], "--b")
    left.plot(path[:, 0], path[:, 1], "o")
    left.set_xlim(-3.5, 3.5)
    left.set_ylim(-4.5, 4.5)
    left.set_xlabel("x0")
    left.set_ylabel("x1")
    left.set_title(catalogue.text("gradient-descent.path", lang, lr=results["lr"],
                                  steps=len(path) - 1))
    for run in results["compare"].values():
        distance = np.asarray(run["distance"], dtype=float)
        right.semilogy(np.clip(distance, 1e-300, 1e300),
                       label=catalogue.text("gradient-descent.legend", lang, lr=run["lr"]))
    right.set_xlabel(catalogue.text("words.step", lang))
    right.set_ylabel(catalogue.text("gradient-descent.distance", lang))
    right.set_title(catalogue.text("gradient-descent.compare", lang))
    for run in results["compare"].values():
        _mark_precision_limit(right, run, lang)
    right.legend(loc="lower left")
    return figures.finish(fig)


def _mark_precision_limit(ax, run, lang):
    """Where a diverging run goes flat, says why: at |x| ≈ 1e13, x² ≈ 1e26 and the central
    difference's (x + h)² − (x − h)² = 4·x·h ≈ 4e9 is below float64's spacing there (≈ 1e10), so
    the numerical gradient rounds to 0 and the steps stop. Precision ran out; nothing converged."""
    distance = np.asarray(run["distance"], dtype=float)
    if len(distance) < 3 or not np.isfinite(distance[-1]) or distance[-1] <= 10 * distance[0]:
        return
    flat = int(np.argmax(distance == distance[-1]))
    if flat >= len(distance) - 1:
        return
    note = catalogue.text("gradient-descent.precision", lang, lr=run["lr"],
                          distance=distance[flat])
    ax.annotate(textwrap.fill(note, 48 if lang == "en" else 34), xy=(flat, distance[flat]),
                xytext=(0.3, 0.8), textcoords="axes fraction", va="top", fontsize=8,
                arrowprops={"arrowstyle": "->", "color": "#444444"},
                bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "#bbbbbb"})


def check(results):
    start = float(np.linalg.norm(np.asarray(results["path"])[0]))
    runs = results["compare"]
    final = {key: float(np.asarray(run["distance"], dtype=float)[-1])
             for key, run in runs.items()}
    good, big, small = final["0.1"], final["10"], final["1e-10"]
    held = good < 1e-6 * start and big > 1e6 * start and abs(small - start) < 1e-6 * start
    return Verdict(held, catalogue.both(
        "gradient-descent.verdict", steps=len(runs["0.1"]["distance"]) - 1, start=start,
        good=good, big=big, small=small, good_lr=runs["0.1"]["lr"], big_lr=runs["10"]["lr"],
        small_lr=runs["1e-10"]["lr"]), {"start": start, "final_distance": final})


def jobs(params, seed):
    return [task(descend, params)]


EXPERIMENT = Experiment(
    name="gradient-descent",
    chapter=4,
    section="4.4.1",
    jobs=jobs,
    plot=plot,
    check=check,
    params={"init_x": [-3.0, 4.0], "lr": 0.1, "step_num": 20, "compare_lr": [0.1, 10.0, 1e-10],
            "compare_steps": 100,
            # the report's slider: the book's 1e-10, 0.1 and 10 and steps between them
            "explore_lr": [1e-10, 1e-3, 0.01, 0.03, 0.1, 0.2, 0.3, 0.5, 0.7, 0.9, 1.0, 1.05,
                           1.1, 1.5, 10.0]},
    fixed=("compare_lr",),  # the claim reads the runs at 0.1, 10 and 1e-10
    # dlfs run --explore: the slider over about twice as many rates
    explore_params={"explore_lr": [1e-10, 1e-4, 1e-3, 3e-3, 0.01, 0.02, 0.03, 0.05, 0.07, 0.1,
                                   0.15, 0.2, 0.25, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 0.9, 0.95,
                                   1.0, 1.02, 1.05, 1.1, 1.2, 1.5, 3.0, 10.0]},
)
