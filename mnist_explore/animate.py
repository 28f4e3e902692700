"""GIFs of a recorder's history: one frame per recorded step, the same axes in every frame."""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np

from .errors import UserError
from .hooks import KINDS, RecorderHistory
from .paths import atomic_path, output_path

TITLES = {"weights": "Weight distribution per layer", "grads": "Gradient distribution per layer (last layer first)",
          "acts": "Activation distribution per layer (layer outputs, before the nonlinearity)"}
X_LABELS = {"weights": "weight value", "grads": "gradient value", "acts": "activation value"}


@dataclass
class Animation:
    """Frames (RGB uint8 arrays) and a frame rate: what a GIF recipe returns."""

    frames: list[np.ndarray]
    fps: float = 10.0


def histogram_frames(history: RecorderHistory, kind: str = "weights", dpi: int = 72) -> Animation:
    """One frame per recorded step: a panel per layer with that step's histogram as a fraction of values.

    Gradients run from the last layer to the first, the direction backpropagation goes.
    """
    if kind not in KINDS:
        raise UserError(f"Unknown kind {kind!r}: choose one of {', '.join(KINDS)}.")
    order = list(range(len(history.layers)))[::-1] if kind == "grads" else list(range(len(history.layers)))
    counts = history.hists[kind].astype(np.float64)
    fractions = counts / np.maximum(counts.sum(axis=2, keepdims=True), 1)
    fig, axes = plt.subplots(1, len(order), figsize=(2.6 * len(order), 2.6), dpi=dpi, layout="constrained",
                             squeeze=False)
    patches = []
    for ax, i in zip(axes[0], order):
        patches.append(ax.stairs(fractions[0, i], history.edges[kind][i], fill=True, color="#2b5d8a",
                                 animated=True))
        ax.set_ylim(0, fractions[:, i].max() * 1.05)  # fixed for the whole run
        ax.set_title(history.layers[i], fontsize=9)
        ax.set_xlabel(X_LABELS[kind], fontsize=8)
        ax.tick_params(labelsize=7)
    axes[0][0].set_ylabel("fraction of values", fontsize=8)
    title = fig.suptitle(f"{TITLES[kind]} · step {history.steps[-1]:,}", fontsize=10, animated=True)
    # Blitting: lay out and draw the static parts once, then redraw only what changes. Re-solving
    # the layout and redrawing every tick label per frame took 0.3 s a frame; this takes a few ms.
    fig.canvas.draw()
    fig.set_layout_engine("none")
    background = fig.canvas.copy_from_bbox(fig.bbox)
    frames = []
    for t, step in enumerate(history.steps):
        fig.canvas.restore_region(background)
        for patch, i in zip(patches, order):
            patch.set_data(fractions[t, i])
            patch.axes.draw_artist(patch)
        title.set_text(f"{TITLES[kind]} · step {step:,}")
        fig.draw_artist(title)
        frames.append(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())
    plt.close(fig)
    return Animation(frames)


def save_gif(animation: Animation, name: str, directory: str | Path | None = None) -> Path:
    """Write ``<directory>/<name>.gif`` (default figures/), looping forever; return the path."""
    import imageio.v3 as iio

    path = output_path(name, ".gif", directory)
    with atomic_path(path) as tmp:
        iio.imwrite(tmp, np.stack(animation.frames), duration=1000 / animation.fps, loop=0)
    return path


def gif_bytes(animation: Animation) -> bytes:
    """The GIF as bytes, for showing inline in a notebook without writing a file."""
    import imageio.v3 as iio

    return iio.imwrite("<bytes>", np.stack(animation.frames), extension=".gif", duration=1000 / animation.fps, loop=0)


def image_grid_frames(grids, steps, ncols: int = 8, title: str = "Generator samples", dpi: int = 80,
                      every: int = 1) -> Animation:
    """One frame per grid of images (each (n, 28, 28), uint8 or [0, 1]): the same mosaic layout, titled by step."""
    from .plots import mosaic

    grids = [np.asarray(g, dtype=float) / (255.0 if np.asarray(g).dtype == np.uint8 else 1.0) for g in grids]
    keep = list(range(0, len(grids), every))
    keep += [] if keep[-1] == len(grids) - 1 else [len(grids) - 1]  # always end on the last grid
    grids, steps = [grids[i] for i in keep], [steps[i] for i in keep]
    fig, ax = plt.subplots(figsize=(3.3, 3.55), dpi=dpi, layout="constrained")
    # Nearest-neighbour pixels: no interpolated greys, so the GIF palette and compression stay small.
    image = ax.imshow(mosaic(grids[0], ncols), cmap="gray", vmin=0, vmax=1, interpolation="nearest",
                      animated=True)
    ax.set_axis_off()
    text = ax.set_title(f"{title} · step {steps[-1]:,}", fontsize=10, animated=True)
    fig.canvas.draw()
    fig.set_layout_engine("none")
    background = fig.canvas.copy_from_bbox(fig.bbox)
    frames = []
    for grid, step in zip(grids, steps):
        fig.canvas.restore_region(background)
        image.set_data(mosaic(grid, ncols))
        ax.draw_artist(image)
        text.set_text(f"{title} · step {step:,}")
        ax.draw_artist(text)
        frames.append(np.asarray(fig.canvas.buffer_rgba())[..., :3].copy())
    plt.close(fig)
    return Animation(frames, fps=6.0)
