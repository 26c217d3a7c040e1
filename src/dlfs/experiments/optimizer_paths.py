"""Book 6.1.7 (optimizer_compare_naive.py): update paths on f(x, y) = x²/20 + y² from (−7, 2)."""

from __future__ import annotations

import textwrap

import numpy as np

from dlfs import catalogue
from dlfs.experiments import figures, learner
from dlfs.experiments.base import Experiment, Verdict
from dlfs.experiments.jobs import task


def f(x, y):
    return x**2 / 20.0 + y**2


def path_of(name, lr, init, steps):
    """The points one rule visits from ``init`` at the learning rate ``lr``."""
    point = {"x": np.array(init[0]), "y": np.array(init[1])}
    opt = learner.create(name, lr=lr)
    path = [(float(point["x"]), float(point["y"]))]
    with np.errstate(over="ignore", invalid="ignore"):
        for _ in range(steps):
            opt.update(point, {"x": point["x"] / 10.0, "y": 2.0 * point["y"]})
            path.append((float(point["x"]), float(point["y"])))
    return path


def paths(params):
    paths = {label: {"optimizer": name, "lr": lr,
                     "path": path_of(name, lr, params["init"], params["steps"])}
             for label, (name, lr) in params["optimizers"].items()}
    return {"paths": paths, "explore": explore(params)}


def explore(params):
    """The report's learning-rate slider: each rule's path at its book rate times each of
    ``explore_factors`` (log-spaced around 1), from the same start (numbers only)."""
    return {label: {"optimizer": name,
                    "runs": [{"lr": lr * factor,
                              "path": path_of(name, lr * factor, params["init"], params["steps"])}
                             for factor in params["explore_factors"]]}
            for label, (name, lr) in params["optimizers"].items()}


# The book's view of f (optimizer_compare_naive.py: plt.xlim(-10, 10), plt.ylim(-10, 10)): the
# plot never grows beyond it, so a path that diverges (a learner's optimizer at a high lr) is
# drawn clipped, with a note, instead of sizing the contour grid from its extent.
BOOK_VIEW = ((-10.0, 10.0), (-10.0, 10.0))


def _points(path) -> np.ndarray:
    """A path as an (n, 2) float array; NaN where it was not a finite number (results.json
    keeps NaN as null)."""
    points = np.asarray(path, dtype=float)
    points[~np.isfinite(points)] = np.nan
    return points


def _view(paths) -> tuple[tuple[float, float], tuple[float, float]]:
    """x and y limits around every path, with a margin (the book's ±10 leaves the paths a
    sliver in the middle of the panel), from the points within BOOK_VIEW only: a path that
    leaves it is drawn clipped, and the other panels keep their zoom."""
    points = np.concatenate([_points(run["path"]) for run in paths.values()])
    (x_min, x_max), (y_min, y_max) = BOOK_VIEW
    with np.errstate(invalid="ignore"):  # NaN compares False: left out
        points = points[(points[:, 0] >= x_min) & (points[:, 0] <= x_max)
                        & (points[:, 1] >= y_min) & (points[:, 1] <= y_max)]
    x_low = max(points[:, 0].min() - 1.0, x_min) if len(points) else x_min
    x_high = min(max(points[:, 0].max(), 0.0) + 1.5, x_max) if len(points) else x_max
    y_reach = min(np.abs(points[:, 1]).max() + 0.5, y_max) if len(points) else y_max
    return (x_low, x_high), (-y_reach, y_reach)


def _off_view_note(path: np.ndarray, view, lang: str) -> str | None:
    """Where a path leaves the plot (its first point outside ``view``) or stops being a
    number, in ``lang``; None when it stays in view."""
    (x_low, x_high), (y_low, y_high) = view
    finite = np.isfinite(path).all(axis=1)
    inside = finite & (path[:, 0] >= x_low) & (path[:, 0] <= x_high) & \
        (path[:, 1] >= y_low) & (path[:, 1] <= y_high)
    if inside.all():
        return None
    step = int(np.argmin(inside))
    if not finite[step]:
        return catalogue.text("bounds.path_not_finite", lang, step=step)
    x, y = path[step]
    return catalogue.text("bounds.path_off_view", lang, step=step, x=x, y=y)


