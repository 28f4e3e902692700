"""Figures of notebook 09: accuracy against labels per class, and how much each layer moves when fine-tuned."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

MODE_STYLE = {"scratch": ("#8c8c8c", "from scratch"), "probe": ("#4c72b0", "linear probe (frozen)"),
              "last_block": ("#dd8452", "fine-tune last block"), "all": ("#c44e52", "fine-tune everything")}


def _budget_label(b) -> str:
    return "all" if b is None else str(b)


def plot_transfer_curves(curves: Sequence, titles: Mapping[str, str]) -> Figure:
    """Test accuracy against labels per class: a panel per task, a line per mode, ±1 std bands over seeds."""
    tasks = list(dict.fromkeys(c.task for c in curves))
    fig, axes = plt.subplots(1, len(tasks), figsize=(5.2 * len(tasks), 4.4), layout="constrained", squeeze=False)
    for ax, task in zip(axes[0], tasks):
        for c in (c for c in curves if c.task == task):
            x = np.arange(len(c.budgets))
            mean, color = c.accuracies.mean(0) * 100, MODE_STYLE[c.mode][0]
            ax.plot(x, mean, marker="o", ms=4, color=color, label=MODE_STYLE[c.mode][1])
            if len(c.accuracies) > 1:
                std = c.accuracies.std(0, ddof=1) * 100
                ax.fill_between(x, mean - std, mean + std, color=color, alpha=0.15, lw=0)
            ax.set_xticks(x, [_budget_label(b) for b in c.budgets])
        ax.set_xlabel("labelled examples per class")
        ax.set_ylabel("test accuracy (%)")
        ax.set_title(titles.get(task, task))
        ax.grid(True, alpha=0.3)
    axes[0][0].legend(fontsize=8, loc="lower right")
    seeds = len(curves[0].accuracies)
    fig.suptitle(f"What an MNIST network carries over: accuracy against labels (mean ± std over {seeds} seeds)")
    return fig


def plot_layer_change(changes: Mapping[str, Mapping[str, float]]) -> Figure:
    """Relative weight change per layer when fine-tuning everything, one bar group per setting."""
    settings = list(changes)
    layers = list(changes[settings[0]])
    fig, ax = plt.subplots(figsize=(1.3 * len(layers) + 3, 4.2), layout="constrained")
    width = 0.8 / len(settings)
    for i, setting in enumerate(settings):
        ax.bar(np.arange(len(layers)) + (i - (len(settings) - 1) / 2) * width,
               [changes[setting][layer] * 100 for layer in layers], width, label=setting)
    ax.set_xticks(range(len(layers)), layers)
    ax.set_ylabel("||W after − W before|| / ||W before|| (%)")
    ax.grid(True, axis="y", alpha=0.3)
    ax.legend(fontsize=8)
    ax.set_title("Fine-tuning everything: how far each layer moves\nfrom its MNIST weights (the new head is left out)")
    return fig
