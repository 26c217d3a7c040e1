"""Book 4.4 (fig. 4-8): the graph of f(x0, x1) = x0² + x1², and the gradients the book computes
on it with numerical_gradient at (3, 4), (0, 2) and (3, 0)."""

from __future__ import annotations

import numpy as np

from dlfs import catalogue
from dlfs.experiments import figures
from dlfs.experiments.base import Experiment, Verdict
from dlfs.experiments.jobs import task
from dlfs.gradient import numerical_gradient


def function_2(x):
    return float(np.sum(x**2))


def surface(params):
    axis = np.arange(*params["grid"])
    x0, x1 = np.meshgrid(axis, axis)
    points = np.array(params["points"], dtype=float)
    gradients = [numerical_gradient(function_2, point.copy()) for point in points]
    return {"axis": axis, "z": x0**2 + x1**2, "points": points, "gradients": gradients,
            "exact": 2 * points}


def plot(results, lang):
    fig, ax = figures.figure(lang, figsize=(7, 6), subplot_kw={"projection": "3d"})
    axis = np.asarray(results["axis"])
    x0, x1 = np.meshgrid(axis, axis)
    ax.computed_zorder = False  # the points stay visible in front of the surface
    ax.plot_surface(x0, x1, np.asarray(results["z"]), cmap="viridis", alpha=0.55,
                    linewidth=0.3, edgecolor="#555555")
    for k, (point, gradient) in enumerate(zip(results["points"], results["gradients"])):
        point = np.asarray(point)
        label = catalogue.text("function-surface.gradient", lang, x0=point[0], x1=point[1],
                               g0=gradient[0], g1=gradient[1])
        ax.scatter(*point, function_2(point), s=40, color=f"C{k + 1}", depthshade=False,
                   zorder=3, label=label)
    ax.set_xlabel("x0")
    ax.set_ylabel("x1")
    ax.set_zlabel("f(x0, x1)")
    ax.set_title(catalogue.text("function-surface.panel", lang))
    ax.legend(loc="upper left", fontsize=8)
    return figures.finish(fig)


def check(results):
    gradients, exact = np.asarray(results["gradients"]), np.asarray(results["exact"])
    error = float(np.max(np.abs(gradients - exact)))
    axis, z = np.asarray(results["axis"]), np.asarray(results["z"])
    row, col = np.unravel_index(np.argmin(z), z.shape)
    lowest = [float(axis[col]), float(axis[row])]
    held = error < 1e-6 and lowest == [0.0, 0.0] and float(z.min()) == 0.0
    gradient_list = ", ".join(
        f"({p[0]:g}, {p[1]:g}) → ({g[0]:.6f}, {g[1]:.6f})"
        for p, g in zip(results["points"], results["gradients"]))
    numbers = {"max_error": error, "lowest": lowest}
    return Verdict(held, catalogue.both("function-surface.verdict", gradients=gradient_list,
                                        max_error=error, x0=lowest[0], x1=lowest[1]), numbers)


def jobs(params, seed):
    return [task(surface, params)]


EXPERIMENT = Experiment(
    name="function-surface",
    chapter=4,
    section="4.4",
    jobs=jobs,
    plot=plot,
    check=check,
    params={"grid": [-4.0, 4.25, 0.25], "points": [[3.0, 4.0], [0.0, 2.0], [3.0, 0.0]]},
)
