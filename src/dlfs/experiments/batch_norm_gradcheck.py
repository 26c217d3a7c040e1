"""Book batch_norm_gradient_check.py: backprop through batch norm against numerical gradients."""

from __future__ import annotations

import numpy as np

from dlfs import catalogue
from dlfs.experiments import figures
from dlfs.experiments.base import Experiment, Verdict, rng
from dlfs.experiments.jobs import task
from dlfs.gradient import gradient_check
from dlfs.network import MultiLayerNet


def gradcheck(params, seed, data, progress=False):
    x = data.x_train[: params["batch"]].astype(np.float64)
    t = data.t_train[: params["batch"]]
    net = MultiLayerNet(data.input_size, params["hidden_sizes"], data.n_classes,
                        activation="relu", weight_init="he", use_batchnorm=True,
                        dtype=np.float64, seed=rng(seed, 1))
    # Non-zero β keeps ReLU inputs off its kink at 0, where a central difference is wrong.
    draws = rng(seed, 2)
    for key, value in net.params.items():
        if key.startswith("beta"):
            value[...] = 0.1 * draws.standard_normal(value.shape)
    # Along random directions (two losses each) rather than coordinate by coordinate (two per
    # weight, 90 000 for [100, 100]): as strict on a wrong backward, 100 times faster.
    errors = gradient_check(net, x, t, progress=progress,
                            directions=params["directions"], seed=rng(seed, 3))
    return {"errors": errors}


def plot(results, lang):
    errors = results["errors"]
    fig, ax = figures.figure(lang, figsize=(7, 3.8))
    keys = list(errors)
    ax.bar(keys, [max(v, 1e-18) for v in errors.values()], color="#4477aa")
    ax.set_yscale("log")
    ax.axhline(1e-7, color="red", linestyle="--", label="1e-7")
    ax.set_ylabel(catalogue.text("batch-norm-gradcheck.error", lang))
    ax.tick_params(axis="x", rotation=45)
    ax.legend()
    return figures.finish(fig)


def check(results):
    worst_key = max(results["errors"], key=results["errors"].get)
    worst = results["errors"][worst_key]
    return Verdict(worst < 1e-7, catalogue.both(
        "batch-norm-gradcheck.verdict", worst=worst, worst_key=worst_key,
        count=len(results["errors"])), {"max_error": worst, "worst": worst_key})


def jobs(params, seed):
    return [task(gradcheck, params, seed=seed, data=True)]


EXPERIMENT = Experiment(
    name="batch-norm-gradcheck",
    chapter=6,
    section="6.3",
    jobs=jobs,
    plot=plot,
    check=check,
    params={"hidden_sizes": [100, 100], "batch": 10, "directions": 32},
    quick_params={"hidden_sizes": [10, 10]},
    judged_when_quick=True,  # a gradient check is as strict on a smaller net
)
