"""Two-parameter loss surfaces, where an optimizer's path can be drawn.

On MNIST an optimizer moves hundreds of thousands of weights at once and only the loss curve
is left to look at. On a surface of two parameters the path itself can be drawn, and each update
rule leaves its own shape: how far a step goes across a narrow valley and how far along it. The
optimizers are the same ``torch.optim`` ones the suite trains MNIST with
(:data:`mnist_explore.optimizers.OPTIMIZERS`).
"""
from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import torch

from .errors import UserError
from .optimizers import build_optimizer


@dataclass(frozen=True)
class Surface:
    """A loss of two parameters, where paths start, and the window to draw it in."""

    name: str
    loss: Callable[[torch.Tensor, torch.Tensor], torch.Tensor]
    start: tuple[float, float]
    minimum: tuple[float, float]
    extent: tuple[float, float, float, float]  # x from, x to, y from, y to


SURFACES = {
    # a valley 20 times steeper across than along: the condition number is 400
    "ravine": Surface("ravine", lambda x, y: 0.5 * (0.05 * x ** 2 + 20 * y ** 2), (-9.0, 0.9), (0.0, 0.0),
                      (-10, 2, -1.2, 1.2)),
    # Rosenbrock's banana: a curved valley whose floor falls slowly towards (1, 1)
    "rosenbrock": Surface("rosenbrock", lambda x, y: (1 - x) ** 2 + 100 * (y - x ** 2) ** 2, (-1.2, 1.0),
                          (1.0, 1.0), (-1.6, 1.4, -0.4, 1.6)),
}

# Learning rates at which each optimizer makes visible progress on the ravine in 100 steps.
RAVINE_LR = {"sgd": 0.09, "sgd_momentum": 0.02, "nesterov": 0.02, "adagrad": 1.0, "adadelta": 1.0,
             "rmsprop": 0.05, "adam": 0.3, "adamw": 0.3, "nadam": 0.3, "radam": 0.3}


def surface(name: str) -> Surface:
    if name not in SURFACES:
        raise UserError(f"Unknown surface {name!r}: choose one of {', '.join(SURFACES)}.")
    return SURFACES[name]


def trajectory(name: str, optimizer: str, lr: float, steps: int = 200) -> np.ndarray:
    """The (steps + 1, 2) path of ``optimizer`` at learning rate ``lr`` from the surface's start.

    A path that leaves every finite value stops there: its last row is the last finite point,
    and :func:`diverged` says so.
    """
    s = surface(name)
    if not 1 <= steps <= 100_000:
        raise UserError(f"steps={steps} is out of range: choose between 1 and 100,000.")
    point = torch.tensor(s.start, dtype=torch.float64, requires_grad=True)
    opt = build_optimizer(optimizer, [point], lr)
    path = [point.detach().clone()]
    for _ in range(steps):
        opt.zero_grad()
        s.loss(point[0], point[1]).backward()
        opt.step()
        if not torch.isfinite(point).all() or point.detach().abs().max() > 1e6:
            break
        path.append(point.detach().clone())
    return torch.stack(path).numpy()


def diverged(path: np.ndarray, steps: int) -> bool:
    """Whether a path from :func:`trajectory` stopped before ``steps`` because it blew up."""
    return len(path) < steps + 1


def loss_grid(name: str, points: int = 200) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """x, y and the loss on a ``points`` x ``points`` grid over the surface's window, for contours."""
    s = surface(name)
    x = torch.linspace(s.extent[0], s.extent[1], points, dtype=torch.float64)
    y = torch.linspace(s.extent[2], s.extent[3], points, dtype=torch.float64)
    X, Y = torch.meshgrid(x, y, indexing="xy")
    return X.numpy(), Y.numpy(), s.loss(X, Y).numpy()


def final_loss(name: str, path: np.ndarray) -> float:
    x, y = torch.as_tensor(path[-1])
    return float(surface(name).loss(x, y))
