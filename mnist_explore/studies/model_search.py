"""Model search: the walkthroughs' progression of models, with and without augmentation, over seeds.

Every run uses the same recipe (Adam, OneCycle, batch 128) and the same
validation split; each run's epoch is chosen on validation, and the test set is
scored once per trained model, after training.
"""
from __future__ import annotations

import statistics
from dataclasses import dataclass, field

import torch

from ..data import Dataset, train_val_split
from ..history import History
from ..metrics import accuracy, error_count, predict
from ..models import count_parameters
from ..progress import bar as progress_bar
from ..runtime import get_device
from ..train import TrainConfig, fit
from .profiles import StudySettings

PROGRESSION = ["linear", "mlp", "first_cnn", "second_cnn", "vgg", "vgg_dropout", "vgg_bn_dropout"]


@dataclass(frozen=True)
class Settings(StudySettings):
    """How much to train: per profile, so that CI, `make figures` and a GPU each get a sensible size."""

    PROFILES = {"quick": dict(train_size=1000, epochs=1, val_size=1000, test_size=2000),
                "full": dict(train_size=None, epochs=12, seeds=(0, 1, 2))}

    train_size: int | None = 6000  # images of the 55,000-image training split to use; None: all (about 3.5 min)
    epochs: int = 3
    seeds: tuple[int, ...] = (0, 1)
    models: tuple[str, ...] = tuple(PROGRESSION)
    augments: tuple[str | None, ...] = (None, "affine")
    batch_size: int = 128
    lr: float = 2e-3
    val_size: int = 5000
    test_size: int | None = None  # None: all 10,000 (quick mode scores a subset: it is a smoke test)

@dataclass
class SearchRun:
    """One trained (model, augmentation, seed) of the search: its ``train.fit`` history and test score."""

    model: str
    augment: str | None
    seed: int
    history: History
    parameters: int
    test_acc: float
    test_errors: int

    @property
    def label(self) -> str:
        return f"{self.model} + aug" if self.augment else self.model


@dataclass
class SearchResult:
    settings: Settings
    runs: list[SearchRun] = field(default_factory=list)
    best_label: str = ""
    best_test_probs: torch.Tensor | None = None  # softmax on the test set of the best run of the best config

    def by_label(self) -> dict[str, list[SearchRun]]:
        groups: dict[str, list[SearchRun]] = {}
        for run in self.runs:
            groups.setdefault(run.label, []).append(run)
        return groups

    def histories(self) -> dict[str, list[History]]:
        return {label: [r.history for r in runs] for label, runs in self.by_label().items()}


def run(settings: Settings, data: Dataset, *, device: torch.device | str | None = None, seed: int = 0,
        progress: bool = True) -> SearchResult:
    """Train every (model, augmentation) of ``settings`` for each of its seeds on ``data``.

    Parameters
    ----------
    settings
        The sizes, from ``Settings.profile(name)``.
    data
        MNIST; moved to ``device`` (None: ``get_device()``).
    seed
        Added to each of ``settings.seeds`` (the validation split is always carved with seed 0).
    progress
        Show one progress bar over the runs.
    """
    dataset = data.to(get_device(device))
    train, val = train_val_split(dataset.train, settings.val_size, seed=0, train_size=settings.train_size)
    test = dataset.test if settings.test_size is None else dataset.test.subset(torch.arange(settings.test_size))
    result, best_val, best_probs = SearchResult(settings), {}, {}
    plan = [(m, a, seed + s) for m in settings.models for a in settings.augments for s in settings.seeds]
    for model_name, augment, seed in progress_bar(plan, desc="model search", unit="run", disable=not progress):
        config = TrainConfig(model=model_name, epochs=settings.epochs, batch_size=settings.batch_size,
                             lr=settings.lr, schedule="onecycle", augment=augment, seed=seed, progress=False)
        trained = fit(config, train, val)
        probs = predict(trained.model, test, batch_size=256, amp=None, probs=True)  # bf16 on CUDA, as in training
        y_pred = probs.argmax(dim=1)
        run = SearchRun(model_name, augment, seed, trained.history, count_parameters(trained.model),
                        accuracy(test.y, y_pred), error_count(test.y, y_pred))
        result.runs.append(run)
        if trained.history.best_val_acc > best_val.get(run.label, -1.0):  # keep each config's best seed
            best_val[run.label] = trained.history.best_val_acc
            best_probs[run.label] = probs.cpu()
    rows = summary(result)
    result.best_label = max(rows, key=lambda r: r["val_acc"])["label"]
    result.best_test_probs = best_probs[result.best_label]
    return result


def _mean_std(values: list[float]) -> tuple[float, float]:
    return statistics.fmean(values), statistics.stdev(values) if len(values) > 1 else float("nan")


def summary(result: SearchResult) -> list[dict]:
    """One row per (model, augmentation): parameters, s/epoch, best validation and test accuracy (mean, std)."""
    rows = []
    for label, runs in result.by_label().items():
        val_acc, val_std = _mean_std([r.history.best_val_acc for r in runs])
        test_acc, test_std = _mean_std([r.test_acc for r in runs])
        rows.append({"label": label, "parameters": runs[0].parameters,
                     "s_per_epoch": statistics.fmean(e["seconds"] for r in runs for e in r.history.epochs),
                     "val_acc": val_acc, "val_std": val_std, "test_acc": test_acc, "test_std": test_std,
                     "test_errors": statistics.fmean(r.test_errors for r in runs), "seeds": len(runs)})
    return rows


def format_summary(rows: list[dict]) -> str:
    """The summary as a fixed-width text table (accuracies in %, mean ± std over seeds)."""
    lines = [f"{'model':22s} {'params':>9s} {'s/epoch':>8s} {'best val acc %':>16s} {'test acc %':>16s} {'errors':>7s}"]
    for r in rows:
        lines.append(f"{r['label']:22s} {r['parameters']:>9,d} {r['s_per_epoch']:>8.2f} "
                     f"{100 * r['val_acc']:>8.2f} ± {100 * r['val_std']:<5.2f} "
                     f"{100 * r['test_acc']:>8.2f} ± {100 * r['test_std']:<5.2f} {r['test_errors']:>7.1f}")
    return "\n".join(lines)
