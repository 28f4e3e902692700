"""Label audit by confident learning: out-of-sample probabilities from k-fold models, then suspect labels ranked.

Confident learning (Northcutt, Jiang and Chuang, "Confident Learning: Estimating Uncertainty in Dataset
Labels", JAIR 70, 2021) estimates which labels are wrong from predicted probabilities that no model
computed for an image it trained on: per-class thresholds (the mean self-confidence of each class)
count the confident joint of given and true labels, the off-diagonal counts say how many of each
class to prune, and the pruned images are ranked by self-confidence p(given label) or by the
normalised margin p(given) - max p(other). The ranking itself is cleanlab's
(``cleanlab.filter.find_label_issues``, ``cleanlab.rank.get_label_quality_scores``); this module
supplies the out-of-sample probabilities, a known-answer noise model and its precision and recall.
"""
from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch

from .data import Split
from .errors import UserError
from .metrics import predict
from .progress import bar as progress_bar
from .train import TrainConfig, fit

METHODS = ("self_confidence", "normalized_margin")
NUM_CLASSES = 10


def fold_ids(n: int, folds: int, seed: int = 0) -> torch.Tensor:
    """Each of ``n`` images' fold (0 to folds-1), balanced and drawn on the CPU from ``seed``."""
    if isinstance(folds, bool) or not isinstance(folds, int) or not 2 <= folds <= n:
        raise UserError(f"folds must be a whole number between 2 and the number of images ({n}), got {folds!r}.")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    ids = torch.empty(n, dtype=torch.long)
    ids[order] = torch.arange(n) % folds
    return ids


def fold_config(epochs: int, seed: int, batch_size: int = 128, lr: float = 3e-3) -> TrainConfig:
    """The fold models' recipe: fast_cnn with Adam and OneCycle to ``lr``, as the feature classifier of notebook 08."""
    return TrainConfig(model="fast_cnn", epochs=epochs, batch_size=batch_size, lr=lr, schedule="onecycle",
                       seed=seed, progress=False)


def _fold_split(train: Split, inside: torch.Tensor, val_size: int, seed: int) -> tuple[Split, Split]:
    """The fold model's training images and a validation split carved from them (never the held-out fold)."""
    order = inside[torch.randperm(len(inside), generator=torch.Generator().manual_seed(seed))]
    return train.subset(order[val_size:]), train.subset(order[:val_size])


