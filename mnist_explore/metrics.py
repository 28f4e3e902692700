"""Evaluation: predictions, accuracy and error counts, confusion matrix, per-class precision/recall/F1.

Metrics take ``(y_true, y_pred)``, in that order, as scikit-learn's do.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .data import Split, to_float
from .runtime import autocast


def _device(model: nn.Module, default: torch.device) -> torch.device:
    """Where the model's parameters (else its buffers) are; ``default`` for a module with neither."""
    tensor = next(model.parameters(), None)
    tensor = next(model.buffers(), None) if tensor is None else tensor
    return default if tensor is None else tensor.device


@torch.no_grad()
def predict(model: nn.Module, X: Split | torch.Tensor, batch_size: int | None = 1000, *, amp: bool | None = False,
            probs: bool = False) -> torch.Tensor:
    """The outputs of ``model`` for every row of ``X``, batch by batch in eval mode: the one prediction loop.

    Parameters
    ----------
    model
        Any module; it runs where its parameters (or buffers) are, and each batch is moved there.
        Every submodule's train/eval mode is restored afterwards.
    X
        A :class:`~mnist_explore.data.Split` or a tensor. uint8 images (N, 28, 28) are scaled to
        [0, 1] with ``to_float``; any other tensor (cached features, float images) is used as it is.
    batch_size
        Rows per forward pass; None: all rows in one pass.
    amp
        bf16 autocast (:func:`~mnist_explore.runtime.autocast`): None on CUDA only, as training does
        by default; True on any device; False (the default) never.
    probs
        Return softmax probabilities instead of logits.

    Returns
    -------
    torch.Tensor
        (N, ...) on the model's device; float32 unless ``amp`` is False (then the model's own dtype).
    """
    X = X.X if isinstance(X, Split) else X
    device = _device(model, X.device)
    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    step = batch_size or max(len(X), 1)
    out = []
    try:
        for start in range(0, len(X), step):
            x = X[start:start + step].to(device)
            x = to_float(x) if x.dtype == torch.uint8 else x
            with autocast(device, amp):
                y_hat = model(x)
            y_hat = y_hat if amp is False else y_hat.float()
            out.append(y_hat.softmax(dim=1) if probs else y_hat)
    finally:
        for m, mode in modes:
            m.training = mode
    return torch.cat(out)


def evaluate(model: nn.Module, split: Split, batch_size: int = 256, amp: bool | None = None) -> tuple[float, float]:
    """Mean cross-entropy loss and accuracy of ``model`` on ``split``; ``amp`` as in :func:`predict` (None: bf16 on
    CUDA only)."""
    logits = predict(model, split, batch_size, amp=amp).float()
    loss = F.cross_entropy(logits, split.y.to(logits.device)).item()
    return loss, accuracy(split.y.to(logits.device), logits.argmax(dim=1))


def predict_logits(model: nn.Module, split: Split, batch_size: int = 256, amp: bool | None = None) -> torch.Tensor:
    """Float32 logits with :func:`evaluate`'s batch size and autocast rule: :func:`predict`, for older callers."""
    return predict(model, split, batch_size, amp=amp).float()


def accuracy(y_true: torch.Tensor, y_pred: torch.Tensor) -> float:
    """Fraction of predictions equal to the labels."""
    return (y_pred == y_true).double().mean().item()


def error_count(y_true: torch.Tensor, y_pred: torch.Tensor) -> int:
    """How many predictions are wrong (out of ``len(y_true)``; 10,000 on MNIST's test set)."""
    return int((y_pred != y_true).sum())


def confusion_matrix(y_true: torch.Tensor, y_pred: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """Counts (num_classes, num_classes): row = true class, column = predicted class."""
    keys = y_true.long() * num_classes + y_pred.long()
    return torch.bincount(keys, minlength=num_classes ** 2).view(num_classes, num_classes).cpu()


@dataclass(frozen=True)
class ClassReport:
    """Per-class precision, recall and F1 (tensors of length num_classes), their macro averages, and support."""

    precision: torch.Tensor
    recall: torch.Tensor
    f1: torch.Tensor
    support: torch.Tensor

    @property
    def macro(self) -> dict[str, float]:
        return {"precision": self.precision.mean().item(), "recall": self.recall.mean().item(),
                "f1": self.f1.mean().item()}


def class_report(cm: torch.Tensor) -> ClassReport:
    """Precision, recall and F1 per class from a confusion matrix (0 where undefined, as scikit-learn does)."""
    cm = cm.double()
    tp = cm.diagonal()
    predicted, actual = cm.sum(dim=0), cm.sum(dim=1)
    precision = torch.where(predicted > 0, tp / predicted.clamp(min=1), 0.0)
    recall = torch.where(actual > 0, tp / actual.clamp(min=1), 0.0)
    denom = precision + recall
    f1 = torch.where(denom > 0, 2 * precision * recall / denom.clamp(min=1e-300), 0.0)
    return ClassReport(precision, recall, f1, actual.long())


def misclassified(y_true: torch.Tensor, probs: torch.Tensor) -> torch.Tensor:
    """Indices of the wrong predictions (the argmax of ``probs``, (N, C)), most confident first."""
    confidence, y_pred = probs.max(dim=1)
    wrong = (y_pred != y_true).nonzero().flatten()
    return wrong[confidence[wrong].argsort(descending=True)]
