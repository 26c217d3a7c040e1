"""Book 6.4 (overfit_weight_decay.py, overfit_dropout.py): overfitting on 300 samples, and the
two remedies, weight decay and dropout, each against the unregularised baseline."""

from __future__ import annotations

import numpy as np

from dlfs import catalogue
from dlfs.experiments import figures
from dlfs.experiments.base import Experiment, Verdict
from dlfs.experiments.jobs import training

# Each remedy's network argument and the catalogue table (the experiment) that describes it.
REMEDIES = {"weight_decay_lambda": "weight-decay", "dropout_ratio": "dropout"}
LAST = 10  # epochs averaged for the train − test gap


def jobs(params, seed):
    """The unregularised network on ``train_samples`` samples, and the remedy's where there is
    one: the same initial weights and mini-batches. (Overfit's 201 epochs are the first 201 of
    dropout's 301-epoch baseline: the lab trains that once.)

    A remedy's grid for the report follows (``explore_values`` of λ or of the dropout ratio,
    each network trained for ``grid_epochs``): its 0 is the baseline's first epochs and the
    book's value the remedy's, so the lab trains only the other values."""
    def train(epochs=params["max_epochs"], **regulariser):
        return training({"hidden_sizes": params["hidden_sizes"], "activation": "relu",
                         "weight_init": "he", "seed": seed, **regulariser}, "sgd",
                        {"lr": params["lr"]}, samples=params["train_samples"],
                        test_samples=params["test_samples"], epochs=epochs,
                        batch_size=params["batch_size"], batches=[seed, 5])

    regulariser = params["regulariser"]
    if not regulariser:
        return [train()]
    (argument, _), = regulariser.items()
    epochs = grid_epochs(params)
    return [train(), train(**regulariser),
            *(train(epochs, **({argument: value} if value else {}))
              for value in params.get("explore_values", []))]


def grid_epochs(params) -> int:
    """The epochs of each network of a remedy's grid: ``explore_epochs``, at most the
    experiment's own (so that its 0 and the book's value are the beginnings of its runs)."""
    return min(params.get("explore_epochs", params["max_epochs"]), params["max_epochs"])


def run(histories, params):
    results = {"baseline": _accuracies(histories[0])}
    if params["regulariser"]:
        results["regularised"] = _accuracies(histories[1])
        results["regulariser"] = params["regulariser"]
        grid = histories[2:]
        if grid:  # the report's slider: train and test accuracy per epoch, and the gap
            (argument, _), = params["regulariser"].items()
            results["explore"] = {
                "argument": argument, "epochs": grid_epochs(params), "last": LAST,
                "runs": [{"value": value, "train_acc": history["train_acc"],
                          "test_acc": history["test_acc"], "gap": _gap(history)}
                         for value, history in zip(params["explore_values"], grid)]}
    return results


def _accuracies(history: dict) -> dict:
    return {key: history[key] for key in ("train_acc", "test_acc", "train_loss")}


def _gap(history, last: int = LAST):
    train, test = np.asarray(history["train_acc"]), np.asarray(history["test_acc"])
    return float(np.mean(train[-last:] - test[-last:]))


def _remedy(regulariser: dict) -> tuple[str, float]:
    """The remedy's experiment name and its value: ('dropout', 0.2)."""
    (argument, value), = regulariser.items()
    return REMEDIES[argument], value


