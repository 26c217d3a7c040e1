"""Book 4.5 (train_neuralnet.py): the two-layer net 784-50-10 trained with SGD."""

from __future__ import annotations

import numpy as np

from dlfs.experiments import figures
from dlfs.experiments.base import Experiment, Verdict, text
from dlfs.network import TwoLayerNet
from dlfs.optim import SGD
from dlfs.train import Trainer


def run(ctx, params):
    data = ctx.data
    n_train, n_test = params["train_samples"], params["test_samples"]
    x_train, t_train = data.x_train[:n_train], data.t_train[:n_train]
    net = TwoLayerNet(784, params["hidden_size"], 10, seed=ctx.rng(1))
    trainer = Trainer(net, SGD(lr=params["lr"]), x_train, t_train, data.x_test[:n_test],
                      data.t_test[:n_test], epochs=-(-params["iters_num"] * params["batch_size"]
                                                     // len(t_train)),
                      batch_size=params["batch_size"], max_iter=params["iters_num"],
                      seed=ctx.rng(2), progress=ctx.progress)
    history = trainer.train()
    return {"train_loss": history.train_loss, "train_acc": history.train_acc,
            "test_acc": history.test_acc, "eval_iterations": history.eval_iterations,
            "iter_per_epoch": trainer.iter_per_epoch}


def plot(results, lang):
    fig, (left, right) = figures.figure(lang, 1, 2, figsize=(11, 4.2))
    loss = np.asarray(results["train_loss"])
    left.plot(loss, linewidth=0.6)
    left.set_xlabel({"en": "iteration", "ko": "반복 횟수"}[lang])
    left.set_ylabel({"en": "training loss", "ko": "훈련 손실"}[lang])
    left.set_ylim(0, max(2.5, float(np.percentile(loss, 99.5))))
    epochs = np.arange(len(results["train_acc"]))
    right.plot(epochs, results["train_acc"], marker="o", label={"en": "train", "ko": "훈련"}[lang])
    right.plot(epochs, results["test_acc"], marker="s", linestyle="--",
               label={"en": "test", "ko": "시험"}[lang])
    right.set_xlabel({"en": "epoch", "ko": "에폭"}[lang])
    right.set_ylabel({"en": "accuracy", "ko": "정확도"}[lang])
    right.set_ylim(0, 1.0)
    right.legend(loc="lower right")
    return figures.finish(fig)


def check(results):
    loss = np.asarray(results["train_loss"])
    window = max(1, len(loss) // 20)
    first, last = float(loss[:window].mean()), float(loss[-window:].mean())
    gap = float(results["train_acc"][-1] - results["test_acc"][-1])
    rise = float(results["test_acc"][-1] - results["test_acc"][0])
    held = last < first / 2 and abs(gap) < 0.03 and rise > 0.3
    return Verdict(held, text(
        f"mean loss {first:.3f} over the first {window} iterations → {last:.3f} over the last; "
        f"test accuracy {results['test_acc'][0]:.3f} → {results['test_acc'][-1]:.3f}; "
        f"final train − test gap {gap:+.3f} (limit ±0.03)",
        f"처음 {window}회 평균 손실 {first:.3f} → 마지막 {last:.3f}; 시험 정확도 "
        f"{results['test_acc'][0]:.3f} → {results['test_acc'][-1]:.3f}; 최종 훈련 − 시험 "
        f"정확도 차 {gap:+.3f} (기준 ±0.03)"),
        {"first_loss": first, "last_loss": last, "gap": gap, "rise": rise})


EXPERIMENT = Experiment(
    name="two-layer-net",
    chapter=4,
    section="4.5",
    title=text("Training the two-layer net", "2층 신경망 학습"),
    claim=text("The loss falls and accuracy rises epoch by epoch, with train and test accuracy "
               "staying close: the network does not overfit.",
               "손실은 줄고 정확도는 에폭마다 오르며, 훈련과 시험 정확도가 가깝게 유지된다. "
               "즉 오버피팅이 일어나지 않는다."),
    about=text("784-50-10 with sigmoid, W ~ 0.01·N(0, 1), mini-batches of 100, SGD lr 0.1, "
               "10 000 iterations; the gradient by backprop (the numerical gradient would take "
               "days, book 4.5).",
               "784-50-10 시그모이드 신경망, W ~ 0.01·N(0, 1), 미니배치 100, SGD 학습률 0.1, "
               "10 000회 반복. 기울기는 오차역전파로 구한다 (수치 미분이면 며칠이 걸린다)."),
    run=run,
    plot=plot,
    check=check,
    needs_data=True,
    params={"hidden_size": 50, "iters_num": 10_000, "batch_size": 100, "lr": 0.1,
            "train_samples": 60_000, "test_samples": 10_000},
    quick_params={"iters_num": 500, "train_samples": 5_000, "test_samples": 1_000},
)
