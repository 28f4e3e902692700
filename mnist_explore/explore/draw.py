"""Draw a digit: a canvas, the drawing made into an MNIST digit, and what a trained model makes of it."""
from __future__ import annotations

import numpy as np
import torch
from PIL import Image, ImageDraw

from ..activations import saliency
from ..data import to_float
from ..errors import UserError
from ..neighbors import knn
from ..preprocess import like_mnist
from ._common import Explorer, as_uint8, figure_png, grid

SIDE = 280  # the canvas, ten times MNIST's 28 pixels
PEN = 22  # stroke width on the canvas, about two MNIST pixels


class DrawDigit(Explorer):
    """A canvas to draw on with the mouse; after each stroke the drawing is scaled into a 20x20 box
    and centred by its centre of mass in 28x28, as MNIST's digits were, and the model's class
    probabilities, its saliency map and the nearest training digits are shown.

    Parameters
    ----------
    model
        A trained classifier taking (N, 1, 28, 28) floats in [0, 1].
    train_images
        Training digits (N, 28, 28) uint8, searched for the drawing's nearest neighbours.
    """

    def __init__(self, model: torch.nn.Module, train_images, neighbours: int = 8):
        import ipywidgets as w
        from ipycanvas import Canvas

        self.model = model.eval()
        self.device = next(model.parameters()).device
        self.train_images = as_uint8(train_images)
        self.train_flat = torch.as_tensor(self.train_images.reshape(len(self.train_images), -1), dtype=torch.float32)
        self.neighbours = neighbours
        self.strokes: list[list[tuple[float, float]]] = []
        self.canvas = Canvas(width=SIDE, height=SIDE, layout=w.Layout(width=f"{SIDE}px", height=f"{SIDE}px"))
        self.canvas.on_mouse_down(self._down)
        self.canvas.on_mouse_move(self._move)
        self.canvas.on_mouse_up(self._up)
        self.canvas.on_mouse_out(self._up)
        self.clear_button = w.Button(description="clear", icon="eraser")
        self.clear_button.on_click(lambda _: self.clear())
        self.message = w.HTML()
        self.probabilities = w.HTML()
        self.pictures = w.Image(format="png", layout=w.Layout(display="none"))
        self.pictures.add_class("mnist-draw-pictures")
        self.widget = w.VBox([w.HBox([w.VBox([self.canvas, self.clear_button]),
                                      w.VBox([self.message, self.probabilities])]), self.pictures])
        self.widget.add_class("mnist-draw-digit")
        self.clear()

    # --- the canvas: strokes are kept in Python and drawn again there, so no pixel read-back is needed
    def _down(self, x: float, y: float) -> None:
        self.strokes.append([(x, y)])
        self.canvas.fill_circle(x, y, PEN / 2)

    def _move(self, x: float, y: float) -> None:
        if self.strokes and self.strokes[-1] is not None:
            (x0, y0) = self.strokes[-1][-1]
            self.strokes[-1].append((x, y))
            self.canvas.stroke_line(x0, y0, x, y)
            self.canvas.fill_circle(x, y, PEN / 2)

    def _up(self, x: float, y: float) -> None:
        if self.strokes and self.strokes[-1] is not None:
            self.strokes.append(None)  # the stroke is finished; the next mouse-down starts another
            self.update()

    def clear(self) -> None:
        """Wipe the canvas and the results."""
        self.strokes = []
        self.canvas.fill_style = "black"
        self.canvas.fill_rect(0, 0, SIDE, SIDE)
        self.canvas.fill_style = self.canvas.stroke_style = "white"
        self.canvas.line_width = PEN
        self.canvas.line_cap = "round"
        self.message.value = "Draw a digit in the black square with the mouse."
        self.probabilities.value = ""
        self.pictures.layout.display = "none"

    def drawing(self) -> np.ndarray:
        """The strokes so far as a (280, 280) greyscale image, ink 255 on 0."""
        image = Image.new("L", (SIDE, SIDE), 0)
        pen = ImageDraw.Draw(image)
        for stroke in filter(None, self.strokes):
            if len(stroke) > 1:
                pen.line(stroke, fill=255, width=PEN, joint="curve")
            for x, y in (stroke[0], stroke[-1]):
                pen.ellipse((x - PEN / 2, y - PEN / 2, x + PEN / 2, y + PEN / 2), fill=255)
        return np.asarray(image)

    def update(self) -> None:
        """Preprocess the drawing, classify it, and show the probabilities, saliency and neighbours."""
        try:
            digit = like_mnist(self.drawing())
        except UserError as error:
            self.message.value = str(error).capitalize()
            self.probabilities.value = ""
            self.pictures.layout.display = "none"
            return
        self.show(digit)

    def show(self, digit: np.ndarray) -> np.ndarray:
        """Classify one MNIST-style digit (28, 28) uint8, show the results, return the probabilities."""
        x = to_float(torch.as_tensor(digit)[None]).to(self.device)
        with torch.no_grad():
            probs = torch.softmax(self.model(x), dim=1)[0].cpu().numpy()
        heat = saliency(self.model, x)[0].cpu().numpy()
        _, nearest = knn(torch.as_tensor(digit, dtype=torch.float32).reshape(1, -1), self.train_flat,
                         k=self.neighbours)
        best = int(probs.argmax())
        self.message.value = f"The model reads <b>{best}</b> ({probs[best]:.1%} sure)."
        self.probabilities.value = _bars(probs)
        self.pictures.value = _pictures(digit, heat, self.train_images[nearest[0].numpy()])
        self.pictures.layout.display = ""
        return probs


def _bars(probs: np.ndarray) -> str:
    """Ten horizontal bars, one per class, as HTML (each carries its probability in data-p)."""
    rows = "".join(
        f'<div class="mnist-prob" data-class="{k}" data-p="{p:.6f}" style="display:flex;align-items:center;'
        f'height:18px"><span style="width:14px">{k}</span><span style="display:inline-block;height:12px;'
        f'width:{max(1, round(200 * p))}px;background:{"#d62728" if k == probs.argmax() else "#1f77b4"}">'
        f'</span><span style="margin-left:6px">{p:.1%}</span></div>' for k, p in enumerate(probs))
    return f'<div class="mnist-probs">{rows}</div>'


def _pictures(digit: np.ndarray, heat: np.ndarray, nearest: np.ndarray) -> bytes:
    """The preprocessed digit, its saliency map, and its nearest training digits, as one PNG."""
    import matplotlib.pyplot as plt

    fig, axes = plt.subplots(1, 3, figsize=(9, 2.6), gridspec_kw={"width_ratios": [1, 1, 2.6]})
    axes[0].imshow(digit, cmap="gray_r")
    axes[0].set_title("as MNIST (28x28)", fontsize=9)
    axes[1].imshow(heat, cmap="hot")
    axes[1].set_title("saliency |d logit / d pixel|", fontsize=9)
    axes[2].imshow(grid(nearest, columns=4), cmap="gray_r")
    axes[2].set_title(f"the {len(nearest)} nearest training digits (pixels)", fontsize=9)
    for ax in axes:
        ax.set_axis_off()
    fig.tight_layout()
    return figure_png(fig)


def draw_digit(model: torch.nn.Module, train_images, **kwargs) -> DrawDigit:
    """A :class:`DrawDigit` explorer for ``model``: display it (the last line of a cell) to draw."""
    return DrawDigit(model, train_images, **kwargs)
