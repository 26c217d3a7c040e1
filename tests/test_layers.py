"""Every public layer: gradient check in float64, and parity with torch where torch has it."""

import inspect

import numpy as np
import pytest
import torch

from dlfs import layers
from dlfs.gradient import numerical_gradient, relative_error

TOL = 1e-7


def _affine(rng):
    return layers.Affine(rng.standard_normal((12, 4)), rng.standard_normal(4)), \
        rng.standard_normal((5, 3, 2, 2)), {"W": "dW", "b": "db"}


def _batchnorm(rng):
    layer = layers.BatchNormalization(1 + 0.1 * rng.standard_normal(4),
                                      0.1 * rng.standard_normal(4))
    return layer, rng.standard_normal((6, 4)), {"gamma": "dgamma", "beta": "dbeta"}


def _batchnorm_4d(rng):
    layer = layers.BatchNormalization(1 + 0.1 * rng.standard_normal(12),
                                      0.1 * rng.standard_normal(12))
    return layer, rng.standard_normal((5, 3, 2, 2)), {"gamma": "dgamma", "beta": "dbeta"}


def _dropout(rng, cls=layers.Dropout):
    layer = cls(0.3, rng=np.random.default_rng(7))
    layer.frozen = True
    return layer, rng.standard_normal((5, 6)), {}


def _away_from_zero(rng):
    # ReLU's kink at 0 would break a central difference; keep |x| > 0.1.
    x = rng.standard_normal((5, 6))
    return x + 0.2 * np.sign(x)


LAYER_CASES = {
    "Affine": _affine,
    "Relu": lambda rng: (layers.Relu(), _away_from_zero(rng), {}),
    "Sigmoid": lambda rng: (layers.Sigmoid(), rng.standard_normal((5, 6)), {}),
    "Tanh": lambda rng: (layers.Tanh(), rng.standard_normal((5, 6)), {}),
    "BatchNormalization": _batchnorm,
    "BatchNormalization-4d": _batchnorm_4d,
    "Dropout": _dropout,
    "BookDropout": lambda rng: _dropout(rng, layers.BookDropout),
}


def test_every_public_layer_has_a_gradient_check_case():
    public = {name for name, obj in vars(layers).items()
              if inspect.isclass(obj) and obj.__module__ == layers.__name__
              and hasattr(obj, "backward") and name != "SoftmaxWithLoss"}
    assert public <= {case.split("-")[0] for case in LAYER_CASES}


@pytest.mark.parametrize("case", sorted(LAYER_CASES))
def test_layer_backward_matches_numerical_gradient(case, rng):
    layer, x, param_grads = LAYER_CASES[case](rng)
    weights = rng.standard_normal(layer.forward(x.copy()).shape)

    def loss(_):
        return float(np.sum(layer.forward(x, train_flg=True) * weights))

    loss(None)
    dx = layer.backward(weights)
    assert relative_error(dx, numerical_gradient(loss, x)) < TOL
    for param, grad in param_grads.items():
        analytic = getattr(layer, grad).copy()
        numerical = numerical_gradient(loss, getattr(layer, param))
        assert relative_error(analytic, numerical) < TOL, param


def test_softmax_with_loss_backward_matches_numerical_gradient(rng):
    layer = layers.SoftmaxWithLoss()
    x = rng.standard_normal((4, 5))
    for t in (np.array([0, 4, 2, 2]), np.eye(5)[[1, 3, 0, 4]]):
        layer.forward(x, t)
        dx = layer.backward()
        numerical = numerical_gradient(lambda _, t=t: layer.forward(x, t), x)
        assert relative_error(dx, numerical) < TOL


def test_relu_backward_leaves_dout_untouched():
    relu = layers.Relu()
    relu.forward(np.array([-1.0, 2.0]))
    dout = np.array([5.0, 6.0])
    np.testing.assert_array_equal(relu.backward(dout), [0.0, 6.0])
    np.testing.assert_array_equal(dout, [5.0, 6.0])


def test_relu_in_test_mode_keeps_no_mask_and_a_backward_after_it_says_so():
    relu = layers.Relu()
    relu.forward(np.array([-1.0, 2.0]), train_flg=True)
    np.testing.assert_array_equal(relu.forward(np.array([3.0, -4.0]), train_flg=False), [3.0, 0.0])
    with pytest.raises(RuntimeError, match=r"needs a forward in training mode first"):
        relu.backward(np.array([1.0, 1.0]))  # not the mask of the earlier training forward


