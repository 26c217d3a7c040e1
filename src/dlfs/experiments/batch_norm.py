"""Book 6.3.2 (batch_norm_test.py): training with and without batch norm at 16 weight scales."""

from __future__ import annotations

import numpy as np

from dlfs import catalogue
from dlfs.experiments import figures
from dlfs.experiments.base import Experiment, Verdict
from dlfs.experiments.jobs import training


def _scales(params):
    return np.logspace(0, -4, num=params["scales"])


def jobs(params, seed):
    """At every weight scale, the network with and without batch norm, on the same
    mini-batches. The book measures the training accuracy only: no test set."""
    return [training({"hidden_sizes": params["hidden_sizes"], "activation": "relu",
                      "seed": seed, "weight_init": float(scale), "use_batchnorm": batchnorm},
                     "sgd", {"lr": params["lr"]}, samples=params["train_samples"],
                     epochs=params["max_epochs"], batch_size=params["batch_size"],
                     batches=[seed, 3])
            for scale in _scales(params) for batchnorm in (True, False)]


def run(histories, params):
    """The training accuracy per epoch of both networks at each scale; None for one whose loss
    became NaN or inf."""
    curves = [None if h["diverged_at"] is not None else h["train_acc"] for h in histories]
    return {"scales": _scales(params),
            "runs": [{"batchnorm": with_bn, "plain": without}
                     for with_bn, without in zip(curves[::2], curves[1::2])]}


STYLES = {"batchnorm": "-", "plain": "--"}
LABELS = {"batchnorm": "batch-norm.with", "plain": "batch-norm.without"}


def _clear_height(ax, lines, width: float = 0.7) -> float:
    """The height (axes fraction; the y-axis is 0…1) farthest from every curve and band drawn
    under the middle ``width`` of the panel, where a centred note can stand without crossing
    them."""
    left, right = ax.get_xlim()
    spans = []  # (low, high) of what is drawn at each x under the note
    for line in lines:
        x = (np.asarray(line.get_xdata(), dtype=float) - left) / (right - left)
        y = np.asarray(line.get_ydata(), dtype=float)
        for i in range(len(y) - 1):  # each segment between two points, where it runs
            if x[i + 1] >= (1 - width) / 2 and x[i] <= (1 + width) / 2:
                spans.append((min(y[i], y[i + 1]), max(y[i], y[i + 1])))
        band = getattr(line, "band", None)
        if band is not None:
            for path in band.get_paths():
                inside = np.abs((path.vertices[:, 0] - left) / (right - left) - 0.5) <= width / 2
                if inside.any():
                    spans.append((path.vertices[inside, 1].min(), path.vertices[inside, 1].max()))
    spans = [(low, high) for low, high in spans if np.isfinite(low) and np.isfinite(high)]
    if not spans:
        return 0.5

    def clearance(height):
        return min(0.0 if low <= height <= high else min(abs(low - height), abs(high - height))
                   for low, high in spans)
    return float(max(np.linspace(0.08, 0.92, 15), key=clearance))


def plot_runs(runs, lang):
    """Both curves at every scale, the mean of ``runs`` (one result per seed) with a min–max
    band; a network that diverged says so in words, placed where no curve runs."""
    scales = runs[0]["scales"]
    side = int(np.ceil(np.sqrt(len(scales))))
    fig, axes = figures.figure(lang, side, side, figsize=(10, 10.5), squeeze=False)
    labels = {key: catalogue.text(name, lang) for key, name in LABELS.items()}
    lines = {}
    for index, (ax, scale) in enumerate(zip(axes.ravel(), scales)):
        drawn, notes = [], []
        for key in ("batchnorm", "plain"):
            curves = [run["runs"][index][key] for run in runs]
            kept = [curve for curve in curves if curve is not None]  # None: loss became NaN/inf
            if kept:
                lines[key] = figures.band(ax, None, kept, linestyle=STYLES[key],
                                          color=f"C{key == 'plain':d}")
                drawn.append(lines[key])
            if len(kept) < len(curves):
                notes.append(catalogue.text("batch-norm.diverged", lang, label=labels[key])
                             if not kept else
                             catalogue.text("batch-norm.diverged_some", lang, label=labels[key],
                                            count=len(curves) - len(kept), n=len(curves)))
        if notes:
            height = _clear_height(ax, drawn)
            ax.text(0.5, height, "\n".join(notes), transform=ax.transAxes, ha="center",
                    va="center", fontsize=8, color="#cf222e",
                    bbox={"facecolor": "white", "edgecolor": "none", "alpha": 0.8, "pad": 1})
        ax.set_title(catalogue.text("batch-norm.panel", lang, scale=scale), fontsize=9)
        ax.set_ylim(0, 1.0)
        ax.tick_params(labelsize=7)
    for ax in axes.ravel()[len(scales):]:
        ax.axis("off")
    title = figures.band_title(len(runs), lang)
    fig.legend([lines[k] for k in lines], [labels[k] for k in lines], loc="upper center",
               ncol=2, frameon=False, title=title)
    fig.supxlabel(catalogue.word("epochs", lang))
    fig.supylabel(catalogue.word("training_accuracy", lang))
    figures.finish(fig)
    fig.subplots_adjust(top=0.90 if title else 0.93)
    return fig


def plot(results, lang):
    return plot_runs([results], lang)


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
    jobs=jobs,
    run=run,
    plot=plot,
    check=check,
    params={"train_samples": 1000, "hidden_sizes": [100] * 5, "lr": 0.01, "batch_size": 100,
            "max_epochs": 20, "scales": 16},
    quick_params={"train_samples": 200, "max_epochs": 2, "scales": 4},
    plot_runs=plot_runs,
)
