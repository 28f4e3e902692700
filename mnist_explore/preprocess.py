"""Turn any greyscale drawing into an MNIST-style digit, the way MNIST's digits were made.

LeCun, Cortes and Burges describe it: each handwritten digit was scaled, keeping its aspect
ratio, to fit a 20x20 box (anti-aliased, hence the grey edges), then placed in a 28x28 image
so that its centre of mass sits at pixel (14, 14) (over the training digits, the mean centre of
mass is (14.0, 14.0)). A model trained on MNIST expects exactly that:
a digit drawn in a corner, or filling the whole canvas, looks nothing like its training data.
"""
from __future__ import annotations

import numpy as np
from PIL import Image

from .errors import UserError

BOX = 20  # the digit's longer side, in pixels
SIZE = 28  # the image's side
INK = 0.05  # a pixel holds ink above this fraction of the brightest one


def like_mnist(drawing: np.ndarray) -> np.ndarray:
    """An MNIST-style (28, 28) uint8 image (ink 255 on 0) from a greyscale drawing (H, W), ink bright.

    Crops the drawing to its ink, scales the crop so its longer side is 20 pixels, and shifts it
    so its centre of mass is the centre of the 28x28 image. A drawing with no ink is a UserError.
    """
    drawing = np.asarray(drawing, dtype=np.float64)
    if drawing.ndim != 2:
        raise UserError(f"a drawing is one greyscale image (height, width); got an array of shape {drawing.shape}.")
    peak = drawing.max(initial=0.0)
    rows, cols = np.nonzero(drawing > INK * peak) if peak > 0 else ((), ())
    if len(rows) == 0:
        raise UserError("the drawing is empty: draw a digit first.")
    crop = drawing[rows.min():rows.max() + 1, cols.min():cols.max() + 1] / peak
    height, width = crop.shape
    scale = BOX / max(height, width)
    size = (max(1, round(width * scale)), max(1, round(height * scale)))
    box = np.asarray(Image.fromarray((crop * 255).astype(np.uint8)).resize(size, Image.Resampling.LANCZOS),
                     dtype=np.float64)
    image = np.zeros((SIZE, SIZE))
    top, left = (SIZE - box.shape[0]) // 2, (SIZE - box.shape[1]) // 2
    image[top:top + box.shape[0], left:left + box.shape[1]] = box
    return _centre_of_mass_at_centre(image).clip(0, 255).round().astype(np.uint8)


def _centre_of_mass_at_centre(image: np.ndarray) -> np.ndarray:
    """``image`` shifted by whole pixels so its centre of mass is as near the centre as the ink allows."""
    ys, xs = np.indices(image.shape)
    total = image.sum()
    dy = round(SIZE / 2 - (ys * image).sum() / total)  # MNIST put it at pixel (14, 14)
    dx = round(SIZE / 2 - (xs * image).sum() / total)
    rows, cols = np.nonzero(image)
    dy = int(np.clip(dy, -rows.min(), SIZE - 1 - rows.max()))  # never push ink off the image
    dx = int(np.clip(dx, -cols.min(), SIZE - 1 - cols.max()))
    return np.roll(image, (dy, dx), axis=(0, 1))


def centre_of_mass(image: np.ndarray) -> tuple[float, float]:
    """(row, column) of an image's centre of mass."""
    image = np.asarray(image, dtype=np.float64)
    ys, xs = np.indices(image.shape)
    return float((ys * image).sum() / image.sum()), float((xs * image).sum() / image.sum())
