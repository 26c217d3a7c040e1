"""The book's training step against dlfs's book loop, side by side.

    python -m benchmarks.book_loop [--threads N] [--repeats R] [--steps K]

The book trains with two lines, ``grads = network.gradient(x_batch, t_batch)`` and
``optimizer.update(network.params, grads)``. This script times those two lines written twice:

  - "book": a literal, minimal transcription of the book's own code (WegraLee
    deep-learning-from-scratch ``common/layers.py`` Affine, Relu, Sigmoid and SoftmaxWithLoss,
    ``common/multi_layer_net.py`` gradient, ``ch04/two_layer_net.py`` gradient and
    ``common/optimizer.py`` SGD, Momentum, AdaGrad and Adam), written here from the book's
    formulas, temporaries and all. It runs in float64, as the book does: its MNIST loader
    divides uint8 pixels by 255.0, which gives float64 arrays, and its weights come from
    ``np.random.randn``, also float64.
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
import time
from collections import OrderedDict

import numpy as np

# -- the book's code, transcribed (common/functions.py, common/layers.py) ------------------------


def sigmoid(x):
    return 1 / (1 + np.exp(-x))


def sigmoid_grad(x):
    return (1.0 - sigmoid(x)) * sigmoid(x)


def softmax(x):
    x = x - np.max(x, axis=-1, keepdims=True)  # guards exp against overflow
    return np.exp(x) / np.sum(np.exp(x), axis=-1, keepdims=True)


def cross_entropy_error(y, t):
    if y.ndim == 1:
        t = t.reshape(1, t.size)
        y = y.reshape(1, y.size)
    if t.size == y.size:  # one-hot labels -> indices
        t = t.argmax(axis=1)
    batch_size = y.shape[0]
    return -np.sum(np.log(y[np.arange(batch_size), t] + 1e-7)) / batch_size


class Relu:
    def __init__(self):
        self.mask = None

    def forward(self, x):
        self.mask = (x <= 0)
        out = x.copy()
        out[self.mask] = 0
        return out

    def backward(self, dout):
        dout[self.mask] = 0
        dx = dout
        return dx


class Sigmoid:
    def __init__(self):
        self.out = None

    def forward(self, x):
        out = sigmoid(x)
        self.out = out
        return out

    def backward(self, dout):
        dx = dout * (1.0 - self.out) * self.out
        return dx


class Affine:
    def __init__(self, W, b):
        self.W = W
        self.b = b
        self.x = None
        self.original_x_shape = None
        self.dW = None
        self.db = None

    def forward(self, x):
        self.original_x_shape = x.shape
        x = x.reshape(x.shape[0], -1)
        self.x = x
        out = np.dot(self.x, self.W) + self.b
        return out

    def backward(self, dout):
        dx = np.dot(dout, self.W.T)
        self.dW = np.dot(self.x.T, dout)
        self.db = np.sum(dout, axis=0)
        dx = dx.reshape(*self.original_x_shape)
        return dx


class SoftmaxWithLoss:
    def __init__(self):
        self.loss = None
        self.y = None
        self.t = None

    def forward(self, x, t):
        self.t = t
        self.y = softmax(x)
        self.loss = cross_entropy_error(self.y, self.t)
        return self.loss

    def backward(self, dout=1):
        batch_size = self.t.shape[0]
        if self.t.size == self.y.size:  # one-hot labels
            dx = (self.y - self.t) / batch_size
        else:
            dx = self.y.copy()
            dx[np.arange(batch_size), self.t] -= 1
            dx = dx / batch_size
        return dx


# -- common/multi_layer_net.py and ch04/two_layer_net.py ----------------------------------------


class BookMultiLayerNet:
    def __init__(self, input_size, hidden_size_list, output_size, activation="relu",
                 weight_init_std="relu", weight_decay_lambda=0, rng=None):
        self.input_size = input_size
        self.output_size = output_size
        self.hidden_size_list = hidden_size_list
        self.hidden_layer_num = len(hidden_size_list)
        self.weight_decay_lambda = weight_decay_lambda
        self.params = {}
        # the book draws from np.random.randn; a Generator keeps this script's draws explicit
        all_size_list = [input_size, *hidden_size_list, output_size]
        for idx in range(1, len(all_size_list)):
            scale = weight_init_std
            if str(weight_init_std).lower() in ("relu", "he"):
                scale = np.sqrt(2.0 / all_size_list[idx - 1])
            elif str(weight_init_std).lower() in ("sigmoid", "xavier"):
                scale = np.sqrt(1.0 / all_size_list[idx - 1])
            self.params["W" + str(idx)] = scale * rng.standard_normal(
                (all_size_list[idx - 1], all_size_list[idx]))
            self.params["b" + str(idx)] = np.zeros(all_size_list[idx])

        activation_layer = {"sigmoid": Sigmoid, "relu": Relu}
        self.layers = OrderedDict()
        for idx in range(1, self.hidden_layer_num + 1):
            self.layers["Affine" + str(idx)] = Affine(self.params["W" + str(idx)],
                                                      self.params["b" + str(idx)])
            self.layers["Activation_function" + str(idx)] = activation_layer[activation]()
        idx = self.hidden_layer_num + 1
        self.layers["Affine" + str(idx)] = Affine(self.params["W" + str(idx)],
                                                  self.params["b" + str(idx)])
        self.last_layer = SoftmaxWithLoss()

    def predict(self, x):
        for layer in self.layers.values():
            x = layer.forward(x)
        return x

    def loss(self, x, t):
        y = self.predict(x)
        weight_decay = 0
        for idx in range(1, self.hidden_layer_num + 2):
            W = self.params["W" + str(idx)]
            weight_decay += 0.5 * self.weight_decay_lambda * np.sum(W ** 2)
        return self.last_layer.forward(y, t) + weight_decay

    def gradient(self, x, t):
        self.loss(x, t)
        dout = 1
        dout = self.last_layer.backward(dout)
        layers = list(self.layers.values())
        layers.reverse()
        for layer in layers:
            dout = layer.backward(dout)
        grads = {}
        for idx in range(1, self.hidden_layer_num + 2):
            grads["W" + str(idx)] = (self.layers["Affine" + str(idx)].dW
                                     + self.weight_decay_lambda
                                     * self.layers["Affine" + str(idx)].W)
            grads["b" + str(idx)] = self.layers["Affine" + str(idx)].db
        return grads


class BookTwoLayerNet:
    def __init__(self, input_size, hidden_size, output_size, weight_init_std=0.01, rng=None):
        self.params = {}
        self.params["W1"] = weight_init_std * rng.standard_normal((input_size, hidden_size))
        self.params["b1"] = np.zeros(hidden_size)
        self.params["W2"] = weight_init_std * rng.standard_normal((hidden_size, output_size))
        self.params["b2"] = np.zeros(output_size)

    def gradient(self, x, t):  # t: one-hot rows, as ch04/train_neuralnet.py loads them
        W1, W2 = self.params["W1"], self.params["W2"]
        b1, b2 = self.params["b1"], self.params["b2"]
        grads = {}
        batch_num = x.shape[0]
        a1 = np.dot(x, W1) + b1
        z1 = sigmoid(a1)
        a2 = np.dot(z1, W2) + b2
        y = softmax(a2)
        dy = (y - t) / batch_num
        grads["W2"] = np.dot(z1.T, dy)
        grads["b2"] = np.sum(dy, axis=0)
        da1 = np.dot(dy, W2.T)
        dz1 = sigmoid_grad(a1) * da1
        grads["W1"] = np.dot(x.T, dz1)
        grads["b1"] = np.sum(dz1, axis=0)
        return grads


# -- common/optimizer.py -------------------------------------------------------------------------


class SGD:
    def __init__(self, lr=0.01):
        self.lr = lr

    def update(self, params, grads):
        for key in params.keys():
            params[key] -= self.lr * grads[key]


class Momentum:
    def __init__(self, lr=0.01, momentum=0.9):
        self.lr = lr
        self.momentum = momentum
        self.v = None

    def update(self, params, grads):
        if self.v is None:
            self.v = {}
            for key, val in params.items():
                self.v[key] = np.zeros_like(val)
        for key in params.keys():
            self.v[key] = self.momentum * self.v[key] - self.lr * grads[key]
            params[key] += self.v[key]


class AdaGrad:
    def __init__(self, lr=0.01):
        self.lr = lr
        self.h = None

    def update(self, params, grads):
        if self.h is None:
            self.h = {}
            for key, val in params.items():
                self.h[key] = np.zeros_like(val)
        for key in params.keys():
            self.h[key] += grads[key] * grads[key]
            params[key] -= self.lr * grads[key] / (np.sqrt(self.h[key]) + 1e-7)


class Adam:
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999):
        self.lr = lr
        self.beta1 = beta1
        self.beta2 = beta2
        self.iter = 0
        self.m = None
        self.v = None

    def update(self, params, grads):
        if self.m is None:
            self.m, self.v = {}, {}
            for key, val in params.items():
                self.m[key] = np.zeros_like(val)
                self.v[key] = np.zeros_like(val)
        self.iter += 1
        lr_t = self.lr * np.sqrt(1.0 - self.beta2**self.iter) / (1.0 - self.beta1**self.iter)
        for key in params.keys():
            self.m[key] += (1 - self.beta1) * (grads[key] - self.m[key])
            self.v[key] += (1 - self.beta2) * (grads[key]**2 - self.v[key])
            params[key] -= lr_t * self.m[key] / (np.sqrt(self.v[key]) + 1e-7)


BOOK_OPTIMIZERS = {"sgd": SGD, "momentum": Momentum, "adagrad": AdaGrad, "adam": Adam}


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


def _time(step, batches) -> float:
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
                _time(steps[key], batches[:10])
            for _ in range(args.repeats):
                for key in steps:
                    times[key].append(_time(steps[key], batches))
            book, ours = (statistics.median(times[key]) for key in ("book", "dlfs"))
            print(f"{name:42} {book * 1e3:8.3f} {ours * 1e3:8.3f} {book / ours:9.2f}")


if __name__ == "__main__":
    main()
