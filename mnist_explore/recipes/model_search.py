"""Recipes for notebook 03's figures: augmentation, and the model search."""
from __future__ import annotations

import torch

from .. import plots
from ..augment import random_affine
from ..data import to_float
from ..figures import Context, recipe
from ..metrics import confusion_matrix, misclassified
from ..studies import model_search

NOTEBOOK = "03_model_search"


def _search(ctx: Context) -> model_search.SearchResult:
    return ctx.study(model_search)


@recipe("train_augmentations", "one digit and 15 random affine augmentations of it", NOTEBOOK)
def train_augmentations(ctx: Context):
    digit = to_float(ctx.dataset("mnist").train.X[:1])
    augmented = random_affine(digit.expand(15, -1, -1, -1), generator=torch.Generator().manual_seed(ctx.seed))
    return plots.plot_augmentations(digit[0, 0], augmented[:, 0])


@recipe("search_learning_curves", "validation accuracy per epoch of every searched model", NOTEBOOK)
def search_learning_curves(ctx: Context):
    return plots.plot_search_curves(_search(ctx).histories())


@recipe("search_summary", "test accuracy, size and speed of every searched model", NOTEBOOK)
def search_summary(ctx: Context):
    return plots.plot_search_summary(model_search.summary(_search(ctx)))


def _best_predictions(ctx: Context):
    result = _search(ctx)
    probs = result.best_test_probs
    return result.best_label, probs, ctx.dataset("mnist").test.y[:len(probs)].cpu()


@recipe("search_confusion", "confusion matrix of the best model on the test set", NOTEBOOK)
def search_confusion(ctx: Context):
    label, probs, y = _best_predictions(ctx)
    fig = plots.plot_confusion_matrix(confusion_matrix(y, probs.argmax(dim=1)))
    fig.axes[0].set_title(f"{label}: {fig.axes[0].get_title()}")
    return fig


@recipe("search_misclassified", "the best model's most confident test errors", NOTEBOOK)
def search_misclassified(ctx: Context):
    label, probs, y = _best_predictions(ctx)
    wrong = misclassified(y, probs)[:32]
    X = ctx.dataset("mnist").test.X[:len(probs)].cpu()
    fig = plots.plot_misclassified(X[wrong], y[wrong], probs[wrong].argmax(dim=1), probs[wrong].max(dim=1).values)
    fig.axes[0].set_title(f"{label}: {fig.axes[0].get_title()}")
    return fig
