"""Learning-rate schedules: small callables, iteration -> learning rate, that compose.

The Trainer calls ``schedule(iteration)`` (0 for the first update) and sets ``optimizer.lr``:

    Warmup(CosineDecay(0.1, total_iters=2000), warmup_iters=100)

Each matches its torch.optim.lr_scheduler counterpart counted in iterations: StepDecay is
StepLR, CosineDecay is CosineAnnealingLR (one half period), Warmup is LinearLR's ramp.
"""

from __future__ import annotations

import math

from dlfs import _checks
from dlfs._said import SaidValueError


class Constant:
    """η_i = η."""

    def __init__(self, lr: float):
        self.lr = _checks.positive_float("lr", lr)

    def __call__(self, iteration: int) -> float:
        return self.lr


class StepDecay:
    """η_i = η·γ^⌊i / step_size⌋: multiply by γ every ``step_size`` iterations."""

    def __init__(self, lr: float, step_size: int, gamma: float = 0.1):
        self.lr = _checks.positive_float("lr", lr)
        self.step_size = _checks.positive_int("step_size", step_size)
        self.gamma = _checks.in_range("gamma", gamma, 0.0, 1.0)

    def __call__(self, iteration: int) -> float:
        return self.lr * self.gamma ** (iteration // self.step_size)


class CosineDecay:
    """η_i = η_min + ½(η − η_min)(1 + cos(π·i/total_iters)), then η_min after total_iters."""

    def __init__(self, lr: float, total_iters: int, min_lr: float = 0.0):
        self.lr = _checks.positive_float("lr", lr)
        self.total_iters = _checks.positive_int("total_iters", total_iters)
        self.min_lr = _checks.in_range("min_lr", min_lr, 0.0, self.lr)

    def __call__(self, iteration: int) -> float:
        progress = min(iteration, self.total_iters) / self.total_iters
        return self.min_lr + 0.5 * (self.lr - self.min_lr) * (1 + math.cos(math.pi * progress))


class Warmup:
    """Linear warm-up in front of another schedule.

    η_i = schedule(i)·(f + (1 − f)·i/warmup_iters) for i < warmup_iters, then schedule(i);
    f = start_factor in (0, 1].
    """

    def __init__(self, schedule, warmup_iters: int, start_factor: float = 0.1):
        if isinstance(schedule, (int, float)):
            schedule = Constant(schedule)
        if not callable(schedule):
            raise SaidValueError(key="said.schedule_not_callable")
        self.schedule = schedule
        self.warmup_iters = _checks.positive_int("warmup_iters", warmup_iters)
        self.start_factor = _checks.in_range("start_factor", start_factor, 0.0, 1.0)
        if self.start_factor == 0:
            raise SaidValueError(key="said.start_factor_zero")

    def __call__(self, iteration: int) -> float:
        lr = self.schedule(iteration)
        if iteration >= self.warmup_iters:
            return lr
        f = self.start_factor
        return lr * (f + (1 - f) * iteration / self.warmup_iters)
