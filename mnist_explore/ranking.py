"""Ranking with honest ties: optimizers (or any configurations) in tiers that a few seeds cannot tell apart."""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np


@dataclass(frozen=True)
class Rank:
    optimizer: str
    lr: float
    accuracies: tuple[float, ...]
    tier: int  # optimizers in one tier cannot be told apart

    @property
    def mean(self) -> float:
        return float(np.mean(self.accuracies))

    @property
    def std(self) -> float:
        return float(np.std(self.accuracies, ddof=1)) if len(self.accuracies) > 1 else 0.0


def separated(a: Sequence[float], b: Sequence[float]) -> bool:
    """True when every seed of one beats every seed of the other.

    With 3 seeds each that is the exact Mann-Whitney test at p = 1/20 one-sided:
    the chance that 3 draws of one fall above 3 of the other when they come from
    the same distribution.
    """
    return min(a) > max(b) or min(b) > max(a)


def rank(accuracies: dict[str, Sequence[float]], lrs: dict[str, float]) -> list[Rank]:
    """Optimizers by mean accuracy, in tiers: one joins the tier of the optimizer above it unless ``separated`` from its leader."""
    order = sorted(accuracies, key=lambda o: -float(np.mean(accuracies[o])))
    ranks, tier, leader = [], 0, None
    for opt in order:
        if leader is None or separated(accuracies[leader], accuracies[opt]):
            tier, leader = tier + 1, opt
        ranks.append(Rank(opt, lrs[opt], tuple(accuracies[opt]), tier))
    return ranks
