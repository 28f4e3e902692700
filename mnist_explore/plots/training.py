"""Figures of training and evaluation (notebook 03 onwards)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure
from matplotlib.ticker import MaxNLocator

from ..errors import UserError
from ._common import _axes, _label_tiles, _numpy, mosaic

METRICS = {"val_acc": "validation accuracy", "train_acc": "training accuracy",
           "val_loss": "validation loss (cross-entropy)", "train_loss": "training loss (cross-entropy)"}


def plot_augmentations(original, augmented, ncols: int = 4, ax: Axes | None = None) -> Figure:
    """One image (H, W) and augmented versions of it (N, H, W), values in [0, 1]."""
    images = np.concatenate([_numpy(original)[None], _numpy(augmented)])
    fig, ax = _axes(ax, (5, 5.3 * (-(-len(images) // ncols)) / ncols))
    ax.imshow(mosaic(images, ncols), cmap="gray", vmin=0, vmax=1)
    _label_tiles(ax, ["original"], ncols, images.shape[-1])
    ax.set_axis_off()
    ax.set_title(f"One digit and {len(images) - 1} random affine augmentations\n"
                 "(rotation ±8°, shift ±8%, shear ±0.3 rad, zoom ±8%)")
    return fig


def plot_learning_curves(runs: Mapping[str, Sequence], metric: str = "val_acc", ax: Axes | None = None) -> Figure:
    """One line per run label against epoch: the mean over its seeds' histories, with a ±1 std band."""
    if metric not in METRICS:
        raise UserError(f"Unknown metric {metric!r}: choose one of {', '.join(METRICS)}.")
    fig, ax = _axes(ax, (7, 4.5))
    for label, histories in runs.items():
        histories = histories if isinstance(histories, Sequence) else [histories]
        n = min(len(h.epochs) for h in histories)  # early stopping can end seeds at different epochs
        values = np.array([[e[metric] for e in h.epochs[:n]] for h in histories])
        epochs, mean = np.arange(1, n + 1), values.mean(axis=0)
        line, = ax.plot(epochs, mean, marker="o", markersize=3, label=f"{label} (n={len(histories)})")
        if len(histories) > 1:
            std = values.std(axis=0, ddof=1)
            ax.fill_between(epochs, mean - std, mean + std, color=line.get_color(), alpha=0.2, linewidth=0)
    ax.set_xlabel("epoch")
    ax.xaxis.set_major_locator(MaxNLocator(integer=True))
    ax.set_ylabel(METRICS[metric])
    ax.set_title(f"{METRICS[metric].capitalize()} per epoch (mean ± std over seeds)")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=7, ncol=2)
    return fig


def plot_confusion_matrix(cm, classes: Sequence[str] | None = None, ax: Axes | None = None) -> Figure:
    """Counts by true (rows) and predicted (columns) class; off-diagonal errors coloured on a log scale."""
    cm = _numpy(cm).astype(int)
    classes = classes or [str(k) for k in range(len(cm))]
    errors = np.where(np.eye(len(cm), dtype=bool) | (cm == 0), np.nan, cm)
    fig, ax = _axes(ax, (6.2, 5.4))
    image = ax.imshow(errors, cmap="Reds", norm=LogNorm(vmin=1, vmax=max(2, np.nanmax(errors, initial=2))))
    for i in range(len(cm)):
        for j in range(len(cm)):
            ax.text(j, i, cm[i, j], ha="center", va="center", fontsize=7,
                    fontweight="bold" if i == j else "normal", color="#1f4e79" if i == j else "black")
    ax.set_xticks(range(len(cm)), classes)
    ax.set_yticks(range(len(cm)), classes)
    ax.set_xlabel("predicted class")
    ax.set_ylabel("true class")
    vmax = image.norm.vmax
    ticks = [t for t in (1, 2, 5, 10, 20, 50, 100, 200, 500, 1000) if t <= vmax]
    fig.colorbar(image, ax=ax, shrink=0.8, ticks=ticks, format="%d", label="misclassified images (log scale)")
    total = cm.sum()
    ax.set_title(f"Confusion matrix: {total - np.trace(cm)} errors in {total:,} images")
    return fig


def plot_misclassified(images, y_true, y_pred, confidence, ncols: int = 8, ax: Axes | None = None) -> Figure:
    """Misclassified images (N, H, W, uint8 or [0, 1]), each titled true -> predicted and the confidence."""
    images = _numpy(images).astype(float)
    if len(images) == 0:
        raise UserError("There are no misclassified images to show.")
    images = images / 255.0 if images.max() > 1 else images
    labels = [f"{int(t)}→{int(p)} {c:.0%}" for t, p, c in zip(_numpy(y_true), _numpy(y_pred), _numpy(confidence))]
    nrows = -(-len(images) // ncols)
    fig, ax = _axes(ax, (1.1 * ncols, 1.15 * nrows + 0.6))
    ax.imshow(mosaic(images, ncols), cmap="gray", vmin=0, vmax=1)
    _label_tiles(ax, labels, ncols, images.shape[-1], fontsize=7)
    ax.set_axis_off()
    ax.set_title("Misclassified test digits, most confident first (true→predicted, confidence)")
    return fig


def plot_search_summary(rows: Sequence[Mapping], ax: Axes | None = None) -> Figure:
    """Test accuracy (mean ± std over seeds) of each searched model, annotated with its size and speed."""
    if not rows:
        raise UserError("There are no search results to plot.")
    labels = [r["label"] for r in rows]
    acc = 100 * np.array([r["test_acc"] for r in rows])
    std = 100 * np.nan_to_num(np.array([r["test_std"] for r in rows]))
    fig, ax = _axes(ax, (8, 0.42 * len(rows) + 1.4))
    colors = ["#7f9fbf" if "+ aug" in label else "#2b5d8a" for label in labels]
    ax.barh(labels, acc, xerr=std, color=colors, edgecolor="black", linewidth=0.4, capsize=2)
    low = max(0.0, acc.min() - 3)
    span = acc.max() + std.max() - low
    for y, r in enumerate(rows):
        ax.text(acc[y] + std[y] + 0.01 * span, y, f"{acc[y]:.2f}%  ·  {r['parameters']:,} params  ·  "
                f"{r['s_per_epoch']:.2f} s/epoch", va="center", fontsize=7)
    ax.set_xlim(low, acc.max() + std.max() + 0.75 * span)  # room for the annotations
    ax.set_xticks([t for t in ax.get_xticks() if low <= t <= 100])
    ax.invert_yaxis()
    ax.set_xlabel(f"test accuracy (%), mean ± std over {rows[0]['seeds']} seed(s)")
    ax.set_title("Model search: test accuracy of each model (light bars: with augmentation)")
    return fig


def plot_search_curves(groups: Mapping[str, Sequence], metric: str = "val_acc") -> Figure:
    """Learning curves of a model search in two panels: without and with augmentation (labels ending "+ aug")."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 4.6), sharey=True, layout="constrained")
    for ax, with_aug in zip(axes, (False, True)):
        plot_learning_curves({k: v for k, v in groups.items() if k.endswith("+ aug") == with_aug}, metric, ax=ax)
        ax.set_title("with affine augmentation" if with_aug else "without augmentation")
    fig.suptitle(f"{METRICS[metric].capitalize()} per epoch (mean ± std over seeds)")
    return fig