def _mark_tiny_steps(ax, run, lang):
    """AdaDelta's path, a dot at this scale: an inset that zooms in on it, and a note that its
    first steps are √(ε/(1 − ρ))-sized by design."""
    path = np.asarray(run["path"])
    first = float(np.abs(path[1] - path[0]).max())
    moved = float(np.hypot(*(path[-1] - path[0])))
    inset = ax.inset_axes([0.52, 0.06, 0.45, 0.5])
    inset.plot(path[:, 0], path[:, 1], "o-", color="red", markersize=2, linewidth=0.8)
    margin = 0.25 * max(np.ptp(path[:, 0]), np.ptp(path[:, 1]), first)
    inset.set_xlim(path[:, 0].min() - margin, path[:, 0].max() + margin)
    inset.set_ylim(path[:, 1].min() - margin, path[:, 1].max() + margin)
    inset.tick_params(labelsize=6)
    ax.indicate_inset_zoom(inset, edgecolor="#444444")
    note = catalogue.text("optimizer-paths.tiny_steps", lang, first=first, moved=moved,
                          steps=len(path) - 1)
    ax.set_xlabel(textwrap.fill(note, 75 if lang == "en" else 44), fontsize=8, loc="left")


def plot(results, lang):
    paths = results["paths"]
    cols = min(3, len(paths))
    rows = -(-len(paths) // cols)
    fig, axes = figures.figure(lang, rows, cols, figsize=(5.2 * cols, 3.4 * rows),
                               squeeze=False)
    (x_low, x_high), (y_low, y_high) = _view(paths)
    xs, ys = np.meshgrid(np.arange(x_low, x_high, 0.02), np.arange(y_low, y_high, 0.02))
    z = f(xs, ys)
    for ax, (label, run) in zip(axes.ravel(), paths.items()):
        path = _points(run["path"])
        ax.contour(xs, ys, z, levels=12, linewidths=0.6)
        ax.plot(path[:, 0], path[:, 1], "o-", color="red", markersize=3, linewidth=1)
        note = _off_view_note(path, ((x_low, x_high), (y_low, y_high)), lang)
        if note is not None:
            ax.text(0.02, 0.03, textwrap.fill(note, 60 if lang == "en" else 34),
                    transform=ax.transAxes, fontsize=7, color="red", va="bottom",
                    bbox={"facecolor": "white", "alpha": 0.8, "edgecolor": "none"})
        ax.plot(0, 0, "+", color="black")
        ax.set_xlim(x_low, x_high)
        ax.set_ylim(y_low, y_high)
        shown = catalogue.text("words.yours", lang, name=label) \
            if learner.is_learner(run["optimizer"]) else label
        ax.set_title(catalogue.text("optimizer-paths.panel", lang, name=shown, lr=run["lr"]))
        if run["optimizer"] == "adadelta":
            _mark_tiny_steps(ax, run, lang)
    for ax in axes.ravel()[len(paths):]:
        ax.axis("off")
    return figures.finish(fig)


def _sign_changes(path):
    y = _points(path)[1:, 1]
    y = y[:np.argmin(np.isfinite(y))] if not np.isfinite(y).all() else y  # up to a NaN
    return int(np.sum(np.diff(np.sign(y)) != 0))


def check(results):
    paths = results["paths"]
    changes = {label: _sign_changes(run["path"]) for label, run in paths.items()}
    distance = {label: float(np.hypot(*_points(run["path"])[-1])) for label, run in paths.items()}
    others = ("Momentum", "AdaGrad", "Adam")
    held = changes["SGD"] >= 25 and all(changes[k] < 10 for k in others)
    return Verdict(held, catalogue.both(
        "optimizer-paths.verdict", steps=len(paths["SGD"]["path"]) - 1,
        changes=", ".join(f"{k} {v}" for k, v in changes.items()),
        distances=", ".join(f"{k} {v:.3f}" for k, v in distance.items())),
        {"sign_changes": changes, "final_distance": distance})


def jobs(params, seed):
    return [task(paths, params)]


EXPERIMENT = Experiment(
    name="optimizer-paths",
    chapter=6,
    section="6.1.7",
    jobs=jobs,
    plot=plot,
    check=check,
    params={
        "init": [-7.0, 2.0],
        "steps": 30,
        "optimizers": {
            "SGD": ["sgd", 0.95],
            "Momentum": ["book-momentum", 0.1],
            "AdaGrad": ["book-adagrad", 1.5],
            "Adam": ["book-adam", 0.3],
            "Nesterov": ["book-nesterov", 0.1],
            "RMSprop": ["book-rmsprop", 0.1],
            "AdaDelta": ["adadelta", 1.0],
        },
        # the report's slider: 13 rates per rule, 10^-1.5 … 10^1.5 times the book's (1 in the
        # middle)
        "explore_factors": [float(f"{10 ** k:.4g}") for k in np.linspace(-1.5, 1.5, 13)],
    },
    # dlfs run --explore: 25 rates per rule over the same span, the 13 among them
    explore_params={"explore_factors": [float(f"{10 ** k:.4g}")
                                        for k in np.linspace(-1.5, 1.5, 25)]},
)
