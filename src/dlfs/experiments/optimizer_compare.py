"""Book 6.1.8 (optimizer_compare_mnist.py): the optimizers on 784-[100]×4-10."""

from __future__ import annotations

import numpy as np

from dlfs.experiments import figures
from dlfs.experiments.base import Experiment, Verdict, parallel_map, smooth_curve, text
from dlfs.experiments.training import losses_over_iterations

MARKERS = "oxsD^v<>"


def run(ctx, params):
    data = ctx.data
    net_kwargs = {"input_size": 784, "hidden_sizes": params["hidden_sizes"], "output_size": 10,
                  "activation": "relu", "weight_init": "he", "seed": ctx.seed}
    batch_seed = [ctx.seed, 7]
    jobs = [(net_kwargs, name, {"lr": lr}, params["iters"], params["batch_size"], batch_seed)
            for name, lr in params["optimizers"].values()]
    losses = parallel_map(losses_over_iterations, jobs, ctx.workers,
                          {"x": data.x_train, "t": data.t_train}, ctx.progress)
    return {"losses": dict(zip(params["optimizers"], losses)),
            "optimizers": params["optimizers"]}


def plot_losses(losses: dict, lang: str, top: float, legend: dict | None = None):
    """The book's comparison figure: each run's loss through smooth_curve, markers every
    twentieth of the way, y from 0 to ``top``."""
    fig, ax = figures.figure(lang, figsize=(7.5, 4.8))
    for marker, (label, loss) in zip(MARKERS, losses.items()):
        ax.plot(smooth_curve(loss), marker=marker, markevery=max(1, len(loss) // 20),
                label=(legend or {}).get(label, label), linewidth=1)
    ax.set_xlabel({"en": "iterations", "ko": "반복 횟수"}[lang])
    ax.set_ylabel({"en": "loss (smoothed)", "ko": "손실 (평활화)"}[lang])
    ax.set_ylim(0, top)
    ax.legend()
    return figures.finish(fig)


def plot(results, lang):
    legend = {label: f"{label} (lr={lr:g})"
              for label, (_, lr) in results["optimizers"].items()}
    return plot_losses(results["losses"], lang, top=1.0, legend=legend)


def final_loss(loss, window=100):
    loss = np.asarray(loss, dtype=float)
    return float(np.mean(loss[-min(window, len(loss)):]))


def check(results):
    final = {label: final_loss(loss) for label, loss in results["losses"].items()}
    held = final["Adam"] < final["SGD"] and final["AdaGrad"] < final["SGD"]
    listing = ", ".join(f"{k} {v:.3f}" for k, v in sorted(final.items(), key=lambda kv: kv[1]))
    return Verdict(held, text(f"mean loss over the last 100 iterations: {listing}",
                              f"마지막 100회 평균 손실: {listing}"), {"final_loss": final})


EXPERIMENT = Experiment(
    name="optimizer-compare",
    chapter=6,
    section="6.1.8",
    title=text("Optimizers compared on the data set", "데이터셋에서의 옵티마이저 비교"),
    claim=text("Adam and AdaGrad reach a lower loss than SGD after 2 000 iterations.",
               "2 000회 반복 후 Adam과 AdaGrad의 손실이 SGD보다 낮다."),
    about=text("784-[100]×4-10, ReLU, He initialisation, mini-batches of 128 drawn with "
               "replacement, the same batches and the same initial weights for every optimizer. "
               "Learning rates are the book's defaults; RMSprop uses 0.001, because at the "
               "book's 0.01 its first steps are ≈ 10·lr·sign(g) and the loss explodes (the "
               "reason the book leaves it commented out).",
               "784-[100]×4-10, ReLU, He 초깃값, 복원 추출한 128개 미니배치. "
               "모든 옵티마이저가 같은 배치와 같은 초기 가중치를 쓴다. "
               "학습률은 책의 기본값이고, RMSprop만 0.001을 쓴다. "
               "책의 0.01로는 첫 갱신이 ≈ 10·lr·sign(g)가 되어 손실이 폭발하기 때문이다 (책이 "
               "주석 처리해 둔 이유)."),
    run=run,
    plot=plot,
    check=check,
    needs_data=True,
    params={
        "hidden_sizes": [100] * 4,
        "batch_size": 128,
        "iters": 2000,
        "optimizers": {
            "SGD": ["sgd", 0.01],
            "Momentum": ["book-momentum", 0.01],
            "Nesterov": ["book-nesterov", 0.01],
            "AdaGrad": ["book-adagrad", 0.01],
            "RMSprop": ["book-rmsprop", 0.001],
            "AdaDelta": ["adadelta", 1.0],
            "Adam": ["book-adam", 0.001],
        },
    },
    quick_params={"iters": 60},
)
