"""Book 6.1.7 (optimizer_compare_naive.py): update paths on f(x, y) = x²/20 + y² from (−7, 2)."""

from __future__ import annotations

import numpy as np

from dlfs import catalogue, optim
from dlfs.experiments import figures
from dlfs.experiments.base import Experiment, Verdict


def f(x, y):
    return x**2 / 20.0 + y**2


def run(ctx, params):
    paths = {}
    for label, (name, lr) in params["optimizers"].items():
        point = {"x": np.array(params["init"][0]), "y": np.array(params["init"][1])}
        opt = optim.create(name, lr=lr)
        path = [(float(point["x"]), float(point["y"]))]
        for _ in range(params["steps"]):
            opt.update(point, {"x": point["x"] / 10.0, "y": 2.0 * point["y"]})
            path.append((float(point["x"]), float(point["y"])))
        paths[label] = {"optimizer": name, "lr": lr, "path": path}
    return {"paths": paths}


def plot(results, lang):
    paths = results["paths"]
    cols = 4
    rows = -(-len(paths) // cols)
    fig, axes = figures.figure(lang, rows, cols, figsize=(4 * cols, 3.4 * rows), squeeze=False)
    xs, ys = np.meshgrid(np.arange(-10, 10, 0.05), np.arange(-5, 5, 0.05))
    z = f(xs, ys)
    z[z > 7] = 0
    for ax, (label, run) in zip(axes.ravel(), paths.items()):
        path = np.asarray(run["path"])
        ax.contour(xs, ys, z, levels=12, linewidths=0.6)
        ax.plot(path[:, 0], path[:, 1], "o-", color="red", markersize=3, linewidth=1)
        ax.plot(0, 0, "+", color="black")
        ax.set_xlim(-10, 10)
        ax.set_ylim(-10, 10)
        ax.set_title(catalogue.text("optimizer-paths.panel", lang, name=label, lr=run["lr"]))
    for ax in axes.ravel()[len(paths):]:
        ax.axis("off")
    return figures.finish(fig)


def _sign_changes(path):
    y = np.asarray(path)[1:, 1]
    return int(np.sum(np.diff(np.sign(y)) != 0))


def check(results):
    paths = results["paths"]
    changes = {label: _sign_changes(run["path"]) for label, run in paths.items()}
    distance = {label: float(np.hypot(*run["path"][-1])) for label, run in paths.items()}
    others = ("Momentum", "AdaGrad", "Adam")
    held = changes["SGD"] >= 25 and all(changes[k] < 10 for k in others)
    return Verdict(held, catalogue.both(
        "optimizer-paths.verdict", steps=len(paths["SGD"]["path"]) - 1,
        changes=", ".join(f"{k} {v}" for k, v in changes.items()),
        distances=", ".join(f"{k} {v:.3f}" for k, v in distance.items())),
        {"sign_changes": changes, "final_distance": distance})


EXPERIMENT = Experiment(
    name="optimizer-paths",
    chapter=6,
    section="6.1.7",
    run=run,
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
    },
    deterministic=True,  # it draws nothing: one run stands for every seed
)
