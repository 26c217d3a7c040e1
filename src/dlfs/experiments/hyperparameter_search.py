"""Book 6.5.3 (hyperparameter_optimization.py): random search of lr and the network's weight
decay λ, and the search's figures (Best-1 … Best-20, and the searched plane)."""

from __future__ import annotations

import math
import tempfile

import numpy as np

from dlfs import catalogue
from dlfs.experiments import figures
from dlfs.experiments.base import Experiment, Verdict
from dlfs.experiments.jobs import task, weights


def trials(params, seed, data, progress=False):
    """The book's search on ``data``, the very data set the run records, in this process (the
    lab runs it beside its other jobs)."""
    from dlfs import search  # here: a run without the search does not load it

    # A run of the lab has its train_samples fitted already: a default larger than the data set
    # capped (and said, and recorded), a set one refused (Data.capped_defaults); called
    # directly with a smaller data set, the same default is capped here.
    config = search.load_config(
        n_trials=params["n_trials"], epochs=params["epochs"], seed=seed,
        hidden_sizes=params["hidden_sizes"],
        train_samples=min(params["train_samples"], len(data.t_train)), sampler="random")
    with tempfile.TemporaryDirectory(prefix="dlfs-search-") as folder:
        storage = search.default_storage(folder)
        # Thrown away with the folder: no commit needs to wait for the disk.
        search.search(config, "lab", storage, workers=1, data=data,
                      progress=progress, durable=False)
        summary = search.summarize(search.open_study(config, "lab", storage))
    summary["layer_sizes"] = [data.input_size, *params["hidden_sizes"], data.n_classes]
    return summary


def _name(param: str, lang: str) -> str:
    """A searched value's name in ``lang`` (learning rate, weight decay λ); a name the catalogue
    does not know (an optimizer's argument, say) as it is."""
    try:
        return catalogue.text(f"hyperparameter-search.names.{param}", lang)
    except catalogue.CatalogueError:
        return param


def plot_best(summary: dict, lang: str = "en", top: int = 20):
    """The book's 'Best-1 … Best-20' grid: validation (solid) and training (dashed) accuracy,
    said in a legend above the grid."""
    by_number = {t["number"]: t for t in summary["trials"]}
    ranked = summary["ranking"][:top]
    cols = 5
    rows = max(1, math.ceil(len(ranked) / cols))
    fig, axes = figures.figure(lang, rows, cols, figsize=(12, 2.2 * rows + 0.9), squeeze=False)
    for ax in axes.ravel():
        ax.set_ylim(0, 1.0)
        ax.set_xticks([])
        ax.set_yticks([])
    for ax in axes[:, 0]:  # as in the book, the first column keeps its 0–1 scale
        ax.set_yticks([0.0, 0.5, 1.0])
        ax.tick_params(axis="y", labelsize=8)
    for ax in axes.ravel()[len(ranked):]:
        ax.axis("off")
    for rank, (ax, number) in enumerate(zip(axes.ravel(), ranked), start=1):
        trial = by_number[number]
        ax.plot(trial["val_acc"], color="C0",
                label=catalogue.word("validation_accuracy", lang))
        ax.plot(trial["train_acc"], "--", color="C1",
                label=catalogue.word("training_accuracy", lang))
        ax.set_title(catalogue.text("hyperparameter-search.best", lang, rank=rank,
                                    value=trial["value"]), fontsize=9)
        # Below the panel, not in it, where a curve near 0 or 1 would run through it.
        ax.set_xlabel(", ".join(f"{_name(k, lang)} {v:.1e}"
                                for k, v in sorted(trial["params"].items())), fontsize=6.5)
    if ranked:
        fig.legend(*axes[0, 0].get_legend_handles_labels(), loc="upper center", ncol=2,
                   fontsize=9, frameon=False)
    # Laid out once, with room for the legend at the top.
    return figures.finish(fig, rect=(0, 0, 1, 1 - 0.35 / fig.get_size_inches()[1]))


def plot_space(summary: dict, lang: str = "en"):
    """Every finished trial in the plane of the first two searched values (lr × λ by default),
    coloured by validation accuracy; failed and pruned trials as red crosses."""
    complete = [t for t in summary["trials"] if t["state"] == "COMPLETE"]
    names = sorted({name for t in summary["trials"] for name in t["params"]})[:2]
    fig, ax = figures.figure(lang, figsize=(6, 4.8))
    if len(names) == 2 and complete:
        points = ax.scatter([t["params"][names[0]] for t in complete],
                            [t["params"][names[1]] for t in complete],
                            c=[t["value"] for t in complete], cmap="viridis", vmin=0, vmax=1)
        failed = [t for t in summary["trials"] if t["state"] != "COMPLETE" and
                  len(t["params"]) >= 2]
        if failed:
            ax.scatter([t["params"][names[0]] for t in failed],
                       [t["params"][names[1]] for t in failed], marker="x", color="red",
                       label=catalogue.text("hyperparameter-search.failed", lang))
            ax.legend()
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.set_xlabel(_name(names[0], lang))
        ax.set_ylabel(_name(names[1], lang))
        fig.colorbar(points, label=catalogue.word("validation_accuracy", lang))
    return figures.finish(fig)


def plot(results, lang):
    return plot_best(results, lang)


def check(results):
    by_number = {t["number"]: t for t in results["trials"]}
    top = [by_number[n] for n in results["ranking"][:5]]
    lrs = np.array([t["params"]["lr"] for t in top])
    decays = np.array([t["params"]["weight_decay_lambda"] for t in top])
    median_lr = float(np.median(lrs)) if len(lrs) else float("nan")
    decades = float(np.log10(decays.max() / decays.min())) if len(decays) else 0.0
    best = results["best"]["value"] if results["best"] else float("nan")
    held = len(top) == 5 and median_lr >= 1e-3
    return Verdict(held, catalogue.both("hyperparameter-search.verdict", top=len(top),
                                        median_lr=median_lr, decades=decades, best=best),
                   {"median_lr_top5": median_lr, "weight_decay_lambda_decades_top5": decades})


def _work(params) -> float:
    """About the multiply-adds of the search: every trial's epochs over its training samples."""
    sizes = [784, *params["hidden_sizes"], 10]  # MNIST's sizes; only to order the jobs
    return 3.0 * params["n_trials"] * params["epochs"] * params["train_samples"] * weights(sizes)


def jobs(params, seed):
    return [task(trials, params, seed=seed, data=True, work=_work(params))]


EXPERIMENT = Experiment(
    name="hyperparameter-search",
    chapter=6,
    section="6.5.3",
    jobs=jobs,
    plot=plot,
    check=check,
    params={"n_trials": 100, "epochs": 50, "hidden_sizes": [100] * 6, "train_samples": 500},
    quick_params={"n_trials": 6, "epochs": 3, "hidden_sizes": [20, 20]},
)
