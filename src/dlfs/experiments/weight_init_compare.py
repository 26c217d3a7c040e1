"""Book 6.2.4 (weight_init_compare.py): std 0.01, Xavier and He on 784-[100]×4-10 with SGD."""

from __future__ import annotations

from dlfs import catalogue
from dlfs.experiments.base import Experiment, Verdict
from dlfs.experiments.jobs import training
from dlfs.experiments.optimizer_compare import (
    BATCHES,
    LAST,
    final_loss,
    listing,
    plot_loss_runs,
)


def jobs(params, seed):
    """One training per initial weight scale, with SGD, on the same mini-batches."""
    return [training({"hidden_sizes": params["hidden_sizes"], "activation": "relu",
                      "weight_init": init, "seed": seed}, "sgd", {"lr": params["lr"]},
                     iterations=params["iters"], batch_size=params["batch_size"],
                     batches=[seed, BATCHES])
            for init in params["inits"].values()]


def run(losses, params):
    return {"losses": dict(zip(params["inits"], losses))}


def _legend(label: str, lang: str) -> str:
    """'std=0.01' in ``lang`` (a run keyed by its weights' std); Xavier and He as they are."""
    if label.startswith("std="):
        try:
            return catalogue.text("weight-init-compare.std", lang, std=float(label[4:]))
        except ValueError:
            pass
    return label


def plot_runs(runs, lang):
    return plot_loss_runs([run["losses"] for run in runs], lang, top=2.5,
                          legend={label: _legend(label, lang) for label in runs[0]["losses"]})


def plot(results, lang):
    return plot_runs([results], lang)


def check(results):
    final = {label: final_loss(loss) for label, loss in results["losses"].items()}
    held = final["std=0.01"] > 2.0 and final["Xavier"] < 1.0 and final["He"] < 1.0
    window = min(LAST, max(len(loss) for loss in results["losses"].values()))
    return Verdict(held, catalogue.both("weight-init-compare.verdict", window=window,
                                        losses=listing(final)), {"final_loss": final})


EXPERIMENT = Experiment(
    name="weight-init-compare",
    chapter=6,
    section="6.2.4",
    jobs=jobs,
    run=run,
    plot=plot,
    check=check,
    params={"hidden_sizes": [100] * 4, "batch_size": 128, "iters": 2000, "lr": 0.01,
            "inits": {"std=0.01": 0.01, "Xavier": "xavier", "He": "he"}},
    quick_params={"iters": 60},
    plot_runs=plot_runs,
)
