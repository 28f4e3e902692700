"""The best model, honestly: an ensemble of CNNs chosen on validation, scored on the test set once.

The protocol, in three steps that cannot be reordered:

1. :func:`train_members` trains one CNN per seed on the training split (batch norm,
   augmentation, label smoothing, OneCycle, an EMA of the weights); each keeps its
   best epoch *on validation*. Every member checkpoints, and a rerun resumes.
2. :func:`select` decides, from validation predictions only, whether to use the raw
   or the averaged weights and whether test-time augmentation helps.
3. :func:`score` reads the test split through a :class:`HeldOut`, which opens once.

Neither of the first two steps is given the test split; a test checks that no code
path reaches it before :func:`score` does.
"""
from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .data import Split
from .ema import EMA
from .errors import UserError
from .history import History
from .metrics import accuracy, misclassified, predict
from .models import init_model
from .progress import bar as progress_bar
from .train import Callback, TrainConfig, fit


@dataclass(frozen=True)
class EnsembleSettings:
    """One member per seed; member i is ``models[i % len(models)]`` trained with ``seeds[i]``."""

    models: tuple[str, ...] = ("fast_cnn",)
    seeds: tuple[int, ...] = (0, 1, 2, 3)
    epochs: int = 3
    batch_size: int = 128
    lr: float = 3e-3  # the peak of the OneCycle schedule, for Adam
    label_smoothing: float = 0.1
    augment: str | None = "affine"
    ema_decay: float = 0.999
    train_size: int | None = None  # images of the 55,000-image training split; None: all
    val_size: int = 5000
    test_size: int | None = None  # None: all 10,000
    compile: bool = False  # torch.compile each member (worth it on CUDA only)

    def members(self) -> list[tuple[str, int]]:
        return [(self.models[i % len(self.models)], seed) for i, seed in enumerate(self.seeds)]


@dataclass
class Member:
    model: str
    seed: int
    history: History
    raw: nn.Module  # the weights of the best validation epoch
    ema: nn.Module  # the moving average at the end of training

    def net(self, weights: str) -> nn.Module:
        return self.ema if weights == "ema" else self.raw


def train_members(train: Split, val: Split, settings: EnsembleSettings, checkpoint_dir: str | Path | None = None,
                  callbacks: Sequence[Callback] = (), progress: bool = True) -> list[Member]:
    """Train every member on ``train``, choosing epochs on ``val``; resume any found in ``checkpoint_dir``.

    A member whose checkpoint says it finished is loaded, not retrained; one stopped
    half-way (Ctrl-C, a lost session) continues from its last step to the same weights.

    Parameters
    ----------
    train, val
        uint8 splits on the training device; the test split is never an argument.
    settings
        The members (architecture and seed each) and their shared recipe.
    checkpoint_dir
        A folder per member (``00-fast_cnn-seed0``, ...) with the engine's checkpoints.
    callbacks
        Extra training callbacks, given to every member's run.

    Returns
    -------
    list of Member
        Each with its history, its best-epoch weights and its EMA weights, in eval mode.
    """
    members = []
    plan = settings.members()
    for i, (name, seed) in enumerate(progress_bar(plan, desc="ensemble members", unit="model", disable=not progress)):
        config = TrainConfig(model=name, epochs=settings.epochs, batch_size=settings.batch_size, lr=settings.lr,
                             schedule="onecycle", label_smoothing=settings.label_smoothing,
                             augment=settings.augment, seed=seed, compile=settings.compile, progress=progress)
        # The initial weights fit() would draw, built here so the EMA can copy them.
        model = init_model(name, seed, train.X.device).to(memory_format=torch.channels_last)
        ema = EMA(model, settings.ema_decay)
        directory = None if checkpoint_dir is None else Path(checkpoint_dir) / f"{i:02d}-{name}-seed{seed}"
        result = fit(config, train, val, model=model, callbacks=[ema, *callbacks], checkpoint_dir=directory,
                     resume=True)
        members.append(Member(name, seed, result.history, result.model.eval(), ema.model))
    return members


