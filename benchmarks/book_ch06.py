"""The book's chapter-6 scripts that draw the lab's figures (update rules, initial weights,
batch norm, overfitting, the hyperparameter search), each a function
``script(data, rng, out, **settings) -> numbers``; see ``benchmarks/book_scripts.py``.
"""

from __future__ import annotations

import math
from collections import OrderedDict

import matplotlib
import numpy as np

matplotlib.use("Agg")  # files only, never a window: savefig stands in for plt.show
import matplotlib.pyplot as plt  # noqa: E402

from benchmarks.book_ch04 import one_hot, show  # noqa: E402
from benchmarks.book_code import (  # noqa: E402
    SGD,
    AdaGrad,
    Adam,
    BookMultiLayerNet,
    Momentum,
    MultiLayerNetExtend,
    sigmoid,
)
from benchmarks.book_trainer import Trainer, shuffle_dataset, smooth_curve  # noqa: E402

# -- ch06: update rules (6.1) ---------------------------------------------------------------------


def optimizer_compare_naive(data, rng, out, *, iterations=30):
    """ch06/optimizer_compare_naive.py: four update rules on x²/20 + y² from (−7, 2), over a
    contour of 2000×1000 points each. Returns each rule's last point drawn."""
    def f(x, y):
        return x**2 / 20.0 + y**2

    def df(x, y):
        return x / 10.0, 2.0 * y

    init_pos = (-7.0, 2.0)
    params = {}
    params["x"], params["y"] = init_pos[0], init_pos[1]
    grads = {}
    grads["x"], grads["y"] = 0, 0

    optimizers = OrderedDict()
    optimizers["SGD"] = SGD(lr=0.95)
    optimizers["Momentum"] = Momentum(lr=0.1)
    optimizers["AdaGrad"] = AdaGrad(lr=1.5)
    optimizers["Adam"] = Adam(lr=0.3)

    last = {}
    plt.figure(figsize=(12, 8))  # W's size
    idx = 1
    for key in optimizers:
        optimizer = optimizers[key]
        x_history = []
        y_history = []
        params["x"], params["y"] = init_pos[0], init_pos[1]
        for _ in range(iterations):
            x_history.append(params["x"])
            y_history.append(params["y"])
            grads["x"], grads["y"] = df(params["x"], params["y"])
            optimizer.update(params, grads)

        x = np.arange(-10, 10, 0.01)
        y = np.arange(-5, 5, 0.01)
        X, Y = np.meshgrid(x, y)
        Z = f(X, Y)
        mask = Z > 7  # for simple contour lines
        Z[mask] = 0

        plt.subplot(2, 2, idx)
        idx += 1
        plt.plot(x_history, y_history, "o-", color="red")
        plt.contour(X, Y, Z)
        plt.ylim(-10, 10)
        plt.xlim(-10, 10)
        plt.plot(0, 0, "+")
        plt.title(key)
        plt.xlabel("x")
        plt.ylabel("y")
        last[key] = (float(x_history[-1]), float(y_history[-1]))
    show(out, "optimizer_compare_naive")
    return {"last": last}


def _train_side_by_side(data, rng, networks, optimizers, max_iterations, batch_size):
    """The loop optimizer_compare_mnist.py and weight_init_compare.py share: every network
    steps on the same mini-batch, its loss recorded after each update, printed every 100."""
    x_train, t_train = data.x_train, data.t_train
    train_size = x_train.shape[0]
    train_loss = {key: [] for key in networks}
    for i in range(max_iterations):
        batch_mask = rng.choice(train_size, batch_size)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]
        for key in networks:
            grads = networks[key].gradient(x_batch, t_batch)
            optimizers[key].update(networks[key].params, grads)
            loss = networks[key].loss(x_batch, t_batch)
            train_loss[key].append(loss)
        if i % 100 == 0:
            print("===========" + "iteration:" + str(i) + "===========")
            for key in networks:
                loss = networks[key].loss(x_batch, t_batch)
                print(key + ":" + str(loss))
    return train_loss


