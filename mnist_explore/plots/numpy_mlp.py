"""Figures of the NumPy network (notebook 10)."""
from __future__ import annotations

from collections.abc import Mapping, Sequence

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes
from matplotlib.figure import Figure

from ..errors import UserError
from ._common import _axes, _label_tiles, _numpy, mosaic

COSTS = {"seconds": "seconds per backward pass", "peak_bytes": "peak memory allocated (MB)"}
COST_TITLES = {"seconds": "Time per backward pass", "peak_bytes": "Peak memory NumPy allocates"}


def plot_weight_images(W1, n: int = 16, ncols: int = 8, ax: Axes | None = None) -> Figure:
    """The incoming weights of the first ``n`` hidden units, each as a 28x28 image on one symmetric colour scale."""
    W1 = _numpy(W1)
    if not 1 <= n <= W1.shape[1]:
        raise UserError(f"n must be between 1 and the number of hidden units ({W1.shape[1]}), got {n}.")
    images = W1[:, :n].T.reshape(n, 28, 28)
    limit = float(np.abs(images).max())
    fig, ax = _axes(ax, (1.1 * ncols + 1.2, 1.2 * (-(-n // ncols)) + 0.8))
    image = ax.imshow(mosaic(images, ncols), cmap="RdBu_r", vmin=-limit, vmax=limit)
    _label_tiles(ax, [f"unit {k}" for k in range(n)], ncols, 28, fontsize=6, color="black")
    ax.set_axis_off()
    fig.colorbar(image, ax=ax, shrink=0.8, label="weight (red excites, blue inhibits)")
    ax.set_title(f"What {n} hidden units look for: their 784 input weights as 28x28 images")
    return fig


def plot_backward_cost(rows: Sequence[Mapping], metric: str = "seconds", ax: Axes | None = None) -> Figure:
    """Cost of one backward pass against batch size, one line per form, on log-log axes."""
    if metric not in COSTS:
        raise UserError(f"Unknown cost {metric!r}: choose one of {', '.join(COSTS)}.")
    fig, ax = _axes(ax, (6, 4.2))
    scale = 1e-6 if metric == "peak_bytes" else 1.0
    for form, style in (("short", "o-"), ("jacobian", "s--")):
        points = sorted((r["batch_size"], r[metric] * scale) for r in rows if r["form"] == form)
        ax.plot(*zip(*points), style, label=f"{form} form")
    ax.set_xscale("log", base=2)
    ax.set_yscale("log")
    ax.set_xlabel("batch size (images)")
    ax.set_ylabel(COSTS[metric])
    ax.grid(True, which="both", alpha=0.3)
    ax.legend()
    ax.set_title(COST_TITLES[metric])
    return fig


def plot_backward_costs(rows: Sequence[Mapping]) -> Figure:
    """Time and peak memory of both backward passes, side by side."""
    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2), layout="constrained")
    for ax, metric in zip(axes, COSTS):
        plot_backward_cost(rows, metric, ax=ax)
    largest = max(r["batch_size"] for r in rows)
    cost = {(r["form"], r["batch_size"]): r for r in rows}
    ratio_t = cost[("jacobian", largest)]["seconds"] / cost[("short", largest)]["seconds"]
    ratio_m = cost[("jacobian", largest)]["peak_bytes"] / cost[("short", largest)]["peak_bytes"]
    fig.suptitle(f"Backward pass, explicit Jacobians against the short form: at batch {largest}, "
                 f"{ratio_t:.0f}x the time and {ratio_m:.0f}x the memory")
    return fig