def _shift(x: torch.Tensor, dy: int, dx: int) -> torch.Tensor:
    """Images moved by (dy, dx) whole pixels, the uncovered border filled with black (0)."""
    padded = F.pad(x, (1, 1, 1, 1))
    h, w = x.shape[-2:]
    return padded[..., 1 - dy:1 - dy + h, 1 - dx:1 - dx + w]


class Shift(nn.Module):
    """:func:`_shift` as a module, to put in front of a model."""

    def __init__(self, dy: int, dx: int):
        super().__init__()
        self.dy, self.dx = dy, dx

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return _shift(x, self.dy, self.dx)


TTA_SHIFTS = ((0, 0), (-1, 0), (1, 0), (0, -1), (0, 1))  # the image and its four one-pixel shifts


def predict_views(model: nn.Module, split: Split, tta: bool = True, batch_size: int = 1000) -> torch.Tensor:
    """Softmax probabilities (V, N, 10) on the CPU of the image (view 0) and, with ``tta``, its four 1-pixel shifts.

    The forward passes run in bf16 on CUDA, as in training.
    """
    shifts = TTA_SHIFTS if tta else TTA_SHIFTS[:1]
    return torch.stack([predict(nn.Sequential(Shift(dy, dx), model), split, batch_size, amp=None, probs=True).cpu()
                        for dy, dx in shifts])


def predict_probs(model: nn.Module, split: Split, tta: bool = False) -> torch.Tensor:
    """Softmax probabilities (N, 10); with ``tta``, the mean over the image and its four 1-pixel shifts."""
    return predict_views(model, split, tta).mean(dim=0)


def average(member_probs: torch.Tensor) -> torch.Tensor:
    """The ensemble's prediction: the mean of its members' softmax probabilities, (M, N, C) -> (N, C)."""
    if member_probs.ndim != 3:
        raise UserError(f"average needs the members' probabilities stacked as (M, N, C), got shape "
                        f"{tuple(member_probs.shape)}; stack one (N, C) tensor per member with torch.stack.")
    return member_probs.mean(dim=0)


def _accuracy(y_true: torch.Tensor, probs: torch.Tensor) -> float:
    """Accuracy of the most probable class."""
    return accuracy(y_true, probs.argmax(dim=-1))


@dataclass
class Selection:
    """What validation chose, and the validation numbers behind each choice."""

    members: list[Member]
    weights: str  # "raw" or "ema"
    tta: bool
    val_table: list[dict]  # per variant: member accuracies and the ensemble's
    val_probs: torch.Tensor  # (M, N_val, 10) of the chosen variant


def select(members: list[Member], val: Split) -> Selection:
    """Choose raw or EMA weights (by the members' mean validation accuracy), then TTA (by the ensemble's)."""
    y = val.y.cpu()
    probs, table = {}, []
    for weights in ("raw", "ema"):
        views = torch.stack([predict_views(m.net(weights), val) for m in members])  # (M, V, N, 10)
        for tta in (False, True):
            p = views.mean(dim=1) if tta else views[:, 0]
            probs[weights, tta] = p
            accs = [_accuracy(y, q) for q in p]
            table.append({"weights": weights, "tta": tta, "member_accs": accs,
                          "member_mean": statistics.fmean(accs), "ensemble": _accuracy(y, average(p))})
    row = {(r["weights"], r["tta"]): r for r in table}
    weights = "ema" if row["ema", False]["member_mean"] > row["raw", False]["member_mean"] else "raw"
    tta = row[weights, True]["ensemble"] > row[weights, False]["ensemble"]
    return Selection(members, weights, tta, table, probs[weights, tta])


class HeldOut:
    """The test split, sealed: :meth:`reveal` opens it once, after the selection is final."""

    def __init__(self, split: Split, size: int | None = None):
        self._split, self._size, self.reveals = split, size, 0

    def reveal(self) -> Split:
        if self.reveals:
            raise UserError("The test set was already scored once for this ensemble: compare variants on the "
                            "validation split (select), not by scoring the test set again.")
        self.reveals += 1
        if self._size is None:
            return self._split
        return self._split.subset(torch.arange(self._size))


