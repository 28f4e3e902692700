"""Knobs: a few controls and the figure they redraw, where a learner wants to try a value for themselves."""
from __future__ import annotations

from collections.abc import Callable

import numpy as np
import torch

from .. import embed, plots, surfaces
from ..activations import conv_layers, feature_maps
from ..data import to_float
from ..errors import UserError
from ..neighbors import knn_score
from ..optimizers import OPTIMIZERS
from ..progress import interactive
from ._common import Explorer, figure_png


class Knobs(Explorer):
    """Controls (ipywidgets, by keyword) and ``draw(**their values) -> Figure``, redrawn whenever one moves.

    A ``UserError`` from ``draw`` (a value that cannot work) is shown as a sentence in place of the figure.
    The first figure is drawn when the widget is first shown (or :meth:`redraw` is called), so a notebook
    executed in batch, which shows no widget, does no work for it.
    """

    def __init__(self, draw: Callable, controls: dict, note: str = ""):
        import ipywidgets as w

        self.draw, self.controls = draw, controls
        self.message = w.HTML(note)
        self.image = w.Image(format="png")
        for control in controls.values():
            control.observe(lambda _: self.redraw(), names="value")
        self.widget = w.VBox([w.HBox(list(controls.values()), layout=w.Layout(flex_flow="row wrap")),
                              self.message, self.image])
        self.widget.add_class("mnist-knobs")
        self.note = note
        self.drawn = False

    def _ipython_display_(self) -> None:
        if interactive() and not self.drawn:
            self.redraw()
        super()._ipython_display_()

    def redraw(self) -> None:
        """Draw the figure for the controls' current values (a UserError becomes the message)."""
        self.drawn = True
        try:
            fig = self.draw(**{name: control.value for name, control in self.controls.items()})
        except UserError as error:
            self.message.value = f"<b>{error}</b>"
            self.image.layout.display = "none"
            return
        self.message.value = self.note
        self.image.value = figure_png(fig)
        self.image.layout.display = ""


def loss_surface_explorer(optimizer: str = "sgd", surface: str = "ravine", steps: int = 100) -> Knobs:
    """One optimizer's path on a two-parameter surface, next to plain SGD's; pick the optimizer, lr and steps."""
    import ipywidgets as w

    controls = {"surface": w.Dropdown(options=list(surfaces.SURFACES), value=surface, description="surface"),
                "optimizer": w.Dropdown(options=list(OPTIMIZERS), value=optimizer, description="optimizer"),
                "lr": w.FloatLogSlider(value=surfaces.RAVINE_LR.get(optimizer, 0.01), base=10, min=-4, max=1, step=0.1,
                                       description="lr", readout_format=".2g"),
                "steps": w.IntSlider(value=steps, min=10, max=500, step=10, description="steps")}

    def draw(surface, optimizer, lr, steps):
        path = surfaces.trajectory(surface, optimizer, lr, steps)
        if surfaces.diverged(path, steps):
            raise UserError(f"{optimizer} at lr {lr:.2g} diverged after {len(path) - 1} steps on the {surface}: "
                            "lower the learning rate.")
        s = surfaces.surface(surface)
        title = (f"{optimizer}, lr {lr:.2g}: loss {surfaces.final_loss(surface, path):.3g} after {steps} steps "
                 f"(start {float(s.loss(*torch.tensor(s.start))):.3g})")
        return plots.plot_trajectories(surfaces.loss_grid(surface), {f"{optimizer}, lr {lr:.2g}": path},
                                       s.minimum, title)

    return Knobs(draw, controls)


def tsne_perplexity_explorer(points, labels, n_train: int, perplexities=(2, 5, 10, 30, 100), seed: int = 0,
                             backend: str | None = None) -> Knobs:
    """A t-SNE map of ``points`` (PCA-50 rows) at the perplexity a slider picks, each computed once and cached."""
    import ipywidgets as w

    if not 0 < n_train < len(points):
        raise UserError(f"n_train={n_train} must leave both training and test points among {len(points)}.")
    slider = w.SelectionSlider(options=list(perplexities), value=perplexities[len(perplexities) // 2],
                               description="perplexity")

    def draw(perplexity):
        if perplexity * 3 >= len(points):
            raise UserError(f"perplexity {perplexity} needs more than {3 * perplexity} points; "
                            f"this subset has {len(points)}.")
        tsne_map = embed.tsne(points, backend, embed.TSNESettings(perplexity=float(perplexity)), seed=seed,
                              device="cpu")
        score = knn_score(tsne_map, labels, n_train)
        return plots.plot_map(tsne_map, labels, f"t-SNE of {len(points):,} digits at perplexity {perplexity}",
                              score.accuracy)

    return Knobs(draw, {"perplexity": slider},
                 note="Each perplexity is computed the first time it is chosen (a few seconds), then cached.")


def gan_interpolation_explorer(interpolate: Callable[[int, int], torch.Tensor], first: int = 3,
                               second: int = 8) -> Knobs:
    """The latent walk between two digits the learner picks; ``interpolate(a, b)`` returns (steps, 28, 28)."""
    import ipywidgets as w

    controls = {"a": w.Dropdown(options=list(range(10)), value=first, description="from digit"),
                "b": w.Dropdown(options=list(range(10)), value=second, description="to digit")}

    def draw(a, b):
        row = interpolate(a, b)
        return plots.plot_digit_rows(row[None], [f"{a} → {b}"], f"Walking the latent space from a {a} to a {b}")

    return Knobs(draw, controls)


def hidden_layer_explorer(model: torch.nn.Module, images, labels, count: int = 20) -> Knobs:
    """One test digit's feature maps in one layer; pick the layer and the digit."""
    import ipywidgets as w

    layers = list(conv_layers(model))
    images, labels = images[:count], np.asarray(labels[:count].cpu() if isinstance(labels, torch.Tensor) else labels)
    controls = {"layer": w.Dropdown(options=layers, value=layers[0], description="layer"),
                "digit": w.Dropdown(options=[(f"#{i}: a {labels[i]}", i) for i in range(len(labels))], value=0,
                                    description="test digit")}

    def draw(layer, digit):
        x = to_float(images[digit:digit + 1]).to(next(model.parameters()).device)
        with torch.no_grad():
            maps = feature_maps(model, x)
        return plots.plot_feature_maps(x[0, 0], {layer: maps[layer][0]})

    return Knobs(draw, controls)
