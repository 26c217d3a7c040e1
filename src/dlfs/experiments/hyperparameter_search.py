"""Book 6.5.3 (hyperparameter_optimization.py): random search of lr and weight decay."""

from __future__ import annotations

import tempfile

import numpy as np

from dlfs import catalogue, search
from dlfs.experiments.base import Experiment, Verdict


def run(ctx, params):
    config = search.load_config(
        n_trials=params["n_trials"], epochs=params["epochs"], seed=ctx.seed,
        hidden_sizes=params["hidden_sizes"], train_samples=params["train_samples"],
        sampler="random")
    with tempfile.TemporaryDirectory(prefix="dlfs-search-") as folder:
        storage = search.default_storage(folder)
        search.search(config, "lab", storage, workers=ctx.workers)
        summary = search.summarize(search.open_study(config, "lab", storage))
    return summary


def plot(results, lang):
    return search.plot_best(results, lang)


def check(results):
    by_number = {t["number"]: t for t in results["trials"]}
    top = [by_number[n] for n in results["ranking"][:5]]
    lrs = np.array([t["params"]["lr"] for t in top])
    decays = np.array([t["params"]["weight_decay"] for t in top])
    median_lr = float(np.median(lrs))
    decades = float(np.log10(decays.max() / decays.min())) if len(decays) else 0.0
    held = len(top) == 5 and median_lr >= 1e-3
    best = results["best"]["value"] if results["best"] else float("nan")
    return Verdict(held, catalogue.both("hyperparameter-search.verdict", top=len(top),
                                        median_lr=median_lr, decades=decades, best=best),
                   {"median_lr_top5": median_lr, "weight_decay_decades_top5": decades})


EXPERIMENT = Experiment(
    name="hyperparameter-search",
    chapter=6,
    section="6.5.3",
    run=run,
    plot=plot,
    check=check,
    needs_data=True,
    params={"n_trials": 100, "epochs": 50, "hidden_sizes": [100] * 6, "train_samples": 500},
    quick_params={"n_trials": 6, "epochs": 3, "hidden_sizes": [20, 20]},
)
