"""Book 6.1.8 (optimizer_compare_mnist.py): the optimizers on 784-[100]×4-10."""

from __future__ import annotations

import itertools

import numpy as np

from dlfs import catalogue
from dlfs.experiments import figures
from dlfs.experiments.base import Experiment, Verdict, parallel_map, smooth_curve
from dlfs.experiments.training import losses_over_iterations

# The book's markers first (o, x, s, D); more curves than markers reuse them in turn.
MARKERS = "oxsD^v<>"


def run(ctx, params):
    data = ctx.data
    net_kwargs = {"input_size": data.input_size, "hidden_sizes": params["hidden_sizes"],
                  "output_size": data.n_classes, "activation": "relu", "weight_init": "he",
                  "seed": ctx.seed}
    batch_seed = [ctx.seed, 7]
    jobs = [(net_kwargs, name, {"lr": lr}, params["iters"], params["batch_size"], batch_seed)
            for name, lr in params["optimizers"].values()]
    losses = parallel_map(losses_over_iterations, jobs, ctx.workers,
                          {"x": data.x_train, "t": data.t_train}, ctx.progress)
    return {"losses": dict(zip(params["optimizers"], losses)),
            "optimizers": params["optimizers"]}


def plot_losses(losses: dict, lang: str, top: float, legend: dict | None = None):
    """The book's comparison figure: each run's loss through smooth_curve, markers every
    twentieth of the way, y from 0 to ``top``. Every run gets a curve, however many."""
    fig, ax = figures.figure(lang, figsize=(7.5, 4.8))
    for marker, (label, loss) in zip(itertools.cycle(MARKERS), losses.items()):
        ax.plot(smooth_curve(loss), marker=marker, markevery=max(1, len(loss) // 20),
                label=(legend or {}).get(label, label), linewidth=1)
    ax.set_xlabel(catalogue.word("iterations", lang))
    ax.set_ylabel(catalogue.word("smoothed_loss", lang))
    ax.set_ylim(0, top)
    ax.legend()
    return figures.finish(fig)


def plot(results, lang):
    legend = {label: catalogue.text("optimizer-compare.legend", lang, name=label, lr=lr)
              for label, (_, lr) in results["optimizers"].items()}
    return plot_losses(results["losses"], lang, top=1.0, legend=legend)


LAST = 100  # iterations averaged for the final loss


def final_loss(loss, window=LAST):
    loss = np.asarray(loss, dtype=float)
    return float(np.mean(loss[-min(window, len(loss)):]))


def listing(final: dict) -> str:
    """'Adam 0.123, SGD 0.456': each run's final loss."""
    return ", ".join(f"{label} {value:.3f}" for label, value in final.items())


def check(results):
    final = {label: final_loss(loss) for label, loss in results["losses"].items()}
    held = final["Adam"] < final["SGD"] and final["AdaGrad"] < final["SGD"]
    window = min(LAST, max(len(loss) for loss in results["losses"].values()))
    ranked = dict(sorted(final.items(), key=lambda item: item[1]))
    return Verdict(held, catalogue.both("optimizer-compare.verdict", window=window,
                                        losses=listing(ranked)), {"final_loss": final})


EXPERIMENT = Experiment(
    name="optimizer-compare",
    chapter=6,
    section="6.1.8",
    run=run,
    plot=plot,
    check=check,
    needs_data=True,
    params={
        "hidden_sizes": [100] * 4,
        "batch_size": 128,
        "iters": 2000,
        "optimizers": {
            "SGD": ["sgd", 0.01],
            "Momentum": ["book-momentum", 0.01],
            "Nesterov": ["book-nesterov", 0.01],
            "AdaGrad": ["book-adagrad", 0.01],
            "RMSprop": ["book-rmsprop", 0.001],
            "AdaDelta": ["adadelta", 1.0],
            "Adam": ["book-adam", 0.001],
        },
    },
    quick_params={"iters": 60},
)
