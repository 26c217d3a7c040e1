"""Book 6.1.8 (optimizer_compare_mnist.py): the optimizers on 784-[100]×4-10."""

from __future__ import annotations

import numpy as np

from dlfs import catalogue
from dlfs.experiments import figures, learner
from dlfs.experiments.base import Experiment, Verdict, smooth_curve
from dlfs.experiments.jobs import training

# The book's markers first (o, x, s, D); more curves than markers reuse them in turn.
MARKERS = "oxsD^v<>"


BATCHES = 7  # the comparisons' mini-batch stream: [seed, BATCHES], the same for every network


def jobs(params, seed):
    """One training per optimizer: the same network (He's initial weights from the seed) on the
    same mini-batches, ``iters`` iterations each."""
    network = {"hidden_sizes": params["hidden_sizes"], "activation": "relu",
               "weight_init": "he", "seed": seed}
    return [training(network, name, {"lr": lr}, iterations=params["iters"],
                     batch_size=params["batch_size"], batches=[seed, BATCHES])
            for name, lr in params["optimizers"].values()]


def run(losses, params):
    return {"losses": dict(zip(params["optimizers"], losses)),
            "optimizers": params["optimizers"]}


# Book Fig. 6-9 compares these four; the lab's others go in a second panel beside them, with
# SGD and Adam drawn again there for reference, so seven curves do not merge into one band.
BOOK_FOUR = ("SGD", "Momentum", "AdaGrad", "Adam")
REFERENCE = ("SGD", "Adam")


def _panels(labels: list[str]) -> list[list[str]]:
    """The book's four in the first panel; any others, with SGD and Adam, in a second."""
    book = [label for label in labels if label in BOOK_FOUR]
    others = [label for label in labels if label not in BOOK_FOUR]
    if not book or not others:
        return [labels]
    return [book, [label for label in REFERENCE if label in labels] + others]


def plot_loss_runs(runs: list[dict], lang: str, top: float, legend: dict | None = None,
                   titles: list[str] | None = None):
    """The book's comparison figure over one or more runs (one {label: losses} per seed): each
    loss through smooth_curve, the mean line per label with a min–max band over the runs,
    markers every twentieth of the way, y from 0 to ``top`` or higher where a curve ends up
    above it (see _shown_top: one far above, or diverged, is named in the panel instead). Every
    label gets a curve, however many; ``titles`` (one per panel) splits them into _panels: the
    book's four, the others."""
    labels = list(runs[0])
    panels = _panels(labels) if titles else [labels]
    fig, axes = figures.figure(lang, 1, len(panels), figsize=(6.2 * len(panels) + 1.3, 4.8),
                               squeeze=False, sharey=True)
    # Marker and colour by order of first appearance: the book's four keep the book's o, x, s, D
    order = list(dict.fromkeys(label for panel in panels for label in panel))
    # One y scale for every panel (they share it): each curve in view, or named where it is not
    high, off = _shown_top({label: [smooth_curve(run[label]) for run in runs]
                            for label in order}, top)
    for ax, panel, title in zip(axes.ravel(), panels, titles or [None]):
        for label in panel:
            index = order.index(label)
            reference = len(panels) > 1 and panel is not panels[0] and label in REFERENCE
            length = len(runs[0][label])
            figures.band(ax, None, [smooth_curve(run[label]) for run in runs],
                         label=(legend or {}).get(label, label), linewidth=1,
                         marker=MARKERS[index % len(MARKERS)],
                         markevery=max(1, length // 20), color=f"C{index % 10}",
                         alpha=0.45 if reference else 1.0)
        ax.set_xlabel(catalogue.word("iterations", lang))
        ax.set_ylim(0, high)
        mine = [(label, level) for label, level in off if label in panel]
        if mine:
            ax.text(0.98, 0.98, catalogue.text("optimizer-compare.off_plot", lang, top=high,
                                               losses="; ".join(
                                                   _off_words(legend or {}, label, level, lang)
                                                   for label, level in mine)),
                    transform=ax.transAxes, ha="right", va="top", fontsize=8,
                    bbox={"boxstyle": "round", "facecolor": "white", "edgecolor": "#bbbbbb"})
        ax.legend(title=figures.band_title(len(runs), lang))
        if title:
            ax.set_title(title)
    axes[0, 0].set_ylabel(catalogue.word("smoothed_loss", lang))
    return figures.finish(fig)


def _level(curves) -> float:
    """Where a smoothed loss curve ends up: the largest, over the runs, of the median of its
    last quarter; inf where a run's last quarter is not finite (it diverged)."""
    levels = []
    for curve in curves:
        tail = np.asarray(curve, dtype=float)[-max(1, len(curve) // 4):]
        levels.append(float(np.median(tail)) if np.all(np.isfinite(tail)) else np.inf)
    return max(levels)


def _shown_top(curves_by_label: dict, top: float, reach: float = 4.0):
    """The y limit of the figure and the curves it cannot show. The book's ``top`` where every
    curve ends up below it; else raised to show a curve that ends up higher (an optimizer stuck
    at a loss of 1.7 on a 0–1 axis drew nothing), up to ``reach`` × ``top``; a curve ending
    higher still, or diverged, is named with its level: [(label, level)], said in its panel."""
    levels = {label: _level(curves) for label, curves in curves_by_label.items()}
    shown = [level for level in levels.values() if level <= reach * top]
    high = max([top, *(1.1 * level for level in shown)])
    return high, [(label, level) for label, level in levels.items() if level > reach * top]


def _off_words(legend: dict, label: str, level: float, lang: str) -> str:
    key = "off_loss" if np.isfinite(level) else "off_diverged"
    return catalogue.text(f"optimizer-compare.{key}", lang, label=legend.get(label, label),
                          level=level)


def plot_losses(losses: dict, lang: str, top: float, legend: dict | None = None):
    """plot_loss_runs of one run: {label: losses}."""
    return plot_loss_runs([losses], lang, top, legend)


def plot_runs(runs, lang):
    legend = {label: catalogue.text(
        "optimizer-compare.legend", lang, lr=lr,
        name=catalogue.text("words.yours", lang, name=label) if learner.is_learner(name) else label)
        for label, (name, lr) in runs[0]["optimizers"].items()}
    titles = [catalogue.text(f"optimizer-compare.{key}", lang) for key in ("book", "others")]
    return plot_loss_runs([run["losses"] for run in runs], lang, top=1.0, legend=legend,
                          titles=titles)


def plot(results, lang):
    return plot_runs([results], lang)


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
    jobs=jobs,
    run=run,
    plot=plot,
    check=check,
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
    plot_runs=plot_runs,
)