def plot_runs(runs, lang):
    """Train and test accuracy per epoch, the mean of ``runs`` (one result per seed) with a
    min–max band: the baseline on the left, as the book draws it (Fig. 6-23), the remedy on
    the right."""
    keys = ["baseline", "regularised"] if "regularised" in runs[0] else ["baseline"]
    fig, axes = figures.figure(lang, 1, len(keys), figsize=(6 * len(keys), 4.2), squeeze=False,
                               sharey=True)
    for ax, key in zip(axes.ravel(), keys):
        epochs = np.arange(len(runs[0][key]["train_acc"]))
        every = max(1, len(epochs) // 20)
        figures.band(ax, epochs, [run[key]["train_acc"] for run in runs], marker="o",
                     markevery=every, label=catalogue.word("train", lang))
        figures.band(ax, epochs, [run[key]["test_acc"] for run in runs], marker="s",
                     markevery=every, label=catalogue.word("test", lang))
        ax.set_xlabel(catalogue.word("epochs", lang))
        ax.set_ylim(0, 1.0)
        if "regularised" not in runs[0]:
            ax.set_title(catalogue.word("no_regularisation", lang))
        else:
            name, value = _remedy(runs[0]["regulariser"])
            part = "panel" if key == "regularised" else "without"
            ax.set_title(catalogue.text(f"{name}.{part}", lang, value=value))
        ax.legend(loc="lower right", title=figures.band_title(len(runs), lang))
    axes[0, 0].set_ylabel(catalogue.word("accuracy", lang))
    return figures.finish(fig)


def plot(results, lang):
    return plot_runs([results], lang)


def check_overfit(results):
    history = results["baseline"]
    gap = _gap(history)
    train = float(np.mean(history["train_acc"][-LAST:]))
    held = train > 0.95 and gap > 0.15
    numbers = {"train_acc": train, "gap": gap}
    return Verdict(held, catalogue.both("overfit.verdict", last=LAST, train=train, gap=gap),
                   numbers)


def check_remedy(results):
    baseline, regularised = _gap(results["baseline"]), _gap(results["regularised"])
    held = regularised < baseline
    name, value = _remedy(results["regulariser"])
    return Verdict(held, catalogue.both(f"{name}.verdict", last=LAST, gap=regularised,
                                        baseline=baseline, value=value),
                   {"gap": regularised, "baseline_gap": baseline})


PARAMS = {"train_samples": 300, "test_samples": 10_000, "hidden_sizes": [100] * 6, "lr": 0.01,
          "batch_size": 100, "max_epochs": 201}
QUICK = {"max_epochs": 15, "test_samples": 1_000}


def _experiment(name, section, regulariser, check, grid=None, finer=None, **overrides):
    """``grid``: the report's grid of the remedy's value ({"explore_values": […],
    "explore_epochs": 101}); ``finer``: its values under --explore."""
    return Experiment(
        name=name, chapter=6, section=section, jobs=jobs, run=run, plot=plot, check=check,
        params={**PARAMS, **overrides, "regulariser": regulariser, **(grid or {})},
        quick_params=QUICK, plot_runs=plot_runs,
        rests_on=None if regulariser is None else check_overfit,
        explore_params={"explore_values": finer} if finer else {},
        grid=("explore_values", "explore_epochs"))


# The report's grids (its slider over λ, over the dropout ratio): 0 and the book's value cost
# nothing (the baseline's and the remedy's first epochs), two more values each. Each network
# of the grid trains for 101 epochs, a third of dropout's 301, so the four extra networks add
# about 18 % to `dlfs run all` (jobs.cost; see tests/test_explore_grids.py). --explore asks for
# twice as many values.
GRID_EPOCHS = 101
WEIGHT_DECAY_GRID = [0.0, 0.03, 0.1, 0.3]
DROPOUT_GRID = [0.0, 0.1, 0.2, 0.5]
FINER = {"weight-decay": [0.0, 0.01, 0.03, 0.05, 0.1, 0.2, 0.3, 0.5],
         "dropout": [0.0, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5]}

OVERFIT = _experiment("overfit", "6.4.1", None, check_overfit)
WEIGHT_DECAY = _experiment(
    "weight-decay", "6.4.2", {"weight_decay_lambda": 0.1}, check_remedy,
    grid={"explore_values": WEIGHT_DECAY_GRID, "explore_epochs": GRID_EPOCHS},
    finer=FINER["weight-decay"])
DROPOUT = _experiment(
    "dropout", "6.4.3", {"dropout_ratio": 0.2}, check_remedy,
    grid={"explore_values": DROPOUT_GRID, "explore_epochs": GRID_EPOCHS},
    finer=FINER["dropout"], max_epochs=301)

EXPERIMENTS = (OVERFIT, WEIGHT_DECAY, DROPOUT)
