"""Every optimizer against torch.optim, the book variants against the book's code, transcribed."""

import tracemalloc

import numpy as np
import pytest
import torch

from dlfs import optim

# name -> [(dlfs kwargs, torch class, torch kwargs)]: defaults first, then non-defaults.
PARITY = {
    "sgd": [({}, torch.optim.SGD, dict(lr=0.01)),
            (dict(lr=0.1, weight_decay=0.01), torch.optim.SGD, dict(lr=0.1, weight_decay=0.01))],
    "momentum": [
        ({}, torch.optim.SGD, dict(lr=0.01, momentum=0.9)),
        (dict(lr=0.05, momentum=0.5, dampening=0.1, weight_decay=1e-3), torch.optim.SGD,
         dict(lr=0.05, momentum=0.5, dampening=0.1, weight_decay=1e-3)),
    ],
    "nesterov": [
        ({}, torch.optim.SGD, dict(lr=0.01, momentum=0.9, nesterov=True)),
        (dict(lr=0.03, momentum=0.7, weight_decay=0.01), torch.optim.SGD,
         dict(lr=0.03, momentum=0.7, nesterov=True, weight_decay=0.01)),
    ],
    "adagrad": [
        ({}, torch.optim.Adagrad, dict(lr=0.01)),
        (dict(lr=0.1, eps=1e-7, lr_decay=0.01, initial_accumulator_value=0.1, weight_decay=0.01),
         torch.optim.Adagrad,
         dict(lr=0.1, eps=1e-7, lr_decay=0.01, initial_accumulator_value=0.1, weight_decay=0.01)),
    ],
    "rmsprop": [
        ({}, torch.optim.RMSprop, dict(lr=0.01)),
        (dict(lr=1e-3, alpha=0.9, eps=1e-6, momentum=0.5, centered=True, weight_decay=0.01),
         torch.optim.RMSprop,
         dict(lr=1e-3, alpha=0.9, eps=1e-6, momentum=0.5, centered=True, weight_decay=0.01)),
    ],
    "adadelta": [
        ({}, torch.optim.Adadelta, dict(lr=1.0, rho=0.95, eps=1e-6)),
        (dict(lr=0.5, rho=0.9, eps=1e-5, weight_decay=0.01), torch.optim.Adadelta,
         dict(lr=0.5, rho=0.9, eps=1e-5, weight_decay=0.01)),
    ],
    "adam": [
        ({}, torch.optim.Adam, {}),
        (dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, amsgrad=True, weight_decay=0.01),
         torch.optim.Adam,
         dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, amsgrad=True, weight_decay=0.01)),
    ],
    "adamw": [
        ({}, torch.optim.AdamW, {}),
        (dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, amsgrad=True, weight_decay=0.1),
         torch.optim.AdamW,
         dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, amsgrad=True, weight_decay=0.1)),
    ],
}
PARITY_CASES = [(name, i) for name, cases in PARITY.items() for i in range(len(cases))]
SHAPES = {"matrix": (5, 4), "vector": (7,), "scalar": ()}


def test_every_torch_form_optimizer_has_a_parity_case():
    torch_forms = {name for name in optim.OPTIMIZERS if not name.startswith("book-")}
    assert torch_forms == set(PARITY)


@pytest.mark.parametrize(("name", "case"), PARITY_CASES)
def test_optimizer_matches_torch_over_100_steps(name, case):
    kwargs, torch_cls, torch_kwargs = PARITY[name][case]
    rng = np.random.default_rng(hash((name, case)) % 2**32)
    params = {key: np.asarray(rng.standard_normal(shape)) for key, shape in SHAPES.items()}
    tensors = {key: torch.tensor(value.copy(), requires_grad=True) for key, value in params.items()}
    ours = optim.create(name, **kwargs)
    theirs = torch_cls(list(tensors.values()), **torch_kwargs)
    for step in range(100):
        grads = {key: np.asarray(rng.standard_normal(shape)) for key, shape in SHAPES.items()}
        ours.update(params, grads)
        for key, tensor in tensors.items():
            tensor.grad = torch.tensor(grads[key])
        theirs.step()
        for key in SHAPES:
            np.testing.assert_allclose(params[key], tensors[key].detach().numpy(), rtol=1e-10,
                                       atol=1e-12, err_msg=f"{name} {key} at step {step + 1}")


# -- the book's code, transcribed literally (common/optimizer.py, oreilly-japan order) -----------


