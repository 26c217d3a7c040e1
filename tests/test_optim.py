"""Every optimizer from one table: its reference, its cases, its toy learning rate, its state.

Each row names a torch.optim class or the book's code transcribed (benchmarks/book_code.py),
the dlfs keyword arguments to run (defaults first), the chapter-6 toy problem's learning rate
and how dlfs's state arrays are called in the reference. Every generic test below iterates the
table, as torch's ``optim_db`` (torch/testing/_internal/common_optimizers.py); adding an
optimizer is its class, one entry in dlfs.optim.registry and one row here.
"""

import tracemalloc
import zlib
from dataclasses import dataclass, field

import numpy as np
import pytest
import test_optim_book as book
import torch

from dlfs import optim
from dlfs.optim.base import ema_


@dataclass(frozen=True)
class OptimizerCase:
    """One optimizer: what it must equal, on which hyperparameters, and how its state is named."""

    name: str  # its key in optim.OPTIMIZERS
    reference: type  # a torch.optim class, or the book's code
    cases: tuple[dict, ...]  # dlfs keyword arguments, the reference gets the same
    toy_lr: float  # the chapter-6 toy problem's learning rate
    state_map: dict[str, str]  # dlfs state name -> the reference's
    reference_defaults: dict = field(default_factory=dict)  # reference kwargs for dlfs defaults
    invalid: tuple[tuple[dict, str], ...] = ()  # (kwargs, the error's message) for create()


SGD_STATE = {"b": "momentum_buffer"}
ADAM_STATE = {"m": "exp_avg", "v": "exp_avg_sq", "v_max": "max_exp_avg_sq", "step": "step"}
ADAM_CASES = ({}, dict(lr=0.01, betas=(0.8, 0.99), eps=1e-6, amsgrad=True, weight_decay=0.01))

