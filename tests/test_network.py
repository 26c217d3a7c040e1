import numpy as np
import pytest
import torch

from dlfs import MultiLayerNet, TwoLayerNet
from dlfs.gradient import gradient_check
from dlfs.optim import SGD

NETWORK_CASES = {
    "relu": dict(activation="relu"),
    "sigmoid": dict(activation="sigmoid", weight_init="xavier"),
    "tanh-batchnorm": dict(activation="tanh", use_batchnorm=True),
    "relu-batchnorm-dropout-decay": dict(activation="relu", use_batchnorm=True,
                                         dropout_ratio=0.2, weight_decay_lambda=0.1),
    "sigmoid-dropout-decay": dict(activation="sigmoid", dropout_ratio=0.3,
                                  weight_decay_lambda=0.05),
}


@pytest.mark.parametrize("case", sorted(NETWORK_CASES))
def test_whole_network_backprop_matches_numerical_gradient(case, rng):
    net = MultiLayerNet(6, [5, 4], 3, dtype=np.float64, seed=3, **NETWORK_CASES[case])
    x = rng.standard_normal((7, 6))
    t = rng.integers(0, 3, 7)
    errors = gradient_check(net, x, t)
    assert set(errors) == set(net.params)
    assert max(errors.values()) < 1e-7, errors


def test_gradient_check_catches_a_wrong_backward(rng):
    net = MultiLayerNet(6, [5], 3, activation="tanh", dtype=np.float64, seed=3)
    x, t = rng.standard_normal((4, 6)), rng.integers(0, 3, 4)
    net.layers[1].backward = lambda dout: dout * 1.01  # tanh's derivative replaced by ~1
    errors = gradient_check(net, x, t)
    assert errors["W1"] > 1e-3 and errors["W2"] < 1e-7


def test_gradient_check_leaves_running_statistics_and_dropout_unfrozen(rng):
    net = MultiLayerNet(6, [5], 3, use_batchnorm=True, dropout_ratio=0.5, dtype=np.float64)
    before = {k: v.copy() for k, v in net.buffers.items()}
    gradient_check(net, rng.standard_normal((4, 6)), rng.integers(0, 3, 4))
    for key, value in before.items():
        np.testing.assert_array_equal(net.buffers[key], value)
    assert not any(getattr(layer, "frozen", False) for layer in net.layers)


def test_params_use_the_books_keys_and_shapes():
    net = MultiLayerNet(784, [100, 50], 10, use_batchnorm=True)
    assert list(net.params) == ["W1", "b1", "gamma1", "beta1", "W2", "b2", "gamma2", "beta2",
                                "W3", "b3"]
    assert net.params["W1"].shape == (784, 100) and net.params["W3"].shape == (50, 10)
    assert all(v.dtype == np.float32 for v in net.params.values())
    assert TwoLayerNet(784, 50, 10).params.keys() == {"W1", "b1", "W2", "b2"}


def test_weight_init_sets_the_first_layers_standard_deviation():
    net = MultiLayerNet(784, [400], 10, weight_init="he")
    assert net.params["W1"].std() == pytest.approx(np.sqrt(2 / 784), rel=0.01)
    np.testing.assert_array_equal(net.params["b1"], 0)


def test_float32_and_float64_networks_start_at_the_same_point():
    a = MultiLayerNet(20, [10], 3, dtype=np.float32, seed=5)
    b = MultiLayerNet(20, [10], 3, dtype=np.float64, seed=5)
    np.testing.assert_allclose(a.params["W1"], b.params["W1"], rtol=1e-6)


def test_loss_includes_half_lambda_sum_of_squared_weights(rng):
    plain = MultiLayerNet(6, [5], 3, dtype=np.float64, seed=1)
    decayed = MultiLayerNet(6, [5], 3, dtype=np.float64, seed=1, weight_decay_lambda=0.1)
    x, t = rng.standard_normal((4, 6)), rng.integers(0, 3, 4)
    penalty = 0.05 * sum(np.sum(plain.params[k] ** 2) for k in ("W1", "W2"))
    assert decayed.loss(x, t) == pytest.approx(plain.loss(x, t) + penalty)


def test_accuracy_in_batches_equals_accuracy_in_one_go(rng):
    net = MultiLayerNet(6, [5], 3, use_batchnorm=True, seed=2)
    x, t = rng.standard_normal((1003, 6)), rng.integers(0, 3, 1003)
    assert net.accuracy(x, t, batch_size=100) == net.accuracy(x, t, batch_size=5000)
    manual = np.mean(net.predict(x).argmax(axis=1) == t)
    assert net.accuracy(x, t) == pytest.approx(manual)
    assert net.accuracy(x, np.eye(3)[t]) == pytest.approx(manual)


