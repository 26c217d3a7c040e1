"""The book's chapter-4 and chapter-6 scripts that draw the lab's figures, one after another.

    python -m benchmarks.book_scripts [--quick] [--threads N] [--seed S] [NAME ...]

Each script (``benchmarks/book_ch04.py``, ``benchmarks/book_ch06.py``) is one function
``script(data, rng, out, **settings) -> numbers``, written as the book writes it: ``data`` holds
x_train, t_train, x_test, t_test (pixels as floats in [0, 1], labels as class indices), ``rng``
is a ``numpy.random.Generator`` making the draws the book makes from the global ``np.random``,
in the same order, and ``out`` is a folder where each figure is saved (``plt.savefig`` where
the book calls ``plt.show``). The networks, layers, optimizers and Trainer are the book's
(``benchmarks/book_code.py``, ``benchmarks/book_trainer.py``), so the work is the book's:
float64 weights from ``randn``, ``network.loss`` again after each update, evaluation
``if i % iter_per_epoch == 0`` on the full sets, its prints. Every keyword defaults to the
book's value (BOOK-NOTES 1l and 1m); ``Script.quick`` shrinks them as ``dlfs run --quick``
shrinks the lab's.

This command runs them all in one process on the lab's data set
(``dlfs.data.load_lab_data("auto")``) and prints each one's wall time. The book runs them as
separate scripts, each starting Python and loading MNIST again, which is not timed here. Full
mode takes minutes; ``benchmarks/lab_vs_book.py`` times it against ``dlfs run all``.
"""

from __future__ import annotations

import argparse
import contextlib
import os
import time
import warnings
from dataclasses import dataclass, field
from typing import NamedTuple

import numpy as np

from benchmarks import book_ch04 as ch04
from benchmarks import book_ch06 as ch06


class BookData(NamedTuple):
    x_train: np.ndarray
    t_train: np.ndarray
    x_test: np.ndarray
    t_test: np.ndarray


def book_data(data, dtype=np.float64) -> BookData:
    """The lab's ``Data`` as the book's arrays: the lab's pixels (k/255 in float32) back to
    uint8 k, then k / 255.0 in ``dtype``, so float64 pixels are exactly the book's values.
    The book's load_mnist itself returns float32 pixels (``astype(np.float32); /= 255.0``),
    which NumPy casts to float64 in every product with the float64 weights."""
    def pixels(x):
        return (np.rint(np.asarray(x, dtype=np.float64) * 255).astype(np.uint8)
                .astype(dtype) / dtype(255.0))

    return BookData(pixels(data.x_train), np.asarray(data.t_train, dtype=np.int64),
                    pixels(data.x_test), np.asarray(data.t_test, dtype=np.int64))


# -- the scripts, in the book's order, and the lab's experiments that draw the same figures -------


@dataclass(frozen=True)
class Script:
    name: str
    run: object  # run(data, rng, out, **settings) -> numbers
    book_file: str
    lab: tuple[str, ...]  # the lab's experiments that draw this script's figures
    settings: dict = field(default_factory=dict)  # what this entry fixes (a λ)
    quick: dict = field(default_factory=dict)  # as `dlfs run --quick` shrinks the lab's

    def __call__(self, data, rng, out, quick=False, **overrides):
        return self.run(data, rng, out, **{**self.settings, **(self.quick if quick else {}),
                                           **overrides})


