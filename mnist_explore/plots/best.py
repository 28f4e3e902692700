"""Figures of notebook 11: accuracy against ensemble size, the ensemble's errors with its members' votes,
the digits that are hard for everyone, and the test labels the ensemble disputes."""
from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..errors import UserError
from ._common import _axes, _label_tiles, _numpy, mosaic

# Published MNIST test accuracies (%), for reference lines; see notebook 11 for the sources and caveats.
ANCHORS = {
    "Keras walkthrough, one CNN": 99.55,
    "Deotte: mean single CNN": 99.64,
    "Deotte: 15-CNN ensemble": 99.745,
    "An et al. 2020: record ensemble": 99.91,
}


def _images(X) -> np.ndarray:
    X = _numpy(X).astype(float)
    return X / 255.0 if X.size and X.max() > 1.5 else X


def plot_accuracy_vs_size(by_size: Mapping[str, Sequence[float]], n_test: int,
                          anchors: Mapping[str, float] = ANCHORS, ax: Axes | None = None) -> Figure:
    """Test accuracy of an ensemble of the first k members, k = 1..M: the mean and range over member orders."""
    size = np.asarray(by_size["size"])
    mean, lo, hi = (100 * np.asarray(by_size[k]) for k in ("mean", "min", "max"))
    fig, ax = _axes(ax, (8, 4.8))
    ax.fill_between(size, lo, hi, color="#4c72b0", alpha=0.2, label="range over random member orders")
    ax.plot(size, mean, "o-", color="#4c72b0", label="mean over orders")
    ax.plot(size, 100 * np.asarray(by_size["in_seed_order"]), "s--", color="#dd8452", ms=4, lw=1,
            label="members in seed order")
    # Published results are drawn when they are within 1.5 points of ours; far above, they would flatten our curve.
    near = {name: v for name, v in anchors.items() if v <= hi.max() + 1.5}
    for i, ((name, value), color) in enumerate(zip(near.items(), plt.get_cmap("Greys")(np.linspace(0.5, 0.9, len(near))))):
        ax.axhline(value, color=color, ls=":", lw=1.2)
        ax.annotate(f"{name}: {value:.4g}%", (size[0] if i % 2 else size[-1], value), xytext=(4 if i % 2 else -4, 1),
                    textcoords="offset points", ha="left" if i % 2 else "right", va="bottom", fontsize=7.5, color=color)
    if len(near) < len(anchors):
        far = [v for v in anchors.values() if v not in near.values()]
        ax.text(0.01, 0.98, f"published results above this range ({min(far):.4g}-{max(far):.4g}%) not drawn",
                transform=ax.transAxes, va="top", fontsize=7.5, color="0.4")
    ax.set_xticks(size)
    ax.set_xlabel("ensemble size (members whose softmax outputs are averaged)")
    ax.set_ylabel("test accuracy (%)")
    errors = ax.secondary_yaxis("right", functions=(lambda a: (100 - a) / 100 * n_test,
                                                    lambda e: 100 - 100 * e / n_test))
    errors.set_ylabel(f"test errors (of {n_test:,})")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    ax.set_title("Test accuracy against ensemble size")
    return fig


def _vote_text(votes: np.ndarray) -> str:
    return " ".join(f"{digit}×{count}" for digit, count in Counter(votes.tolist()).most_common())


