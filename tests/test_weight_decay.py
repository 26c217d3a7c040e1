"""Three weight decays, proved equal where they are and different where they are not.

  - the optimizers' ``weight_decay``: coupled L2 on every key (g + λθ before the rule);
  - AdamW's ``weight_decay``: decoupled (θ ← θ − η·λ·θ outside the adaptive step);
  - the network's ``weight_decay_lambda``: ½λΣ‖W‖² in the loss, weights only.
(The equivalence test follows DeZero's tests/test_weight_decay.py.)
"""

import numpy as np
import pytest

from dlfs import optim
from dlfs.network import MultiLayerNet

LR, LAMBDA = 0.1, 0.05


def _net(weight_decay_lambda):
    return MultiLayerNet(6, [5, 4], 3, use_batchnorm=True, weight_decay_lambda=weight_decay_lambda,
                         dtype=np.float64, seed=7)


def _weights_only(params):
    return {key: value for key, value in params.items() if key.startswith("W")}


def test_sgd_decay_on_the_weights_alone_equals_the_networks_lambda_step_for_step(rng):
    in_loss, in_optimizer = _net(LAMBDA), _net(0.0)
    plain = optim.SGD(lr=LR)
    decayed, rest = optim.SGD(lr=LR, weight_decay=LAMBDA), optim.SGD(lr=LR)
    for step in range(1, 26):
        x, t = rng.standard_normal((10, 6)), rng.integers(0, 3, 10)
        squared_norms = sum(float(np.sum(W * W))
                            for W in _weights_only(in_optimizer.params).values())
        loss_with_lambda, grads = in_loss.loss_and_gradient(x, t)
        plain.update(in_loss.params, grads)
        loss, grads = in_optimizer.loss_and_gradient(x, t)
        weights = _weights_only(in_optimizer.params)
        decayed.update(weights, {key: grads[key] for key in weights})
        others = {key: value for key, value in in_optimizer.params.items() if key not in weights}
        rest.update(others, {key: grads[key] for key in others})
        # ½λΣ‖W‖² in the loss, weights only
        assert loss_with_lambda == pytest.approx(loss + 0.5 * LAMBDA * squared_norms, rel=1e-12)
        for key, value in in_loss.params.items():
            np.testing.assert_allclose(in_optimizer.params[key], value, rtol=1e-12, atol=1e-15,
                                       err_msg=f"{key} at step {step}")


def test_coupled_decay_on_every_key_also_shrinks_the_biases_the_networks_lambda_leaves(rng):
    in_loss, in_optimizer = _net(LAMBDA), _net(0.0)
    for net in (in_loss, in_optimizer):
        net.params["b1"][...] = 0.5
    x, t = rng.standard_normal((10, 6)), rng.integers(0, 3, 10)
    optim.SGD(lr=LR).update(in_loss.params, in_loss.gradient(x, t))
    optim.SGD(lr=LR, weight_decay=LAMBDA).update(in_optimizer.params, in_optimizer.gradient(x, t))
    # b − η·(db + λ·b) against b − η·db
    np.testing.assert_allclose(in_optimizer.params["b1"] - in_loss.params["b1"], -LR * LAMBDA * 0.5,
                               rtol=1e-12)
    np.testing.assert_allclose(in_optimizer.params["W1"], in_loss.params["W1"], rtol=1e-12)


def test_adamw_step_is_adams_step_on_g_then_a_decay_of_the_old_theta(rng):
    start = rng.standard_normal((4, 3))
    adamw_params, adam_params = {"w": start.copy()}, {"w": start.copy()}
    adamw, adam = optim.AdamW(lr=0.01, weight_decay=0.1), optim.Adam(lr=0.01)
    for step in range(1, 21):
        g = {"w": rng.standard_normal((4, 3))}
        theta, adam_before = adamw_params["w"].copy(), adam_params["w"].copy()
        adamw.update(adamw_params, g)
        adam.update(adam_params, g)
        adam_step = adam_params["w"] - adam_before  # depends on g alone, not on θ
        # θ ← θ − η·λ·θ, not divided by √v̂, plus Adam's own step
        np.testing.assert_allclose(adamw_params["w"], theta + adam_step - 0.01 * 0.1 * theta,
                                   rtol=1e-10, atol=1e-15, err_msg=f"step {step}")
        for name in ("m", "v"):  # the decay leaves Adam's averages alone
            np.testing.assert_array_equal(adamw.state["w"][name], adam.state["w"][name])


def test_adams_coupled_decay_is_divided_by_sqrt_v_and_adamws_is_not():
    theta, zero = np.array([2.0, -0.5]), {"w": np.zeros(2)}
    coupled, decoupled = {"w": theta.copy()}, {"w": theta.copy()}
    optim.Adam(lr=0.1, weight_decay=0.01).update(coupled, zero)
    optim.AdamW(lr=0.1, weight_decay=0.01).update(decoupled, zero)
    # coupled: g = λθ, so m̂/√v̂ = sign(θ) and the step is η whatever λ is
    np.testing.assert_allclose(coupled["w"] - theta, -0.1 * np.sign(theta), rtol=1e-5)
    # decoupled: the step is η·λ·θ
    np.testing.assert_allclose(decoupled["w"] - theta, -0.1 * 0.01 * theta, rtol=1e-12)
