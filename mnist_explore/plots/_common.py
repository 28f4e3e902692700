"""Helpers shared by the plotting modules. Grids of images are drawn as one mosaic
on one axes, so that small multiples share a single colour scale by construction."""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
import torch
from matplotlib.axes import Axes
from matplotlib.figure import Figure

DIGIT_COLORS = plt.get_cmap("tab10").colors  # class k is always drawn in colour k


def _axes(ax: Axes | None, figsize: tuple[float, float]) -> tuple[Figure, Axes]:
    if ax is not None:
        return ax.figure, ax
    fig, ax = plt.subplots(figsize=figsize, layout="constrained")
    return fig, ax


def _numpy(t) -> np.ndarray:
    return t.detach().cpu().numpy() if isinstance(t, torch.Tensor) else np.asarray(t)


def mosaic(images: np.ndarray, ncols: int, pad: int = 2, fill: float = np.nan) -> np.ndarray:
    """Tile images (N, H, W) into one array of ``ncols`` columns, ``pad`` pixels apart."""
    n, h, w = images.shape
    nrows = -(-n // ncols)
    out = np.full((nrows * (h + pad) - pad, ncols * (w + pad) - pad), fill, dtype=float)
    for i, img in enumerate(images):
        r, c = divmod(i, ncols)
        out[r * (h + pad):r * (h + pad) + h, c * (w + pad):c * (w + pad) + w] = img
    return out


def _label_tiles(ax: Axes, labels: Sequence[str], ncols: int, size: int, pad: int = 2, fontsize: float = 9,
                 color: str = "#ffcc00") -> None:
    for i, text in enumerate(labels):
        r, c = divmod(i, ncols)
        ax.text(c * (size + pad) + 1, r * (size + pad) + 1, text, color=color, fontsize=fontsize,
                fontweight="bold", va="top", ha="left")
