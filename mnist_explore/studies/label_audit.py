"""Label audit (notebook 12): which MNIST labels are suspect, and how far to trust the ranking.

First the measurement: flip a fraction of a training subset's labels at random (several seeds), audit
the noisy labels with k-fold out-of-sample probabilities and confident learning, and score how well
each ranking method finds the flipped ones. Then the audit itself, with the method that measurement
chose: every training image scored by the fold model that did not train on it, every test image by
the mean of the fold models (none trained on it). The mechanism is :mod:`mnist_explore.label_audit`;
fold models are checkpointed under the cache folder, so a rerun loads them instead of training.
"""
from __future__ import annotations

import hashlib
import json
import time
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np
import torch

from .. import __version__
from .. import label_audit as audit
from ..data import Dataset, Split
from ..errors import UserError
from ..label_audit import METHODS, Suspects
from ..paths import cache_dir
from ..runtime import get_device
from .profiles import StudySettings


@dataclass(frozen=True)
class Settings(StudySettings):
    """The default audits all 70,000 digits with 4 one-epoch fold models, and measures on 10,000-image subsets
    with 3 noise seeds: 16 fold models, about 7 min of CPU time (19 min of wall time from an empty cache on a
    2-core CPU busy with other jobs); a rerun loads the cached fold models and only predicts."""

    folds: int = 4
    epochs: int = 1
    batch_size: int = 128
    lr: float = 3e-3
    val_size: int = 1000  # carved from each fold model's own training folds, never from the held-out fold
    train_size: int | None = None  # training images audited; None: all 60,000
    test_size: int | None = None  # test images audited; None: all 10,000
    noise_fraction: float = 0.01
    noise_train_size: int | None = 10_000  # the subset each noise seed flips and audits; None: all 60,000
    noise_seeds: tuple[int, ...] = (0, 1, 2)
    methods: tuple[str, ...] = METHODS

    PROFILES = {
        "quick": dict(folds=2, train_size=1000, test_size=500, noise_train_size=1000, noise_seeds=(0,), val_size=100),
        "full": dict(folds=5, epochs=3, noise_train_size=None, noise_seeds=(0, 1, 2, 3, 4)),
    }

    def check(self) -> None:
        if not self.noise_seeds:
            raise UserError("noise_seeds must hold at least one seed: the ranking method is chosen on them.")
        unknown = [m for m in self.methods if m not in METHODS]
        if unknown or not self.methods:
            raise UserError(f"methods must be a non-empty selection of {', '.join(METHODS)}, got {self.methods!r}.")
        if not 0 < self.noise_fraction < 1:
            raise UserError(f"noise_fraction must be between 0 and 1, got {self.noise_fraction!r}.")


@dataclass
class LabelAudit:
    """The measured reliability of each ranking method on synthetic noise, and the suspects of each split."""

    method: str  # the method the synthetic measurement chose, used for ``train`` and ``test``
    synthetic: list[dict]  # one row per noise seed, method and cut-off: precision and recall
    train: Suspects  # index: position in the training split as torchvision orders it
    test: Suspects  # index: position in the test split
    # Suspects are the images whose out-of-sample prediction is another class, ranked by ``method``.
    train_probs: torch.Tensor  # (n_train, 10) out-of-sample probabilities of the audited training images
    test_probs: torch.Tensor
    train_positions: np.ndarray  # the audited training images' positions (all of them by default)
    test_positions: np.ndarray
    train_accuracy: float  # out-of-sample agreement with the given labels
    test_accuracy: float
    noise_train_size: int
    n_flipped: int  # flipped labels per noise seed
    confident: dict[str, int] = field(default_factory=dict)  # per split: how many confident learning's own cut flags
    seconds: dict[str, float] = field(default_factory=dict)

    def summary(self, method: str | None = None) -> list[dict]:
        """Per cut-off: mean and standard deviation over seeds of precision and recall, and the mean k."""
        method = method or self.method
        rows = [r for r in self.synthetic if r["method"] == method]
        out = []
        for cutoff in dict.fromkeys(r["cutoff"] for r in rows):
            group = [r for r in rows if r["cutoff"] == cutoff]
            out.append(dict(cutoff=cutoff, k=float(np.mean([r["k"] for r in group])), seeds=len(group),
                            **{f"{m}_{s}": float(getattr(np, s)([r[m] for r in group]))
                               for m in ("precision", "recall") for s in ("mean", "std")}))
        return out

    def precision_at_flipped(self, method: str | None = None) -> float:
        """Mean precision of the first n_flipped suspects (equal to their recall): the number that chose the method."""
        return next(r["precision_mean"] for r in self.summary(method) if r["cutoff"] == "top 1×flipped")