def _plot_losses(out, name, train_loss, markers, max_iterations, ylim):
    plt.figure()
    x = np.arange(max_iterations)
    for key in train_loss:
        plt.plot(x, smooth_curve(train_loss[key]), marker=markers[key], markevery=100,
                 label=key)
    plt.xlabel("iterations")
    plt.ylabel("loss")
    plt.ylim(0, ylim)
    plt.legend()
    show(out, name)


def optimizer_compare_mnist(data, rng, out, *, max_iterations=2000, batch_size=128,
                            hidden_size_list=(100, 100, 100, 100)):
    """ch06/optimizer_compare_mnist.py: SGD, Momentum, AdaGrad and Adam at their defaults,
    each training a 784-[100]×4-10 ReLU net. ``max_iterations`` >= 11 (smooth_curve)."""
    optimizers = {"SGD": SGD(), "Momentum": Momentum(), "AdaGrad": AdaGrad(), "Adam": Adam()}
    networks = {}
    for key in optimizers:
        networks[key] = BookMultiLayerNet(input_size=data.x_train.shape[1],
                                          hidden_size_list=list(hidden_size_list),
                                          output_size=10, rng=rng)
    train_loss = _train_side_by_side(data, rng, networks, optimizers, max_iterations,
                                     batch_size)
    markers = {"SGD": "o", "Momentum": "x", "AdaGrad": "s", "Adam": "D"}
    _plot_losses(out, "optimizer_compare_mnist", train_loss, markers, max_iterations, 1)
    return {"train_loss": train_loss}


# -- ch06: initial weights (6.2) -----------------------------------------------------------------

# The book's figures 6-10 … 6-14: the script run once per edit of its activation and its
# `w = np.random.randn(node_num, node_num) * …` line.
BOOK_HISTOGRAMS = (("sigmoid", "1"), ("sigmoid", "0.01"), ("sigmoid", "xavier"),
                   ("relu", "0.01"), ("relu", "xavier"), ("relu", "he"))


def weight_init_activation_histogram(data, rng, out, *, variants=BOOK_HISTOGRAMS,
                                     node_num=100, hidden_layer_size=5, samples=1000):
    """ch06/weight_init_activation_histogram.py, once per (activation, init) of ``variants``,
    a figure each. Returns each variant's activation std per layer."""
    def ReLU(x):
        return np.maximum(0, x)

    functions = {"sigmoid": sigmoid, "relu": ReLU, "tanh": np.tanh}
    scales = {"1": 1, "0.01": 0.01, "xavier": np.sqrt(1.0 / node_num),
              "he": np.sqrt(2.0 / node_num)}
    stds = {}
    for activation, init in variants:
        input_data = rng.standard_normal((samples, node_num))
        x = input_data
        activations = {}
        for i in range(hidden_layer_size):
            if i != 0:
                x = activations[i - 1]
            w = rng.standard_normal((node_num, node_num)) * scales[init]
            a = np.dot(x, w)
            z = functions[activation](a)
            activations[i] = z

        plt.figure()
        for i, a in activations.items():
            plt.subplot(1, len(activations), i + 1)
            plt.title(str(i + 1) + "-layer")
            if i != 0:
                plt.yticks([], [])
            plt.hist(a.flatten(), 30, range=(0, 1))
        show(out, f"weight_init_activation_histogram_{activation}_{init}")
        stds[f"{activation}/{init}"] = [float(a.std()) for a in activations.values()]
    return {"std": stds}


def weight_init_compare(data, rng, out, *, max_iterations=2000, batch_size=128,
                        hidden_size_list=(100, 100, 100, 100)):
    """ch06/weight_init_compare.py: std 0.01, Xavier and He on a 784-[100]×4-10 ReLU net,
    one shared SGD(0.01). ``max_iterations`` >= 11 (smooth_curve)."""
    weight_init_types = {"std=0.01": 0.01, "Xavier": "sigmoid", "He": "relu"}
    optimizer = SGD(lr=0.01)
    networks = {}
    for key, weight_type in weight_init_types.items():
        networks[key] = BookMultiLayerNet(input_size=data.x_train.shape[1],
                                          hidden_size_list=list(hidden_size_list),
                                          output_size=10, weight_init_std=weight_type,
                                          rng=rng)
    train_loss = _train_side_by_side(data, rng, networks, dict.fromkeys(networks, optimizer),
                                     max_iterations, batch_size)
    markers = {"std=0.01": "o", "Xavier": "s", "He": "D"}
    _plot_losses(out, "weight_init_compare", train_loss, markers, max_iterations, 2.5)
    return {"train_loss": train_loss}