_OVERFIT_QUICK = {"max_epochs": 15, "test_samples": 1000}
SCRIPTS = {script.name: script for script in (
    Script("gradient_1d", ch04.gradient_1d, "ch04/gradient_1d.py", ("numerical-diff",)),
    Script("gradient_2d", ch04.gradient_2d, "ch04/gradient_2d.py", ("gradient-field",)),
    Script("gradient_method", ch04.gradient_method, "ch04/gradient_method.py",
           ("gradient-descent",)),
    Script("train_neuralnet", ch04.train_neuralnet, "ch04/train_neuralnet.py",
           ("two-layer-net",),
           quick={"iters_num": 500, "train_samples": 5000, "test_samples": 1000}),
    Script("optimizer_compare_naive", ch06.optimizer_compare_naive,
           "ch06/optimizer_compare_naive.py", ("optimizer-paths",)),
    Script("optimizer_compare_mnist", ch06.optimizer_compare_mnist,
           "ch06/optimizer_compare_mnist.py", ("optimizer-compare",),
           quick={"max_iterations": 60}),
    Script("weight_init_activation_histogram", ch06.weight_init_activation_histogram,
           "ch06/weight_init_activation_histogram.py", ("activation-histograms",)),
    Script("weight_init_compare", ch06.weight_init_compare, "ch06/weight_init_compare.py",
           ("weight-init-compare",), quick={"max_iterations": 60}),
    Script("batch_norm_test", ch06.batch_norm_test, "ch06/batch_norm_test.py",
           ("batch-norm",), quick={"train_samples": 200, "max_epochs": 2, "scales": 4}),
    Script("batch_norm_gradient_check", ch06.batch_norm_gradient_check,
           "ch06/batch_norm_gradient_check.py", ("batch-norm-gradcheck",),
           quick={"hidden_size_list": (10, 10)}),
    Script("overfit", ch06.overfit_weight_decay, "ch06/overfit_weight_decay.py, λ = 0",
           ("overfit",), settings={"weight_decay_lambda": 0}, quick=_OVERFIT_QUICK),
    Script("overfit_weight_decay", ch06.overfit_weight_decay,
           "ch06/overfit_weight_decay.py", ("weight-decay",), quick=_OVERFIT_QUICK),
    Script("overfit_dropout", ch06.overfit_dropout, "ch06/overfit_dropout.py", ("dropout",),
           quick=_OVERFIT_QUICK),
    Script("hyperparameter_optimization", ch06.hyperparameter_optimization,
           "ch06/hyperparameter_optimization.py", ("hyperparameter-search",),
           quick={"optimization_trial": 6, "epochs": 3, "hidden_size_list": (20, 20)}),
)}


def run_all(data, out, *, seed=0, quick=False, names=None, overrides=None, quiet=True):
    """Yields (script, seconds, numbers) for each script of ``names`` (default: all), one
    after another, each with its own Generator ``default_rng([seed, k])`` and its figures in
    ``out``. ``overrides``: {name: {setting: value}}. ``quiet``: the book's prints go to
    os.devnull (still formatted, as the book pays for them) and NumPy's overflow warnings of
    the untrained nets are not shown."""
    for k, name in enumerate(names or SCRIPTS):
        script = SCRIPTS[name]
        rng = np.random.default_rng([seed, k])
        with contextlib.ExitStack() as stack:
            if quiet:
                sink = stack.enter_context(open(os.devnull, "w"))
                stack.enter_context(contextlib.redirect_stdout(sink))
                stack.enter_context(warnings.catch_warnings())
                warnings.simplefilter("ignore", RuntimeWarning)
            start = time.perf_counter()
            numbers = script(data, rng, out, quick=quick, **(overrides or {}).get(name, {}))
            seconds = time.perf_counter() - start
        yield script, seconds, numbers


def main(argv=None) -> None:
    import tempfile

    from threadpoolctl import threadpool_limits

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("names", nargs="*", metavar="NAME",
                        help="scripts to run (default: all): " + ", ".join(SCRIPTS))
    parser.add_argument("--quick", action="store_true", help="the lab's quick sizes")
    parser.add_argument("--threads", type=int, default=1, help="BLAS threads (default 1)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--float32-pixels", action="store_true",
                        help="pixels in float32, as the book's load_mnist returns them")
    args = parser.parse_args(argv)
    unknown = [name for name in args.names if name not in SCRIPTS]
    if unknown:
        parser.error(f"unknown script {unknown[0]!r}; choose from {', '.join(SCRIPTS)}")

    from dlfs.data import load_lab_data

    lab = load_lab_data("auto")
    data = book_data(lab, np.float32 if args.float32_pixels else np.float64)
    print(f"{lab.title}, {'quick' if args.quick else 'full'} mode, {args.threads} BLAS "
          f"thread(s), pixels {data.x_train.dtype}", flush=True)
    total = 0.0
    with threadpool_limits(args.threads), tempfile.TemporaryDirectory() as out:
        for script, seconds, _ in run_all(data, out, seed=args.seed, quick=args.quick,
                                          names=args.names):
            total += seconds
            print(f"{script.name:34} {seconds:8.2f} s", flush=True)
    print(f"{'total':34} {total:8.2f} s")


if __name__ == "__main__":
    main()