OPTIMIZER_DB = [
    OptimizerCase("sgd", torch.optim.SGD, ({}, dict(lr=0.1, weight_decay=0.01)), 0.95, {},
                  dict(lr=0.01),
                  invalid=((dict(weight_decay=-1), "weight_decay must be a number >= 0"),
                           (dict(momentum=0.9),
                            "sgd takes no argument 'momentum'; it takes lr, weight_decay"))),
    OptimizerCase("momentum", torch.optim.SGD,
                  ({}, dict(lr=0.05, momentum=0.5, dampening=0.1, weight_decay=1e-3),
                   # torch keeps no buffer without momentum, so dampening changes nothing
                   dict(lr=0.1, momentum=0.0, dampening=0.5)),
                  0.1, SGD_STATE, dict(lr=0.01, momentum=0.9),
                  invalid=((dict(momentum=-0.1), r"momentum must be in \[0.0, 1.0\]"),
                           (dict(dampening=1.5), r"dampening must be in \[0.0, 1.0\]"))),
    OptimizerCase("nesterov", torch.optim.SGD,
                  ({}, dict(lr=0.03, momentum=0.7, weight_decay=0.01)), 0.1, SGD_STATE,
                  dict(lr=0.01, momentum=0.9, nesterov=True),
                  invalid=((dict(momentum=1.5), r"momentum must be in \[0.0, 1.0\]"),
                           (dict(dampening=0.1), "nesterov takes no argument 'dampening'"))),
    OptimizerCase("adagrad", torch.optim.Adagrad,
                  ({}, dict(lr=0.1, eps=1e-7, lr_decay=0.01, initial_accumulator_value=0.1,
                            weight_decay=0.01)),
                  1.5, {"h": "sum", "step": "step"}, dict(lr=0.01),
                  invalid=((dict(eps=0), "eps must be > 0"),
                           (dict(lr_decay=-1), "lr_decay must be a number >= 0"),
                           (dict(initial_accumulator_value=-0.1),
                            "initial_accumulator_value must be a number >= 0"))),
    OptimizerCase("rmsprop", torch.optim.RMSprop,
                  ({}, dict(lr=1e-3, alpha=0.9, eps=1e-6, momentum=0.5, centered=True,
                            weight_decay=0.01)),
                  0.1, {"v": "square_avg", "g_avg": "grad_avg", "b": "momentum_buffer",
                        "step": "step"},
                  dict(lr=0.01),
                  invalid=((dict(alpha=1.1), r"alpha must be in \[0.0, 1.0\]"),
                           (dict(momentum=-1), r"momentum must be in \[0.0, 1.0\]"))),
    OptimizerCase("adadelta", torch.optim.Adadelta,
                  ({}, dict(lr=0.5, rho=0.9, eps=1e-5, weight_decay=0.01)), 1.0,
                  {"v": "square_avg", "u": "acc_delta", "step": "step"},
                  dict(lr=1.0, rho=0.95, eps=1e-6),
                  invalid=((dict(rho=1.5), r"rho must be in \[0.0, 1.0\]"),
                           (dict(eps=0), "eps must be > 0"))),
    OptimizerCase("adam", torch.optim.Adam, ADAM_CASES, 0.3, ADAM_STATE,
                  invalid=((dict(betas=(0.9, 1.0)), r"betas\[1\] must be in \[0.0, 1.0\)"),
                           (dict(betas=0.9), "betas must be a pair"),
                           (dict(eps=0), "eps must be > 0"))),
    OptimizerCase("adamw", torch.optim.AdamW, ADAM_CASES[:1] + ({**ADAM_CASES[1],
                                                                "weight_decay": 0.1},),
                  0.3, ADAM_STATE,
                  invalid=((dict(weight_decay=-0.01), "weight_decay must be a number >= 0"),
                           (dict(betas=(1.0, 0.999)), r"betas\[0\] must be in \[0.0, 1.0\)"))),
    OptimizerCase("book-momentum", book.Momentum, ({}, dict(lr=0.005, momentum=0.5)), 0.1,
                  {"v": "v"},
                  invalid=((dict(momentum=2), r"momentum must be in \[0.0, 1.0\]"),
                           (dict(weight_decay=0.1),
                            "book-momentum takes no argument 'weight_decay'; it takes lr, "
                            "momentum"))),
    OptimizerCase("book-nesterov", book.Nesterov, ({}, dict(lr=0.005, momentum=0.5)), 0.1,
                  {"v": "v"},
                  invalid=((dict(momentum=-0.5), r"momentum must be in \[0.0, 1.0\]"),)),
    OptimizerCase("book-adagrad", book.AdaGrad, ({}, dict(lr=0.005)), 1.5, {"h": "h"},
                  invalid=((dict(eps=1e-8), "book-adagrad takes no argument 'eps'; it takes lr"),)),
    OptimizerCase("book-rmsprop", book.RMSprop, ({}, dict(lr=0.005, decay_rate=0.9)), 0.1,
                  {"h": "h"},
                  invalid=((dict(decay_rate=1.5), r"decay_rate must be in \[0.0, 1.0\]"),)),
    OptimizerCase("book-adam", book.Adam, ({}, dict(lr=0.0005, beta1=0.8, beta2=0.99)), 0.3,
                  {"m": "m", "v": "v"},
                  invalid=((dict(beta1=1.0), r"beta1 must be in \[0.0, 1.0\)"),
                           (dict(betas=(0.9, 0.99)), "book-adam takes no argument 'betas'"))),
]
ROWS = {row.name: row for row in OPTIMIZER_DB}
CASES = [pytest.param(row, i, id=f"{row.name}-{i}") for row in OPTIMIZER_DB
         for i in range(len(row.cases))]
EACH_ROW = [pytest.param(row, id=row.name) for row in OPTIMIZER_DB]
SHAPES = {"matrix": (5, 4), "vector": (7,), "scalar": ()}


class TorchReference:
    def __init__(self, cls, params, kwargs):
        self.tensors = {key: torch.tensor(value.copy(), requires_grad=True)
                        for key, value in params.items()}
        self.optimizer = cls(list(self.tensors.values()), **kwargs)

    def step(self, grads):
        for key, tensor in self.tensors.items():
            tensor.grad = torch.tensor(grads[key])
        self.optimizer.step()

    def param(self, key):
        return self.tensors[key].detach().numpy()

    def state(self, key, name):
        value = self.optimizer.state[self.tensors[key]].get(name)
        return None if value is None else value.detach().numpy()


