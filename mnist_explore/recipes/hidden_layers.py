"""Recipes for notebook 07: what the hidden layers of a trained fast_cnn compute."""
from __future__ import annotations

from .. import activations, plots
from ..data import to_float
from ..figures import Context, recipe
from ..studies import hidden_layers

NOTEBOOK = "07_hidden_layers"


def _study(ctx: Context) -> hidden_layers.HiddenLayers:
    return ctx.study(hidden_layers)


@recipe("hidden_filters", "first-layer filters of a trained fast_cnn", NOTEBOOK)
def hidden_filters(ctx: Context):
    return plots.plot_filters(activations.conv_layers(_study(ctx).trained.model)["conv1"].weight)


@recipe("hidden_feature_maps", "feature maps of every conv layer for one digit", NOTEBOOK)
def hidden_feature_maps(ctx: Context):
    x = to_float(ctx.dataset("mnist").test.X[:1])
    maps = activations.feature_maps(_study(ctx).trained.model, x)
    return plots.plot_feature_maps(x[0, 0], {k: v[0] for k, v in maps.items()})


@recipe("hidden_embeddings", "test digits by t-SNE: raw pixels against penultimate features", NOTEBOOK)
def hidden_embeddings(ctx: Context):
    return plots.plot_test_maps(_study(ctx).maps)


@recipe("hidden_saliency", "gradient saliency maps of ten test digits", NOTEBOOK)
def hidden_saliency(ctx: Context):
    test = ctx.dataset("mnist").test
    index = activations.first_of_each_class(test.y)
    x = to_float(test.X[index])
    return plots.plot_saliency(x[:, 0], activations.saliency(_study(ctx).trained.model, x), test.y[index])


@recipe("hidden_class_max", "inputs that maximise each class's logit", NOTEBOOK)
def hidden_class_max(ctx: Context):
    return plots.plot_class_maximising(_study(ctx).class_max)
