"""Optimizer comparisons done fairly (notebook 04): one grid of runs, two protocols.

- **A, the walkthrough's**: every optimizer at one shared learning rate, one seed;
- **B, fair**: each optimizer at its own best learning rate, chosen on the
  validation split by the mean over seeds; the test set is scored once, at the
  end, for the chosen runs only, and the optimizers are ranked in tiers that
  the seeds cannot tell apart.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from ..data import Dataset, Split, train_val_split
from ..errors import UserError
from ..optimizer_grid import GridRun, grid, run_grid, select_lrs, test_accuracy
from ..optimizers import COMPARED
from ..ranking import Rank, rank
from ..runtime import get_device
from .profiles import StudySettings


@dataclass(frozen=True)
class Settings(StudySettings):
    PROFILES = {"quick": dict(train_size=1000, val_size=500),
                "full": dict(train_size=None, val_size=5000, epochs=3)}  # 150 runs on all 55,000 images: a GPU

    train_size: int | None = 2500  # None: all 55,000 training images
    val_size: int = 1000
    epochs: int = 2
    lrs: tuple[float, ...] = (1e-4, 1e-3, 1e-2, 1e-1, 1.0)
    seeds: tuple[int, ...] = (0, 1, 2)
    batch_size: int = 64
    evals_per_epoch: int = 2
    shared_lr: float = 1e-3  # protocol A: Keras's default rate for RMSprop and Adam
    optimizers: tuple[str, ...] = COMPARED
    model: str = "second_cnn"

    def check(self) -> None:
        if self.shared_lr not in self.lrs:
            raise UserError(f"The shared learning rate {self.shared_lr} must be one of the grid's {self.lrs}.")

    def describe(self) -> str:
        return (f"{self.model}, {self.train_size or 55000:,} training images, {self.epochs} epochs, "
                f"batch {self.batch_size}; {len(self.seeds)} seeds")


@dataclass
class Study:
    settings: Settings
    runs: list[GridRun]
    seconds: float
    concurrent: bool
    best_lr: dict[str, float]
    test_acc: dict[str, list[float]]  # protocol B: per optimizer, one per seed at its best rate

    def protocol_a(self) -> dict[str, GridRun]:
        """The walkthrough's comparison: every optimizer at the shared rate, first seed."""
        s = self.settings
        first = min(r.spec.seed for r in self.runs)
        return {r.spec.optimizer: r for r in self.runs if r.spec.lr == s.shared_lr and r.spec.seed == first}

    def chosen(self) -> dict[str, list[GridRun]]:
        """Protocol B's runs: each optimizer at its best rate, every seed."""
        return {o: [r for r in self.runs if r.spec.optimizer == o and r.spec.lr == lr] for o, lr in self.best_lr.items()}

    def ranking(self) -> list[Rank]:
        return rank(self.test_acc, self.best_lr)


def splits(dataset: Dataset, settings: Settings) -> tuple[Split, Split, Split]:
    """The training subset and validation subset the settings ask for (carved from the training set), and the test set."""
    train, val = train_val_split(dataset.train, seed=0, train_size=settings.train_size)
    return train, val.subset(torch.arange(settings.val_size)), dataset.test


def run(settings: Settings, data: Dataset, *, device: torch.device | str | None = None, seed: int = 0,
        progress: bool = True, concurrent: bool | None = None, concurrency: int | None = None) -> Study:
    """Train the whole grid, choose each optimizer's rate on validation, then score the chosen runs on test once.

    Parameters
    ----------
    settings
        The grid and its sizes, from ``Settings.profile(name)``.
    data
        MNIST; moved to ``device`` (None: ``get_device()``).
    seed
        Added to each of ``settings.seeds``.
    concurrent
        Train a seed's runs as one vmapped model. None: on CUDA only, since on a CPU the vmapped grouped
        convolutions are slower than one model at a time (benchmarks/bench_optimizers.py).
    concurrency
        At most this many runs at once when concurrent (None: all of a seed's runs).
    """
    device = get_device(device)
    train, val, test = splits(data.to(device), settings)
    concurrent = device.type == "cuda" if concurrent is None else concurrent
    specs = grid(settings.optimizers, settings.lrs, [seed + s for s in settings.seeds])
    runs, seconds = run_grid(specs, train, val, settings.epochs, concurrency=concurrency,
                             batch_size=settings.batch_size, evals_per_epoch=settings.evals_per_epoch,
                             model=settings.model, device=device, concurrent=concurrent, progress=progress)
    best = select_lrs(runs)
    study = Study(settings, runs, seconds, concurrent, best, {})
    study.test_acc = {o: test_accuracy(rs, test, settings.model, device) for o, rs in study.chosen().items()}
    return study


def _pm(values, scale: float = 100) -> str:
    values = np.asarray(values, dtype=float) * scale
    return f"{values.mean():.2f} ± {values.std(ddof=1):.2f}" if len(values) > 1 else f"{values.mean():.2f}"


def table_rows(s: Study) -> list[dict[str, str]]:
    """One row per optimizer in ranking order: protocol A's accuracy beside protocol B's choice and results."""
    a, chosen = s.protocol_a(), s.chosen()
    return [{"optimizer": r.optimizer,
             f"A: val % at lr {s.settings.shared_lr:g}": f"{a[r.optimizer].final_val_acc * 100:.2f}",
             "B: chosen lr": f"{r.lr:g}",
             "B: val %": _pm([run.final_val_acc for run in chosen[r.optimizer]]),
             "B: test %": _pm(r.accuracies),
             "B: tier": str(r.tier)} for r in s.ranking()]
