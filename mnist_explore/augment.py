"""Batched data augmentation on the device: one random affine per image, or a cheap translate.

Random parameters are drawn on the CPU from the caller's generator and moved to
the images' device, so a seed gives the same augmentation on every device.
"""
from __future__ import annotations

import math
from dataclasses import dataclass

import torch
import torch.nn.functional as F

from .errors import UserError


@dataclass(frozen=True)
class AffineRanges:
    """Ranges of the random affine, by default the Keras notebook's ImageDataGenerator settings."""

    rotation: float = 8.0  # degrees, +-
    shift: float = 0.08  # fraction of width / height, +-
    shear: float = 0.3  # shear angle in radians, +- (Keras 1 semantics, as the notebook ran)
    zoom: float = 0.08  # fraction, scale in [1 - zoom, 1 + zoom]


KERAS = AffineRanges()


def affine_matrices(n: int, ranges: AffineRanges = KERAS, generator: torch.Generator | None = None) -> torch.Tensor:
    """Random 2x3 matrices (n, 2, 3) for ``affine_grid``, in its normalised [-1, 1] coordinates."""
    u = torch.rand(n, 5, generator=generator, dtype=torch.float64) * 2 - 1  # uniform in [-1, 1]
    angle = u[:, 0] * math.radians(ranges.rotation)
    shear = u[:, 1] * ranges.shear
    scale = 1 + u[:, 2] * ranges.zoom
    # affine_grid maps output coordinates to input ones: the inverse of the image transform.
    # A shift of s (fraction of the width) is 2s in [-1, 1] coordinates.
    tx, ty = 2 * ranges.shift * u[:, 3], 2 * ranges.shift * u[:, 4]
    cos, sin, tan = torch.cos(angle), torch.sin(angle), torch.tan(shear)
    theta = torch.stack([
        torch.stack([cos, -sin + cos * tan, tx], dim=1),
        torch.stack([sin, cos + sin * tan, ty], dim=1),
    ], dim=1) / scale.view(-1, 1, 1)
    theta[:, :, 2] *= scale.view(-1, 1)  # the shift is not scaled
    return theta.float()


def random_affine(X: torch.Tensor, ranges: AffineRanges = KERAS, generator: torch.Generator | None = None,
                  theta: torch.Tensor | None = None) -> torch.Tensor:
    """Apply one random affine to each image of a float batch (N, C, H, W), filling with the corner value.

    Pass ``theta`` (N, 2, 3) to apply given matrices instead of random ones.
    """
    if X.ndim != 4 or not X.is_floating_point():
        raise UserError(f"random_affine takes float images (N, C, H, W), got {X.dtype} of shape {tuple(X.shape)}.")
    theta = affine_matrices(len(X), ranges, generator) if theta is None else theta
    grid = F.affine_grid(theta.to(X.device, X.dtype), list(X.shape), align_corners=False)
    background = X[:, :, :1, :1]  # the standardised value of a black pixel
    out = F.grid_sample(X - background, grid, mode="bilinear", padding_mode="zeros", align_corners=False)
    return out + background


def random_translate(X: torch.Tensor, max_shift: int = 2, generator: torch.Generator | None = None) -> torch.Tensor:
    """Shift each image of a batch (N, C, H, W) by whole pixels in [-max_shift, max_shift], filling with the corner value."""
    if max_shift < 0:
        raise UserError(f"max_shift must be at least 0, got {max_shift}.")
    n, _, h, w = X.shape
    shifts = torch.randint(-max_shift, max_shift + 1, (n, 2), generator=generator).to(X.device)
    padded = F.pad(X - X[:, :, :1, :1], (max_shift,) * 4) + X[:, :, :1, :1]
    rows = torch.arange(h, device=X.device).view(1, h) + max_shift - shifts[:, :1]  # (n, h)
    cols = torch.arange(w, device=X.device).view(1, w) + max_shift - shifts[:, 1:]  # (n, w)
    batch = torch.arange(n, device=X.device).view(n, 1, 1)
    # Advanced indexing puts the index dimensions first: (n, h, w, C) -> (n, C, h, w).
    return padded.permute(0, 2, 3, 1)[batch, rows.view(n, h, 1), cols.view(n, 1, w)].permute(0, 3, 1, 2)


AUGMENTATIONS = {"affine": random_affine, "translate": random_translate}


def get_augmentation(name: str | None):
    """The augmentation function named, or None for ``None``/``"none"``."""
    if name in (None, "none"):
        return None
    if name not in AUGMENTATIONS:
        raise UserError(f"Unknown augmentation {name!r}: choose one of none, {', '.join(AUGMENTATIONS)}.")
    return AUGMENTATIONS[name]
