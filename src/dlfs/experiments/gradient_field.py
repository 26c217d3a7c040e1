"""Book 4.4 (gradient_2d.py): the field of −∇f for f(x0, x1) = x0² + x1²."""

from __future__ import annotations

import numpy as np

from dlfs import catalogue
from dlfs.experiments import figures
from dlfs.experiments.base import Experiment, Verdict
from dlfs.experiments.jobs import task
from dlfs.gradient import numerical_gradient


def function_2(x):
    return float(np.sum(x**2))


def gradients(params):
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
    ax.set_title(catalogue.text("gradient-field.panel", lang))
    ax.grid(True)
    return figures.finish(fig)


def check(results):
    x, y, u, v = (np.asarray(results[k]) for k in ("x", "y", "u", "v"))
    r = np.hypot(x, y)
    away = r > 1e-9
    cosine = (u * -x + v * -y)[away] / (np.hypot(u, v)[away] * r[away])
    length_error = np.max(np.abs(np.hypot(u, v) - 2 * r))
    held = bool(cosine.min() > 0.999999 and length_error < 1e-6)
    numbers = {"min_cosine": float(cosine.min()), "max_length_error": float(length_error)}
    return Verdict(held, catalogue.both("gradient-field.verdict", points=int(away.sum()),
                                        **numbers), numbers)


def jobs(params, seed):
    return [task(gradients, params)]


EXPERIMENT = Experiment(
    name="gradient-field",
    chapter=4,
    section="4.4",
    jobs=jobs,
    plot=plot,
    check=check,
    params={"grid": [-2.0, 2.5, 0.25]},
)
