"""Figures of what hidden layers compute (notebook 07)."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._common import DIGIT_COLORS, _axes, _label_tiles, _numpy, mosaic


def plot_filters(weight, ncols: int = 12, ax: Axes | None = None) -> Figure:
    """First-layer filters (C, 1, k, k) on one symmetric colour scale."""
    w = _numpy(weight)[:, 0]
    limit = float(np.abs(w).max())
    fig, ax = _axes(ax, (0.7 * ncols + 1.5, 0.75 * (-(-len(w) // ncols)) + 0.9))
    image = ax.imshow(mosaic(w, ncols, pad=1), cmap="RdBu_r", vmin=-limit, vmax=limit)
    ax.set_axis_off()
    fig.colorbar(image, ax=ax, shrink=0.8, label="weight")
    ax.set_title(f"The {len(w)} first-layer filters ({w.shape[-1]}x{w.shape[-1]}): red adds, blue subtracts")
    return fig


def plot_feature_maps(image, maps: dict, n_channels: int = 12) -> Figure:
    """One digit and the first ``n_channels`` feature maps of each conv layer, a row per layer."""
    fig, axes = plt.subplots(len(maps) + 1, 1, figsize=(0.9 * n_channels, 1.35 * (len(maps) + 1) + 0.4),
                             layout="constrained")
    axes[0].imshow(_numpy(image), cmap="gray", vmin=0, vmax=1)
    axes[0].set_title("input", fontsize=9)
    for ax, (name, m) in zip(axes[1:], maps.items()):
        m = _numpy(m)[:n_channels]
        ax.imshow(mosaic(m / np.maximum(np.abs(m).max(axis=(1, 2), keepdims=True), 1e-12), n_channels, pad=1),
                  cmap="magma", vmin=-1, vmax=1)
        ax.set_title(f"{name}: {m.shape[-2]}x{m.shape[-1]} maps, first {len(m)} channels "
                     "(each scaled to its own max)", fontsize=9)
    for ax in axes:
        ax.set_axis_off()
    fig.suptitle("What each conv layer computes for one digit")
    return fig


def plot_embedding(Z, y, title: str, ax: Axes | None = None) -> Figure:
    """A 2-D embedding (N, 2) coloured by class, each class labelled at its median."""
    Z, y = _numpy(Z), _numpy(y)
    fig, ax = _axes(ax, (6, 5.5))
    for k in range(10):
        points = Z[y == k]
        ax.scatter(points[:, 0], points[:, 1], s=2, alpha=0.35, color=DIGIT_COLORS[k], rasterized=True)
        cx, cy = np.median(points, axis=0)
        ax.text(cx, cy, str(k), fontsize=13, fontweight="bold", ha="center", va="center", color=DIGIT_COLORS[k],
                bbox={"boxstyle": "circle,pad=0.15", "facecolor": "white", "alpha": 0.8, "edgecolor": "none"})
    ax.set_xlabel("component 1")
    ax.set_ylabel("component 2")
    ax.set_title(title)
    return fig


def plot_saliency(images, maps, labels, ax: Axes | None = None) -> Figure:
    """Digits (top row) and their gradient saliency |d logit / d pixel| (bottom row), each map scaled to its max."""
    images, maps = _numpy(images), _numpy(maps)
    maps = maps / np.maximum(maps.max(axis=(1, 2), keepdims=True), 1e-12)
    n = len(images)
    fig, ax = _axes(ax, (1.1 * n, 2.6))
    ax.imshow(mosaic(np.concatenate([images, maps]), n), cmap="inferno", vmin=0, vmax=1)
    _label_tiles(ax, [str(int(k)) for k in _numpy(labels)], n, 28)
    ax.set_axis_off()
    ax.set_title("Gradient saliency: which pixels move the predicted class's logit most (bottom row)")
    return fig


def plot_class_maximising(images, ax: Axes | None = None) -> Figure:
    """The input that maximises each class's logit (10, 28, 28)."""
    fig, ax = _axes(ax, (8, 3.6))
    ax.imshow(mosaic(_numpy(images), 5), cmap="gray", vmin=0, vmax=1)
    _label_tiles(ax, [str(k) for k in range(10)], 5, 28)
    ax.set_axis_off()
    ax.set_title("Inputs that maximise each class's logit (gradient ascent from faint noise)")
    return fig


def plot_test_maps(maps) -> Figure:
    """Two t-SNE maps of the same test digits side by side, raw pixels and penultimate features, each titled with
    its kNN score (fit on the first 80% of the points, scored on the rest).

    ``maps`` has ``pixels`` and ``features`` (N, 2) and labels ``y``, as ``studies.hidden_layers.TestMaps``.
    """
    from ..neighbors import knn_score
    from .embeddings import plot_map

    fig, axes = plt.subplots(1, 2, figsize=(12, 6), layout="constrained")
    n_fit = int(0.8 * len(maps.y))
    for ax, E, title in [(axes[0], maps.pixels, "Raw pixels (784-d)"),
                         (axes[1], maps.features, "Penultimate features (256-d)")]:
        plot_map(E, maps.y, f"{title}, t-SNE", knn_score(E, maps.y, n_fit).accuracy, ax=ax)
    fig.suptitle(f"{len(maps.y):,} test digits in 2-D: before and after the network")
    return fig