class LiteralBook:
    def __init__(self, rule, lr, **hyper):
        self.rule, self.lr, self.hyper, self.state, self.iter = rule, lr, hyper, None, 0

    def update(self, params, grads):
        if self.state is None:
            self.state = {k: {"v": np.zeros_like(p), "h": np.zeros_like(p),
                              "m": np.zeros_like(p)} for k, p in params.items()}
        self.iter += 1
        if self.rule == "adam":
            b1, b2 = self.hyper["beta1"], self.hyper["beta2"]
            lr_t = self.lr * np.sqrt(1.0 - b2**self.iter) / (1.0 - b1**self.iter)
        for key in params.keys():
            s, g = self.state[key], grads[key]
            if self.rule == "momentum":
                s["v"] = self.hyper["momentum"] * s["v"] - self.lr * g
                params[key] += s["v"]
            elif self.rule == "nesterov":
                mu = self.hyper["momentum"]
                params[key] += mu * mu * s["v"]
                params[key] -= (1 + mu) * self.lr * g
                s["v"] *= mu
                s["v"] -= self.lr * g
            elif self.rule == "adagrad":
                s["h"] += g * g
                params[key] -= self.lr * g / (np.sqrt(s["h"]) + 1e-7)
            elif self.rule == "rmsprop":
                s["h"] *= self.hyper["decay_rate"]
                s["h"] += (1 - self.hyper["decay_rate"]) * g * g
                params[key] -= self.lr * g / (np.sqrt(s["h"]) + 1e-7)
            elif self.rule == "adam":
                s["m"] += (1 - b1) * (g - s["m"])
                s["v"] += (1 - b2) * (g**2 - s["v"])
                params[key] -= lr_t * s["m"] / (np.sqrt(s["v"]) + 1e-7)


BOOK = {
    "book-momentum": (dict(lr=0.01, momentum=0.9), "momentum"),
    "book-nesterov": (dict(lr=0.01, momentum=0.9), "nesterov"),
    "book-adagrad": (dict(lr=0.01), "adagrad"),
    "book-rmsprop": (dict(lr=0.01, decay_rate=0.99), "rmsprop"),
    "book-adam": (dict(lr=0.001, beta1=0.9, beta2=0.999), "adam"),
}


def test_every_book_variant_has_a_literal_transcription():
    assert {name for name in optim.OPTIMIZERS if name.startswith("book-")} == set(BOOK)


@pytest.mark.parametrize("name", sorted(BOOK))
@pytest.mark.parametrize("scaled", [False, True])
def test_book_variant_matches_the_books_code_over_100_steps(name, scaled):
    kwargs, rule = BOOK[name]
    if scaled:  # non-default hyperparameters
        kwargs = {k: (v * 0.5 if k == "lr" else v) for k, v in kwargs.items()}
    rng = np.random.default_rng(5)
    ours_params = {key: np.asarray(rng.standard_normal(shape)) for key, shape in SHAPES.items()}
    book_params = {key: value.copy() for key, value in ours_params.items()}
    ours, book = optim.create(name, **kwargs), LiteralBook(rule, **kwargs)
    for _ in range(100):
        grads = {key: np.asarray(rng.standard_normal(shape)) for key, shape in SHAPES.items()}
        ours.update(ours_params, grads)
        book.update(book_params, grads)
    for key in SHAPES:
        np.testing.assert_allclose(ours_params[key], book_params[key], rtol=1e-10, atol=1e-12)


def test_book_and_torch_forms_agree_at_constant_learning_rate():
    rng = np.random.default_rng(0)
    for torch_form, book_form in [("momentum", "book-momentum"), ("nesterov", "book-nesterov")]:
        a, b = {"w": rng.standard_normal(5)}, None
        b = {"w": a["w"].copy()}
        opt_a, opt_b = optim.create(torch_form), optim.create(book_form)
        for _ in range(50):
            g = {"w": rng.standard_normal(5)}
            opt_a.update(a, g)
            opt_b.update(b, g)
        np.testing.assert_allclose(a["w"], b["w"], rtol=1e-12)


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


def test_default_learning_rates_follow_the_book():
    assert optim.SGD().lr == 0.01
    assert (optim.Momentum().lr, optim.Momentum().momentum) == (0.01, 0.9)
    assert optim.AdaGrad().lr == 0.01 and optim.RMSprop().lr == 0.01
    assert (optim.Adam().lr, optim.Adam().betas) == (0.001, (0.9, 0.999))


