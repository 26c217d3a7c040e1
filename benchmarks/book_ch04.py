"""The book's chapter-4 scripts (ch04/gradient_1d.py, gradient_2d.py, gradient_method.py,
train_neuralnet.py), each a function ``script(data, rng, out, **settings) -> numbers``; see
``benchmarks/book_scripts.py``, which runs them. Also the two helpers both chapters' scripts
use: ``one_hot`` (dataset/mnist.py's one-hot labels) and ``show`` (savefig for plt.show).
"""

from __future__ import annotations

from pathlib import Path

import matplotlib
import numpy as np

matplotlib.use("Agg")  # files only, never a window: savefig stands in for plt.show
import matplotlib.pyplot as plt  # noqa: E402

from benchmarks.book_code import BookTwoLayerNet  # noqa: E402


def one_hot(t, n=10):
    """dataset/mnist.py's _change_one_hot_label: float64 rows."""
    T = np.zeros((t.size, n))
    T[np.arange(t.size), t] = 1
    return T


def show(out: Path, name: str) -> None:
    """Where the book calls plt.show(): the figure saved as OUT/NAME.png, then closed."""
    plt.savefig(Path(out) / f"{name}.png")
    plt.close("all")


# -- ch04/ -----------------------------------------------------------------------------------------


def numerical_diff(f, x):
    h = 1e-4
    return (f(x + h) - f(x - h)) / (2 * h)


def function_1(x):
    return 0.01 * x**2 + 0.1 * x


def gradient_1d(data, rng, out, *, tangent_at=(5, 10)):
    """ch04/gradient_1d.py (W: tangents at 5 and 10). Returns the slopes at ``tangent_at``."""
    def tangent_line(f, x):
        d = numerical_diff(f, x)
        print(d)
        y = f(x) - d * x
        return lambda t: d * t + y

    x = np.arange(0.0, 20.0, 0.1)
    y = function_1(x)
    plt.figure()
    plt.xlabel("x")
    plt.ylabel("f(x)")
    plt.plot(x, y)
    for point in tangent_at:
        tf = tangent_line(function_1, point)
        plt.plot(x, tf(x))
    show(out, "gradient_1d")
    return {"slopes": [numerical_diff(function_1, point) for point in tangent_at]}


def _numerical_gradient_no_batch(f, x):
    h = 1e-4
    grad = np.zeros_like(x)
    for idx in range(x.size):
        tmp_val = x[idx]
        x[idx] = float(tmp_val) + h
        fxh1 = f(x)
        x[idx] = tmp_val - h
        fxh2 = f(x)
        grad[idx] = (fxh1 - fxh2) / (2 * h)
        x[idx] = tmp_val
    return grad


def numerical_gradient_2d(f, X):
    """ch04/gradient_2d.py's numerical_gradient: one row of X at a time."""
    if X.ndim == 1:
        return _numerical_gradient_no_batch(f, X)
    grad = np.zeros_like(X)
    for idx, x in enumerate(X):
        grad[idx] = _numerical_gradient_no_batch(f, x)
    return grad


def function_2(x):
    if x.ndim == 1:
        return np.sum(x**2)
    return np.sum(x**2, axis=1)


def gradient_2d(data, rng, out):
    """ch04/gradient_2d.py: the field −∇f of f = Σx² on an 18×18 grid. Returns the points
    (2, 324) and the gradient there."""
    x0 = np.arange(-2, 2.5, 0.25)
    x1 = np.arange(-2, 2.5, 0.25)
    X, Y = np.meshgrid(x0, x1)
    X = X.flatten()
    Y = Y.flatten()
    points = np.array([X, Y])
    grad = numerical_gradient_2d(function_2, points.copy())
    plt.figure()
    plt.quiver(X, Y, -grad[0], -grad[1], angles="xy", color="#666666")
    plt.xlim([-2, 2])
    plt.ylim([-2, 2])
    plt.xlabel("x0")
    plt.ylabel("x1")
    plt.grid()
    # The book's plt.legend() here has no labelled artist: it only warns, so it is left out.
    show(out, "gradient_2d")
    return {"points": points, "grad": grad}


def gradient_method(data, rng, out, *, lr=0.1, step_num=20):
    """ch04/gradient_method.py: gradient descent on x0² + x1² from (−3, 4)."""
    def gradient_descent(f, init_x, lr=0.01, step_num=100):
        x = init_x
        x_history = []
        for _ in range(step_num):
            x_history.append(x.copy())
            grad = numerical_gradient_2d(f, x)
            x -= lr * grad
        return x, np.array(x_history)

    def function(x):
        return x[0]**2 + x[1]**2

    init_x = np.array([-3.0, 4.0])
    x, x_history = gradient_descent(function, init_x, lr=lr, step_num=step_num)
    plt.figure()
    plt.plot([-5, 5], [0, 0], "--b")
    plt.plot([0, 0], [-5, 5], "--b")
    plt.plot(x_history[:, 0], x_history[:, 1], "o")
    plt.xlim(-3.5, 3.5)
    plt.ylim(-4.5, 4.5)
    plt.xlabel("X0")
    plt.ylabel("X1")
    show(out, "gradient_method")
    return {"x": x, "history": x_history}


def train_neuralnet(data, rng, out, *, iters_num=10000, batch_size=100, learning_rate=0.1,
                    hidden_size=50, train_samples=None, test_samples=None):
    """ch04/train_neuralnet.py: TwoLayerNet(784, 50, 10) by SGD with one-hot labels, loss
    every iteration, train and test accuracy on the full sets every epoch; draws W's loss
    curve and O's accuracy curves. ``train_samples``, ``test_samples``: None = all."""
    x_train, x_test = data.x_train[:train_samples], data.x_test[:test_samples]
    t_train, t_test = one_hot(data.t_train[:train_samples]), one_hot(data.t_test[:test_samples])
    network = BookTwoLayerNet(input_size=x_train.shape[1], hidden_size=hidden_size,
                              output_size=10, rng=rng)
    train_size = x_train.shape[0]
    train_loss_list = []
    train_acc_list = []
    test_acc_list = []
    iter_per_epoch = max(train_size / batch_size, 1)

    for i in range(iters_num):
        batch_mask = rng.choice(train_size, batch_size)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]
        grad = network.gradient(x_batch, t_batch)
        for key in ("W1", "b1", "W2", "b2"):
            network.params[key] -= learning_rate * grad[key]
        loss = network.loss(x_batch, t_batch)
        train_loss_list.append(loss)
        if i % iter_per_epoch == 0:
            train_acc = network.accuracy(x_train, t_train)
            test_acc = network.accuracy(x_test, t_test)
            train_acc_list.append(train_acc)
            test_acc_list.append(test_acc)
            print("train acc, test acc | " + str(train_acc) + ", " + str(test_acc))

    plt.figure()
    x = np.arange(len(train_loss_list))
    plt.plot(x, train_loss_list)
    plt.xlabel("iteration")
    plt.ylabel("loss")
    plt.ylim(0, 9)
    plt.xlim(0, iters_num)
    show(out, "train_neuralnet_loss")
    plt.figure()
    x = np.arange(len(train_acc_list))
    plt.plot(x, train_acc_list, label="train acc")
    plt.plot(x, test_acc_list, label="test acc", linestyle="--")
    plt.xlabel("epochs")
    plt.ylabel("accuracy")
    plt.ylim(0, 1.0)
    plt.legend(loc="lower right")
    show(out, "train_neuralnet_accuracy")
    return {"train_loss": train_loss_list, "train_acc": train_acc_list,
            "test_acc": test_acc_list}
