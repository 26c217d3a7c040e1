"""Book 6.3.2 (batch_norm_test.py): training with and without batch norm at 16 weight scales."""

from __future__ import annotations

import numpy as np

from dlfs import catalogue
from dlfs.experiments import figures
from dlfs.experiments.base import Experiment, Verdict, parallel_map
from dlfs.experiments.training import accuracy_over_epochs


def _pair(shared, scale, net_kwargs, params, seed):
    """Both networks at one scale, on the same mini-batches."""
    curves = {}
    for use_batchnorm in (True, False):
        net = {**net_kwargs, "weight_init": scale, "use_batchnorm": use_batchnorm}
        with np.errstate(over="ignore", invalid="ignore"):
            try:
                history = accuracy_over_epochs(shared, net, "sgd", {"lr": params["lr"]},
                                               params["max_epochs"], params["batch_size"],
                                               [seed, 3])
                curve = history["train_acc"]
            except FloatingPointError:
                curve = None
        curves["batchnorm" if use_batchnorm else "plain"] = curve
    return curves


def run(ctx, params):
    data = ctx.data
    n = params["train_samples"]
    x, t = data.x_train[:n], data.t_train[:n]
    net_kwargs = {"input_size": data.input_size, "hidden_sizes": params["hidden_sizes"],
                  "output_size": data.n_classes, "activation": "relu", "seed": ctx.seed}
    scales = np.logspace(0, -4, num=params["scales"])
    results = parallel_map(_pair, [(float(s), net_kwargs, params, ctx.seed) for s in scales],
                           ctx.workers, {"x": x, "t": t, "x_test": x, "t_test": t}, ctx.progress)
    return {"scales": scales, "runs": results}


STYLES = {"batchnorm": "-", "plain": "--"}
LABELS = {"batchnorm": "batch-norm.with", "plain": "batch-norm.without"}


def plot(results, lang):
    runs, scales = results["runs"], results["scales"]
    side = int(np.ceil(np.sqrt(len(scales))))
    fig, axes = figures.figure(lang, side, side, figsize=(10, 10.5), squeeze=False)
    labels = {key: catalogue.text(name, lang) for key, name in LABELS.items()}
    lines = {}
    for ax, scale, curves in zip(axes.ravel(), scales, runs):
        for key in ("batchnorm", "plain"):
            if curves[key] is None:  # the loss became NaN/inf: say so instead of a curve
                ax.text(0.5, 0.5 if key == "batchnorm" else 0.4,
                        catalogue.text("batch-norm.diverged", lang, label=labels[key]),
                        transform=ax.transAxes, ha="center", fontsize=8, color="#cf222e")
            else:
                lines[key], = ax.plot(curves[key], STYLES[key], color=f"C{key == 'plain':d}")
        ax.set_title(catalogue.text("batch-norm.panel", lang, scale=scale), fontsize=9)
        ax.set_ylim(0, 1.0)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(scales):]:
        ax.axis("off")
    fig.legend([lines[k] for k in lines], [labels[k] for k in lines], loc="upper center",
               ncol=2, frameon=False)
    fig.supxlabel(catalogue.word("epochs", lang))
    fig.supylabel(catalogue.word("training_accuracy", lang))
    figures.finish(fig)
    fig.subplots_adjust(top=0.93)
    return fig


def _mean(curve):
    return 0.0 if curve is None else float(np.mean(curve[1:]))


def check(results):
    wins = [_mean(r["batchnorm"]) > _mean(r["plain"]) for r in results["runs"]]
    held = sum(wins) > len(wins) / 2
    final_bn = [None if r["batchnorm"] is None else r["batchnorm"][-1] for r in results["runs"]]
    return Verdict(held, catalogue.both("batch-norm.verdict", wins=sum(wins), scales=len(wins)),
                   {"wins": sum(wins), "scales": len(wins), "final_batchnorm_accuracy": final_bn})


EXPERIMENT = Experiment(
    name="batch-norm",
    chapter=6,
    section="6.3.2",
    run=run,
    plot=plot,
    check=check,
    needs_data=True,
    params={"train_samples": 1000, "hidden_sizes": [100] * 5, "lr": 0.01, "batch_size": 100,
            "max_epochs": 20, "scales": 16},
    quick_params={"train_samples": 200, "max_epochs": 2, "scales": 4},
)
