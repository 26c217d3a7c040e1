"""Book 6.1.7 (optimizer_compare_naive.py): update paths on f(x, y) = x²/20 + y² from (−7, 2)."""

from __future__ import annotations

import numpy as np

from dlfs import optim
from dlfs.experiments import figures
from dlfs.experiments.base import Experiment, Verdict, text


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
        ax.set_title(f"{label} (lr={run['lr']:g})")
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
    listing = ", ".join(f"{k} {changes[k]}" for k in changes)
    dist = ", ".join(f"{k} {distance[k]:.3f}" for k in distance)
    return Verdict(held, text(
        f"sign changes of y in 30 steps: {listing}; final distance from the minimum: {dist}",
        f"30단계 동안 y의 부호가 바뀐 횟수: {listing}; 최종 위치와 최솟값 사이 거리: {dist}"),
        {"sign_changes": changes, "final_distance": distance})


EXPERIMENT = Experiment(
    name="optimizer-paths",
    chapter=6,
    section="6.1.7",
    title=text("Update paths of the optimizers", "옵티마이저별 갱신 경로"),
    claim=text("SGD zig-zags: its y changes sign at nearly every one of the 30 steps, while "
               "Momentum, AdaGrad and Adam turn fewer than 10 times.",
               "SGD는 지그재그로 움직인다: 30단계 중 거의 매 단계 y의 부호가 바뀌지만, "
               "모멘텀·AdaGrad·Adam은 10번 미만으로 방향을 바꾼다."),
    about=text("f is 20 times steeper in y than in x, so the gradient mostly points across the "
               "valley. The book's learning rates (SGD 0.95, Momentum 0.1, AdaGrad 1.5, Adam "
               "0.3) and the book's update code; AdaDelta (paper defaults) starts with steps of "
               "about √ε and barely moves in 30 steps.",
               "f는 x보다 y 방향으로 20배 가파르므로 기울기는 대부분 골짜기를 가로지르는 방향이다. "
               "책의 학습률(SGD 0.95, 모멘텀 0.1, AdaGrad 1.5, Adam 0.3)과 책의 갱신 코드를 "
               "쓴다. AdaDelta(논문 기본값)는 √ε 정도의 보폭으로 시작해 30단계 동안 거의 "
               "움직이지 않는다."),
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
)
