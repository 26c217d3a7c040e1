"""The book's update rules: its code transcribed literally, and where it parts from torch.

The book's classes (common/optimizer.py of oreilly-japan/deep-learning-from-scratch, line for
line, temporaries and all) live in benchmarks/book_code.py, shared with the book-loop benchmark;
tests/test_optim.py uses them as the reference of every Book* optimizer.
``WegraLeeNesterov`` is the older order the Korean repository still has.
"""

import inspect

import numpy as np
import pytest

from benchmarks.book_code import AdaGrad, Adam, Momentum, Nesterov, RMSprop
from dlfs import optim


class WegraLeeNesterov(Nesterov):
    def update(self, params, grads):
        if self.v is None:
            self.v = {}
            for key, val in params.items():
                self.v[key] = np.zeros_like(val)
        for key in params.keys():
            self.v[key] *= self.momentum
            self.v[key] -= self.lr * grads[key]
            params[key] += self.momentum * self.momentum * self.v[key]
            params[key] -= (1 + self.momentum) * self.lr * grads[key]


BOOK_CODE = {"book-momentum": Momentum, "book-nesterov": Nesterov, "book-adagrad": AdaGrad,
             "book-rmsprop": RMSprop, "book-adam": Adam}


def _defaults(function):
    return {name: p.default for name, p in inspect.signature(function).parameters.items()
            if p.default is not inspect.Parameter.empty}


@pytest.mark.parametrize("name", sorted(BOOK_CODE))
def test_book_variant_takes_the_books_arguments_with_the_books_defaults(name):
    assert _defaults(optim.OPTIMIZERS[name].__init__) == _defaults(BOOK_CODE[name].__init__)


def test_default_learning_rates_follow_the_book():
    assert optim.SGD().lr == 0.01
    assert (optim.Momentum().lr, optim.Momentum().momentum) == (0.01, 0.9)
    assert optim.AdaGrad().lr == 0.01 and optim.RMSprop().lr == 0.01
    assert (optim.Adam().lr, optim.Adam().betas) == (0.001, (0.9, 0.999))


def test_book_and_torch_forms_agree_at_constant_learning_rate():
    rng = np.random.default_rng(0)
    for torch_form, book_form in [("momentum", "book-momentum"), ("nesterov", "book-nesterov")]:
        a = {"w": rng.standard_normal(5)}
        b = {"w": a["w"].copy()}
        opt_a, opt_b = optim.create(torch_form), optim.create(book_form)
        for _ in range(50):
            g = {"w": rng.standard_normal(5)}
            opt_a.update(a, g)
            opt_b.update(b, g)
        np.testing.assert_allclose(a["w"], b["w"], rtol=1e-12)


def test_wegralee_nesterov_scales_the_velocity_by_mu_cubed_and_adds_mu_squared_eta_g():
    rng = np.random.default_rng(11)
    lr, mu = 0.05, 0.8
    theta, v_old, g = (rng.standard_normal(6) for _ in range(3))
    steps = {}
    for name, cls in [("oreilly", Nesterov), ("wegralee", WegraLeeNesterov)]:
        opt, params = cls(lr, mu), {"w": theta.copy()}
        opt.v = {"w": v_old.copy()}
        opt.update(params, {"w": g})
        steps[name] = params["w"] - theta
    np.testing.assert_allclose(steps["oreilly"], mu**2 * v_old - (1 + mu) * lr * g, rtol=1e-12)
    np.testing.assert_allclose(steps["wegralee"],
                               mu**3 * v_old - (1 + mu + mu**2) * lr * g, rtol=1e-12)
    # the difference, two terms: the velocity scaled by μ³ − μ², and μ²·η·g more gradient
    np.testing.assert_allclose(steps["wegralee"] - steps["oreilly"],
                               (mu**3 - mu**2) * v_old - mu**2 * lr * g, rtol=1e-10)


def test_book_nesterov_is_the_oreilly_order_and_not_the_wegralee_one():
    rng = np.random.default_rng(12)
    start = rng.standard_normal(5)
    runs = {}
    for name, opt in [("dlfs", optim.BookNesterov()), ("oreilly", Nesterov()),
                      ("wegralee", WegraLeeNesterov())]:
        params, grad_rng = {"w": start.copy()}, np.random.default_rng(13)
        for _ in range(50):
            opt.update(params, {"w": grad_rng.standard_normal(5)})
        runs[name] = params["w"]
    np.testing.assert_allclose(runs["dlfs"], runs["oreilly"], rtol=1e-12)
    assert np.max(np.abs(runs["dlfs"] - runs["wegralee"])) > 1e-3


def test_book_adam_differs_from_torch_adam_through_epsilon_placement():
    params_book, params_torch = {"w": np.array([1.0])}, {"w": np.array([1.0])}
    book, torch_form = optim.BookAdam(lr=0.1), optim.Adam(lr=0.1, eps=1e-7)
    g = {"w": np.array([1e-6])}
    book.update(params_book, g)
    torch_form.update(params_torch, g)
    # At t=1 the book's ε acts as 1e-7/√(1−β₂) = 3.2e-6 on √v̂ = 1e-6: step 0.1·1/(1+3.16).
    assert 1 - params_book["w"][0] == pytest.approx(0.1 / (1 + 1e-7 / np.sqrt(1e-3) / 1e-6),
                                                    rel=1e-9)
    assert 1 - params_torch["w"][0] == pytest.approx(0.1 / (1 + 1e-7 / 1e-6), rel=1e-9)

