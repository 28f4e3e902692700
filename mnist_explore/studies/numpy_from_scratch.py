"""The NumPy network's study: tune on validation, train seeds in NumPy and in PyTorch side by side,
score the test set once per model, and measure the two backward passes.

Used by notebook 10, its figure recipes and benchmarks/bench_scratch.py.
"""
from __future__ import annotations

import statistics
import time
from dataclasses import dataclass, field

import numpy as np
import torch

from .. import numpy_mlp
from ..data import Dataset, normalization, train_val_split
from ..metrics import predict
from ..progress import bar as progress_bar
from ..runtime import get_device
from .profiles import StudySettings


@dataclass(frozen=True)
class Settings(StudySettings):
    # "full" is the default: it already trains in well under a minute.
    PROFILES = {"quick": dict(train_size=3000, lr_grid=(0.1,), epochs_grid=(2,), seeds=(0, 1),
                              cost_batch_sizes=(1, 8, 32))}

    train_size: int | None = None  # None: all 55,000 training images
    lr_grid: tuple[float, ...] = (0.05, 0.1, 0.2)
    epochs_grid: tuple[int, ...] = (8, 20)
    seeds: tuple[int, ...] = (0, 1, 2)
    cost_batch_sizes: tuple[int, ...] = (1, 8, 32, 128)
    batch_size: int = 128


@dataclass
class Study:
    settings: Settings
    grid: list[dict] = field(default_factory=list)  # lr, epochs, val_acc (seed 0)
    lr: float = 0.0
    epochs: int = 0
    numpy_runs: list[dict] = field(default_factory=list)  # seed, seconds, train_acc, test_acc, history
    torch_runs: list[dict] = field(default_factory=list)
    costs: list[dict] = field(default_factory=list)
    params: numpy_mlp.Params | None = None  # seed 0's trained weights
    test_pred: np.ndarray | None = None  # seed 0's test predictions

    def summary(self) -> dict[str, dict]:
        """Mean and std of test accuracy and training seconds, per implementation."""
        out = {}
        for name, runs in (("numpy", self.numpy_runs), ("pytorch", self.torch_runs)):
            acc, sec = [r["test_acc"] for r in runs], [r["seconds"] for r in runs]
            out[name] = {"test_acc": statistics.fmean(acc), "test_std": statistics.stdev(acc) if len(acc) > 1 else 0.0,
                         "seconds": statistics.fmean(sec), "seconds_std": statistics.stdev(sec) if len(sec) > 1 else 0.0}
        return out


def run(settings: Settings, data: Dataset, *, device: torch.device | str | None = None, seed: int = 0,
        progress: bool = True) -> Study:
    """Run every step of the study: select lr and epochs on validation (NumPy, first seed), train each seed in
    NumPy and as a PyTorch twin on ``device`` (None: ``get_device()``), score the test set, time the backward passes.

    ``seed`` is added to each of ``settings.seeds``.
    """
    dataset = data.to(get_device(device))
    seeds = [seed + s for s in settings.seeds]
    train, val = train_val_split(dataset.train, seed=0, train_size=settings.train_size)
    mean, std = normalization(train.X)
    X, X_val, X_test = (numpy_mlp.flatten(s.X, mean, std) for s in (train, val, dataset.test))
    y, y_val, y_test = (s.y.cpu().numpy() for s in (train, val, dataset.test))
    study = Study(settings)
    plan = [(lr, ep) for lr in settings.lr_grid for ep in settings.epochs_grid]
    bar = progress_bar(total=len(plan) + 2 * len(seeds) + 1, desc="numpy study", unit="step", disable=not progress)
    for lr, epochs in plan:  # selection on the validation split only
        _, history = numpy_mlp.train(X, y, X_val, y_val, epochs=epochs, lr=lr, batch_size=settings.batch_size, seed=seeds[0])
        study.grid.append({"lr": lr, "epochs": epochs, "val_acc": history.epochs[-1]["val_acc"]})
        bar.update()
    best = max(study.grid, key=lambda g: g["val_acc"])
    study.lr, study.epochs = best["lr"], best["epochs"]
    for seed in seeds:
        init = numpy_mlp.init_params(seed)
        params, history = numpy_mlp.train(X, y, X_val, y_val, epochs=study.epochs, lr=study.lr,
                                        batch_size=settings.batch_size, seed=seed, params=init)
        test_pred = numpy_mlp.predict(params, X_test).argmax(axis=1)
        study.numpy_runs.append({"seed": seed, "seconds": history.train_seconds, "history": history,
                                 "train_acc": numpy_mlp.accuracy(y, numpy_mlp.predict(params, X).argmax(axis=1)),
                                 "test_acc": numpy_mlp.accuracy(y_test, test_pred)})
        if study.params is None:
            study.params, study.test_pred = params, test_pred
        bar.update()
        twin = numpy_mlp.torch_twin(init, train, val, epochs=study.epochs, batch_size=settings.batch_size,
                                  lr=study.lr, seed=seed)
        twin_pred = predict(twin.model, dataset.test).argmax(dim=1).cpu().numpy()
        study.torch_runs.append({"seed": seed, "seconds": twin.history.train_seconds, "history": twin.history,
                                 "test_acc": numpy_mlp.accuracy(y_test, twin_pred)})
        bar.update()
    start = time.perf_counter()
    study.costs = numpy_mlp.measure_backward(numpy_mlp.init_params(seeds[0]), X, y, settings.cost_batch_sizes)
    bar.set_postfix(cost_seconds=f"{time.perf_counter() - start:.1f}")
    bar.update()
    bar.close()
    return study
