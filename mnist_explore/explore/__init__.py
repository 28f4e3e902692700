"""Explorers: widgets for JupyterLab (``make lab``) built on the same results the figures draw.

Each is a function returning an object that displays as a widget in JupyterLab and as a one-line
note in a notebook executed in batch; its Python side (``show_point``, ``show_cell``, ...) is what
the widget's events call, so tests and scripts can drive it too.

- :func:`embedding_explorer`: every digit of a 2-D map; hover for its image, lasso for a grid.
- :func:`draw_digit`: draw a digit, see it made MNIST-style and what a model makes of it.
- :func:`training_scrubber`: a slider through training time over each layer's histograms.
- :func:`confusion_explorer`: click a confusion-matrix cell to see its test digits.
"""
from .confusion import ConfusionExplorer, confusion_explorer
from .draw import DrawDigit, draw_digit
from .embedding import EmbeddingExplorer, embedding_explorer
from .scrubber import TrainingScrubber, training_scrubber

__all__ = ["ConfusionExplorer", "DrawDigit", "EmbeddingExplorer", "TrainingScrubber", "confusion_explorer",
           "draw_digit", "embedding_explorer", "training_scrubber"]