# -- ch06: batch normalisation (6.3) --------------------------------------------------------------


def batch_norm_test(data, rng, out, *, train_samples=1000, max_epochs=20, batch_size=100,
                    learning_rate=0.01, scales=16, hidden_size_list=(100,) * 5):
    """O ch06/batch_norm_test.py (W batch_norm_test_multi.py): with and without batch norm at
    ``scales`` weight scales from np.logspace(0, −4), a 4-wide grid. Returns the training
    accuracy per epoch, with and without."""
    x_train, t_train = data.x_train[:train_samples], data.t_train[:train_samples]
    train_size = x_train.shape[0]

    def __train(weight_init_std):
        bn_network = MultiLayerNetExtend(input_size=x_train.shape[1],
                                         hidden_size_list=list(hidden_size_list),
                                         output_size=10, weight_init_std=weight_init_std,
                                         use_batchnorm=True, rng=rng)
        network = MultiLayerNetExtend(input_size=x_train.shape[1],
                                      hidden_size_list=list(hidden_size_list), output_size=10,
                                      weight_init_std=weight_init_std, rng=rng)
        optimizer = SGD(lr=learning_rate)
        train_acc_list = []
        bn_train_acc_list = []
        iter_per_epoch = max(train_size / batch_size, 1)
        epoch_cnt = 0
        for i in range(1000000000):
            batch_mask = rng.choice(train_size, batch_size)
            x_batch = x_train[batch_mask]
            t_batch = t_train[batch_mask]
            for _network in (bn_network, network):
                grads = _network.gradient(x_batch, t_batch)
                optimizer.update(_network.params, grads)
            if i % iter_per_epoch == 0:
                train_acc = network.accuracy(x_train, t_train)
                bn_train_acc = bn_network.accuracy(x_train, t_train)
                train_acc_list.append(train_acc)
                bn_train_acc_list.append(bn_train_acc)
                print("epoch:" + str(epoch_cnt) + " | " + str(train_acc) + " - "
                      + str(bn_train_acc))
                epoch_cnt += 1
                if epoch_cnt >= max_epochs:
                    break
        return train_acc_list, bn_train_acc_list

    weight_scale_list = np.logspace(0, -4, num=scales)
    x = np.arange(max_epochs)
    rows = math.ceil(scales / 4)
    results = {"scales": weight_scale_list, "plain": [], "batchnorm": []}
    plt.figure(figsize=(8, 8))  # W batch_norm_test_multi.py's size
    for i, w in enumerate(weight_scale_list):
        print("============== " + str(i + 1) + "/" + str(scales) + " ==============")
        train_acc_list, bn_train_acc_list = __train(w)
        results["plain"].append(train_acc_list)
        results["batchnorm"].append(bn_train_acc_list)
        plt.subplot(rows, 4, i + 1)
        plt.title("W:" + str(w))
        if i == scales - 1:
            plt.plot(x, bn_train_acc_list, label="Batch Normalization", markevery=2)
            plt.plot(x, train_acc_list, linestyle="--", label="Normal(without BatchNorm)",
                     markevery=2)
            # The book calls plt.legend in every panel; only this one has labels to show.
            plt.legend(loc="lower right")
        else:
            plt.plot(x, bn_train_acc_list, markevery=2)
            plt.plot(x, train_acc_list, linestyle="--", markevery=2)
        plt.ylim(0, 1.0)
        if i % 4:
            plt.yticks([])
        else:
            plt.ylabel("accuracy")
        if i < scales - 4:
            plt.xticks([])
        else:
            plt.xlabel("epochs")
    show(out, "batch_norm_test")
    return results


