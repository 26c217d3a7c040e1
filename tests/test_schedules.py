import numpy as np
import pytest
import torch

from dlfs import schedules


def _torch_lrs(make_scheduler, lr, n):
    param = torch.zeros(1, requires_grad=True)
    opt = torch.optim.SGD([param], lr=lr)
    scheduler = make_scheduler(opt)
    lrs = []
    for _ in range(n):
        lrs.append(opt.param_groups[0]["lr"])
        opt.step()
        scheduler.step()
    return lrs


def test_step_decay_matches_torch_step_lr():
    ours = schedules.StepDecay(0.1, step_size=7, gamma=0.5)
    ref = _torch_lrs(lambda o: torch.optim.lr_scheduler.StepLR(o, 7, gamma=0.5), 0.1, 30)
    np.testing.assert_allclose([ours(i) for i in range(30)], ref, rtol=1e-12)


def test_cosine_decay_matches_torch_cosine_annealing():
    ours = schedules.CosineDecay(0.1, total_iters=20, min_lr=0.001)
    ref = _torch_lrs(lambda o: torch.optim.lr_scheduler.CosineAnnealingLR(o, 20, eta_min=0.001),
                     0.1, 21)
    np.testing.assert_allclose([ours(i) for i in range(21)], ref, rtol=1e-9)
    assert ours(500) == pytest.approx(0.001)


def test_warmup_matches_torch_linear_lr_then_hands_over():
    ours = schedules.Warmup(0.1, warmup_iters=5, start_factor=0.2)
    ref = _torch_lrs(lambda o: torch.optim.lr_scheduler.LinearLR(o, 0.2, total_iters=5), 0.1, 10)
    np.testing.assert_allclose([ours(i) for i in range(10)], ref, rtol=1e-12)


def test_warmup_composes_with_cosine():
    cosine = schedules.CosineDecay(1.0, total_iters=100)
    warm = schedules.Warmup(cosine, warmup_iters=10, start_factor=0.1)
    assert warm(0) == pytest.approx(0.1 * cosine(0))
    assert warm(50) == cosine(50)
    assert max(warm(i) for i in range(100)) <= 1.0


@pytest.mark.parametrize(
    ("factory", "message"),
    [(lambda: schedules.StepDecay(0.1, step_size=0), "step_size must be a positive integer"),
     (lambda: schedules.StepDecay(-0.1, step_size=3), "lr must be > 0"),
     (lambda: schedules.CosineDecay(0.1, 10, min_lr=0.2), r"min_lr must be in \[0.0, 0.1\]"),
     (lambda: schedules.Warmup(0.1, 5, start_factor=0), r"start_factor must be in \(0, 1\]"),
     (lambda: schedules.Warmup("fast", 5), "schedule must be a number or a callable")],
)
def test_bad_schedule_arguments_are_rejected(factory, message):
    with pytest.raises(ValueError, match=message):
        factory()