def test_inverted_dropout_scales_in_training_and_is_identity_at_test(rng):
    layer = layers.Dropout(0.2, rng=np.random.default_rng(0))
    x = np.ones((200, 50))
    out = layer.forward(x, train_flg=True)
    assert set(np.unique(out)) == {0.0, 1.25}
    assert abs((out == 0).mean() - 0.2) < 0.01
    np.testing.assert_array_equal(layer.forward(x, train_flg=False), x)


def test_book_dropout_keeps_values_in_training_and_scales_at_test():
    layer = layers.BookDropout(0.2, rng=np.random.default_rng(0))
    x = np.ones((100, 10))
    assert set(np.unique(layer.forward(x, train_flg=True))) == {0.0, 1.0}
    np.testing.assert_allclose(layer.forward(x, train_flg=False), 0.8)


def test_dropout_draws_a_new_mask_each_forward_and_repeats_for_a_seed():
    x = np.ones((10, 10))
    first = layers.Dropout(0.5, rng=np.random.default_rng(3))
    again = layers.Dropout(0.5, rng=np.random.default_rng(3))
    a, b = first.forward(x), first.forward(x)
    assert not np.array_equal(a, b)
    np.testing.assert_array_equal(again.forward(x), a)


@pytest.mark.parametrize("ratio", [-0.1, 1.0, 1.5])
def test_dropout_ratio_outside_zero_one_is_rejected(ratio):
    with pytest.raises(ValueError, match=r"dropout_ratio must be in \[0.0, 1.0\)"):
        layers.Dropout(ratio)


# -- parity with torch ---------------------------------------------------------------------------


def test_softmax_with_loss_matches_torch_cross_entropy(rng):
    x = rng.standard_normal((8, 10)) * 5
    t = rng.integers(0, 10, 8)
    layer = layers.SoftmaxWithLoss()
    loss = layer.forward(x, t)
    dx = layer.backward()
    xt = torch.tensor(x, requires_grad=True)
    reference = torch.nn.functional.cross_entropy(xt, torch.tensor(t))
    reference.backward()
    assert loss == pytest.approx(reference.item(), rel=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-10, atol=1e-14)


def test_affine_forward_and_backward_match_torch_linear(rng):
    W, b = rng.standard_normal((6, 3)), rng.standard_normal(3)
    x, dout = rng.standard_normal((4, 6)), rng.standard_normal((4, 3))
    layer = layers.Affine(W, b)
    out = layer.forward(x)
    dx = layer.backward(dout)
    xt = torch.tensor(x, requires_grad=True)
    Wt = torch.tensor(W.T.copy(), requires_grad=True)  # torch stores (out, in)
    bt = torch.tensor(b, requires_grad=True)
    ref = torch.nn.functional.linear(xt, Wt, bt)
    ref.backward(torch.tensor(dout))
    np.testing.assert_allclose(out, ref.detach().numpy(), rtol=1e-12)
    np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.dW, Wt.grad.numpy().T, rtol=1e-12)
    np.testing.assert_allclose(layer.db, bt.grad.numpy(), rtol=1e-12)


