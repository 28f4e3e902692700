"""Learning-rate schedules as plain functions ``lr(step)`` over a known number of steps.

A schedule holds no state beyond the step it is asked about, so resuming a run
needs nothing but the step count. Tests check each against torch's own schedulers.
"""
from __future__ import annotations

import math
from collections.abc import Callable

from .errors import UserError

Schedule = Callable[[int], float]


def constant(lr: float, total_steps: int, steps_per_epoch: int) -> Schedule:
    return lambda step: lr


def onecycle(lr: float, total_steps: int, steps_per_epoch: int, pct_start: float = 0.25,
             div_factor: float = 25.0, final_div_factor: float = 1e4) -> Schedule:
    """Cosine warm-up from lr/25 to lr over the first 25% of steps, then cosine down to lr/25e4 (torch's OneCycleLR)."""
    start, end = lr / div_factor, lr / div_factor / final_div_factor
    peak = pct_start * total_steps - 1

    def cos_interp(a: float, b: float, t: float) -> float:
        return b + (a - b) * (1 + math.cos(math.pi * t)) / 2

    def schedule(step: int) -> float:
        if step <= peak:  # with under 1 / pct_start steps in all there is no warm-up: peak <= 0
            return cos_interp(start, lr, step / peak) if peak > 0 else lr
        return cos_interp(lr, end, (step - peak) / max(total_steps - 1 - peak, 1))
    return schedule


def cosine(lr: float, total_steps: int, steps_per_epoch: int, min_lr: float = 0.0) -> Schedule:
    """Cosine annealing from lr to ``min_lr`` over the run."""
    return lambda step: min_lr + (lr - min_lr) * (1 + math.cos(math.pi * step / total_steps)) / 2


def exponential(lr: float, total_steps: int, steps_per_epoch: int, gamma: float = 0.9) -> Schedule:
    """lr * gamma ** epoch, decayed smoothly step by step (equal to ExponentialLR at epoch starts)."""
    return lambda step: lr * gamma ** (step / steps_per_epoch)


def keras_steps(lr: float, total_steps: int, steps_per_epoch: int,
                values: tuple[float, ...] = (0.01, 0.1, 0.01, 0.001)) -> Schedule:
    """The Keras notebook's steps: its first value for one epoch, then the rest in equal parts.

    The values are multiples of ``lr``; with the SGD walkthroughs' lr = 1 they are
    the absolute rates 0.01, then 0.1, 0.01, 0.001.
    """
    warmup = min(steps_per_epoch, total_steps)
    rest = max(total_steps - warmup, 1)

    def schedule(step: int) -> float:
        if step < warmup:
            return lr * values[0]
        part = min((step - warmup) * (len(values) - 1) // rest, len(values) - 2)
        return lr * values[1 + part]
    return schedule


SCHEDULES = {f.__name__: f for f in (constant, onecycle, cosine, exponential, keras_steps)}


def build_schedule(name_or_fn, lr: float, total_steps: int, steps_per_epoch: int) -> Schedule:
    """A schedule by name, or a custom one from ``fn(step, total_steps) -> lr``."""
    if callable(name_or_fn):
        return lambda step: float(name_or_fn(step, total_steps))
    if name_or_fn not in SCHEDULES:
        raise UserError(f"Unknown schedule {name_or_fn!r}: choose one of {', '.join(SCHEDULES)}, "
                        "or pass a function (step, total_steps) -> lr.")
    return SCHEDULES[name_or_fn](lr, total_steps, steps_per_epoch)
