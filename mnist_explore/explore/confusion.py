"""The confusion explorer: click a cell of the confusion matrix to see the test digits behind it."""
from __future__ import annotations

import numpy as np
import torch

from ..errors import UserError
from ..metrics import confusion_matrix
from ._common import Explorer, as_uint8, figure_png


class ConfusionExplorer(Explorer):
    """A 10x10 grid of buttons, one per (true, predicted) pair with its count; clicking one shows up to
    ``max_shown`` of those test digits with the model's probability for each class in the pair."""

    def __init__(self, images, y_true, probs, max_shown: int = 24):
        import ipywidgets as w

        self.images = as_uint8(images)
        self.y_true = np.asarray(y_true.cpu() if isinstance(y_true, torch.Tensor) else y_true)
        self.probs = np.asarray(probs.cpu() if isinstance(probs, torch.Tensor) else probs, dtype=np.float64)
        if not len(self.images) == len(self.y_true) == len(self.probs):
            raise UserError(f"the explorer needs one image, label and probability row per digit; got "
                            f"{len(self.images)}, {len(self.y_true)} and {len(self.probs)}.")
        self.y_pred = self.probs.argmax(1)
        self.counts = confusion_matrix(torch.as_tensor(self.y_true), torch.as_tensor(self.y_pred)).numpy()
        self.max_shown = max_shown
        worst = max(int(self.counts[~np.eye(10, dtype=bool)].max()), 1)
        buttons = [w.HTML("<b>true \\ predicted</b>")] + [w.HTML(f"<b>{k}</b>") for k in range(10)]
        for a in range(10):
            buttons.append(w.HTML(f"<b>{a}</b>"))
            for b in range(10):
                count = int(self.counts[a, b])
                button = w.Button(description=str(count), tooltip=f"true {a}, predicted {b}: {count} digits",
                                  layout=w.Layout(width="52px", height="28px"))
                shade = 0.15 if a == b else min(1.0, count / worst)
                button.style.button_color = ("#c6dbef" if a == b else
                                             f"rgba(214, 39, 40, {shade:.2f})" if count else "#f7f7f7")
                button.add_class(f"mnist-cell-{a}-{b}")
                button.on_click(lambda _, a=a, b=b: self.show_cell(a, b))
                buttons.append(button)
        self.grid = w.GridBox(buttons, layout=w.Layout(grid_template_columns="110px " + "56px " * 10))
        self.caption = w.HTML("Click a cell to see the test digits behind it.")
        self.image = w.Image(format="png", layout=w.Layout(display="none"))
        self.image.add_class("mnist-cell-digits")
        self.widget = w.VBox([self.grid, self.caption, self.image])
        self.widget.add_class("mnist-confusion-explorer")

    def show_cell(self, true: int, predicted: int) -> np.ndarray:
        """Show the test digits of class ``true`` predicted as ``predicted``; returns their indices."""
        if not (0 <= true < 10 and 0 <= predicted < 10):
            raise UserError(f"classes are 0 to 9; got true={true}, predicted={predicted}.")
        index = np.flatnonzero((self.y_true == true) & (self.y_pred == predicted))
        if len(index) == 0:
            self.caption.value = f"No test digit of class {true} was predicted as {predicted}."
            self.image.layout.display = "none"
            return index
        index = index[np.argsort(-self.probs[index, predicted])]  # the most confident first
        shown = index[:self.max_shown]
        what = "read correctly" if true == predicted else f"read as {predicted}"
        more = f"; the {len(shown)} most confident are shown" if len(index) > len(shown) else ""
        self.caption.value = f"<b>{len(index)} test digits of class {true} {what}</b>{more}."
        self.image.value = _digits_png(self.images[shown], self.probs[shown], true, predicted)
        self.image.layout.display = ""
        return index


def _digits_png(images: np.ndarray, probs: np.ndarray, true: int, predicted: int) -> bytes:
    import matplotlib.pyplot as plt

    columns = min(8, len(images))
    rows = -(-len(images) // columns)
    fig, axes = plt.subplots(rows, columns, figsize=(1.25 * columns, 1.45 * rows), squeeze=False)
    for ax in axes.flat:
        ax.set_axis_off()
    for ax, image, p in zip(axes.flat, images, probs):
        ax.imshow(image, cmap="gray_r")
        title = f"p({predicted})={p[predicted]:.2f}" if true == predicted else \
            f"p({predicted})={p[predicted]:.2f}\np({true})={p[true]:.2f}"
        ax.set_title(title, fontsize=8)
    fig.tight_layout()
    return figure_png(fig)


def confusion_explorer(images, y_true, probs, **kwargs) -> ConfusionExplorer:
    """A :class:`ConfusionExplorer` of a classifier's test predictions: display it to click through it."""
    return ConfusionExplorer(images, y_true, probs, **kwargs)