def batch_norm_gradient_check(data, rng, out, *, samples=1, hidden_size_list=(100, 100)):
    """ch06/batch_norm_gradient_check.py: backprop against numerical gradients through
    MultiLayerNetExtend(784, [100, 100], 10, use_batchnorm=True) on x_train[:samples], one-hot
    labels. The book draws no figure. Returns the mean |difference| per parameter.

    With the book's one sample every batch-norm output is β = 0, on ReLU's kink, so the
    numerical gradient of beta2 is half the true one (BOOK-NOTES 2.8 c): use ``samples`` >= 2
    to test the backprop."""
    x_batch = data.x_train[:samples]
    t_batch = one_hot(data.t_train[:samples])
    network = MultiLayerNetExtend(input_size=x_batch.shape[1],
                                  hidden_size_list=list(hidden_size_list), output_size=10,
                                  use_batchnorm=True, rng=rng)
    grad_backprop = network.gradient(x_batch, t_batch)
    grad_numerical = network.numerical_gradient(x_batch, t_batch)
    diffs = {}
    for key in grad_numerical.keys():
        diff = np.average(np.abs(grad_backprop[key] - grad_numerical[key]))
        print(key + ":" + str(diff))
        diffs[key] = float(diff)
    return {"diff": diffs}


# -- ch06: regularisation (6.4) and the hyperparameter search (6.5) -------------------------------


def _plot_accuracy(out, name, train_acc_list, test_acc_list):
    plt.figure()
    x = np.arange(len(train_acc_list))
    plt.plot(x, train_acc_list, marker="o", label="train", markevery=10)
    plt.plot(x, test_acc_list, marker="s", label="test", markevery=10)
    plt.xlabel("epochs")
    plt.ylabel("accuracy")
    plt.ylim(0, 1.0)
    plt.legend(loc="lower right")
    show(out, name)


def overfit_weight_decay(data, rng, out, *, weight_decay_lambda=0.1, train_samples=300,
                         test_samples=None, max_epochs=201, batch_size=100,
                         learning_rate=0.01, hidden_size_list=(100,) * 6):
    """ch06/overfit_weight_decay.py (λ = 0 is W's overfit.py): a 784-[100]×6-10 net on 300
    samples, train and test accuracy every epoch on the 300 and the full test set."""
    x_train, t_train = data.x_train[:train_samples], data.t_train[:train_samples]
    x_test, t_test = data.x_test[:test_samples], data.t_test[:test_samples]
    network = BookMultiLayerNet(input_size=x_train.shape[1],
                                hidden_size_list=list(hidden_size_list), output_size=10,
                                weight_decay_lambda=weight_decay_lambda, rng=rng)
    optimizer = SGD(lr=learning_rate)
    train_size = x_train.shape[0]
    train_acc_list = []
    test_acc_list = []
    iter_per_epoch = max(train_size / batch_size, 1)
    epoch_cnt = 0
    for i in range(1000000000):
        batch_mask = rng.choice(train_size, batch_size)
        x_batch = x_train[batch_mask]
        t_batch = t_train[batch_mask]
        grads = network.gradient(x_batch, t_batch)
        optimizer.update(network.params, grads)
        if i % iter_per_epoch == 0:
            train_acc = network.accuracy(x_train, t_train)
            test_acc = network.accuracy(x_test, t_test)
            train_acc_list.append(train_acc)
            test_acc_list.append(test_acc)
            print("epoch:" + str(epoch_cnt) + ", train acc:" + str(train_acc)
                  + ", test acc:" + str(test_acc))
            epoch_cnt += 1
            if epoch_cnt >= max_epochs:
                break
    _plot_accuracy(out, f"overfit_weight_decay_{weight_decay_lambda}", train_acc_list,
                   test_acc_list)
    return {"train_acc": train_acc_list, "test_acc": test_acc_list}


