"""The book's training step against dlfs's book loop, side by side.

    python -m benchmarks.book_loop [--threads N] [--repeats R] [--steps K]

The book trains with two lines, ``grads = network.gradient(x_batch, t_batch)`` and
``optimizer.update(network.params, grads)``. This script times those two lines written twice:

  - "book": a literal, minimal transcription of the book's own code (WegraLee
    deep-learning-from-scratch ``common/layers.py`` Affine, Relu, Sigmoid and SoftmaxWithLoss,
    ``common/multi_layer_net.py`` gradient, ``ch04/two_layer_net.py`` gradient and
    ``common/optimizer.py`` SGD, Momentum, AdaGrad and Adam), written here from the book's
    formulas, temporaries and all. It runs in float64, as the book does: its weights come from
    ``np.random.randn``, float64, and its MNIST loader's float32 pixels
    (``astype(np.float32)``, then ``/= 255.0``) are cast to float64 in every product with them.
    Here the pixels are given in float64, which spares the book's step that cast.
  - "dlfs": ``grads = net.gradient(x, t); opt.update(net.params, grads)`` with a dlfs
    MultiLayerNet (float32, its default) and a dlfs optimizer, the same one road the Trainer
    takes.

The cases are those of ``benchmarks/step.py`` without batch norm (the book's MultiLayerNet has
none): SGD, Momentum and Adam on 784-[100]×4-10 ReLU at batch 128, and the chapter-4 two-layer
net 784-50-10 with SGD at batch 100, built by the book's MultiLayerNet (sigmoid, σ = 0.01) and,
on a second line, by ch04/two_layer_net.py, the leaner code ch04/train_neuralnet.py runs. The
two alternate, R rounds of K steps each, in one
process with the same BLAS thread count; the script prints per-step medians and the ratio
book / dlfs (above 1 means dlfs is faster). Nothing is asserted: timings are for reading.
"""

from __future__ import annotations

import argparse
import statistics

import numpy as np

from benchmarks.book_code import BOOK_OPTIMIZERS, BookMultiLayerNet, BookTwoLayerNet
from benchmarks.step import time_steps

# -- the benchmark -------------------------------------------------------------------------------

CASES = [
    # name, sizes, activation, batch, optimizer, kwargs, weight_init, the book's network
    ("4-layer ReLU, SGD, batch 128", [784, 100, 100, 100, 100, 10], "relu", 128, "sgd",
     {"lr": 0.01}, "he", "multi_layer_net"),
    ("4-layer ReLU, Momentum, batch 128", [784, 100, 100, 100, 100, 10], "relu", 128,
     "momentum", {"lr": 0.01, "momentum": 0.9}, "he", "multi_layer_net"),
    ("4-layer ReLU, Adam, batch 128", [784, 100, 100, 100, 100, 10], "relu", 128, "adam",
     {"lr": 0.001}, "he", "multi_layer_net"),
    ("two-layer net 784-50-10, SGD, batch 100", [784, 50, 10], "sigmoid", 100, "sgd",
     {"lr": 0.1}, 0.01, "multi_layer_net"),
    # ch04/train_neuralnet.py's own net: no layer objects, no weight-decay sums, one-hot labels
    ("  the same, book's ch04 two_layer_net.py", [784, 50, 10], "sigmoid", 100, "sgd",
     {"lr": 0.1}, 0.01, "two_layer_net"),
]


def _book_step(sizes, activation, optimizer, kwargs, weight_init, book_net, data):
    rng = np.random.default_rng(0)
    if book_net == "two_layer_net":
        net = BookTwoLayerNet(sizes[0], sizes[1], sizes[2], weight_init, rng=rng)
        labels = np.eye(sizes[-1])[data[1]]  # ch04 loads one-hot labels
    else:
        net = BookMultiLayerNet(sizes[0], sizes[1:-1], sizes[-1], activation, weight_init,
                                rng=rng)
        labels = data[1]  # ch06 loads label indices
    opt = BOOK_OPTIMIZERS[optimizer](**kwargs)
    x = data[0].astype(np.float64)

    def step(i):
        grads = net.gradient(x[i], labels[i])
        opt.update(net.params, grads)

    return step


def _dlfs_step(sizes, activation, optimizer, kwargs, weight_init, book_net, data):
    from dlfs import optim
    from dlfs.network import MultiLayerNet

    net = MultiLayerNet(sizes[0], sizes[1:-1], sizes[-1], activation=activation,
                        weight_init=weight_init, seed=0)
    opt = optim.create(optimizer, **kwargs)
    x, t = data[0].astype(net.dtype), data[1]

    def step(i):
        grads = net.gradient(x[i], t[i])
        opt.update(net.params, grads)

    return step


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args(argv)

    from threadpoolctl import threadpool_limits

    rng = np.random.default_rng(0)
    x = rng.random((6000, 784), dtype=np.float32)
    t = rng.integers(0, 10, 6000)
    with threadpool_limits(args.threads):
        print(f"threads {args.threads}; book in float64, dlfs in float32; "
              f"median of {args.repeats} rounds of {args.steps} steps")
        print(f"{'case':42} {'book ms':>8} {'dlfs ms':>8} {'book/dlfs':>9}")
        for name, sizes, activation, batch, optimizer, kwargs, weight_init, book_net in CASES:
            spec = (sizes, activation, optimizer, kwargs, weight_init, book_net, (x, t))
            steps = {"book": _book_step(*spec), "dlfs": _dlfs_step(*spec)}
            batches = [rng.choice(6000, batch) for _ in range(args.steps)]
            times = {key: [] for key in steps}
            for key in steps:  # warm-up: state created, caches filled
                time_steps(steps[key], batches[:10])
            for _ in range(args.repeats):
                for key in steps:
                    times[key].append(time_steps(steps[key], batches))
            book, ours = (statistics.median(times[key]) for key in ("book", "dlfs"))
            print(f"{name:42} {book * 1e3:8.3f} {ours * 1e3:8.3f} {book / ours:9.2f}")


if __name__ == "__main__":
    main()
