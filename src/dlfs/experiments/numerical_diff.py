"""Book 4.3.2 (gradient_1d.py): the central difference of f(x) = 0.01x² + 0.1x, with tangents."""

from __future__ import annotations

import numpy as np

from dlfs.experiments import figures
from dlfs.experiments.base import Experiment, Verdict, text
from dlfs.gradient import numerical_diff


def function_1(x):
    return 0.01 * x**2 + 0.1 * x


def run(ctx, params):
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
        label = {"en": f"tangent at x={tangent['at']:g} (slope {tangent['slope']:.4f})",
                 "ko": f"x={tangent['at']:g}에서의 접선 (기울기 {tangent['slope']:.4f})"}[lang]
        ax.plot(x, tangent["slope"] * x + tangent["intercept"], "--", label=label)
    ax.set_xlabel("x")
    ax.set_ylabel("f(x)")
    ax.legend()
    return figures.finish(fig)


def check(results):
    errors = [abs(t["slope"] - t["exact"]) for t in results["tangents"]]
    held = max(errors) < 1e-9
    slopes = ", ".join(f"{t['slope']:.16f} (x={t['at']:g})" for t in results["tangents"])
    return Verdict(held, text(
        f"central-difference slopes {slopes}; largest error against the exact derivative "
        f"{max(errors):.1e} (limit 1e-9)",
        f"중앙 차분 기울기 {slopes}; 해석적 미분과의 최대 오차 {max(errors):.1e} (기준 1e-9)"),
        {"max_error": max(errors)})


EXPERIMENT = Experiment(
    name="numerical-diff",
    chapter=4,
    section="4.3.2",
    title=text("Numerical differentiation", "수치 미분"),
    claim=text("The central difference with h = 1e-4 gives the derivative of 0.01x² + 0.1x at "
               "x = 5 and 10 (0.2 and 0.3) to about 12 digits.",
               "h = 1e-4인 중앙 차분은 0.01x² + 0.1x의 x = 5, 10에서의 미분(0.2, 0.3)을 "
               "약 12자리까지 맞춘다."),
    about=text("h balances truncation error (shrinking as h²) against rounding error (growing "
               "as 1/h); h = 1e-50 would round x + h back to x.",
               "h는 절단 오차(h²에 비례해 줄어듦)와 반올림 오차(1/h에 비례해 커짐)의 균형점이다. "
               "h = 1e-50이면 x + h가 x로 반올림된다."),
    run=run,
    plot=plot,
    check=check,
    params={"h": 1e-4, "tangent_at": [5.0, 10.0]},
)
