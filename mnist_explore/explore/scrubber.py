"""The training-time scrubber: a slider over a recorder's frames, one layer's histogram at a time."""
from __future__ import annotations

import numpy as np

from ..errors import UserError
from ..hooks import RecorderHistory
from ._common import Explorer, figure_png

SHOWN_STATS = {"ks_normal": "KS distance to a normal", "ks_uniform": "KS distance to a uniform",
               "kurtosis": "excess kurtosis", "update_ratio": "update ratio ||ΔW|| / ||W||",
               "grad_mean_abs": "mean |gradient|"}


class TrainingScrubber(Explorer):
    """Each layer's weight (or gradient) histogram at any recorded step, on axes fixed for the whole run.

    A slider and a play button move through the recorder's frames; a layer selector and a
    weights/gradients switch pick what is drawn; the layer's shape statistics at that frame are listed.
    """

    def __init__(self, history: RecorderHistory, kind: str = "weights", layer: str | None = None):
        import ipywidgets as w

        self.history = history
        kinds = [k for k in ("weights", "grads") if k in history.hists]
        if kind not in kinds:
            raise UserError(f"the recording has no {kind!r} histograms; choose one of {', '.join(kinds)}.")
        layer = layer or history.layers[0]
        if layer not in history.layers:
            raise UserError(f"no layer {layer!r} was recorded; choose one of {', '.join(history.layers)}.")
        frames = len(history.steps)
        self.kind_choice = w.ToggleButtons(options=kinds, value=kind, description="histogram of")
        self.layer_choice = w.Dropdown(options=history.layers, value=layer, description="layer")
        self.frame = w.IntSlider(min=0, max=max(frames - 1, 0), value=0, description="frame",
                                 continuous_update=True, layout=w.Layout(width="420px"))
        self.play = w.Play(min=0, max=max(frames - 1, 0), interval=150, description="play")
        w.jslink((self.play, "value"), (self.frame, "value"))
        self.image = w.Image(format="png")
        self.image.add_class("mnist-histogram")
        self.stats = w.HTML()
        for control in (self.kind_choice, self.layer_choice, self.frame):
            control.observe(lambda _: self.draw(), names="value")
        self.widget = w.VBox([w.HBox([self.kind_choice, self.layer_choice]), w.HBox([self.play, self.frame]),
                              w.HBox([self.image, self.stats])])
        self.widget.add_class("mnist-training-scrubber")
        self._peaks: dict[tuple[str, int], float] = {}
        self.draw()

    def draw(self) -> None:
        """Draw the chosen layer's histogram at the slider's frame, and list its statistics there."""
        kind, frame = self.kind_choice.value, self.frame.value
        i = self.history.layers.index(self.layer_choice.value)
        counts = self.history.hists[kind]
        if not 0 <= frame < len(counts) or not np.isfinite(counts[frame, i]).all() or counts[frame, i].sum() == 0:
            self.stats.value = f"Frame {frame} holds no {kind} histogram for this layer: move the slider to another."
            return
        edges = self.history.edges[kind][i]
        peak = self._peaks.setdefault((kind, i), float(np.nanmax(counts[:, i])))
        self.image.value = _histogram_png(edges, counts[frame, i], peak,
                                          f"{self.layer_choice.value} {kind}, step {int(self.history.steps[frame])}")
        rows = "".join(f"<tr><td>{label}</td><td style='text-align:right'>{self.history.stats[name][frame, i]:.3g}"
                       f"</td></tr>" for name, label in SHOWN_STATS.items() if name in self.history.stats)
        self.stats.value = (f"<b>step {int(self.history.steps[frame]):,}</b> (frame {frame + 1} of "
                            f"{len(counts)})<table class='mnist-frame-stats'>{rows}</table>")


def _histogram_png(edges: np.ndarray, counts: np.ndarray, peak: float, title: str) -> bytes:
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(5.2, 3.0))
    ax.stairs(counts, edges, fill=True, color="#1f77b4")
    ax.set_xlim(edges[0], edges[-1])
    ax.set_ylim(0, peak * 1.05 or 1)  # fixed for the whole run, so the shape's change is what moves
    ax.set_title(title, fontsize=10)
    ax.set_ylabel("count")
    fig.tight_layout()
    return figure_png(fig)


def training_scrubber(history: RecorderHistory, kind: str = "weights", layer: str | None = None) -> TrainingScrubber:
    """A :class:`TrainingScrubber` over a recorder's history: display it (the last line of a cell) to use it."""
    return TrainingScrubber(history, kind, layer)