@dataclass
class EnsembleReport:
    """The one test scoring: every member's probabilities under the chosen variant."""

    selection: Selection
    member_probs: torch.Tensor  # (M, N, 10), CPU
    y: torch.Tensor  # (N,), CPU

    @property
    def probs(self) -> torch.Tensor:
        return average(self.member_probs)

    @property
    def votes(self) -> torch.Tensor:
        """Each member's predicted class, (M, N)."""
        return self.member_probs.argmax(dim=-1)

    def member_accuracies(self) -> list[float]:
        return [_accuracy(self.y, p) for p in self.member_probs]

    def accuracy(self) -> float:
        return _accuracy(self.y, self.probs)

    def errors(self) -> torch.Tensor:
        """Indices of the test digits the ensemble gets wrong, most confident mistake first."""
        return misclassified(self.y, self.probs)

    def wrong_counts(self) -> torch.Tensor:
        """How many members misclassify each test digit, (N,)."""
        return (self.votes != self.y).sum(dim=0)

    def disputed(self) -> torch.Tensor:
        """Misclassified test digits ranked by the ensemble's confidence against the label (lowest p(label) first)."""
        wrong = self.errors()
        p_label = self.probs[wrong, self.y[wrong]]
        return wrong[p_label.argsort(stable=True)]

    def accuracy_by_size(self, orders: int = 50, seed: int = 0) -> dict[str, list[float]]:
        """Test accuracy of the first k members (k = 1..M) over random member orders: mean, min and max."""
        M = len(self.member_probs)
        generator = torch.Generator().manual_seed(seed)
        perms = [torch.arange(M)] + [torch.randperm(M, generator=generator) for _ in range(orders - 1)]
        accs = torch.tensor([[_accuracy(self.y, self.member_probs[p[:k]].mean(0)) for k in range(1, M + 1)]
                             for p in perms])
        return {"size": list(range(1, M + 1)), "mean": accs.mean(0).tolist(), "min": accs.min(0).values.tolist(),
                "max": accs.max(0).values.tolist(), "in_seed_order": accs[0].tolist()}


def score(selection: Selection, held_out: HeldOut) -> EnsembleReport:
    """Score every member, under the chosen weights and TTA, on the test split: the one time it is read."""
    test = held_out.reveal()
    probs = torch.stack([predict_probs(m.net(selection.weights), test, selection.tta) for m in selection.members])
    return EnsembleReport(selection, probs, test.y.cpu())


def summary(report: EnsembleReport) -> dict:
    """The report as plain numbers: per member, single-model mean ± std, the ensemble, and what validation chose."""
    accs = report.member_accuracies()
    val_accs = _chosen_row(report.selection)["member_accs"]
    members = [{"model": m.model, "seed": m.seed, "best_epoch": m.history.best_epoch, "val_acc": v, "test_acc": a,
                "test_errors": round((1 - a) * len(report.y)), "train_seconds": round(m.history.train_seconds, 1)}
               for m, v, a in zip(report.selection.members, val_accs, accs, strict=True)]
    return {"test_size": len(report.y), "weights": report.selection.weights, "tta": report.selection.tta,
            "validation": report.selection.val_table, "members": members,
            "single_mean": statistics.fmean(accs), "single_std": statistics.stdev(accs) if len(accs) > 1 else 0.0,
            "ensemble_acc": report.accuracy(), "ensemble_errors": len(report.errors()),
            "train_seconds": round(sum(m.history.train_seconds for m in report.selection.members), 1),
            "accuracy_by_size": report.accuracy_by_size()}


def _chosen_row(selection: Selection) -> dict:
    return next(r for r in selection.val_table if (r["weights"], r["tta"]) == (selection.weights, selection.tta))
