"""Figures of notebook 02: PCA views, 2-D maps, per-class panels, distance distributions."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._common import DIGIT_COLORS, _axes, _label_tiles, _numpy, mosaic
from .activations import plot_embedding


def plot_explained_variance(ratio, marks: Sequence[float] = (0.90, 0.95, 0.99), show: int = 400,
                            ax: Axes | None = None) -> Figure:
    """Individual (bars, left axis) and cumulative (line, right axis) explained variance, with the k for each mark."""
    ratio = _numpy(ratio)[:show]
    cumulative = np.cumsum(_numpy(ratio))
    fig, ax = _axes(ax, (9, 4.5))
    ks = np.arange(1, len(ratio) + 1)
    ax.bar(ks, ratio * 100, width=1.0, color="#4c72b0", label="each component")
    ax.set_xlabel("principal component")
    ax.set_ylabel("variance explained by the component (%)", color="#4c72b0")
    right = ax.twinx()
    right.plot(ks, cumulative * 100, color="#c44e52", lw=2, label="cumulative")
    right.set_ylabel("cumulative variance explained (%)", color="#c44e52")
    right.set_ylim(0, 101)
    for mark, style in zip(marks, [":", "--", "-."]):
        k = int(np.searchsorted(cumulative, mark)) + 1
        right.axvline(k, color="0.3", ls=style, lw=1)
        right.annotate(f"{mark:.0%}: {k}", (k, mark * 100), xytext=(6, -14), textcoords="offset points", fontsize=9)
    ax.set_xlim(0, len(ratio) + 1)
    ax.set_title("PCA of all 70,000 digits: how many components the pixels need")
    return fig


def plot_pca_scatter(Z, y, n_3d: int = 15000, seed: int = 0) -> Figure:
    """The first two components of every digit (left) and the first three of a random ``n_3d`` of them (right)."""
    Z, y = _numpy(Z), _numpy(y)
    fig = plt.figure(figsize=(13, 5.8), layout="constrained")
    left = fig.add_subplot(1, 2, 1)
    plot_embedding(Z[:, :2], y, f"PC1 vs PC2, all {len(Z):,} digits", ax=left)
    left.set_xlabel("PC1")
    left.set_ylabel("PC2")
    pick = np.random.default_rng(seed).permutation(len(Z))[:n_3d]
    right = fig.add_subplot(1, 2, 2, projection="3d")
    # One call in random order, so that no class is drawn over all the others.
    right.scatter(Z[pick, 0], Z[pick, 1], Z[pick, 2], s=2, alpha=0.6, c=np.asarray(DIGIT_COLORS)[y[pick]],
                  depthshade=False, rasterized=True)
    for k in range(10):
        right.scatter([], [], [], s=20, color=DIGIT_COLORS[k], label=str(k))
    right.set_xlabel("PC1")
    right.set_ylabel("PC2")
    right.set_zlabel("PC3")
    right.view_init(elev=22, azim=-60)
    right.legend(ncols=2, fontsize=8, loc="upper left", title="digit")
    right.set_title(f"PC1-PC3, a random {len(pick):,} digits")
    fig.suptitle("Linear projections keep 0 and 1 apart, and pile most other digits on top of each other")
    return fig


def plot_components(components, n: int = 16, ncols: int = 8, ax: Axes | None = None) -> Figure:
    """The first ``n`` principal components as 28 x 28 images (red positive, blue negative, each scaled to its max)."""
    comps = _numpy(components)[:n].reshape(n, 28, 28)
    comps = comps / np.abs(comps).max(axis=(1, 2), keepdims=True)
    fig, ax = _axes(ax, (1.3 * ncols, 1.5 * (-(-n // ncols)) + 0.6))
    ax.imshow(mosaic(comps, ncols), cmap="RdBu_r", vmin=-1, vmax=1)
    _label_tiles(ax, [f"PC{i + 1}" for i in range(n)], ncols, 28, fontsize=8, color="black")
    ax.set_axis_off()
    ax.set_title(f"The first {n} principal components: the strokes every digit is built from")
    return fig


def plot_reconstructions(originals, reconstructions: Mapping[int, object], ax: Axes | None = None) -> Figure:
    """Digits (first column) and their reconstructions from k components (one column per k)."""
    originals = _numpy(originals).reshape(-1, 28, 28)
    columns = [originals] + [_numpy(r).reshape(-1, 28, 28) for r in reconstructions.values()]
    grid = np.stack(columns, axis=1).reshape(-1, 28, 28)  # row = digit, column = k
    ncols = len(columns)
    fig, ax = _axes(ax, (1.25 * ncols, 1.25 * len(originals) + 0.8))
    ax.imshow(mosaic(np.clip(grid, 0, 1), ncols), cmap="gray", vmin=0, vmax=1)
    ax.set_xticks([i * 30 + 14 for i in range(ncols)], ["original"] + [f"k = {k}" for k in reconstructions])
    ax.xaxis.tick_top()
    ax.set_yticks([])
    ax.set_title("Reconstructions from the first k principal components")
    return fig


def plot_map(E, y, title: str, accuracy: float | None = None, ax: Axes | None = None) -> Figure:
    """A 2-D map coloured by digit, labelled at each class median, with its kNN accuracy in the title."""
    suffix = f"\nkNN (k=10) test accuracy in 2-D: {accuracy:.2%}" if accuracy is not None else ""
    fig = plot_embedding(E, y, title + suffix, ax=ax)
    ax = ax or fig.axes[0]
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_xlabel("")
    ax.set_ylabel("")
    return fig


def plot_maps(maps: Mapping[str, tuple[object, float]], y) -> Figure:
    """Several maps of the same points side by side: ``{title: (embedding, knn_accuracy)}``."""
    fig, axes = plt.subplots(1, len(maps), figsize=(6 * len(maps), 6.2), layout="constrained")
    for ax, (title, (E, accuracy)) in zip(np.atleast_1d(axes), maps.items()):
        plot_map(E, y, title, accuracy, ax=ax)
    fig.suptitle(f"The same {len(_numpy(y)):,} digits, three ways to 2-D")
    return fig


def plot_per_class(E, y, title: str = "t-SNE", ncols: int = 5) -> Figure:
    """One small panel per digit: that class in colour over every other point in grey."""
    E, y = _numpy(E), _numpy(y)
    fig, axes = plt.subplots(2, ncols, figsize=(3.1 * ncols, 6.6), sharex=True, sharey=True, layout="constrained")
    for k, ax in enumerate(axes.flat):
        ax.scatter(E[:, 0], E[:, 1], s=0.5, color="0.85", rasterized=True)
        mine = E[y == k]
        ax.scatter(mine[:, 0], mine[:, 1], s=0.8, color=DIGIT_COLORS[k], alpha=0.6, rasterized=True)
        ax.set_title(f"{k}  ({len(mine):,} digits)", color=DIGIT_COLORS[k], fontweight="bold")
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle(f"{title}, one class at a time: strays show which digits are written like others")
    return fig


def plot_axis_distributions(E, y, bins: int = 120, title: str = "t-SNE") -> Figure:
    """Per-class densities of each embedding axis, one ridge per digit."""
    E, y = _numpy(E), _numpy(y)
    fig, axes = plt.subplots(1, 2, figsize=(12, 6), layout="constrained")
    for axis, ax in enumerate(axes):
        edges = np.linspace(E[:, axis].min(), E[:, axis].max(), bins + 1)
        centres = (edges[:-1] + edges[1:]) / 2
        for k in range(10):
            density, _ = np.histogram(E[y == k, axis], bins=edges, density=True)
            density = density / max(density.max(), 1e-12) * 0.9
            ax.fill_between(centres, 9 - k, 9 - k + density, color=DIGIT_COLORS[k], alpha=0.7, lw=0)
            ax.plot(centres, 9 - k + density, color="black", lw=0.5)
        ax.set_yticks(range(10), [str(9 - k) for k in range(10)])
        ax.set_ylabel("digit")
        ax.set_xlabel(f"{title} axis {axis + 1}")
        ax.set_title(f"Axis {axis + 1}, per class (each ridge scaled to its peak)")
    fig.suptitle(f"{title}: no single axis separates the classes; the pair of axes does")
    return fig


def plot_distance_distributions(high, low, same_class, title: str = "t-SNE", bins: int = 80) -> Figure:
    """Distances of random pairs in 784-d and in 2-d: per space, same-class vs different-class; and one against the other."""
    high, low, same = _numpy(high), _numpy(low), _numpy(same_class).astype(bool)
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.8), layout="constrained")
    for ax, d, space in [(axes[0], high, "784-d pixel space"), (axes[1], low, f"2-d {title} map")]:
        edges = np.linspace(0, np.quantile(d, 0.999), bins + 1)
        ax.hist(d[same], bins=edges, density=True, alpha=0.6, color="#55a868", label="same digit")
        ax.hist(d[~same], bins=edges, density=True, alpha=0.6, color="#c44e52", label="different digits")
        ax.set_xlabel("Euclidean distance")
        ax.set_ylabel("density")
        ax.set_title(space)
        ax.legend()
    hb = axes[2].hexbin(high, low, gridsize=60, bins="log", cmap="viridis", mincnt=1)
    fig.colorbar(hb, ax=axes[2], label="pairs (log)")
    axes[2].set_xlabel("distance in 784-d")
    axes[2].set_ylabel(f"distance in the {title} map")
    axes[2].set_title("Near stays near; far becomes arbitrary")
    fig.suptitle(f"784-d vs 2-d: {title} keeps neighbourhoods, not distances ({len(high):,} random pairs)")
    return fig
