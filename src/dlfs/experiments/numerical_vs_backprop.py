"""Book 4.5 (train_neuralnet.py with numerical_gradient) against 5.7.3: the two-layer net trained
a few steps on the same mini-batches with the numerical gradient and with backprop.

The book's chapter 4 trains with numerical_gradient and says it is too slow to use; chapter 5
replaces it with backprop. Both networks start from the same weights and take the same
mini-batches; at every step both gradients are taken on the numerically trained network and
compared, and each is timed. A small net (a few hidden units, a few samples per batch) keeps
the numerical side to seconds: it costs two losses per weight.
"""

from __future__ import annotations

import time

import numpy as np

from dlfs import catalogue
from dlfs.experiments import figures
from dlfs.experiments.base import Experiment, Verdict, rng
from dlfs.experiments.jobs import task
from dlfs.network import TwoLayerNet
from dlfs.optim import SGD


def _relative_error(a: np.ndarray, b: np.ndarray) -> float:
    """‖a − b‖ / (‖a‖ + ‖b‖): 0 for equal arrays, 1 for opposite ones."""
    scale = np.linalg.norm(a) + np.linalg.norm(b)
    return float(np.linalg.norm(a - b) / scale) if scale > 0 else 0.0


def _timed(function, *args, repeats: int = 1):
    """function(*args)'s result and its fastest time over ``repeats`` calls, in seconds."""
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        result = function(*args)
        best = min(best, time.perf_counter() - start)
    return result, best


def train_both(params, seed, data):
    """Both trainings, step by step: the losses of each network, the relative error between the
    two gradients (each parameter, worst over them), and the seconds of each gradient."""
    # float64, as the book's check: the comparison is of the methods, not of float32 rounding.
    x = data.x_train[:params["train_samples"]].astype(np.float64)
    t = data.t_train[:params["train_samples"]]
    n = len(t)

    def net():
        return TwoLayerNet(data.input_size, params["hidden_size"], data.n_classes,
                           dtype=np.float64, seed=rng(seed, 1))

    numerical, backprop = net(), net()
    rule_numerical, rule_backprop = SGD(lr=params["lr"]), SGD(lr=params["lr"])
    batches = rng(seed, 2)
    steps = []
    for _ in range(params["steps"]):
        index = batches.choice(n, params["batch_size"])
        x_batch, t_batch = x[index], t[index]
        numeric, numeric_s = _timed(numerical.numerical_gradient, x_batch, t_batch)
        exact, backprop_s = _timed(numerical.gradient, x_batch, t_batch,
                                   repeats=params["repeats"])
        errors = {key: _relative_error(numeric[key], exact[key]) for key in numeric}
        steps.append({"loss_numerical": float(numerical.loss(x_batch, t_batch)),
                      "loss_backprop": float(backprop.loss(x_batch, t_batch)),
                      "error": max(errors.values()), "worst": max(errors, key=errors.get),
                      "numerical_s": numeric_s, "backprop_s": backprop_s})
        rule_numerical.update(numerical.params, numeric)
        rule_backprop.update(backprop.params, backprop.gradient(x_batch, t_batch))
    return {"steps": steps,
            "weights": int(sum(value.size for value in numerical.params.values()))}


def jobs(params, seed):
    return [task(train_both, params, seed=seed, data=True)]


def _speedup(results) -> float:
    """How many times faster backprop takes a step: the median step of each."""
    steps = results["steps"]
    return float(np.median([s["numerical_s"] for s in steps])
                 / np.median([s["backprop_s"] for s in steps]))


def plot(results, lang):
    steps = results["steps"]
    fig, (left, right) = figures.figure(lang, 1, 2, figsize=(11, 4.2))
    numbers = np.arange(1, len(steps) + 1)
    names = {key: catalogue.text(f"numerical-vs-backprop.{key}", lang)
             for key in ("numerical", "backprop")}
    left.plot(numbers, [s["loss_numerical"] for s in steps], "o-", label=names["numerical"])
    left.plot(numbers, [s["loss_backprop"] for s in steps], "x--", label=names["backprop"])
    left.set_xticks(numbers)
    left.set_xlabel(catalogue.word("iteration", lang))
    left.set_ylabel(catalogue.word("training_loss", lang))
    left.legend()
    width = 0.38
    right.bar(numbers - width / 2, [s["numerical_s"] for s in steps], width,
              label=names["numerical"])
    right.bar(numbers + width / 2, [s["backprop_s"] for s in steps], width,
              label=names["backprop"])
    right.set_yscale("log")
    right.set_ylim(top=100 * max(s["numerical_s"] for s in steps))  # room for the legend
    right.set_xticks(numbers)
    right.set_xlabel(catalogue.word("iteration", lang))
    right.set_ylabel(catalogue.text("numerical-vs-backprop.seconds", lang))
    right.set_title(catalogue.text("numerical-vs-backprop.speedup", lang,
                                   speedup=_speedup(results)), fontsize=10)
    right.legend(loc="upper center", ncol=2)
    return figures.finish(fig)


def check(results):
    error = max(step["error"] for step in results["steps"])
    speedup = _speedup(results)
    held = error <= 1e-6 and speedup >= 1000
    numbers = {"max_relative_error": error, "speedup": speedup}
    return Verdict(held, catalogue.both("numerical-vs-backprop.verdict",
                                        steps=len(results["steps"]),
                                        weights=results["weights"], **numbers), numbers)


EXPERIMENT = Experiment(
    name="numerical-vs-backprop",
    chapter=4,
    section="4.5",
    jobs=jobs,
    plot=plot,
    check=check,
    params={"hidden_size": 10, "batch_size": 10, "steps": 3, "lr": 0.1,
            "train_samples": 1000, "repeats": 20},
)
