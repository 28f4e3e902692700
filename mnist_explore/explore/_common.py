"""What every explorer shares: how it shows itself, and digits as PNG images."""
from __future__ import annotations

import io

import numpy as np
import torch
from PIL import Image

from ..plots import mosaic
from ..progress import interactive

NOTE = ("(An interactive explorer is here when this notebook runs in JupyterLab: `make lab`. "
        "The figure next to it shows the same thing.)")


class Explorer:
    """A widget with a Python side tests can drive: subclasses build ``self.widget`` (an ipywidgets box).

    In JupyterLab it displays as its widget; in a notebook executed in batch, where nothing could
    render a widget, it prints one line pointing to ``make lab`` instead of a broken placeholder.
    """

    widget = None

    def _ipython_display_(self) -> None:
        from IPython.display import display
        if interactive():
            display(self.widget)
        else:
            print(NOTE)


def as_uint8(images) -> np.ndarray:
    """(N, 28, 28) uint8 images from uint8 or [0, 1] float images, either (N, 28, 28) or flattened (N, 784)."""
    array = images.detach().cpu().numpy() if isinstance(images, torch.Tensor) else np.asarray(images)
    array = array.reshape(-1, 28, 28) if array.shape[-1] == 784 else array.reshape(-1, *array.shape[-2:])
    if array.dtype != np.uint8:
        array = (array.clip(0, 1) * 255).round().astype(np.uint8)
    return array


def png(image: np.ndarray, scale: int = 1) -> bytes:
    """PNG bytes of one greyscale uint8 image, ink dark on white as on paper, scaled up ``scale`` times."""
    picture = Image.fromarray(255 - image)
    if scale > 1:
        picture = picture.resize((image.shape[1] * scale, image.shape[0] * scale), Image.Resampling.NEAREST)
    buffer = io.BytesIO()
    picture.save(buffer, format="PNG")
    return buffer.getvalue()


def grid(images: np.ndarray, columns: int = 10) -> np.ndarray:
    """Images (N, 28, 28) uint8 tiled ``columns`` to a row (the figures' mosaic), on a background of no ink."""
    return mosaic(images, columns, fill=0).astype(np.uint8)


def figure_png(fig) -> bytes:
    """PNG bytes of a matplotlib figure, which is then closed."""
    import matplotlib.pyplot as plt
    buffer = io.BytesIO()
    fig.savefig(buffer, format="png", dpi=80)
    plt.close(fig)
    return buffer.getvalue()
