"""Book 6.2.2–6.2.3 (weight_init_activation_histogram.py): activations through 5 layers."""

from __future__ import annotations

import numpy as np

from dlfs import catalogue
from dlfs.experiments import figures
from dlfs.experiments.base import Experiment, Verdict
from dlfs.functions import ACTIVATIONS
from dlfs.init import weight_scale

RANGES = {"sigmoid": (0.0, 1.0), "tanh": (-1.0, 1.0), "relu": (0.0, 1.0)}


def run(ctx, params):
    results = {}
    nodes, layers = params["node_num"], params["hidden_layer_size"]
    for a, activation in enumerate(params["activations"]):
        for i, init in enumerate(params["inits"]):
            rng = ctx.rng(a, i)
            x = rng.standard_normal((params["samples"], nodes))
            histograms, stds, saturated = [], [], []
            for _ in range(layers):
                w = rng.standard_normal((nodes, nodes)) * weight_scale(init, nodes, nodes)
                x = ACTIVATIONS[activation](x @ w)
                # The book's range=(0, 1) would cut tanh's negative half; tanh gets (−1, 1).
                counts, edges = np.histogram(x, bins=params["bins"], range=RANGES[activation])
                histograms.append(counts)
                stds.append(float(x.std()))
                saturated.append(float(np.mean((x < 0.1) | (x > 0.9))))
            results[f"{activation}/{init}"] = {
                "activation": activation, "init": init, "histograms": histograms,
                "edges": edges, "std": stds, "saturated": saturated}
    return {"runs": results}


def _init_label(init, lang):
    """'std 0.01', 'Xavier', 'He' in ``lang``."""
    if isinstance(init, str):
        return catalogue.text(f"activation-histograms.{init}", lang)
    return catalogue.text("activation-histograms.init_std", lang, std=init)


def plot(results, lang):
    runs = results["runs"]
    activations = list(dict.fromkeys(r["activation"] for r in runs.values()))
    inits = list(dict.fromkeys(str(r["init"]) for r in runs.values()))
    fig, axes = figures.figure(lang, len(activations), len(inits),
                               figsize=(3.2 * len(inits), 2.6 * len(activations)), squeeze=False)
    cmap = figures.plt.get_cmap("viridis")
    for r, activation in enumerate(activations):
        for c, init in enumerate(inits):
            ax = axes[r, c]
            run = runs[f"{activation}/{init}"]
            edges = np.asarray(run["edges"])
            for k, counts in enumerate(run["histograms"]):
                ax.stairs(counts, edges, color=cmap(k / max(1, len(run["histograms"]) - 1)),
                          label=catalogue.word("layer", lang, layer=k + 1))
            ax.set_title(catalogue.text("activation-histograms.panel", lang,
                                        activation=catalogue.word(activation, lang),
                                        init=_init_label(run["init"], lang)), fontsize=9)
            ax.set_yticks([])
    axes[0, -1].legend(fontsize=7)
    return figures.finish(fig)


def check(results):
    runs = results["runs"]
    sig_std1 = runs["sigmoid/1.0"]["saturated"][-1]
    sig_small = runs["sigmoid/0.01"]["std"][-1]
    sig_xavier = runs["sigmoid/xavier"]
    relu_small = runs["relu/0.01"]["std"][-1] / runs["relu/0.01"]["std"][0]
    relu_he = runs["relu/he"]["std"][-1] / runs["relu/he"]["std"][0]
    held = (sig_std1 > 0.5 and sig_small < 0.02 and sig_xavier["std"][-1] > 0.05
            and sig_xavier["saturated"][-1] < 0.1 and relu_small < 0.01 and relu_he > 0.5)
    numbers = {"sigmoid_std1_saturated": sig_std1, "sigmoid_std001_std": sig_small,
               "sigmoid_xavier_std": sig_xavier["std"][-1],
               "sigmoid_xavier_saturated": sig_xavier["saturated"][-1],
               "relu_std001_shrink": relu_small, "relu_he_shrink": relu_he}
    return Verdict(held, catalogue.both("activation-histograms.verdict",
                                        layers=len(runs["sigmoid/1.0"]["std"]), **numbers),
                   numbers)


EXPERIMENT = Experiment(
    name="activation-histograms",
    chapter=6,
    section="6.2.2",
    run=run,
    plot=plot,
    check=check,
    params={"samples": 1000, "node_num": 100, "hidden_layer_size": 5, "bins": 30,
            "activations": ["sigmoid", "tanh", "relu"], "inits": [1.0, 0.01, "xavier", "he"]},
    fixed=("activations", "inits"),  # the claim reads sigmoid and ReLU at std 1, 0.01, …
)