def _positions(n: int, size: int | None, seed: int) -> np.ndarray:
    """Sorted positions of a random subset of ``size`` of ``n`` images (all when size is None)."""
    if size is None or size >= n:
        return np.arange(n)
    if size < 10:
        raise UserError(f"Audit at least 10 images, got a subset of {size}.")
    return np.sort(torch.randperm(n, generator=torch.Generator().manual_seed(seed))[:size].numpy())


def _cache(settings: Settings, device: torch.device, seed: int, run: str, size: int | None) -> Path:
    """The fold models' folder of one audit run, keyed by what decides their weights and the code version."""
    key = json.dumps([run, size, settings.folds, settings.epochs, settings.batch_size, settings.lr, settings.val_size,
                      settings.noise_fraction, seed, device.type, __version__, torch.__version__])
    return cache_dir() / "label_audit" / hashlib.sha256(key.encode()).hexdigest()[:16]


def _oos(split: Split, settings: Settings, seed: int, directory: Path, others=(), progress: bool = True):
    return audit.out_of_sample_probs(split, settings.folds, settings.epochs, seed=seed, others=others,
                                     val_size=settings.val_size, checkpoint_dir=directory, progress=progress)


def synthetic_noise(settings: Settings, train: Split, device: torch.device, seed: int = 0,
                    progress: bool = True) -> tuple[list[dict], int, int]:
    """Flip labels at random per noise seed, audit them, and score each method: rows, subset size, flips."""
    rows, n, n_flipped = [], 0, 0
    for noise_seed in settings.noise_seeds:
        positions = _positions(len(train), settings.noise_train_size, seed + 1000 * (noise_seed + 1))
        subset = train.subset(torch.from_numpy(positions))
        noisy, flipped = audit.flip_labels(subset.y.cpu().numpy(), settings.noise_fraction, seed + noise_seed)
        noisy_split = Split(subset.X, torch.from_numpy(noisy).to(subset.y.device))
        directory = _cache(settings, device, seed, f"noise-seed{noise_seed}", settings.noise_train_size)
        probs, _ = _oos(noisy_split, settings, seed + 100 * (noise_seed + 1), directory, progress=progress)
        for method in settings.methods:
            rows += [dict(seed=noise_seed, **row) for row in audit.evaluate_ranking(noisy, probs, flipped, method)]
        n, n_flipped = len(positions), len(flipped)
    return rows, n, n_flipped


def _to_split(suspects: Suspects, positions: np.ndarray) -> Suspects:
    return Suspects(positions[suspects.index], suspects.given, suspects.suggested, suspects.score)


def run(settings: Settings, data: Dataset, *, device: torch.device | str | None = None, seed: int = 0,
        progress: bool = True) -> LabelAudit:
    """Measure each ranking method on synthetic noise, choose the best, then audit the real labels.

    Parameters
    ----------
    settings
        From ``Settings.profile(name)``.
    data
        MNIST; moved to ``device`` (None: ``get_device()``).
    seed
        Draws the folds, subsets and flips and initialises the fold models; fold models are cached per seed.
    """
    device = get_device(device)
    data = data.to(device)
    start = time.perf_counter()
    synthetic, noise_n, n_flipped = synthetic_noise(settings, data.train, device, seed, progress)
    measured = time.perf_counter()
    # The method is the one with the best mean precision at k = the number of flipped labels, and nothing else.
    partial = LabelAudit("", synthetic, *([None] * 8), noise_n, n_flipped)
    method = max(settings.methods, key=partial.precision_at_flipped)
    train_pos = _positions(len(data.train), settings.train_size, seed)
    test_pos = _positions(len(data.test), settings.test_size, seed)
    train, test = data.train.subset(torch.from_numpy(train_pos)), data.test.subset(torch.from_numpy(test_pos))
    directory = _cache(settings, device, seed, "audit", settings.train_size)
    train_probs, (test_probs,) = _oos(train, settings, seed, directory, others=(test,), progress=progress)
    y_train, y_test = train.y.cpu().numpy(), test.y.cpu().numpy()
    confident = {name: len(audit.find_suspects(y, probs.numpy(), method, "prune_by_noise_rate"))
                 for name, y, probs in (("train", y_train, train_probs), ("test", y_test, test_probs))}
    return LabelAudit(
        method, synthetic,
        _to_split(audit.find_suspects(y_train, train_probs.numpy(), method), train_pos),
        _to_split(audit.find_suspects(y_test, test_probs.numpy(), method), test_pos),
        train_probs, test_probs, train_pos, test_pos,
        float((train_probs.argmax(1).numpy() == y_train).mean()), float((test_probs.argmax(1).numpy() == y_test).mean()),
        noise_n, n_flipped, confident,
        dict(synthetic=measured - start, audit=time.perf_counter() - measured, total=time.perf_counter() - start))