def test_network_loss_and_gradient_match_torch(rng):
    net = MultiLayerNet(6, [5, 4], 3, activation="relu", dtype=np.float64, seed=0,
                        weight_decay_lambda=0.01)
    x, t = rng.standard_normal((8, 6)), rng.integers(0, 3, 8)
    loss, grads = net.loss_and_gradient(x, t)
    weights = [torch.tensor(net.params[f"W{k}"], requires_grad=True) for k in (1, 2, 3)]
    biases = [torch.tensor(net.params[f"b{k}"], requires_grad=True) for k in (1, 2, 3)]
    h = torch.tensor(x)
    for k in range(3):
        h = h @ weights[k] + biases[k]
        if k < 2:
            h = torch.relu(h)
    ref = torch.nn.functional.cross_entropy(h, torch.tensor(t))
    ref = ref + 0.005 * sum((w**2).sum() for w in weights)
    ref.backward()
    assert loss == pytest.approx(ref.item(), rel=1e-12)
    for k in range(3):
        np.testing.assert_allclose(grads[f"W{k + 1}"], weights[k].grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(grads[f"b{k + 1}"], biases[k].grad.numpy(), rtol=1e-10,
                                   atol=1e-15)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        (dict(input_size=0), "input_size must be a positive integer, got 0"),
        (dict(hidden_sizes=[10, -1]), r"hidden_sizes\[1\] must be a positive integer, got -1"),
        (dict(activation="gelu"), "activation must be one of relu, sigmoid, tanh, got 'gelu'"),
        (dict(weight_init="kaiming_uniform"), "weight_init must be a positive number or one"),
        (dict(dtype=np.int32), "dtype must be float32 or float64"),
        (dict(dropout_ratio=1.0), "dropout_ratio must be in"),
        (dict(weight_decay_lambda=-1), "weight_decay_lambda must be > 0"),
    ],
)
def test_bad_constructor_arguments_raise_value_errors_naming_them(kwargs, message):
    args = dict(input_size=4, hidden_sizes=[3], output_size=2) | kwargs
    with pytest.raises(ValueError, match=message):
        MultiLayerNet(**args)


def test_bad_inputs_raise_value_errors_naming_them():
    net = MultiLayerNet(4, [3], 2)
    with pytest.raises(ValueError, match=r"x must have 4 features .* got shape \(2, 5\)"):
        net.predict(np.zeros((2, 5)))
    with pytest.raises(ValueError, match="t has label 2, outside the valid range 0..1"):
        net.loss(np.zeros((2, 4)), [0, 2])
    with pytest.raises(ValueError, match="t must hold 2 labels"):
        net.loss(np.zeros((2, 4)), [0, 1, 1])
    with pytest.raises(ValueError, match="x contains NaN or inf"):
        net.gradient(np.array([[0, np.nan, 0, 0]]), [1])
    with pytest.raises(ValueError, match="x contains NaN or inf"):
        net.accuracy(np.array([[0, np.inf, 0, 0]]), [1])


def test_two_layer_net_learns_separable_blobs():
    from conftest import make_blobs

    rng = np.random.default_rng(1)
    x, t = make_blobs(rng)
    net = TwoLayerNet(4, 16, 3, weight_init_std=0.5, seed=1)
    optimizer = SGD(lr=0.5)
    for _i in range(300):
        batch = rng.choice(len(t), 32)
        optimizer.update(net.params, net.gradient(x[batch], t[batch]))
    assert net.accuracy(x, t) >= 0.98


def test_gradient_fills_the_same_arrays_the_layers_write_and_params_share(rng):
    net = MultiLayerNet(6, [5], 3, use_batchnorm=True)
    first = net.gradient(rng.standard_normal((4, 6)), [0, 1, 2, 0])
    kept = {key: value.copy() for key, value in first.items()}
    second = net.gradient(rng.standard_normal((4, 6)), [2, 2, 1, 0])
    assert all(second[key] is first[key] for key in first)
    assert second["W1"] is net.layers[0].dW and second["gamma1"] is net.layers[1].dgamma
    assert not np.array_equal(second["W1"], kept["W1"])
    assert net.params["W1"] is net.layers[0].W and net.params["beta1"] is net.layers[1].beta
    assert not np.shares_memory(net.params["W1"], net.params["b1"])


def test_check_data_flattens_images_casts_and_turns_one_hot_rows_into_indices():
    net = MultiLayerNet(4, [3], 2)
    images = np.arange(8, dtype=np.uint8).reshape(2, 1, 2, 2)
    x, t = net.check_data(images, [[0, 1], [1, 0]])
    assert x.shape == (2, 4) and x.dtype == np.float32
    np.testing.assert_array_equal(x[1], [4, 5, 6, 7])
    np.testing.assert_array_equal(t, [1, 0])


@pytest.mark.parametrize(
    ("x", "t", "message"),
    [(np.zeros((3, 5)), [0, 1, 1], r"x must have 4 features .* got shape \(3, 5\)"),
     (np.array([[0, 0, 0, 0], [0, 0, np.nan, 0]]), [0, 1], "x contains NaN or inf"),
     (np.zeros((2, 4)), [0, 2], "t has label 2, outside the valid range 0..1"),
     (np.zeros((2, 4)), [0.5, 1], "t must hold integer class indices"),
     (np.zeros((2, 4)), [0, 1, 1], "t must hold 2 labels")],
)
def test_check_data_rejects_bad_data_with_a_sentence_naming_it(x, t, message):
    with pytest.raises(ValueError, match=message):
        MultiLayerNet(4, [3], 2).check_data(x, t)