def _captioned_grid(images: np.ndarray, labels: Sequence[str], captions: Sequence[str], ncols: int,
                    tile_size: tuple[float, float], ax: Axes | None) -> tuple[Figure, Axes]:
    """Images in a grid, a label in each tile's corner and a caption under it."""
    ncols = min(ncols, len(images))
    nrows, pad, size = -(-len(images) // ncols), 11, images.shape[-1]
    fig, ax = _axes(ax, (tile_size[0] * ncols, tile_size[1] * nrows + 0.6))
    ax.imshow(mosaic(images, ncols, pad=pad), cmap="gray", vmin=0, vmax=1)
    _label_tiles(ax, labels, ncols, size, pad, 8)
    for i, caption in enumerate(captions):
        r, c = divmod(i, ncols)
        ax.text(c * (size + pad) + size / 2, r * (size + pad) + size + 0.5, caption, ha="center", va="top",
                fontsize=6.5, linespacing=1.0)
    ax.set_axis_off()
    return fig, ax


def plot_ensemble_errors(X, y, y_pred, votes, ncols: int = 10, limit: int = 120, ax: Axes | None = None) -> Figure:
    """Misclassified digits, each titled true→predicted with the members' votes (digit×count) under it.

    ``votes`` is (M, N): each member's predicted class for the N digits shown.
    """
    total = len(_numpy(y))
    images, votes, y, y_pred = _images(X)[:limit], _numpy(votes)[:, :limit], _numpy(y)[:limit], _numpy(y_pred)[:limit]
    if len(images) == 0:
        raise UserError("The ensemble misclassifies no test digit: there is nothing to show.")
    fig, ax = _captioned_grid(images, [f"{int(t)}→{int(p)}" for t, p in zip(y, y_pred)],
                              [_vote_text(votes[:, i]) for i in range(len(images))], ncols, (1.25, 1.5), ax)
    shown = f"the first {len(images)} of {total}" if total > limit else f"all {total}"
    ax.set_title(f"Test digits the ensemble misclassifies ({shown}, most confident first):\n"
                 f"true→predicted, and the {votes.shape[0]} members' votes (digit×count) below")
    return fig


def plot_hard_digits(wrong_counts, members: int, X, y, votes, per_row: int = 12) -> Figure:
    """How many members get each test digit wrong (left), and digits wrong for all vs for exactly one (right)."""
    wrong_counts, votes, y = _numpy(wrong_counts), _numpy(votes), _numpy(y)
    images = _images(X)
    fig = plt.figure(figsize=(15, 4.2), layout="constrained")
    left, right = fig.subfigures(1, 2, width_ratios=[1, 1.6])
    ax = left.subplots()
    counts = np.bincount(wrong_counts, minlength=members + 1)[1:]
    ax.bar(np.arange(1, members + 1), counts, color=plt.get_cmap("viridis")(np.linspace(0.15, 0.9, members)))
    ax.set_xticks(np.arange(1, members + 1))
    ax.set_xlabel(f"members (of {members}) that misclassify the digit")
    ax.set_ylabel("test digits")
    for k, n in enumerate(counts, start=1):
        if n:
            ax.annotate(str(n), (k, n), xytext=(0, 2), textcoords="offset points", ha="center", fontsize=8)
    ax.set_title(f"{int((wrong_counts == 0).sum()):,} digits are right for every member")
    groups = [(f"wrong for all {members} (label→majority vote)", np.flatnonzero(wrong_counts == members), True),
              ("wrong for exactly one (label, the dissenting vote)", np.flatnonzero(wrong_counts == 1), False)]
    for axis, (name, index, everyone) in zip(right.subplots(2, 1), groups):
        axis.set_axis_off()
        axis.set_title(f"{name}: {len(index)} digits", fontsize=10)
        index = index[:per_row]
        if len(index) == 0:
            axis.text(0.5, 0.5, "none", ha="center", va="center", transform=axis.transAxes)
            continue
        # For the digits all get wrong, the label and the majority vote; for the others, the one dissenting vote.
        tags = [f"{y[i]}→{Counter(votes[:, i].tolist()).most_common(1)[0][0]}" if everyone
                else f"{y[i]}, 1×{votes[votes[:, i] != y[i], i][0]}" for i in index]
        axis.imshow(mosaic(images[index], per_row), cmap="gray", vmin=0, vmax=1)
        _label_tiles(axis, tags, per_row, images.shape[-1], fontsize=7)
    fig.suptitle("Hard for everyone vs hard for some: how many of the independently trained members get each test digit wrong")
    return fig


def plot_disputed_labels(X, y, y_pred, p_pred, p_label, ncols: int = 8, ax: Axes | None = None) -> Figure:
    """Test digits ranked by how confidently the ensemble disputes their label: candidates for review, most disputed first."""
    images = _images(X)
    if len(images) == 0:
        raise UserError("The ensemble disputes no test label: there is nothing to show.")
    captions = [f"label {t}: {pl:.0%}\nsays {p}: {pp:.0%}"
                for t, p, pp, pl in zip(_numpy(y), _numpy(y_pred), _numpy(p_pred), _numpy(p_label))]
    fig, ax = _captioned_grid(images, [f"#{i + 1}" for i in range(len(images))], captions, ncols, (1.4, 1.55), ax)
    ax.set_title("Labels the ensemble disputes, most confident first: candidates for review, not confirmed mislabels\n"
                 "(ensemble probability of the label, and of its own answer)")
    return fig
