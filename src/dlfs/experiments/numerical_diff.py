"""Book 4.3.2 (gradient_1d.py): the central difference of f(x) = 0.01x² + 0.1x, with tangents."""

from __future__ import annotations

import numpy as np

from dlfs import catalogue
from dlfs.experiments import figures
from dlfs.experiments.base import Experiment, Verdict
from dlfs.experiments.jobs import task
from dlfs.gradient import numerical_diff


def function_1(x):
    return 0.01 * x**2 + 0.1 * x


def tangents(params):
    x = np.arange(0.0, 20.0, 0.1)
    tangents = []
    for at in params["tangent_at"]:
        slope = numerical_diff(function_1, at, params["h"])
        tangents.append({"at": at, "slope": slope, "intercept": function_1(at) - slope * at,
                         "exact": 0.02 * at + 0.1})
    return {"x": x, "y": function_1(x), "tangents": tangents}


def plot(results, lang):
    fig, ax = figures.figure(lang, figsize=(6, 4.2))
    x = np.asarray(results["x"])
    ax.plot(x, results["y"], label="f(x) = 0.01x² + 0.1x")
    for tangent in results["tangents"]:
        label = catalogue.text("numerical-diff.tangent", lang, at=tangent["at"],
                               slope=tangent["slope"])
        ax.plot(x, tangent["slope"] * x + tangent["intercept"], "--", label=label)
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.legend()
    return figures.finish(fig)


def check(results):
    errors = [abs(t["slope"] - t["exact"]) for t in results["tangents"]]
    held = max(errors) < 1e-9
    slopes = ", ".join(f"{t['slope']:.16f} (x={t['at']:g})" for t in results["tangents"])
    numbers = {"max_error": max(errors)}
    return Verdict(held, catalogue.both("numerical-diff.verdict", slopes=slopes, **numbers),
                   numbers)


def jobs(params, seed):
    return [task(tangents, params)]


EXPERIMENT = Experiment(
    name="numerical-diff",
    chapter=4,
    section="4.3.2",
    jobs=jobs,
    plot=plot,
    check=check,
    params={"h": 1e-4, "tangent_at": [5.0, 10.0]},
)
