"""Dataset statistics of uint8 images, computed on whatever device the tensors are on.

Every function takes images ``X`` (uint8, N x H x W, 0-255) and, where per class,
labels ``y`` (int64, N); results come back as tensors on the same device.
"""
from __future__ import annotations

import torch

NUM_CLASSES = 10
LEVELS = 256  # uint8 intensities 0..255


def class_counts(y: torch.Tensor, num_classes: int = NUM_CLASSES) -> torch.Tensor:
    """Number of examples of each class, shape (num_classes,)."""
    return torch.bincount(y, minlength=num_classes)


def _per_class_sum(values: torch.Tensor, y: torch.Tensor, num_classes: int) -> torch.Tensor:
    """Sum ``values`` (N, ...) over the examples of each class: (num_classes, ...)."""
    out = torch.zeros((num_classes, *values.shape[1:]), dtype=values.dtype, device=values.device)
    return out.index_add_(0, y, values)


def class_means(X: torch.Tensor, y: torch.Tensor, num_classes: int = NUM_CLASSES) -> torch.Tensor:
    """The mean image of each class in [0, 1], shape (num_classes, H, W)."""
    sums = _per_class_sum(X.double(), y, num_classes) / 255.0
    return (sums / class_counts(y, num_classes).view(-1, 1, 1)).float()


def class_mean_intensity(X: torch.Tensor, y: torch.Tensor, num_classes: int = NUM_CLASSES) -> torch.Tensor:
    """Mean pixel intensity of each class in [0, 1], shape (num_classes,)."""
    return class_means(X, y, num_classes).mean(dim=(1, 2))


def pixel_histograms(X: torch.Tensor, y: torch.Tensor, num_classes: int = NUM_CLASSES) -> torch.Tensor:
    """Exact per-class counts of each intensity 0..255, shape (num_classes, 256).

    One ``bincount`` over ``label * 256 + intensity``: no binning error, one pass.
    """
    keys = y.view(-1, 1) * LEVELS + X.reshape(len(X), -1).long()
    return torch.bincount(keys.reshape(-1), minlength=num_classes * LEVELS).view(num_classes, LEVELS)


def pixel_std(X: torch.Tensor) -> torch.Tensor:
    """Per-pixel standard deviation of intensity in [0, 1] over all images, shape (H, W)."""
    return (X.double() / 255.0).std(dim=0).float()


def intensity_fractions(X: torch.Tensor, y: torch.Tensor, num_classes: int = NUM_CLASSES) -> torch.Tensor:
    """Per class, the fraction of pixels exactly 0, strictly between, and exactly 1 (255).

    Returns shape (num_classes, 3); each row sums to 1.
    """
    return fractions_from_histograms(pixel_histograms(X, y, num_classes))


def fractions_from_histograms(hist: torch.Tensor) -> torch.Tensor:
    """:func:`intensity_fractions` from per-class counts of each level (num_classes, 256)."""
    hist = hist.double()
    parts = torch.stack([hist[:, 0], hist[:, 1:-1].sum(dim=1), hist[:, -1]], dim=1)
    return parts / parts.sum(dim=1, keepdim=True)
