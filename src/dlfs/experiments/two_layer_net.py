"""Book 4.5 (train_neuralnet.py): the two-layer net 784-50-10 trained with SGD."""

from __future__ import annotations

import numpy as np

from dlfs import catalogue
from dlfs.experiments import figures
from dlfs.experiments.base import Experiment, Verdict, rng
from dlfs.experiments.jobs import task, weights
from dlfs.network import TwoLayerNet
from dlfs.optim import SGD
from dlfs.train import Trainer


def train(params, seed, data, progress=False):
    n_train, n_test = params["train_samples"], params["test_samples"]
    x_train, t_train = data.x_train[:n_train], data.t_train[:n_train]
    net = TwoLayerNet(data.input_size, params["hidden_size"], data.n_classes, seed=rng(seed, 1))
    trainer = Trainer(net, SGD(lr=params["lr"]), x_train, t_train, data.x_test[:n_test],
                      data.t_test[:n_test], epochs=-(-params["iters_num"] * params["batch_size"]
                                                     // len(t_train)),
                      batch_size=params["batch_size"], max_iter=params["iters_num"],
                      seed=rng(seed, 2), progress=progress)
    history = trainer.train()
    return {"train_loss": history.train_loss, "train_acc": history.train_acc,
            "test_acc": history.test_acc, "eval_iterations": history.eval_iterations,
            "iter_per_epoch": trainer.iter_per_epoch}


def plot_runs(runs, lang):
    """The loss per iteration (left) and accuracy per epoch (right), the mean of ``runs`` (one
    result per seed) with a min–max band."""
    fig, (left, right) = figures.figure(lang, 1, 2, figsize=(11, 4.2))
    losses = [np.asarray(run["train_loss"], dtype=float) for run in runs]
    figures.band(left, None, losses, linewidth=0.6)
    left.set_xlabel(catalogue.word("iteration", lang))
    left.set_ylabel(catalogue.word("training_loss", lang))
    left.set_ylim(0, max(2.5, float(np.nanpercentile(np.concatenate(losses), 99.5))))
    epochs = np.arange(len(runs[0]["train_acc"]))
    figures.band(right, epochs, [run["train_acc"] for run in runs], marker="o",
                 label=catalogue.word("train", lang))
    figures.band(right, epochs, [run["test_acc"] for run in runs], marker="s", linestyle="--",
                 label=catalogue.word("test", lang))
    right.set_xlabel(catalogue.word("epochs", lang))
    right.set_ylabel(catalogue.word("accuracy", lang))
    right.set_ylim(0, 1.0)
    right.legend(loc="lower right", title=figures.band_title(len(runs), lang))
    return figures.finish(fig)


def plot(results, lang):
    return plot_runs([results], lang)


def check(results):
    loss = np.asarray(results["train_loss"])
    window = max(1, len(loss) // 20)
    first, last = float(loss[:window].mean()), float(loss[-window:].mean())
    gap = float(results["train_acc"][-1] - results["test_acc"][-1])
    rise = float(results["test_acc"][-1] - results["test_acc"][0])
    held = last < first / 2 and abs(gap) < 0.03 and rise > 0.3
    numbers = {"first_loss": first, "last_loss": last, "gap": gap, "rise": rise}
    return Verdict(held, catalogue.both(
        "two-layer-net.verdict", window=window, first=first, last=last, gap=gap,
        test_first=results["test_acc"][0], test_last=results["test_acc"][-1]), numbers)


def _work(params) -> float:
    """About the multiply-adds of the training: its iterations' mini-batches."""
    sizes = [784, params["hidden_size"], 10]  # MNIST's sizes; only to order the jobs
    return 3.0 * params["iters_num"] * params["batch_size"] * weights(sizes)


def jobs(params, seed):
    return [task(train, params, seed=seed, data=True, work=_work(params))]


EXPERIMENT = Experiment(
    name="two-layer-net",
    chapter=4,
    section="4.5",
    jobs=jobs,
    plot=plot,
    check=check,
    params={"hidden_size": 50, "iters_num": 10_000, "batch_size": 100, "lr": 0.1,
            "train_samples": 60_000, "test_samples": 10_000},
    quick_params={"iters_num": 500, "train_samples": 5_000, "test_samples": 1_000},
    plot_runs=plot_runs,
)
