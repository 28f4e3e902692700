"""Figures of the data set (notebook 01)."""
from __future__ import annotations

from collections.abc import Sequence

import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..errors import UserError
from ._common import DIGIT_COLORS, _axes, _label_tiles, _numpy, mosaic


def plot_sample_grid(X, y, n: int = 25, ncols: int = 5, classes: Sequence[str] | None = None,
                     title: str | None = None, ax: Axes | None = None) -> Figure:
    """The first ``n`` images of ``X`` in a grid, each labelled with its class."""
    if not 1 <= n <= len(X):
        raise UserError(f"n must be between 1 and the number of images ({len(X)}), got {n}.")
    images, labels = _numpy(X[:n]).astype(float) / 255.0, _numpy(y[:n])
    classes = classes or [str(k) for k in range(10)]
    fig, ax = _axes(ax, (5.5, 5.5 * (-(-n // ncols)) / ncols + 0.4))
    ax.imshow(mosaic(images, ncols), cmap="gray", vmin=0, vmax=1)
    _label_tiles(ax, [classes[k] for k in labels], ncols, images.shape[-1])
    ax.set_axis_off()
    ax.set_title(title or f"{n} training images and their labels")
    return fig


def plot_class_counts(train_counts, test_counts, classes: Sequence[str] | None = None,
                      ax: Axes | None = None) -> Figure:
    """Each class's share of the train and test splits, bars annotated with counts."""
    train_counts, test_counts = _numpy(train_counts), _numpy(test_counts)
    classes = classes or [str(k) for k in range(len(train_counts))]
    fig, ax = _axes(ax, (8, 4))
    x, width = np.arange(len(classes)), 0.4
    for offset, counts, split, alpha in ((-width / 2, train_counts, "train", 1.0),
                                         (width / 2, test_counts, "test", 0.55)):
        share = 100 * counts / counts.sum()
        bars = ax.bar(x + offset, share, width, label=f"{split} ({counts.sum():,} images)",
                      color=DIGIT_COLORS[:len(classes)], alpha=alpha, edgecolor="black", linewidth=0.5)
        ax.bar_label(bars, labels=[f"{c:,}" for c in counts], fontsize=6.5, rotation=90, padding=2)
    ax.axhline(100 / len(classes), color="gray", linestyle=":", linewidth=1, label="uniform")
    ax.set_xticks(x, classes)
    ax.set_xlabel("class")
    ax.set_ylabel("share of split (%)")
    ax.set_ylim(0, ax.get_ylim()[1] * 1.3)
    ax.set_title("Class balance: each class's share of train and test (counts on the bars)")
    ax.legend(loc="upper center", ncol=3, fontsize=8)
    return fig


def plot_class_means(means, classes: Sequence[str] | None = None, ncols: int = 5,
                     ax: Axes | None = None) -> Figure:
    """The class-mean images on one shared colour scale."""
    means = _numpy(means)
    classes = classes or [str(k) for k in range(len(means))]
    fig, ax = _axes(ax, (8, 3.8))
    image = ax.imshow(mosaic(means, ncols), cmap="magma", vmin=0, vmax=float(means.max()))
    _label_tiles(ax, classes, ncols, means.shape[-1])
    ax.set_axis_off()
    fig.colorbar(image, ax=ax, shrink=0.8, label="mean intensity (0 = black, 1 = white)")
    ax.set_title("The average image of each class (one colour scale for all)")
    return fig


def plot_pixel_histograms(hist, classes: Sequence[str] | None = None, bin_width: int = 8,
                          ax: Axes | None = None) -> Figure:
    """Per-class distributions of pixel intensity on a log y-axis.

    ``hist`` holds per-class counts of each uint8 level (num_classes, 256);
    levels are pooled ``bin_width`` at a time (a shorter last group is scaled up to
    ``bin_width`` levels), except 0 and 255, which keep bins of their own so that
    their mass does not hide the rest.
    """
    hist = _numpy(hist).astype(float)
    if 256 % bin_width or bin_width < 1:
        raise UserError(f"bin_width must divide 256, got {bin_width}.")
    classes = classes or [str(k) for k in range(len(hist))]
    inner = hist[:, 1:255]
    edges = np.r_[1:255:bin_width, 255]
    pooled = np.add.reduceat(inner, edges[:-1] - 1, axis=1)
    pooled *= bin_width / np.diff(edges)  # the last bin holds 254 % bin_width levels: scale it to bin_width
    fractions = np.concatenate([hist[:, :1], pooled, hist[:, 255:]], axis=1) / hist.sum(axis=1, keepdims=True)
    centers = np.r_[0, (edges[:-1] + edges[1:] - 1) / 2, 255] / 255
    fig, ax = _axes(ax, (8, 4.5))
    for k, label in enumerate(classes):
        ax.plot(centers, fractions[k], marker=".", markersize=3, linewidth=1.2,
                color=DIGIT_COLORS[k % 10], label=label)
    ax.set_yscale("log")
    ax.set_xlabel("pixel intensity (0 = black, 1 = white; 0 and 1 in bins of their own)")
    ax.set_ylabel(f"fraction of the class's pixels per bin ({bin_width} levels)")
    ax.set_title("Pixel-intensity distribution per class (log scale)")
    ax.legend(title="class", ncol=2, fontsize=8)
    ax.grid(True, which="major", alpha=0.3)
    return fig


def plot_mean_intensity(mean_intensity, classes: Sequence[str] | None = None,
                        ax: Axes | None = None) -> Figure:
    """Mean pixel intensity per class as bars, the lowest highlighted."""
    values = _numpy(mean_intensity)
    classes = classes or [str(k) for k in range(len(values))]
    lowest = int(values.argmin())
    fig, ax = _axes(ax, (7, 4))
    bars = ax.bar(classes, values, color=DIGIT_COLORS[:len(values)], edgecolor="black", linewidth=0.5)
    bars[lowest].set_hatch("//")
    ax.bar_label(bars, fmt="%.3f", fontsize=8)
    ax.set_xlabel("class")
    ax.set_ylabel("mean pixel intensity (0-1)")
    ax.set_ylim(0, values.max() * 1.15)
    ax.set_title(f"Mean pixel intensity per class: {classes[lowest]} uses the least ink")
    return fig


def plot_pixel_std(std_map, ax: Axes | None = None) -> Figure:
    """Per-pixel standard deviation of intensity over all images."""
    std_map = _numpy(std_map)
    fig, ax = _axes(ax, (5.8, 4.6))
    image = ax.imshow(std_map, cmap="viridis", vmin=0)
    fig.colorbar(image, ax=ax, label="standard deviation of intensity (0-1 scale)")
    ax.set_xlabel("pixel column")
    ax.set_ylabel("pixel row")
    ax.set_title("Where images differ:\nper-pixel standard deviation over the training set")
    return fig


def plot_intensity_fractions(fractions, classes: Sequence[str] | None = None,
                             ax: Axes | None = None) -> Figure:
    """Per class, stacked bars of pixels exactly 0, in between, and exactly 1."""
    fractions = _numpy(fractions)
    classes = classes or [str(k) for k in range(len(fractions))]
    fig, ax = _axes(ax, (8, 4.5))
    left = np.zeros(len(fractions))
    for j, (name, color) in enumerate((("exactly 0 (black)", "#222222"),
                                       ("between 0 and 1", "#7f9fbf"),
                                       ("exactly 1 (white)", "#f2e6a0"))):
        bars = ax.barh(classes, fractions[:, j], left=left, color=color, edgecolor="black",
                       linewidth=0.4, label=name)
        # The white share is under 1%: its label goes just outside the bar.
        ax.bar_label(bars, labels=[f"{100 * f:.1f}%" for f in fractions[:, j]],
                     label_type="edge" if j == 2 else "center", padding=3 if j == 2 else 0,
                     fontsize=7, color="white" if j == 0 else "black")
        left += fractions[:, j]
    ax.invert_yaxis()
    ax.set_xlim(0, 1.09)
    ax.set_xticks(np.linspace(0, 1, 6))
    ax.set_xlabel("fraction of the class's pixels")
    ax.set_ylabel("class")
    ax.set_title("Pixels exactly 0, in between, and exactly 1, per class")
    ax.legend(loc="upper center", bbox_to_anchor=(0.5, -0.14), ncol=3, fontsize=8)
    return fig