def test_batchnorm_matches_torch_batchnorm1d_in_train_and_eval_mode(rng):
    features = 5
    gamma = 1 + 0.2 * rng.standard_normal(features)
    beta = 0.2 * rng.standard_normal(features)
    # Book momentum 0.9 (kept) is torch momentum 0.1 (new); eps and the unbiased running
    # variance are torch's conventions, chosen explicitly.
    layer = layers.BatchNormalization(gamma.copy(), beta.copy(), momentum=0.9, eps=1e-5,
                                      unbiased_running_var=True)
    reference = torch.nn.BatchNorm1d(features, eps=1e-5, momentum=0.1).double()
    with torch.no_grad():
        reference.weight.copy_(torch.tensor(gamma))
        reference.bias.copy_(torch.tensor(beta))
    for _ in range(3):
        x = 2 + 3 * rng.standard_normal((16, features))
        dout = rng.standard_normal((16, features))
        out = layer.forward(x, train_flg=True)
        dx = layer.backward(dout)
        xt = torch.tensor(x, requires_grad=True)
        reference.train()
        reference.zero_grad()
        ref_out = reference(xt)
        ref_out.backward(torch.tensor(dout))
        np.testing.assert_allclose(out, ref_out.detach().numpy(), rtol=1e-10, atol=1e-12)
        np.testing.assert_allclose(dx, xt.grad.numpy(), rtol=1e-9, atol=1e-12)
        np.testing.assert_allclose(layer.dgamma, reference.weight.grad.numpy(), rtol=1e-10)
        np.testing.assert_allclose(layer.dbeta, reference.bias.grad.numpy(), rtol=1e-10)
    np.testing.assert_allclose(layer.running_mean, reference.running_mean.numpy(), rtol=1e-12)
    np.testing.assert_allclose(layer.running_var, reference.running_var.numpy(), rtol=1e-12)
    x = rng.standard_normal((7, features))
    reference.eval()
    with torch.no_grad():
        ref_eval = reference(torch.tensor(x)).numpy()
    np.testing.assert_allclose(layer.forward(x, train_flg=False), ref_eval, rtol=1e-10)


def test_batchnorm_default_running_statistics_follow_the_documented_convention(rng):
    layer = layers.BatchNormalization(np.ones(3), np.zeros(3))
    x = rng.standard_normal((10, 3))
    layer.forward(x, train_flg=True)
    np.testing.assert_allclose(layer.running_mean, 0.1 * x.mean(axis=0))
    np.testing.assert_allclose(layer.running_var, 0.9 + 0.1 * x.var(axis=0))


def test_the_books_zero_start_of_running_var_fades_as_the_docstring_says(rng):
    x = rng.standard_normal((20, 3)) * 2.0
    variance = x.var(axis=0)
    ours = layers.BatchNormalization(np.ones(3), np.zeros(3))
    book = layers.BatchNormalization(np.ones(3), np.zeros(3), running_var=np.zeros(3))
    for n in range(1, 51):
        ours.forward(x, train_flg=True)
        book.forward(x, train_flg=True)
        np.testing.assert_allclose(ours.running_var - variance, 0.9**n * (1 - variance))
        np.testing.assert_allclose(book.running_var, (1 - 0.9**n) * variance)
        if n in (1, 10, 30, 50):
            inflation = np.sqrt(variance / book.running_var)
            np.testing.assert_allclose(inflation, 1 / np.sqrt(1 - 0.9**n))
    assert 0.005 < 1 - book.running_var[0] / variance[0] < 0.0052  # 0.9⁵⁰ ≈ 0.5 %
    exact = layers.BatchNormalization(np.ones(3), np.zeros(3), running_mean=book.running_mean,
                                      running_var=variance)
    scaled = book.forward(x, train_flg=False) / exact.forward(x, train_flg=False)
    np.testing.assert_allclose(scaled, 1.0026, atol=1e-4)  # x̂ 0.26 % too large after 50


@pytest.mark.parametrize("rows", [[[0, 0, 0], [0, 1, 0]], [[1, 1, 0], [0, 1, 0]],
                                  [[1, 0, 0], [np.nan, 0, 1]]],
                         ids=["an all-zero row", "a row with two ones", "a NaN"])
def test_softmax_with_loss_refuses_target_rows_that_are_not_one_hot_or_soft(rows):
    layer = layers.SoftmaxWithLoss()
    with pytest.raises(ValueError, match=r"t row \d is .*sum to 1"):
        layer.forward(np.array([[1.0, 2.0, 3.0], [0.0, 0.0, 1.0]]), np.array(rows, dtype=float))


def test_softmax_with_loss_soft_targets_give_the_cross_entropy_and_its_gradient():
    rng = np.random.default_rng(3)
    x = rng.normal(size=(4, 3))
    soft = rng.dirichlet(np.ones(3), size=4)
    layer = layers.SoftmaxWithLoss()
    loss = layer.forward(x, soft)
    x_torch = torch.tensor(x, requires_grad=True)
    expected = torch.nn.functional.cross_entropy(x_torch, torch.tensor(soft))
    expected.backward()
    np.testing.assert_allclose(loss, expected.item(), rtol=1e-12)
    np.testing.assert_allclose(layer.backward(), x_torch.grad.numpy(), rtol=1e-10, atol=1e-14)
