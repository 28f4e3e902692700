"""Optimizers from torch.optim by name. Every momentum method uses momentum 0.9."""
from __future__ import annotations

from collections.abc import Callable, Iterable

import torch

from .errors import UserError

OPTIMIZERS: dict[str, Callable[..., torch.optim.Optimizer]] = {
    "sgd": lambda params, lr, **kw: torch.optim.SGD(params, lr=lr, **kw),
    "sgd_momentum": lambda params, lr, **kw: torch.optim.SGD(params, lr=lr, momentum=0.9, **kw),  # heavy ball
    "nesterov": lambda params, lr, **kw: torch.optim.SGD(params, lr=lr, momentum=0.9, nesterov=True, **kw),
    "adagrad": lambda params, lr, **kw: torch.optim.Adagrad(params, lr=lr, **kw),
    "adadelta": lambda params, lr, **kw: torch.optim.Adadelta(params, lr=lr, **kw),
    "rmsprop": lambda params, lr, **kw: torch.optim.RMSprop(params, lr=lr, **kw),
    "adam": lambda params, lr, **kw: torch.optim.Adam(params, lr=lr, **kw),
    "adamw": lambda params, lr, **kw: torch.optim.AdamW(params, lr=lr, **kw),
    "nadam": lambda params, lr, **kw: torch.optim.NAdam(params, lr=lr, **kw),
    "radam": lambda params, lr, **kw: torch.optim.RAdam(params, lr=lr, **kw),
}

# The ten that notebook 04 compares, in the walkthrough's order of sophistication.
COMPARED = ("sgd", "sgd_momentum", "nesterov", "adagrad", "adadelta", "rmsprop", "adam", "adamw", "nadam", "radam")


def build_optimizer(name: str, params: Iterable, lr: float, **kwargs) -> torch.optim.Optimizer:
    """The named optimizer over ``params`` at learning rate ``lr`` (extra keyword arguments pass through)."""
    if name not in OPTIMIZERS:
        raise UserError(f"Unknown optimizer {name!r}: choose one of {', '.join(OPTIMIZERS)}.")
    if not lr > 0:
        raise UserError(f"The learning rate must be positive, got {lr}.")
    return OPTIMIZERS[name](params, lr, **kwargs)