def overfit_dropout(data, rng, out, *, dropout_ratio=0.2, train_samples=300,
                    test_samples=None, max_epochs=301, hidden_size_list=(100,) * 6):
    """ch06/overfit_dropout.py: MultiLayerNetExtend with dropout, trained by the book's
    Trainer (verbose: a line per iteration)."""
    x_train, t_train = data.x_train[:train_samples], data.t_train[:train_samples]
    x_test, t_test = data.x_test[:test_samples], data.t_test[:test_samples]
    network = MultiLayerNetExtend(input_size=x_train.shape[1],
                                  hidden_size_list=list(hidden_size_list), output_size=10,
                                  use_dropout=True, dropout_ration=dropout_ratio, rng=rng)
    trainer = Trainer(network, x_train, t_train, x_test, t_test, epochs=max_epochs,
                      mini_batch_size=100, optimizer="sgd", optimizer_param={"lr": 0.01},
                      verbose=True, rng=rng)
    trainer.train()
    _plot_accuracy(out, "overfit_dropout", trainer.train_acc_list, trainer.test_acc_list)
    return {"train_acc": trainer.train_acc_list, "test_acc": trainer.test_acc_list}


def hyperparameter_optimization(data, rng, out, *, optimization_trial=100, epochs=50,
                                train_samples=500, hidden_size_list=(100,) * 6):
    """ch06/hyperparameter_optimization.py: random search over lr = 10^U(−6, −2) and
    λ = 10^U(−8, −4), 400 training and 100 validation samples; the best 20 drawn on a 4×5
    grid. Returns every trial's (lr, weight decay, final val accuracy)."""
    x_train, t_train = data.x_train[:train_samples], data.t_train[:train_samples]
    validation_rate = 0.20
    validation_num = int(x_train.shape[0] * validation_rate)
    x_train, t_train = shuffle_dataset(x_train, t_train, rng)
    x_val = x_train[:validation_num]
    t_val = t_train[:validation_num]
    x_train = x_train[validation_num:]
    t_train = t_train[validation_num:]

    def __train(lr, weight_decay, epocs=epochs):
        network = BookMultiLayerNet(input_size=x_train.shape[1],
                                    hidden_size_list=list(hidden_size_list), output_size=10,
                                    weight_decay_lambda=weight_decay, rng=rng)
        trainer = Trainer(network, x_train, t_train, x_val, t_val, epochs=epocs,
                          mini_batch_size=100, optimizer="sgd", optimizer_param={"lr": lr},
                          verbose=False, rng=rng)
        trainer.train()
        return trainer.test_acc_list, trainer.train_acc_list

    results_val = {}
    results_train = {}
    trials = []
    for _ in range(optimization_trial):
        weight_decay = 10 ** rng.uniform(-8, -4)
        lr = 10 ** rng.uniform(-6, -2)
        val_acc_list, train_acc_list = __train(lr, weight_decay)
        print("val acc:" + str(val_acc_list[-1]) + " | lr:" + str(lr) + ", weight decay:"
              + str(weight_decay))
        key = "lr:" + str(lr) + ", weight decay:" + str(weight_decay)
        results_val[key] = val_acc_list
        results_train[key] = train_acc_list
        trials.append((lr, weight_decay, val_acc_list[-1]))

    print("=========== Hyper-Parameter Optimization Result ===========")
    graph_draw_num = 20
    col_num = 5
    row_num = int(np.ceil(graph_draw_num / col_num))
    i = 0
    plt.figure(figsize=(10, 8))  # W's size
    for key, val_acc_list in sorted(results_val.items(), key=lambda x: x[1][-1], reverse=True):
        print("Best-" + str(i + 1) + "(val acc:" + str(val_acc_list[-1]) + ") | " + key)
        plt.subplot(row_num, col_num, i + 1)
        plt.title("Best-" + str(i + 1))
        plt.ylim(0.0, 1.0)
        if i % 5:
            plt.yticks([])
        plt.xticks([])
        x = np.arange(len(val_acc_list))
        plt.plot(x, val_acc_list)
        plt.plot(x, results_train[key], "--")
        i += 1
        if i >= graph_draw_num:
            break
    show(out, "hyperparameter_optimization")
    return {"trials": trials}
