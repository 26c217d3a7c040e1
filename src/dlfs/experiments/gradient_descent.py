"""Book 4.4.1 (gradient_method.py): gradient descent on x0² + x1² from (−3, 4)."""

from __future__ import annotations

import numpy as np

from dlfs.experiments import figures
from dlfs.experiments.base import Experiment, Verdict, text
from dlfs.gradient import gradient_descent


def function_2(x):
    return float(np.sum(x**2))


def run(ctx, params):
    init = np.array(params["init_x"])
    path = gradient_descent(function_2, init, lr=params["lr"], step_num=params["step_num"])
    compare = {}
    for lr in params["compare_lr"]:
        with np.errstate(over="ignore", invalid="ignore"):
            trail = gradient_descent(function_2, init, lr=lr, step_num=params["compare_steps"])
        compare[f"{lr:g}"] = {"lr": lr, "distance": np.linalg.norm(trail, axis=1),
                              "final": trail[-1]}
    return {"path": path, "compare": compare}


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
    left.set_title({"en": f"lr = 0.1, {len(path) - 1} steps",
                    "ko": f"학습률 0.1, {len(path) - 1}단계"}[lang])
    for key, run in results["compare"].items():
        distance = np.asarray(run["distance"], dtype=float)
        right.semilogy(np.clip(distance, 1e-300, 1e300), label=f"lr = {key}")
    right.set_xlabel({"en": "step", "ko": "단계"}[lang])
    right.set_ylabel({"en": "distance from the minimum", "ko": "최솟값까지의 거리"}[lang])
    right.set_title({"en": "too large and too small learning rates",
                     "ko": "너무 큰 학습률과 너무 작은 학습률"}[lang])
    right.legend()
    return figures.finish(fig)


def check(results):
    start = float(np.linalg.norm(np.asarray(results["path"])[0]))
    final = {key: float(np.asarray(run["distance"], dtype=float)[-1])
             for key, run in results["compare"].items()}
    good, big, small = final["0.1"], final["10"], final["1e-10"]
    held = good < 1e-6 * start and big > 1e6 * start and abs(small - start) < 1e-6 * start
    return Verdict(held, text(
        f"distance from the minimum after 100 steps, starting at {start:g}: lr 0.1 → {good:.2e}, "
        f"lr 10 → {big:.2e} (diverged), lr 1e-10 → {small:.6f} (barely moved)",
        f"시작 거리 {start:g}에서 100단계 후 최솟값까지의 거리: 학습률 0.1 → {good:.2e}, "
        f"학습률 10 → {big:.2e} (발산), 학습률 1e-10 → {small:.6f} (거의 움직이지 않음)"),
        {"start": start, "final_distance": final})


EXPERIMENT = Experiment(
    name="gradient-descent",
    chapter=4,
    section="4.4.1",
    title=text("Gradient descent", "경사 하강법"),
    claim=text("With lr = 0.1, 100 steps reach the minimum; lr = 10 diverges and lr = 1e-10 "
               "hardly moves.",
               "학습률 0.1로 100단계면 최솟값에 도달하지만, 학습률 10은 발산하고 1e-10은 거의 "
               "움직이지 않는다."),
    about=text("Each step is x ← x − η·∇f(x); for this f that is x ← (1 − 2η)·x, so the path "
               "shrinks for 0 < η < 1 and explodes for η > 1.",
               "각 단계는 x ← x − η·∇f(x)이고, 이 f에서는 x ← (1 − 2η)·x이다. 따라서 0 < η < 1이면 "
               "줄어들고 η > 1이면 폭발한다."),
    run=run,
    plot=plot,
    check=check,
    params={"init_x": [-3.0, 4.0], "lr": 0.1, "step_num": 20, "compare_lr": [0.1, 10.0, 1e-10],
            "compare_steps": 100},
)