class BookReference:
    def __init__(self, cls, params, kwargs):
        self.params = {key: value.copy() for key, value in params.items()}
        self.optimizer = cls(**kwargs)

    def step(self, grads):
        self.optimizer.update(self.params, grads)

    def param(self, key):
        return self.params[key]

    def state(self, key, name):
        arrays = getattr(self.optimizer, name)
        return None if arrays is None else arrays[key]


def _reference(row, case, params):
    wrapper = TorchReference if row.reference.__module__.startswith("torch") else BookReference
    return wrapper(row.reference, params, {**row.reference_defaults, **row.cases[case]})


def _draw(rng, shapes=SHAPES):
    return {key: np.asarray(rng.standard_normal(shape)) for key, shape in shapes.items()}


def test_every_optimizer_has_exactly_one_row():
    assert sorted(ROWS) == sorted(optim.OPTIMIZERS)
    assert len(ROWS) == len(OPTIMIZER_DB)


@pytest.mark.parametrize("steps", [10, pytest.param(100, marks=pytest.mark.slow)])
@pytest.mark.parametrize(("row", "case"), CASES)
def test_optimizer_and_its_state_match_the_reference_at_every_step(row, case, steps):
    rng = np.random.default_rng(zlib.crc32(f"{row.name} {case}".encode()))
    params = _draw(rng)
    arrays = dict(params)
    ours, theirs = optim.create(row.name, **row.cases[case]), _reference(row, case, params)
    for step in range(1, steps + 1):  # 10 in make test-fast, 100 in make test
        grads = _draw(rng)
        saved = {key: grad.copy() for key, grad in grads.items()}
        ours.update(params, grads)
        theirs.step(grads)
        for key in SHAPES:
            where = f"{row.name} (case {case}) {{}} of {key} at step {step}"
            assert params[key] is arrays[key], where.format("θ replaced, not updated in place,")
            np.testing.assert_array_equal(grads[key], saved[key], err_msg=where.format("grad"))
            for name, their_name in row.state_map.items():  # the state first: it says why
                expected = theirs.state(key, their_name)
                assert (name in ours.state[key]) == (expected is not None), \
                    where.format(f"{name} kept by one side only,")
                if expected is not None:
                    np.testing.assert_allclose(ours.state[key][name], expected, rtol=1e-10,
                                               atol=1e-12, err_msg=where.format(name))
            np.testing.assert_allclose(params[key], theirs.param(key), rtol=1e-10, atol=1e-12,
                                       err_msg=where.format("θ"))


@pytest.mark.parametrize("row", EACH_ROW)
def test_every_state_array_is_mapped_and_compared_in_one_of_the_rows_cases(row):
    compared = set()
    for case, kwargs in enumerate(row.cases):
        params = {"w": np.ones(3)}
        ours, theirs = optim.create(row.name, **kwargs), _reference(row, case, params)
        grads = {"w": np.full(3, 0.5)}
        ours.update(params, grads)
        theirs.step(grads)
        assert set(ours.state_names) <= set(row.state_map), kwargs
        compared |= {name for name, their_name in row.state_map.items()
                     if name in ours.state["w"] and theirs.state("w", their_name) is not None}
    assert compared == set(row.state_map)


# -- the chapter-6 toy problem ------------------------------------------------------------------


def _toy_gradient(params):
    return {"x": params["x"] / 10.0, "y": 2.0 * params["y"]}


@pytest.mark.parametrize("row", EACH_ROW)
def test_toy_problem_path_is_finite_and_ends_nearer_the_minimum(row):
    params = {"x": np.array(-7.0), "y": np.array(2.0)}
    x_obj, y_obj = params["x"], params["y"]
    opt = optim.create(row.name, lr=row.toy_lr)
    for _ in range(30):
        opt.update(params, _toy_gradient(params))
        assert np.isfinite(params["x"]) and np.isfinite(params["y"])
    assert params["x"] is x_obj and params["y"] is y_obj
    assert np.hypot(params["x"], params["y"]) < np.hypot(-7.0, 2.0)


# -- in place, no per-step allocation -----------------------------------------------------------


@pytest.mark.parametrize(("row", "case"), CASES)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_updates_are_in_place_and_allocate_no_parameter_sized_arrays(row, case, dtype):
    opt = optim.create(row.name, **row.cases[case])
    rng = np.random.default_rng(zlib.crc32(f"{row.name} {case} allocation".encode()))
    params = {"W": rng.standard_normal((500, 400)).astype(dtype)}
    grads = {"W": rng.standard_normal((500, 400)).astype(dtype)}
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