# -- the chapter-6 toy problem ------------------------------------------------------------------


def _toy_gradient(params):
    return {"x": params["x"] / 10.0, "y": 2.0 * params["y"]}


TOY_LR = {"sgd": 0.95, "momentum": 0.1, "nesterov": 0.1, "adagrad": 1.5, "rmsprop": 0.1,
          "adadelta": 1.0, "adam": 0.3, "adamw": 0.3, "book-momentum": 0.1,
          "book-nesterov": 0.1, "book-adagrad": 1.5, "book-rmsprop": 0.1, "book-adam": 0.3}


@pytest.mark.parametrize("name", sorted(optim.OPTIMIZERS))
def test_toy_problem_path_is_finite_and_ends_nearer_the_minimum(name):
    params = {"x": np.array(-7.0), "y": np.array(2.0)}
    x_obj, y_obj = params["x"], params["y"]
    opt = optim.create(name, lr=TOY_LR[name])
    for _ in range(30):
        opt.update(params, _toy_gradient(params))
        assert np.isfinite(params["x"]) and np.isfinite(params["y"])
    assert params["x"] is x_obj and params["y"] is y_obj
    assert np.hypot(params["x"], params["y"]) < np.hypot(-7.0, 2.0)


# -- in place, no per-step allocation -----------------------------------------------------------


@pytest.mark.parametrize("name", sorted(optim.OPTIMIZERS))
def test_updates_are_in_place_and_allocate_no_parameter_sized_arrays(name):
    kwargs = {} if name.startswith("book-") else {"weight_decay": 0.01}
    opt = optim.create(name, **kwargs)
    rng = np.random.default_rng(0)
    params = {"W": rng.standard_normal((500, 400))}
    grads = {"W": rng.standard_normal((500, 400))}
    W = params["W"]
    opt.update(params, grads)  # creates the state
    tracemalloc.start()
    try:
        before, _ = tracemalloc.get_traced_memory()
        opt.update(params, grads)
        opt.update(params, grads)
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    assert params["W"] is W
    assert peak - before < W.nbytes // 10


def test_views_into_a_shared_buffer_stay_shared():
    buffer = np.zeros(6)
    params = {"a": buffer[:2], "b": buffer[2:].reshape(2, 2)}
    optim.Adam(lr=0.1).update(params, {"a": np.ones(2), "b": np.ones((2, 2))})
    np.testing.assert_allclose(buffer, -0.1)


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("name", "kwargs", "message"),
    [("rmsprop2", {}, "unknown optimizer 'rmsprop2'; choose one of sgd, momentum"),
     ("sgd", dict(lr=0), "lr must be > 0, got 0"),
     ("adam", dict(lr=-1e-3), "lr must be > 0"),
     ("adam", dict(betas=(0.9, 1.0)), r"betas\[1\] must be in \[0.0, 1.0\)"),
     ("adam", dict(betas=0.9), "betas must be a pair"),
     ("adam", dict(eps=0), "eps must be > 0"),
     ("adadelta", dict(rho=1.5), r"rho must be in \[0.0, 1.0\]"),
     ("momentum", dict(momentum=-0.1), r"momentum must be in \[0.0, 1.0\]"),
     ("sgd", dict(weight_decay=-1), "weight_decay must be a number >= 0"),
     ("sgd", dict(momentum=0.9), "sgd takes no argument 'momentum'; it takes lr, weight_decay")],
)
def test_invalid_optimizer_arguments_name_the_argument_and_valid_range(name, kwargs, message):
    with pytest.raises(ValueError, match=message):
        optim.create(name, **kwargs)


def test_missing_or_misshapen_grads_name_the_key():
    opt = optim.SGD()
    params = {"W1": np.zeros((2, 2)), "b1": np.zeros(2)}
    with pytest.raises(ValueError, match="grads has no entry for parameter 'b1'"):
        opt.update(params, {"W1": np.zeros((2, 2))})
    with pytest.raises(ValueError, match=r"grads\['b1'\] has shape \(3,\), but params\['b1'\]"):
        opt.update(params, {"W1": np.zeros((2, 2)), "b1": np.zeros(3)})
    with pytest.raises(ValueError, match=r"params\['x'\] must be a floating-point numpy array"):
        opt.update({"x": 1.0}, {"x": 1.0})
    np.testing.assert_array_equal(params["W1"], 0)
