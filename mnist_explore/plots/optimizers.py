"""Figures of notebook 04: optimizer curves with bands, the learning-rate sensitivity, a final table, the ranking."""
from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ._common import _axes

COLORS = plt.get_cmap("tab10").colors


def _color(i: int):
    return COLORS[i % len(COLORS)]


def _band(ax: Axes, x, values: np.ndarray, color, label: str) -> None:
    mean = np.nanmean(values, axis=0)
    ax.plot(x, mean, color=color, lw=1.6, label=label)
    if len(values) > 1:
        std = np.nanstd(values, axis=0, ddof=1)
        ax.fill_between(x, mean - std, mean + std, color=color, alpha=0.18, lw=0)


def plot_optimizer_curves(groups: Mapping[str, Sequence], title: str) -> Figure:
    """Training loss and validation accuracy against epochs, one colour per optimizer, mean ± std over its runs."""
    fig, (left, right) = plt.subplots(1, 2, figsize=(13, 4.8), layout="constrained")
    for i, (label, runs) in enumerate(groups.items()):
        x = runs[0].epochs
        _band(left, x, np.array([r.train_loss for r in runs]), _color(i), label)
        _band(right, x, np.array([r.val_acc for r in runs]) * 100, _color(i), label)
    left.set_yscale("log")
    left.set_ylabel("training loss (mean since the previous point, log)")
    right.set_ylabel("validation accuracy (%)")
    right.set_ylim(0, 100)
    for ax in (left, right):
        ax.set_xlabel("epoch")
        ax.grid(True, alpha=0.3)
    right.legend(fontsize=8, ncols=2, loc="lower right")
    fig.suptitle(title)
    return fig


def plot_lr_sensitivity(runs: Sequence, shared_lr: float | None = None, best: Mapping[str, float] | None = None,
                        ax: Axes | None = None) -> Figure:
    """Final validation accuracy against learning rate (mean ± std over seeds), one line per optimizer."""
    table = defaultdict(lambda: defaultdict(list))
    for r in runs:
        table[r.spec.optimizer][r.spec.lr].append(r.final_val_acc * 100)
    fig, ax = _axes(ax, (9, 5.2))
    for i, (opt, by_lr) in enumerate(table.items()):
        lrs = sorted(by_lr)
        mean = [np.nanmean(by_lr[lr]) for lr in lrs]
        std = [np.nanstd(by_lr[lr], ddof=1) if len(by_lr[lr]) > 1 else 0 for lr in lrs]
        ax.errorbar(lrs, mean, yerr=std, color=_color(i), marker="o", ms=4, capsize=3, lw=1.4, label=opt)
        if best is not None:
            ax.plot(best[opt], np.nanmean(by_lr[best[opt]]), marker="*", ms=14, color=_color(i), mec="black")
    if shared_lr is not None:
        ax.axvline(shared_lr, color="0.3", ls="--", lw=1)
        ax.annotate("protocol A's\nshared rate", (shared_lr, 3), xytext=(5, 0), textcoords="offset points", fontsize=8)
    ax.set_xscale("log")
    ax.set_xlabel("learning rate")
    ax.set_ylabel("final validation accuracy (%)")
    ax.set_ylim(0, 100)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8, ncols=2, loc="lower left")
    ax.set_title("Learning-rate sensitivity (mean ± std over seeds; ★ each optimizer's choice)")
    return fig


def plot_final_table(rows: Sequence[Mapping[str, str]], title: str) -> Figure:
    """A table figure: one row per optimizer, the columns given by the rows' keys."""
    columns = list(rows[0])
    fig, ax = plt.subplots(figsize=(min(2.0 * len(columns), 16), 0.3 * (len(rows) + 1) + 0.6), layout="constrained")
    ax.set_axis_off()
    table = ax.table(cellText=[[row[c] for c in columns] for row in rows], colLabels=columns, bbox=[0, 0, 1, 1],
                     cellLoc="center")
    table.auto_set_font_size(False)
    table.set_fontsize(9)
    for (r, _), cell in table.get_celld().items():
        if r == 0:
            cell.set_facecolor("#dde4ee")
            cell.set_text_props(fontweight="bold")
    ax.set_title(title)
    return fig


def plot_ranking(ranks: Sequence, ax: Axes | None = None) -> Figure:
    """Each optimizer's test accuracy per seed (dots) and mean (bar), best first; shaded tiers cannot be told apart."""
    fig, ax = _axes(ax, (9, 0.45 * len(ranks) + 1.6))
    y = np.arange(len(ranks))[::-1]
    for yi, r in zip(y, ranks):
        shade = "#eef3fa" if r.tier % 2 else "#fbf3e8"
        ax.axhspan(yi - 0.5, yi + 0.5, color=shade, lw=0)
        ax.plot([min(r.accuracies) * 100, max(r.accuracies) * 100], [yi, yi], color="0.5", lw=1)
        ax.scatter(np.array(r.accuracies) * 100, [yi] * len(r.accuracies), color="0.25", s=18, zorder=3)
        ax.plot(r.mean * 100, yi, marker="|", ms=18, mew=2.5, color="#c44e52", zorder=4)
    ax.set_yticks(y, [f"tier {r.tier}   {r.optimizer} (lr {r.lr:g})" for r in ranks])
    ax.set_xlabel("test accuracy (%): dots are seeds, red bar the mean")
    ax.grid(True, axis="x", alpha=0.3)
    tiers = max(r.tier for r in ranks)
    ax.set_title(f"Ranking at each optimizer's own best rate: {tiers} tier(s)\n"
                 "A new tier starts only where every seed of the tier's leader beats every seed\n"
                 "of the optimizer below; inside a tier the order is noise", fontsize=10)
    return fig


def plot_trajectories(grid: tuple[np.ndarray, np.ndarray, np.ndarray], paths: Mapping[str, np.ndarray],
                      minimum: tuple[float, float], title: str, ax: Axes | None = None) -> Figure:
    """Optimizer paths over the contours of a two-parameter loss (log-spaced levels), the minimum starred."""
    fig, ax = _axes(ax, (8, 4.8))
    X, Y, Z = grid
    levels = np.geomspace(max(Z.min(), 1e-3), Z.max(), 18)
    ax.contour(X, Y, Z, levels=levels, colors="0.75", linewidths=0.7)
    for i, (label, path) in enumerate(paths.items()):
        ax.plot(path[:, 0], path[:, 1], "-", color=_color(i), lw=1.4, marker=".", ms=2.5, label=label)
    ax.plot(*paths[next(iter(paths))][0], "ko", ms=5)
    ax.plot(*minimum, "k*", ms=12)
    ax.set_xlim(X.min(), X.max())
    ax.set_ylim(Y.min(), Y.max())
    ax.set_xlabel("parameter 1")
    ax.set_ylabel("parameter 2")
    ax.set_title(title)
    ax.legend(fontsize=8, loc="lower right")
    return fig
