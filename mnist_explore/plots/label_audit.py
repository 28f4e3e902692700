"""Figures of notebook 12: how well the label audit finds synthetic flips, and its candidates for review."""
from __future__ import annotations

from collections.abc import Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._common import _axes, _numpy
from .best import _captioned_grid, _images

METHOD_COLORS = {"self_confidence": "#4c72b0", "normalized_margin": "#dd8452"}


def plot_suspects(images, given, suggested, scores, title: str, ncols: int = 8, ax: Axes | None = None) -> Figure:
    """Suspect labels in rank order: each tile numbered, captioned with its given and suggested label and score."""
    images = _images(images)
    if len(images) == 0:
        fig, ax = _axes(ax, (6, 1.5))
        ax.text(0.5, 0.5, "no label is flagged", ha="center", va="center", transform=ax.transAxes)
        ax.set_axis_off()
        ax.set_title(title)
        return fig
    captions = [f"given {g} → {s}\nscore {q:.3f}" for g, s, q in zip(_numpy(given), _numpy(suggested), _numpy(scores))]
    fig, ax = _captioned_grid(images, [f"#{i + 1}" for i in range(len(images))], captions, ncols, (1.4, 1.55), ax)
    ax.set_title(title, fontsize=10)
    return fig


def _means(rows: Sequence[dict], method: str, metric: str, cutoffs: list[str]) -> tuple[np.ndarray, np.ndarray]:
    values = [[r[metric] for r in rows if r["method"] == method and r["cutoff"] == c] for c in cutoffs]
    return np.array([np.mean(v) for v in values]), np.array([np.std(v) for v in values])


def plot_synthetic_precision(rows: Sequence[dict], chosen: str, n_images: int, n_flipped: int,
                             axes: Sequence[Axes] | None = None) -> Figure:
    """Precision (left) and recall (right) of each ranking at finding randomly flipped labels, per cut-off.

    ``rows`` hold one seed's precision and recall per method and cut-off; bars are the mean over seeds,
    whiskers the standard deviation, dots the seeds.
    """
    cutoffs = list(dict.fromkeys(r["cutoff"] for r in rows))
    methods = list(dict.fromkeys(r["method"] for r in rows))
    seeds = sorted({r["seed"] for r in rows})
    if axes is None:
        fig, axes = plt.subplots(1, 2, figsize=(12, 4.4), layout="constrained")
    else:
        fig = axes[0].figure
    x, width = np.arange(len(cutoffs)), 0.8 / len(methods)
    for ax, metric in zip(axes, ("precision", "recall")):
        for j, method in enumerate(methods):
            mean, std = _means(rows, method, metric, cutoffs)
            offset = x - 0.4 + width * (j + 0.5)
            label = f"{method} (chosen)" if method == chosen else method
            ax.bar(offset, 100 * mean, width, yerr=100 * std, capsize=3, label=label,
                   color=METHOD_COLORS.get(method, f"C{j}"), alpha=0.85)
            for i, cutoff in enumerate(cutoffs):
                dots = [100 * r[metric] for r in rows if r["method"] == method and r["cutoff"] == cutoff]
                ax.plot(np.full(len(dots), offset[i]), dots, "k.", ms=3)
                ax.annotate(f"{100 * mean[i]:.0f}", (offset[i], 100 * mean[i]), xytext=(0, 2),
                            textcoords="offset points", ha="center", va="bottom", fontsize=7)
        ks = [np.mean([r["k"] for r in rows if r["cutoff"] == c and r["method"] == chosen]) for c in cutoffs]
        ax.set_xticks(x, [f"{c}\n(k={k:.0f})" for c, k in zip(cutoffs, ks)], fontsize=8)
        ax.set_ylim(0, 105)
        ax.set_ylabel(f"{metric} (%)")
        ax.set_xlabel("cut-off: the first k suspects of the ranking")
        ax.grid(True, axis="y", alpha=0.3)
    axes[0].axhline(100 * n_flipped / n_images, color="0.3", ls=":", lw=1, label="random ranking")
    axes[0].legend(fontsize=8, loc="upper right")
    axes[0].set_title("Precision: share of the first k suspects that were flipped", fontsize=10)
    axes[1].set_title("Recall: share of the flipped labels among the first k", fontsize=10)
    fig.suptitle(f"Finding {n_flipped} randomly flipped labels among {n_images:,} training digits "
                 f"(k-fold confident learning; mean ± sd over {len(seeds)} noise seed{'s' * (len(seeds) > 1)})")
    return fig