# -- single rules --------------------------------------------------------------------------------


def test_momentum_without_momentum_ignores_dampening_and_is_sgd():
    damped, plain = optim.Momentum(lr=0.1, momentum=0.0, dampening=0.5), optim.SGD(lr=0.1)
    a, b = {"w": np.array([1.0, -2.0])}, {"w": np.array([1.0, -2.0])}
    for g in ([0.5, 0.5], [1.0, -1.0], [0.2, 0.3]):
        damped.update(a, {"w": np.array(g)})
        plain.update(b, {"w": np.array(g)})
        np.testing.assert_array_equal(a["w"], b["w"])
    assert "b" not in damped.state["w"]


@pytest.mark.parametrize("g", [1e-3, 1.0, -50.0])
def test_adadelta_first_step_is_sqrt_eps_over_one_minus_rho_whatever_the_gradient(g):
    opt, params = optim.AdaDelta(), {"w": np.array([0.0])}
    opt.update(params, {"w": np.array([g])})
    eps, rho = opt.eps, opt.rho
    step = -params["w"][0]
    assert step == pytest.approx(np.sqrt(eps) * g / np.sqrt((1 - rho) * g * g + eps), rel=1e-12)
    if abs(g) >= 1:  # ≈ √(ε/(1 − ρ))·sign(g) = 4.5e-3, more than four times √ε
        assert step == pytest.approx(np.sign(g) * np.sqrt(eps / (1 - rho)), rel=1e-4)
        assert abs(step) == pytest.approx(4.47e-3, rel=1e-3)


def test_the_in_place_average_keeps_float32_precision_when_the_new_term_dominates():
    # v's first step: 0.999·0 + 0.001·g². Written β·(v − g²) + g², float32 would lose 3 digits.
    g2 = (np.random.default_rng(3).standard_normal(10_000) ** 2).astype(np.float32)
    average, scratch = np.zeros_like(g2), np.empty_like(g2)
    ema_(average, g2, 0.999, scratch)
    exact = 0.001 * g2.astype(np.float64)
    assert np.max(np.abs(average - exact) / exact) < 2e-7


# -- bad input -----------------------------------------------------------------------------------


@pytest.mark.parametrize("row", EACH_ROW)
def test_every_optimizer_rejects_a_learning_rate_that_is_not_positive(row):
    for lr in (0, -1e-3):
        with pytest.raises(ValueError, match=f"lr must be > 0, got {lr}"):
            optim.create(row.name, lr=lr)


@pytest.mark.parametrize("row", EACH_ROW)
def test_every_optimizer_names_what_it_takes_when_given_an_unknown_argument(row):
    accepted = ", ".join(optim.arguments(row.name))
    with pytest.raises(ValueError, match=f"takes no argument 'bogus'; it takes {accepted}$"):
        optim.create(row.name, bogus=1)


@pytest.mark.parametrize(("row", "kwargs", "message"),
                         [pytest.param(row, kwargs, message, id=f"{row.name}-{i}")
                          for row in OPTIMIZER_DB for i, (kwargs, message) in
                          enumerate(row.invalid)])
def test_invalid_optimizer_arguments_name_the_argument_and_valid_range(row, kwargs, message):
    with pytest.raises(ValueError, match=message):
        optim.create(row.name, **kwargs)


def test_every_row_lists_at_least_one_invalid_argument():
    assert [row.name for row in OPTIMIZER_DB if not row.invalid] == []


def test_an_unknown_optimizer_name_lists_the_known_ones():
    with pytest.raises(ValueError, match="unknown optimizer 'rmsprop2'; choose one of sgd, "
                                         "momentum"):
        optim.create("rmsprop2")


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


def test_a_parameter_that_changes_shape_asks_for_a_new_optimizer():
    opt = optim.Adam()
    opt.update({"W": np.zeros((2, 2))}, {"W": np.ones((2, 2))})
    with pytest.raises(ValueError, match=r"params\['W'\] changed shape from \(2, 2\) to \(3,\)"
                                         ".*use a new optimizer"):
        opt.update({"W": np.zeros(3)}, {"W": np.ones(3)})
