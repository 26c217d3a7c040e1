"""The book's common/trainer.py and common/util.py (smooth_curve, shuffle_dataset), transcribed.

As in ``benchmarks/book_code.py``: the book's code line for line, its float ``iter_per_epoch``
schedule, its prints and all, with a ``numpy.random.Generator`` (``rng``) making the draws the
book makes from the global ``np.random``. Used by ``benchmarks/book_scripts.py``.
"""

from __future__ import annotations

import numpy as np

from benchmarks.book_code import BOOK_OPTIMIZERS

# -- common/util.py ------------------------------------------------------------------------------


def smooth_curve(x):
    """The book's loss smoothing: an 11-point Kaiser-window (β = 2) average, ends reflected."""
    window_len = 11
    s = np.r_[x[window_len - 1:0:-1], x, x[-1:-window_len:-1]]
    w = np.kaiser(window_len, 2)
    y = np.convolve(w / w.sum(), s, mode="valid")
    return y[5:len(y) - 5]


def shuffle_dataset(x, t, rng):
    permutation = rng.permutation(x.shape[0])
    x = x[permutation, :] if x.ndim == 2 else x[permutation, :, :, :]
    t = t[permutation]
    return x, t


# -- common/trainer.py ---------------------------------------------------------------------------


class Trainer:
    # The book's optimizer_param={'lr': 0.01} is a mutable default; None here, same value.
    def __init__(self, network, x_train, t_train, x_test, t_test, epochs=20,
                 mini_batch_size=100, optimizer="SGD", optimizer_param=None,
                 evaluate_sample_num_per_epoch=None, verbose=True, rng=None):
        self.network = network
        self.verbose = verbose
        self.x_train = x_train
        self.t_train = t_train
        self.x_test = x_test
        self.t_test = t_test
        self.epochs = epochs
        self.batch_size = mini_batch_size
        self.evaluate_sample_num_per_epoch = evaluate_sample_num_per_epoch
        self.rng = rng  # the book draws its mini-batches from np.random.choice

        self.optimizer = BOOK_OPTIMIZERS[optimizer.lower()](**(optimizer_param or {"lr": 0.01}))

        self.train_size = x_train.shape[0]
        self.iter_per_epoch = max(self.train_size / mini_batch_size, 1)
        self.max_iter = int(epochs * self.iter_per_epoch)
        self.current_iter = 0
        self.current_epoch = 0

        self.train_loss_list = []
        self.train_acc_list = []
        self.test_acc_list = []

    def train_step(self):
        batch_mask = self.rng.choice(self.train_size, self.batch_size)
        x_batch = self.x_train[batch_mask]
        t_batch = self.t_train[batch_mask]

        grads = self.network.gradient(x_batch, t_batch)
        self.optimizer.update(self.network.params, grads)

        loss = self.network.loss(x_batch, t_batch)
        self.train_loss_list.append(loss)
        if self.verbose:
            print("train loss:" + str(loss))

        if self.current_iter % self.iter_per_epoch == 0:
            self.current_epoch += 1

            x_train_sample, t_train_sample = self.x_train, self.t_train
            x_test_sample, t_test_sample = self.x_test, self.t_test
            if self.evaluate_sample_num_per_epoch is not None:
                t = self.evaluate_sample_num_per_epoch
                x_train_sample, t_train_sample = self.x_train[:t], self.t_train[:t]
                x_test_sample, t_test_sample = self.x_test[:t], self.t_test[:t]

            train_acc = self.network.accuracy(x_train_sample, t_train_sample)
            test_acc = self.network.accuracy(x_test_sample, t_test_sample)
            self.train_acc_list.append(train_acc)
            self.test_acc_list.append(test_acc)

            if self.verbose:
                print("=== epoch:" + str(self.current_epoch) + ", train acc:" + str(train_acc)
                      + ", test acc:" + str(test_acc) + " ===")
        self.current_iter += 1

    def train(self):
        for _ in range(self.max_iter):
            self.train_step()

        test_acc = self.network.accuracy(self.x_test, self.t_test)

        if self.verbose:
            print("=============== Final Test Accuracy ===============")
            print("test acc:" + str(test_acc))
