"""Book 6.1.3 (figs. 6-1 and 6-2): f(x, y) = x²/20 + y², its graph, its contours and its
gradient, the function on which SGD zig-zags (optimizer-paths)."""

from __future__ import annotations

import numpy as np

from dlfs import catalogue
from dlfs.experiments import figures
from dlfs.experiments.base import Experiment, Verdict
from dlfs.experiments.jobs import task
from dlfs.gradient import numerical_gradient


def f(x, y):
    return x**2 / 20.0 + y**2


def _f_of_point(p):
    return float(f(p[0], p[1]))


def gradients(params):
    x, y = np.meshgrid(np.arange(*params["x_grid"]), np.arange(*params["y_grid"]))
    points = np.stack([x.ravel(), y.ravel()], axis=1)
    grads = np.array([numerical_gradient(_f_of_point, p.copy()) for p in points])
    return {"x": points[:, 0], "y": points[:, 1], "u": -grads[:, 0], "v": -grads[:, 1]}


def plot(results, lang):
    fig, axes = figures.figure(lang, 1, 3, figsize=(15, 4.6))
    axes[0].remove()
    surface = fig.add_subplot(1, 3, 1, projection="3d")
    xs, ys = np.meshgrid(np.linspace(-10, 10, 41), np.linspace(-10, 10, 41))  # light SVGs
    surface.plot_surface(xs, ys, f(xs, ys), cmap="viridis", alpha=0.7, linewidth=0.2,
                         edgecolor="#555555")
    surface.set_xlabel("x")
    surface.set_ylabel("y")
    surface.set_zlabel("f(x, y)")
    surface.set_title(catalogue.text("sgd-function.graph", lang))

    contours, field = axes[1], axes[2]
    fine_x, fine_y = np.meshgrid(np.linspace(-10, 10, 201), np.linspace(-10, 10, 201))
    contours.contour(fine_x, fine_y, f(fine_x, fine_y),
                     levels=[0.5, 1, 2, 3, 5, 8, 12, 20, 30, 50, 80])
    contours.set_aspect("equal")
    contours.set_title(catalogue.text("sgd-function.contours", lang))

    field.quiver(results["x"], results["y"], results["u"], results["v"], angles="xy",
                 color="#666666")
    field.set_xlim(-10.5, 10.5)
    field.set_ylim(-5.5, 5.5)
    field.set_title(catalogue.text("sgd-function.gradient", lang))
    field.grid(True)
    for ax in (contours, field):
        ax.plot(0, 0, "+", color="black", markersize=10)
        ax.set_xlabel("x")
        ax.set_ylabel("y")
    return figures.finish(fig)


def _angles(results):
    """Degrees between −∇f and the direction to the minimum, at every point but (0, 0)."""
    x, y, u, v = (np.asarray(results[k]) for k in ("x", "y", "u", "v"))
    r = np.hypot(x, y)
    away = r > 1e-9
    cosine = (u * -x + v * -y)[away] / (np.hypot(u, v)[away] * r[away])
    return np.degrees(np.arccos(np.clip(cosine, -1.0, 1.0)))


def check(results):
    angles = _angles(results)
    x, y, u, v = (np.asarray(results[k]) for k in ("x", "y", "u", "v"))
    error = float(np.max(np.abs(np.hypot(u + x / 10, v + 2 * y))))  # −∇f = −(x/10, 2y)
    share = float(np.mean(angles > 45))
    median = float(np.median(angles))
    held = share > 0.5 and error < 1e-6
    numbers = {"share_over_45": share, "median_angle": median, "max_error": error}
    return Verdict(held, catalogue.both("sgd-function.verdict", points=len(angles), **numbers),
                   numbers)


def jobs(params, seed):
    return [task(gradients, params)]


EXPERIMENT = Experiment(
    name="sgd-function",
    chapter=6,
    section="6.1.3",
    jobs=jobs,
    plot=plot,
    check=check,
    params={"x_grid": [-10.0, 10.5, 1.0], "y_grid": [-5.0, 5.5, 0.5]},
)