def out_of_sample_probs(train: Split, folds: int, epochs: int, *, seed: int = 0, others: Sequence[Split] = (),
                        val_size: int = 1000, checkpoint_dir: str | Path | None = None,
                        progress: bool = True) -> tuple[torch.Tensor, list[torch.Tensor]]:
    """Softmax probabilities for every training image from the fold model that did not train on it.

    Parameters
    ----------
    train
        uint8 images and (possibly noisy) labels, on the training device.
    folds, epochs
        k of k-fold cross-validation, and each fold model's epochs.
    seed
        Draws the folds; fold model i is initialised and shuffled from ``seed + i``.
    others
        Splits no fold model trains on (the test set): scored by the mean of all fold models' probabilities.
    val_size
        Images carved from each fold model's own training folds to report validation accuracy.
    checkpoint_dir
        A folder per fold model (``fold0``, ...); a finished one is loaded, a half-trained one resumes.

    Returns
    -------
    (N, 10) float64 probabilities for ``train`` on the CPU, and one such tensor per split in ``others``.
    """
    ids = fold_ids(len(train), folds, seed)
    probs = torch.zeros(len(train), NUM_CLASSES, dtype=torch.float64)
    other_probs = [torch.zeros(len(s), NUM_CLASSES, dtype=torch.float64) for s in others]
    for k in progress_bar(range(folds), desc="fold models", unit="model", disable=not progress, leave=False):
        held_out, inside = torch.nonzero(ids == k).flatten(), torch.nonzero(ids != k).flatten()
        fold_train, fold_val = _fold_split(train, inside, min(val_size, len(inside) // 5), seed + k)
        directory = None if checkpoint_dir is None else Path(checkpoint_dir) / f"fold{k}"
        model = fit(fold_config(epochs, seed + k), fold_train, fold_val, checkpoint_dir=directory,
                    resume=True).model.eval()
        probs[held_out] = predict(model, train.subset(held_out), probs=True).double().cpu()
        for out, split in zip(other_probs, others):
            out += predict(model, split, probs=True).double().cpu() / folds
    return probs, other_probs


@dataclass(frozen=True)
class Suspects:
    """Suspect labels, most suspect first: positions in the audited split, given and suggested labels, and
    cleanlab's label-quality score of the given label (0 to 1; lower is more suspect)."""

    index: np.ndarray
    given: np.ndarray
    suggested: np.ndarray
    score: np.ndarray

    def __len__(self) -> int:
        return len(self.index)

    def top(self, k: int) -> Suspects:
        return Suspects(self.index[:k], self.given[:k], self.suggested[:k], self.score[:k])


def _check(labels, probs) -> tuple[np.ndarray, np.ndarray]:
    labels, probs = np.asarray(labels, dtype=np.int64), np.asarray(probs, dtype=np.float64)
    if probs.ndim != 2 or len(probs) != len(labels):
        raise UserError(f"probs must be (N, classes) for N={len(labels)} labels, got shape {probs.shape}.")
    return labels, probs


def quality_scores(labels, probs, method: str = "self_confidence") -> np.ndarray:
    """cleanlab's label-quality score of every given label (lower is more suspect)."""
    from cleanlab.rank import get_label_quality_scores

    if method not in METHODS:
        raise UserError(f"Unknown ranking method {method!r}: choose one of {', '.join(METHODS)}.")
    labels, probs = _check(labels, probs)
    return get_label_quality_scores(labels, probs, method=method)


def find_suspects(labels, probs, method: str = "self_confidence", filter_by: str = "predicted_neq_given") -> Suspects:
    """Suspect labels ranked by ``method`` (``self_confidence`` or ``normalized_margin``), most suspect first.

    ``filter_by`` decides where the list stops: ``predicted_neq_given`` (the default) keeps every image whose
    out-of-sample prediction differs from its label; ``prune_by_noise_rate`` is confident learning's own cut
    (per-class thresholds, as many per class as the confident joint estimates are mislabelled).
    """
    from cleanlab.filter import find_label_issues

    scores = quality_scores(labels, probs, method)
    labels, probs = _check(labels, probs)
    index = find_label_issues(labels, probs, filter_by=filter_by, return_indices_ranked_by=method, n_jobs=1)
    index = np.asarray(index, dtype=np.int64)
    return Suspects(index, labels[index], probs[index].argmax(axis=1), scores[index])


def flip_labels(labels, fraction: float, seed: int = 0,
                num_classes: int = NUM_CLASSES) -> tuple[np.ndarray, np.ndarray]:
    """Labels with ``fraction`` of them (chosen at random) replaced by a different class drawn uniformly,
    and the sorted positions flipped."""
    labels = np.asarray(labels, dtype=np.int64)
    if not 0 < fraction < 1:
        raise UserError(f"fraction must be between 0 and 1, got {fraction!r}.")
    rng = np.random.default_rng(seed)
    flipped = np.sort(rng.choice(len(labels), size=max(1, round(fraction * len(labels))), replace=False))
    noisy = labels.copy()
    noisy[flipped] = (labels[flipped] + rng.integers(1, num_classes, size=len(flipped))) % num_classes
    return noisy, flipped


def precision_recall(ranked: np.ndarray, flipped: np.ndarray, k: int) -> tuple[float, float]:
    """Precision and recall of the first ``k`` of ``ranked`` at finding ``flipped``."""
    hits = np.isin(np.asarray(ranked)[:k], flipped).sum()
    return float(hits / max(min(k, len(ranked)), 1)), float(hits / len(flipped))


def noise_cutoffs(n_flipped: int) -> dict[str, int]:
    """The cut-offs reported: half, once and twice the number of flipped labels."""
    return {"top ½×flipped": max(1, n_flipped // 2), "top 1×flipped": n_flipped, "top 2×flipped": 2 * n_flipped}


def evaluate_ranking(labels_noisy, probs, flipped, method: str) -> list[dict]:
    """Precision and recall at each cut-off of :func:`noise_cutoffs`, of the images predicted as another class,
    and of confident learning's own cut."""
    ranked = np.argsort(quality_scores(labels_noisy, probs, method), kind="stable")
    rows = [dict(cutoff=name, k=k, **dict(zip(("precision", "recall"), precision_recall(ranked, flipped, k))))
            for name, k in noise_cutoffs(len(flipped)).items()]
    for name, filter_by in (("predicted ≠ given", "predicted_neq_given"), ("cleanlab's cut", "prune_by_noise_rate")):
        found = find_suspects(labels_noisy, probs, method, filter_by).index
        rows.append(dict(cutoff=name, k=len(found),
                         **dict(zip(("precision", "recall"), precision_recall(found, flipped, len(found))))))
    return [dict(method=method, **row) for row in rows]
