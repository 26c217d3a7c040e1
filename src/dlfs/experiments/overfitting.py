"""Book 6.4 (overfit_weight_decay.py, overfit_dropout.py): overfitting on 300 samples, and the
two remedies, weight decay and dropout, each against the unregularised baseline."""

from __future__ import annotations

import numpy as np

from dlfs import catalogue
from dlfs.experiments import figures
from dlfs.experiments.base import Experiment, Verdict, parallel_map
from dlfs.experiments.training import accuracy_over_epochs

# Each remedy's network argument and the catalogue table (the experiment) that describes it.
REMEDIES = {"weight_decay_lambda": "weight-decay", "dropout_ratio": "dropout"}
LAST = 10  # epochs averaged for the train − test gap


def _train(shared, net_kwargs: dict, regulariser: dict, params: dict, seed: int):
    return accuracy_over_epochs(shared, {**net_kwargs, **regulariser}, "sgd",
                                {"lr": params["lr"]}, params["max_epochs"],
                                params["batch_size"], [seed, 5])


def run(ctx, params):
    regulariser = params["regulariser"]
    data = ctx.data
    n, n_test = params["train_samples"], params["test_samples"]
    shared = {"x": data.x_train[:n], "t": data.t_train[:n], "x_test": data.x_test[:n_test],
              "t_test": data.t_test[:n_test]}
    net_kwargs = {"input_size": data.input_size, "hidden_sizes": params["hidden_sizes"],
                  "output_size": data.n_classes, "activation": "relu", "weight_init": "he",
                  "seed": ctx.seed}
    # The three share one unregularised baseline within one `dlfs run`, trained once for the
    # most epochs any of them needs: its first 201 epochs are bit for bit a 201-epoch run
    # (the mini-batches come from the seed, epoch after epoch, whatever the number of epochs).
    baselines = ctx.cache.setdefault("overfitting.baselines", {})
    baseline_key = _baseline_key(params)
    key = (data.name, ctx.seed, baseline_key)
    epochs = params["max_epochs"]
    train_baseline = key not in baselines or len(baselines[key]["train_acc"]) < epochs + 1
    jobs = []  # (regulariser, parameters) of each training this run needs
    if train_baseline:
        longest = max([epochs] + [other["max_epochs"] for name, other in ctx.planned.items()
                                  if name in NAMES and _baseline_key(other) == baseline_key])
        jobs.append(({}, {**params, "max_epochs": longest}))
    if regulariser:
        jobs.append((regulariser, params))
    runs = parallel_map(_train, [(net_kwargs, config, job_params, ctx.seed)
                                 for config, job_params in jobs], ctx.workers, shared,
                        ctx.progress)
    if train_baseline:
        baselines[key] = runs.pop(0)
    results = {"baseline": _first_epochs(baselines[key], epochs)}
    if regulariser:
        results["regularised"] = runs[0]
        results["regulariser"] = regulariser
    return results


def _baseline_key(params: dict) -> str:
    """What the baseline depends on: every setting but the regulariser and the epoch count."""
    return repr([params[k] for k in sorted(PARAMS) if k != "max_epochs"])


def _first_epochs(history: dict, epochs: int) -> dict:
    """The history of the first ``epochs`` epochs of a longer run: the accuracies before
    training and after each epoch, and the losses of those epochs' iterations."""
    per_epoch = len(history["train_loss"]) // (len(history["train_acc"]) - 1)
    return {"train_acc": history["train_acc"][:epochs + 1],
            "test_acc": history["test_acc"][:epochs + 1],
            "train_loss": history["train_loss"][:epochs * per_epoch]}


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


def _experiment(name, section, regulariser, check, cost, **overrides):
    return Experiment(
        name=name, chapter=6, section=section, run=run, plot=plot, check=check,
        needs_data=True, params={**PARAMS, **overrides, "regulariser": regulariser},
        quick_params=QUICK, plot_runs=plot_runs, cost=cost)


# Costs as in a run of all three, where overfit runs first and trains the shared baseline.
OVERFIT = _experiment("overfit", "6.4.1", None, check_overfit, cost=15)
WEIGHT_DECAY = _experiment("weight-decay", "6.4.2", {"weight_decay_lambda": 0.1}, check_remedy,
                           cost=11)
DROPOUT = _experiment("dropout", "6.4.3", {"dropout_ratio": 0.2}, check_remedy, cost=16,
                      max_epochs=301)

EXPERIMENTS = (OVERFIT, WEIGHT_DECAY, DROPOUT)
NAMES = {experiment.name for experiment in EXPERIMENTS}
