"""Explorers: widgets for JupyterLab (``make lab``) built on the same results the figures draw.

Each is a function returning an object that displays as a widget in JupyterLab and as a one-line
note in a notebook executed in batch; its Python side (``show_point``, ``show_cell``, ...) is what
the widget's events call, so tests and scripts can drive it too.

- :func:`embedding_explorer`: every digit of a 2-D map; hover for its image, lasso for a grid.
- :func:`draw_digit`: draw a digit, see it made MNIST-style and what a model makes of it.
- :func:`training_scrubber`: a slider through training time over each layer's histograms.
- :func:`confusion_explorer`: click a confusion-matrix cell to see its test digits.

Knobs (:class:`Knobs`: controls and the figure they redraw): :func:`loss_surface_explorer` (an
optimizer and its learning rate on a two-parameter surface), :func:`tsne_perplexity_explorer`,
:func:`gan_interpolation_explorer` (the two digits to walk between), :func:`hidden_layer_explorer`
(the layer and the digit).
"""
from .confusion import ConfusionExplorer, confusion_explorer
from .draw import DrawDigit, draw_digit
from .embedding import EmbeddingExplorer, embedding_explorer
from .knobs import (Knobs, gan_interpolation_explorer, hidden_layer_explorer, loss_surface_explorer,
                    tsne_perplexity_explorer)
from .scrubber import TrainingScrubber, training_scrubber

__all__ = ["ConfusionExplorer", "DrawDigit", "EmbeddingExplorer", "Knobs", "TrainingScrubber", "confusion_explorer",
           "draw_digit", "embedding_explorer", "gan_interpolation_explorer", "hidden_layer_explorer",
           "loss_surface_explorer", "training_scrubber", "tsne_perplexity_explorer"]
