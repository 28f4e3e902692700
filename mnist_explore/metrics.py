"""Evaluation: predictions, accuracy and error counts, confusion matrix, per-class precision/recall/F1."""
from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn.functional as F
from torch import nn

from .data import Split, to_float


@torch.no_grad()
def predict_logits(model: nn.Module, split: Split, batch_size: int = 256, amp: bool = True) -> torch.Tensor:
    """Logits (N, 10) of ``model`` on every image of ``split``, in eval mode, returned in float32 on the split's device.

    On CUDA with ``amp`` the forward pass runs in bf16, as in training.
    """
    was_training = model.training
    model.eval()
    device = split.X.device
    use_amp = amp and device.type == "cuda"
    out = []
    for start in range(0, len(split), batch_size):
        x = to_float(split.X[start:start + batch_size])
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=use_amp):
            out.append(model(x).float())
    model.train(was_training)
    return torch.cat(out)


def evaluate(model: nn.Module, split: Split, batch_size: int = 256, amp: bool = True) -> tuple[float, float]:
    """Mean cross-entropy loss and accuracy of ``model`` on ``split``."""
    logits = predict_logits(model, split, batch_size, amp)
    loss = F.cross_entropy(logits, split.y).item()
    return loss, accuracy(logits.argmax(dim=1), split.y)


def accuracy(y_pred: torch.Tensor, y: torch.Tensor) -> float:
    """Fraction of predictions equal to the labels."""
    return (y_pred == y).double().mean().item()


def error_count(y_pred: torch.Tensor, y: torch.Tensor) -> int:
    """How many predictions are wrong (out of ``len(y)``; 10,000 on MNIST's test set)."""
    return int((y_pred != y).sum())


def confusion_matrix(y: torch.Tensor, y_pred: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """Counts (num_classes, num_classes): row = true class, column = predicted class."""
    keys = y.long() * num_classes + y_pred.long()
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


def misclassified(probs: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Indices of the wrong predictions, most confident first."""
    confidence, y_pred = probs.max(dim=1)
    wrong = (y_pred != y).nonzero().flatten()
    return wrong[confidence[wrong].argsort(descending=True)]