@pytest.mark.parametrize("activation", ["relu", "sigmoid", "tanh"])
@pytest.mark.parametrize("bad", [np.nan, np.inf, -np.inf])
@pytest.mark.parametrize("where", [(0, 0), (1, 2), (2, 3)])
def test_a_non_finite_input_is_named_by_every_per_call_method(activation, bad, where):
    # Sigmoid and tanh squash ±inf to finite values, so only a check before them catches it.
    net = MultiLayerNet(4, [3], 2, activation=activation, use_batchnorm=True)
    x = np.zeros((3, 4))
    x[where] = bad
    running_mean = net.buffers["running_mean1"].copy()
    for call in (lambda: net.predict(x), lambda: net.loss(x, [0, 1, 1]),
                 lambda: net.gradient(x, [0, 1, 1]), lambda: net.accuracy(x, [0, 1, 1])):
        with pytest.raises(ValueError, match="x contains NaN or inf"):
            call()
    np.testing.assert_array_equal(net.buffers["running_mean1"], running_mean)


def test_a_bad_label_is_rejected_before_the_running_statistics_move():
    net = MultiLayerNet(4, [3], 2, use_batchnorm=True)
    running_var = net.buffers["running_var1"].copy()
    with pytest.raises(ValueError, match="t has label 5"):
        net.gradient(np.ones((3, 4)), [0, 5, 1])
    np.testing.assert_array_equal(net.buffers["running_var1"], running_var)


def test_gradient_and_loss_and_gradient_agree_and_leave_the_loss_in_last_loss(rng):
    net = MultiLayerNet(6, [5, 4], 3, dtype=np.float64, weight_decay_lambda=0.01)
    x, t = rng.standard_normal((8, 6)), rng.integers(0, 3, 8)
    grads = {key: value.copy() for key, value in net.gradient(x, t).items()}
    loss, again = net.loss_and_gradient(x, t)
    assert loss == net.last_loss == net.loss(x, t, train_flg=True)
    for key in grads:
        np.testing.assert_array_equal(again[key], grads[key])


@pytest.mark.parametrize(("rows", "row"), [([[0, 1], [0, 0]], 1), ([[1, 1], [0, 1]], 0),
                                           ([[0.5, 0.5], [0, 1]], 0), ([[1, 0], [np.nan, 1]], 1)],
                         ids=["an all-zero row", "a row with two ones", "a soft row", "a NaN"])
def test_one_hot_labels_that_are_not_one_hot_are_refused_naming_the_row(rows, row):
    net = MultiLayerNet(4, [3], 2)
    x = np.zeros((2, 4))
    for use in (net.check_data, net.accuracy, net.loss):
        with pytest.raises(ValueError, match=rf"t row {row} is .*a single 1"):
            use(x, np.array(rows))


# -- sizes checked before memory is claimed ----------------------------------------------------


def test_a_hidden_layer_of_a_billion_units_is_refused_with_its_size_before_allocating():
    with pytest.raises(ValueError) as info:
        TwoLayerNet(784, 10**9, 10)
    assert str(info.value).startswith(
        "TwoLayerNet(784-1000000000-10) would need 11.5 TiB for its parameters and their "
        "gradients (795,000,000,010 values of float32), more than the ")
    assert "use fewer or narrower layers" in str(info.value)


@pytest.mark.slow
def test_two_layers_of_100000_units_are_refused_under_a_16_gib_address_space_limit():
    # a child process under ulimit -v 16 GiB: the 150 GiB this network needs is refused by
    # dlfs with its size, not by numpy's MemoryError
    import resource
    import subprocess
    import sys

    limit = 16 << 30

    def lower_limit():
        resource.setrlimit(resource.RLIMIT_AS, (limit, limit))

    code = ("from dlfs import MultiLayerNet\n"
            "try:\n    MultiLayerNet(784, [100000, 100000], 10)\n"
            "except ValueError as error:\n    print(error)\n")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                          timeout=120, preexec_fn=lower_limit, check=False)
    assert done.returncode == 0, done.stderr[-500:]
    assert done.stdout.strip().startswith(
        "MultiLayerNet(784-100000-100000-10) would need 150 GiB for its parameters and their "
        "gradients (10,079,600,010 values of float32), more than the ")
    available = float(done.stdout.split("more than the ")[1].split(" GiB")[0])
    assert available <= 16


@pytest.mark.parametrize("x, message", [
    (np.zeros((0, 4)), r"x holds no samples \(shape \(0, 4\)\); give at least one row of 4 "
                       "values"),
    ([[0.1, 0.2, 0.3, 0.4], [0.1, 0.2]], r"x must be a table of samples with the same number "
                                         r"of values each \(shape \(N, 4\)\), got rows of "
                                         "lengths 2, 4"),
], ids=["no rows", "ragged rows"])
def test_predict_of_no_rows_or_ragged_rows_says_what_x_must_be(x, message):
    net = TwoLayerNet(4, 5, 3)
    with pytest.raises(ValueError, match=message):
        net.predict(x)
    with pytest.raises(ValueError, match=message):
        net.loss(x, [])
