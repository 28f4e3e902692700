"""Figures of a recorder's history (notebooks 05 to 07): the printable views of the GIFs."""
from __future__ import annotations

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.colors import LogNorm
from matplotlib.figure import Figure

from ..errors import UserError

KIND_LABELS = {"weights": "weight value", "grads": "gradient value", "acts": "activation value"}


def plot_histogram_heatmaps(history, kind: str = "weights") -> Figure:
    """Each layer's histogram over training as a heatmap: x is the step, y the value, colour the fraction."""
    if kind not in KIND_LABELS:
        raise UserError(f"Unknown kind {kind!r}: choose one of {', '.join(KIND_LABELS)}.")
    counts = history.hists[kind].astype(np.float64)
    fractions = counts / np.maximum(counts.sum(axis=2, keepdims=True), 1)
    n = len(history.layers)
    fig, axes = plt.subplots(1, n, figsize=(3.2 * n, 3.4), layout="constrained", squeeze=False)
    norm = LogNorm(vmin=1e-4, vmax=1)  # one colour scale for every panel
    for ax, i in zip(axes[0], range(n)):
        edges = history.edges[kind][i]
        image = ax.pcolormesh(history.steps, (edges[:-1] + edges[1:]) / 2, fractions[:, i].T.clip(1e-4),
                              norm=norm, cmap="magma", shading="nearest")
        ax.set_title(history.layers[i], fontsize=9)
        ax.set_xlabel("training step", fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0][0].set_ylabel(KIND_LABELS[kind], fontsize=8)
    fig.colorbar(image, ax=axes[0].tolist(), shrink=0.85, label="fraction of values in bin (log)")
    fig.suptitle(f"{KIND_LABELS[kind].capitalize()} distribution of each layer over training")
    return fig


def plot_shape_stats(history) -> Figure:
    """Per layer over training: KS distance to a fitted normal (solid) and uniform (dashed), and excess kurtosis."""
    fig, (ax_ks, ax_kurt) = plt.subplots(1, 2, figsize=(11, 4), layout="constrained")
    colors = plt.get_cmap("tab10").colors
    for i, layer in enumerate(history.layers):
        c = colors[i % 10]
        ax_ks.plot(history.steps, history.stats["ks_normal"][:, i], color=c, label=f"{layer} vs normal")
        ax_ks.plot(history.steps, history.stats["ks_uniform"][:, i], color=c, linestyle="--",
                   label=f"{layer} vs uniform")
        ax_kurt.plot(history.steps, history.stats["kurtosis"][:, i], color=c, label=layer)
    ax_ks.set_xlabel("training step")
    ax_ks.set_ylabel("KS distance (0 = same distribution)")
    ax_ks.set_title("How far each layer's weights are from a normal and a uniform fit")
    ax_ks.legend(fontsize=7, ncol=2)
    for level, text in ((0.0, "normal"), (-1.2, "uniform")):
        ax_kurt.axhline(level, color="gray", linestyle=":", linewidth=1)
        ax_kurt.text(history.steps[-1], level, f" {text}", va="bottom", ha="right", fontsize=8, color="gray")
    ax_kurt.set_xlabel("training step")
    ax_kurt.set_ylabel("excess kurtosis")
    ax_kurt.set_title("Tail weight of each layer's weights (0 normal, -1.2 uniform)")
    ax_kurt.legend(fontsize=7)
    for ax in (ax_ks, ax_kurt):
        ax.grid(True, alpha=0.3)
    return fig


def plot_gradient_flow(history) -> Figure:
    """Mean and max |gradient| of each layer's weights over training, on a log scale."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4), sharey=True, layout="constrained")
    colors = plt.get_cmap("viridis")(np.linspace(0, 0.9, len(history.layers)))
    for ax, stat, title in zip(axes, ("grad_mean_abs", "grad_max_abs"), ("mean |gradient|", "max |gradient|")):
        for i, layer in enumerate(history.layers):
            ax.plot(history.steps, history.stats[stat][:, i], color=colors[i], label=layer)
        ax.set_yscale("log")
        ax.set_xlabel("training step")
        ax.set_title(f"{title.capitalize()} of each layer's weights")
        ax.grid(True, which="both", alpha=0.3)
    axes[0].set_ylabel("|dL/dW| (log scale)")
    axes[1].legend(fontsize=8, title="layer (input first)")
    fig.suptitle("Gradient flow: how much signal reaches each layer")
    return fig


def plot_gradient_by_depth(histories, record: int = 0, ax=None) -> Figure:
    """Mean |gradient| per layer against depth, one line per network, at one recorded step (default the first)."""
    from ._common import _axes

    fig, ax = _axes(ax, (7, 4.3))
    for label, history in histories.items():
        values = history.stats["grad_mean_abs"][record]
        ax.plot(range(1, len(values) + 1), values, marker="o", label=label)
    ax.set_yscale("log")
    ax.set_xlabel("layer (1 = nearest the input)")
    ax.set_ylabel("mean |dL/dW| (log scale)")
    steps = {int(h.steps[record]) for h in histories.values()}
    ax.set_title(f"Vanishing gradients: mean |gradient| per layer at step {', '.join(map(str, sorted(steps)))}")
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    return fig
