"""The embedding explorer: every digit of a 2-D map, its image on hover, a grid of any selection."""
from __future__ import annotations

import warnings
from collections import Counter

import numpy as np
import torch
from matplotlib.colors import to_hex

from ..errors import UserError
from ..plots import DIGIT_COLORS
from ._common import Explorer, as_uint8, grid, png

CLASS_COLOURS = [to_hex(c) for c in DIGIT_COLORS]  # the figures' colour for each class, so the two agree
TRAIN_GREY = "#dddddd"
STATUS_COLOURS = {"training digit": TRAIN_GREY, "right": "#9ecae1", "wrong": "#d62728"}


class EmbeddingExplorer(Explorer):
    """All points of a 2-D map in a WebGL scatter (jupyter-scatter).

    Hovering a point shows its digit, label and prediction beside the map; a lasso selection
    (the toolbar's lasso button, then drag) fills the grid below the map with the selected digits.
    Colour by ``label``, by ``predicted`` label, or by whether the prediction is ``misclassified``.

    Parameters
    ----------
    points
        (N, 2) map coordinates.
    images, labels
        The N digits (uint8, 28x28) and their labels.
    n_train
        The first ``n_train`` points are training digits, the rest test digits.
    predicted
        Optional predicted label of each test digit (N - n_train,), e.g. the kNN classifier's.
    title
        Shown above the map.
    """

    def __init__(self, points, images, labels, n_train: int, predicted=None, title: str = "",
                 max_grid: int = 100, height: int = 480):
        import ipywidgets as w
        import pandas as pd
        with warnings.catch_warnings():  # jupyter-scatter's font loader uses a pandas argument pandas deprecates
            warnings.filterwarnings("ignore", message="The inplace keyword", module="jscatter")
            import jscatter

        self.points = np.asarray(points.cpu() if isinstance(points, torch.Tensor) else points, dtype=np.float32)
        self.images = as_uint8(images)
        self.labels = np.asarray(labels.cpu() if isinstance(labels, torch.Tensor) else labels)
        n = len(self.points)
        if self.points.shape != (n, 2) or len(self.images) != n or len(self.labels) != n:
            raise UserError(f"the explorer needs one 2-D point, image and label per digit; got points "
                            f"{self.points.shape}, {len(self.images)} images, {len(self.labels)} labels.")
        if not 0 <= n_train <= n:
            raise UserError(f"n_train={n_train} must lie between 0 and the number of points, {n}.")
        self.n_train, self.max_grid = n_train, max_grid
        columns = {"x": self.points[:, 0], "y": self.points[:, 1],
                   "label": pd.Categorical(self.labels.astype(str), categories=[str(k) for k in range(10)]),
                   "split": np.where(np.arange(n) < n_train, "train", "test")}
        self.predicted = None
        if predicted is not None:
            predicted = np.asarray(predicted.cpu() if isinstance(predicted, torch.Tensor) else predicted)
            if len(predicted) != n - n_train:
                raise UserError(f"predicted holds {len(predicted)} labels; the map has {n - n_train} test digits.")
            self.predicted = np.concatenate([np.full(n_train, -1), predicted])
            shown = np.where(self.predicted < 0, "training digit", self.predicted.astype(str))
            columns["predicted"] = pd.Categorical(shown, categories=["training digit"] + [str(k) for k in range(10)])
            status = np.where(self.predicted < 0, "training digit",
                              np.where(self.predicted == self.labels, "right", "wrong"))
            columns["misclassified"] = pd.Categorical(status, categories=list(STATUS_COLOURS))
        self.frame = pd.DataFrame(columns)
        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message="The inplace keyword", module="jscatter")
            self.scatter = jscatter.Scatter(data=self.frame, x="x", y="y", height=height, axes=False,
                                            size=2 if n > 20_000 else 4, opacity=0.75)
        self.scatter.tooltip(True, properties=["color", "split"])
        self.scatter.legend(True)
        self.colour_by("label")

        self.hover_image = w.Image(value=png(np.zeros((28, 28), np.uint8), 5), format="png",
                                   layout=w.Layout(width="140px", height="140px"))
        self.hover_text = w.HTML("Hover over a point to see its digit.")
        self.selection_text = w.HTML(self._nothing_selected())
        self.selection_image = w.Image(format="png", layout=w.Layout(display="none"))
        self.hover_image.add_class("mnist-hovered")
        self.hover_text.add_class("mnist-hovered-text")
        self.selection_image.add_class("mnist-selection")
        choices = ["label"] + (["predicted", "misclassified"] if self.predicted is not None else [])
        self.colour_choice = w.ToggleButtons(options=choices, description="colour by")
        self.colour_choice.observe(lambda change: self.colour_by(change["new"]), names="value")
        self.scatter.widget.observe(lambda change: self.show_point(change["new"]), names="hovering")
        self.scatter.widget.observe(lambda change: self.show_selection(change["new"]), names="selection")
        plot = self.scatter.show()
        plot.layout = w.Layout(flex="1 1 auto", min_width="480px")
        side = w.VBox([w.HTML("<b>hovered digit</b>"), self.hover_image, self.hover_text],
                      layout=w.Layout(width="180px"))
        self.widget = w.VBox([w.HTML(f"<b>{title}</b>") if title else w.HTML(), self.colour_choice,
                              w.HBox([plot, side]), self.selection_text, self.selection_image])
        self.widget.add_class("mnist-embedding-explorer")

    def colour_by(self, column: str) -> None:
        """Colour the points by ``label``, ``predicted`` or ``misclassified``."""
        if column not in self.frame:
            raise UserError(f"cannot colour by {column!r}: choose one of "
                            f"{', '.join(c for c in ('label', 'predicted', 'misclassified') if c in self.frame)}.")
        colours = {"label": CLASS_COLOURS, "predicted": [TRAIN_GREY] + CLASS_COLOURS,
                   "misclassified": list(STATUS_COLOURS.values())}[column]
        self.scatter.color(by=column, map=colours)

    def show_point(self, index) -> None:
        """Show digit ``index`` beside the map (None or a negative index: nothing hovered)."""
        if index is None or index < 0 or index >= len(self.images):
            return
        self.hover_image.value = png(self.images[index], 5)
        where = "training" if index < self.n_train else "test"
        text = f"#{index:,} ({where} digit)<br>label <b>{self.labels[index]}</b>"
        if self.predicted is not None and self.predicted[index] >= 0:
            verdict = "right" if self.predicted[index] == self.labels[index] else "wrong"
            text += f"<br>predicted <b>{self.predicted[index]}</b> ({verdict})"
        self.hover_text.value = text

    def show_selection(self, indices) -> None:
        """Fill the grid below the map with the selected digits (at most ``max_grid`` of them)."""
        indices = np.asarray([] if indices is None else indices, dtype=np.int64)
        if len(indices) == 0:
            self.selection_text.value = self._nothing_selected()
            self.selection_image.layout.display = "none"
            return
        shown = indices[:self.max_grid]
        counts = Counter(self.labels[indices].tolist())
        by_label = ", ".join(f"{k}: {c:,}" for k, c in sorted(counts.items()))
        more = f"; the first {len(shown)} are shown" if len(indices) > len(shown) else ""
        self.selection_text.value = f"<b>{len(indices):,} digits selected</b> (by label: {by_label}){more}"
        self.selection_image.value = png(grid(self.images[shown], columns=20), 2)
        self.selection_image.layout.display = ""

    @staticmethod
    def _nothing_selected() -> str:
        return ("Nothing selected: press the lasso button in the map's toolbar, then drag around some points "
                "to see their digits here.")


def embedding_explorer(points, images, labels, n_train: int, predicted=None, title: str = "",
                       **kwargs) -> EmbeddingExplorer:
    """An :class:`EmbeddingExplorer` of a map: display it (the last line of a cell) to use it."""
    return EmbeddingExplorer(points, images, labels, n_train, predicted, title, **kwargs)
