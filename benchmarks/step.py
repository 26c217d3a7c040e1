"""One training step (gradient + update), dlfs against PyTorch on the CPU, side by side.

The dlfs step is the book's ``grads = net.gradient(x, t)``, ``opt.update(net.params, grads)``,
on data checked once beforehand with ``net.check_data``, as the Trainer does.

    python -m benchmarks.step [--threads N] [--repeats R] [--steps K]

For each case the two implementations alternate, R rounds of K steps each, in one process with
the same BLAS/intra-op thread count; the script prints the per-step medians, the ratio
dlfs / PyTorch (below 1 means dlfs is faster) and the fraction of this machine's float32 matrix
multiply peak, measured here with NumPy, that each reaches. The last column is dlfs in float64,
the book's precision, for reference. PyTorch is a benchmark extra only.
"""

from __future__ import annotations

import argparse
import statistics
import time

import numpy as np


def _peak_gflops(repeats: int = 5, n: int = 1024) -> float:
    rng = np.random.default_rng(0)
    a = rng.standard_normal((n, n), dtype=np.float32)
    b = rng.standard_normal((n, n), dtype=np.float32)
    out = np.empty((n, n), dtype=np.float32)
    best = float("inf")
    for _ in range(repeats):
        start = time.perf_counter()
        np.matmul(a, b, out=out)
        best = min(best, time.perf_counter() - start)
    return 2 * n**3 / best / 1e9


def _step_flops(sizes, batch, batchnorm=False) -> float:
    """Multiply-adds of the affine layers ×2: forward, dW, and dx except for the first layer."""
    flops = 0
    for k, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        passes = 2 if k == 0 else 3
        flops += passes * 2 * batch * fan_in * fan_out
    return flops


CASES = [
    # name, sizes, activation, batch, optimizer, kwargs, batchnorm, weight_init
    ("4-layer ReLU, SGD, batch 128", [784, 100, 100, 100, 100, 10], "relu", 128, "sgd",
     {"lr": 0.01}, False, "he"),
    ("4-layer ReLU, Momentum, batch 128", [784, 100, 100, 100, 100, 10], "relu", 128,
     "momentum", {"lr": 0.01, "momentum": 0.9}, False, "he"),
    ("4-layer ReLU, Adam, batch 128", [784, 100, 100, 100, 100, 10], "relu", 128, "adam",
     {"lr": 0.001}, False, "he"),
    ("5-layer batch norm, SGD, batch 100", [784, 100, 100, 100, 100, 100, 10], "relu", 100,
     "sgd", {"lr": 0.01}, True, "he"),
    ("two-layer net 784-50-10, SGD, batch 100", [784, 50, 10], "sigmoid", 100, "sgd",
     {"lr": 0.1}, False, 0.01),
]


def _dlfs_step(sizes, activation, batch, optimizer, kwargs, batchnorm, weight_init, data,
               dtype=np.float32):
    from dlfs import optim
    from dlfs.network import MultiLayerNet

    net = MultiLayerNet(sizes[0], sizes[1:-1], sizes[-1], activation=activation,
                        weight_init=weight_init, use_batchnorm=batchnorm, dtype=dtype, seed=0)
    opt = optim.create(optimizer, **kwargs)
    x, t = net.check_data(*data)

    def step(i):  # the book's two lines
        grads = net.gradient(x[i], t[i])
        opt.update(net.params, grads)

    return step


def _torch_step(sizes, activation, batch, optimizer, kwargs, batchnorm, weight_init, data):
    import torch

    layers = []
    for k, (fan_in, fan_out) in enumerate(zip(sizes[:-1], sizes[1:])):
        layers.append(torch.nn.Linear(fan_in, fan_out))
        if k < len(sizes) - 2:
            if batchnorm:
                layers.append(torch.nn.BatchNorm1d(fan_out))
            layers.append(torch.nn.ReLU() if activation == "relu" else torch.nn.Sigmoid())
    model = torch.nn.Sequential(*layers)
    classes = {"sgd": torch.optim.SGD, "momentum": torch.optim.SGD, "adam": torch.optim.Adam}
    opt = classes[optimizer](model.parameters(), **kwargs)
    loss_fn = torch.nn.CrossEntropyLoss()
    x = torch.from_numpy(data[0])
    t = torch.from_numpy(data[1])

    def step(i):
        opt.zero_grad(set_to_none=True)
        loss = loss_fn(model(x[i]), t[i])
        loss.backward()
        opt.step()

    return step


def time_steps(step, batches) -> float:
    """Seconds per step of ``step(i)`` over the batch indices ``batches``."""
    start = time.perf_counter()
    for i in batches:
        step(i)
    return (time.perf_counter() - start) / len(batches)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--threads", type=int, default=1)
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--steps", type=int, default=100)
    args = parser.parse_args(argv)

    import torch
    from threadpoolctl import threadpool_limits

    torch.set_num_threads(args.threads)
    rng = np.random.default_rng(0)
    x = rng.random((6000, 784), dtype=np.float32)
    t = rng.integers(0, 10, 6000)
    with threadpool_limits(args.threads):
        peak = _peak_gflops()
        print(f"threads {args.threads}; float32 matmul peak (NumPy, 1024³): {peak:.0f} GFLOP/s")
        print(f"{'case':42} {'dlfs ms':>8} {'torch ms':>9} {'ratio':>6} "
              f"{'dlfs %peak':>10} {'torch %peak':>11} {'dlfs f64 ms':>11}")
        for name, sizes, activation, batch, optimizer, kwargs, batchnorm, weight_init in CASES:
            spec = (sizes, activation, batch, optimizer, kwargs, batchnorm, weight_init, (x, t))
            steps = {"dlfs": _dlfs_step(*spec), "torch": _torch_step(*spec),
                     "f64": _dlfs_step(*spec, dtype=np.float64)}
            batches = [rng.choice(6000, batch) for _ in range(args.steps)]
            times = {"dlfs": [], "torch": [], "f64": []}
            for key in steps:  # warm-up
                time_steps(steps[key], batches[:10])
            for _ in range(args.repeats):
                for key in steps:
                    times[key].append(time_steps(steps[key], batches))
            ours, theirs = (statistics.median(times[k]) for k in ("dlfs", "torch"))
            flops = _step_flops(sizes, batch, batchnorm)
            print(f"{name:42} {ours * 1e3:8.3f} {theirs * 1e3:9.3f} {ours / theirs:6.2f} "
                  f"{flops / ours / 1e9 / peak:10.0%} {flops / theirs / 1e9 / peak:11.0%} "
                  f"{statistics.median(times['f64']) * 1e3:11.3f}")


if __name__ == "__main__":
    main()
