"""Book 4.4 (gradient_2d.py): the field of −∇f for f(x0, x1) = x0² + x1²."""

from __future__ import annotations

import numpy as np

from dlfs.experiments import figures
from dlfs.experiments.base import Experiment, Verdict, text
from dlfs.gradient import numerical_gradient


def function_2(x):
    return float(np.sum(x**2))


def run(ctx, params):
    axis = np.arange(*params["grid"])
    X, Y = np.meshgrid(axis, axis)
    points = np.stack([X.ravel(), Y.ravel()], axis=1)
    grads = np.array([numerical_gradient(function_2, p.copy()) for p in points])
    return {"x": points[:, 0], "y": points[:, 1], "u": -grads[:, 0], "v": -grads[:, 1]}


def plot(results, lang):
    fig, ax = figures.figure(lang, figsize=(5.5, 5.5))
    ax.quiver(results["x"], results["y"], results["u"], results["v"], angles="xy",
              color="#666666")
    ax.set_xlim(-2, 2)
    ax.set_ylim(-2, 2)
    ax.set_xlabel("x0")
    ax.set_ylabel("x1")
    ax.set_title({"en": "−∇f of f = x0² + x1²",
                  "ko": "f = x0² + x1²의 −∇f (기울기의 반대 방향)"}[lang])
    ax.grid(True)
    return figures.finish(fig)


def check(results):
    x, y, u, v = (np.asarray(results[k]) for k in ("x", "y", "u", "v"))
    r = np.hypot(x, y)
    away = r > 1e-9
    cosine = (u * -x + v * -y)[away] / (np.hypot(u, v)[away] * r[away])
    length_error = np.max(np.abs(np.hypot(u, v) - 2 * r))
    held = bool(cosine.min() > 0.999999 and length_error < 1e-6)
    return Verdict(held, text(
        f"smallest cosine between −∇f and the direction to the origin over {away.sum()} points: "
        f"{cosine.min():.9f}; largest |‖∇f‖ − 2r|: {length_error:.1e}",
        f"{away.sum()}개 점에서 −∇f와 원점 방향 사이 코사인의 최솟값 {cosine.min():.9f}, "
        f"|‖∇f‖ − 2r|의 최댓값 {length_error:.1e}"),
        {"min_cosine": float(cosine.min()), "max_length_error": float(length_error)})


EXPERIMENT = Experiment(
    name="gradient-field",
    chapter=4,
    section="4.4",
    title=text("The gradient as a vector field", "기울기 벡터장"),
    claim=text("At every point −∇f points straight at the minimum (0, 0), and is longer the "
               "farther the point is from it.",
               "모든 점에서 −∇f는 최솟값 (0, 0)을 정확히 가리키고, 멀리 있을수록 길다."),
    about=text("The gradient points where f grows fastest; gradient descent follows its "
               "negative. (Course notes often say the gradient itself points downhill: it is "
               "the negative gradient.)",
               "기울기는 f가 가장 빠르게 커지는 방향이고, 경사 하강법은 그 반대 방향을 따른다. "
               "(강의 노트에서 '기울기가 가리키는 쪽이 줄어드는 방향'이라고 쓰기도 하지만 "
               "정확히는 음의 기울기다.)"),
    run=run,
    plot=plot,
    check=check,
    params={"grid": [-2.0, 2.5, 0.25]},
)
