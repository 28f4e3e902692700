"""Figures of notebook 08: GAN training curves, rows of generated digits, and measured quality."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._common import _axes, _numpy, mosaic


def plot_gan_history(history: Mapping[str, Sequence[float]], title: str = "DCGAN training") -> Figure:
    """Discriminator and generator losses (left) and the discriminator's mean outputs D(x), D(G(z)) (right)."""
    steps = np.asarray(history["step"])
    fig, (left, right) = plt.subplots(1, 2, figsize=(12, 4.2), layout="constrained")
    left.plot(steps, history["loss_d"], label="discriminator", color="#c44e52")
    left.plot(steps, history["loss_g"], label="generator (non-saturating)", color="#4c72b0")
    left.set_ylabel("loss (mean over each logging window)")
    right.plot(steps, history["d_real"], label="D(x): real images", color="#55a868")
    right.plot(steps, history["d_fake"], label="D(G(z)): generated images", color="#8172b2")
    right.axhline(0.5, color="0.5", ls="--", lw=1, label="0.5: cannot tell")
    right.set_ylim(0, 1)
    right.set_ylabel("mean discriminator output")
    for ax in (left, right):
        ax.set_xlabel("step")
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.suptitle(title)
    return fig


def plot_digit_rows(images, row_labels: Sequence[str], title: str, column_labels: Sequence[str] | None = None,
                    ax: Axes | None = None) -> Figure:
    """Images (rows, cols, 28, 28) as one mosaic, a label at the start of each row."""
    images = _numpy(images).astype(float)
    images = images / 255.0 if images.max() > 1.5 else images
    rows, cols = images.shape[:2]
    fig, ax = _axes(ax, (0.75 * cols + 1.0, 0.78 * rows + 0.8))
    ax.imshow(mosaic(images.reshape(rows * cols, 28, 28), cols), cmap="gray", vmin=0, vmax=1)
    ax.set_yticks([r * 30 + 14 for r in range(rows)], row_labels)
    ax.set_xticks([c * 30 + 14 for c in range(cols)], column_labels or [""] * cols)
    ax.tick_params(length=0)
    for spine in ax.spines.values():
        spine.set_visible(False)
    ax.set_title(title)
    return fig


def plot_fidelity(reports: Mapping[str, object], baseline: str) -> Figure:
    """Fréchet distance, Inception-score analogue and class coverage of each image set, the baseline first."""
    names = list(reports)
    others = iter(["#4c72b0", "#8172b2", "#dd8452", "#937860"])
    colors = ["#55a868" if n == baseline else "#c44e52" if "noise" in n else next(others) for n in names]
    fig, axes = plt.subplots(1, 3, figsize=(16, 4.6), layout="constrained", width_ratios=[1, 1, 1.5])
    fd = [reports[n].frechet for n in names]
    axes[0].barh(names[::-1], fd[::-1], color=colors[::-1])
    axes[0].set_xscale("log")
    axes[0].set_xlabel("Fréchet distance to the test set's features (log; lower is better)")
    for y, v in enumerate(fd[::-1]):
        axes[0].text(v, y, f" {v:.2f}", va="center", fontsize=8)
    inception = [reports[n].inception for n in names]
    axes[1].barh(names[::-1], inception[::-1], color=colors[::-1])
    axes[1].axvline(10, color="0.3", ls="--", lw=1)
    axes[1].set_xlim(0, 10.9)
    axes[1].set_xlabel("Inception-score analogue (10 is the ceiling)")
    for y, v in enumerate(inception[::-1]):
        axes[1].text(v, y, f" {v:.2f}", va="center", fontsize=8)
    width = 0.8 / len(names)
    for i, n in enumerate(names):
        axes[2].bar(np.arange(10) + (i - (len(names) - 1) / 2) * width, reports[n].fractions * 100, width,
                    color=colors[i],
                    label=f"{n} (KL {reports[n].kl_uniform:.3f})")
    axes[2].axhspan(7, 13, color="0.9", zorder=0, label="7-13%: the target band")
    axes[2].set_xticks(range(10))
    axes[2].set_xlabel("predicted digit")
    axes[2].set_ylabel("% of images")
    axes[2].legend(fontsize=7)
    fig.suptitle(f"Quality measured with the suite's own classifier; '{baseline}' is what good looks like")
    return fig
