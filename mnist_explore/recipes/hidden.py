"""Recipes for notebook 07: what the hidden layers of a trained fast_cnn compute."""
from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import torch

from .. import embed, hidden, neighbors, plots
from ..data import Dataset, to_float, train_val_split
from ..figures import Context, recipe
from ..runtime import by_profile
from ..train import TrainConfig, TrainResult, fit

NOTEBOOK = "07_hidden_layers"


@dataclass(frozen=True)
class HiddenSettings:
    train_size: int | None
    epochs: int
    ascent_steps: int
    embed_points: int | None  # test digits in the t-SNE maps (None: all 10,000)


PROFILE_SETTINGS = {"quick": HiddenSettings(train_size=3000, epochs=1, ascent_steps=20, embed_points=2000),
                    "default": HiddenSettings(train_size=None, epochs=2, ascent_steps=300, embed_points=None)}
PROFILE_SETTINGS["full"] = PROFILE_SETTINGS["default"]


def settings_for(profile: str) -> HiddenSettings:
    return by_profile(PROFILE_SETTINGS, profile)


def trained_cnn(dataset: Dataset, settings: HiddenSettings, seed: int = 0) -> TrainResult:
    """fast_cnn trained with the race recipe (Adam, OneCycle to 3e-3), epochs chosen by the profile."""
    train, val = train_val_split(dataset.train, seed=0)
    if settings.train_size is not None:
        train = train.subset(torch.arange(settings.train_size))
    config = TrainConfig(model="fast_cnn", epochs=settings.epochs, lr=3e-3, schedule="onecycle", seed=seed,
                         progress=False)
    return fit(config, train, val)


def embeddings(model, dataset: Dataset, settings: HiddenSettings, seed: int = 0, device=None):
    """t-SNE maps (each from PCA-50) of test digits' raw pixels and of their penultimate-layer features."""
    test = dataset.test.subset(torch.arange(settings.embed_points or len(dataset.test)))
    device = device or test.X.device
    maps = {}
    for name, values in [("pixels", test.X.flatten(1).float() / 255),
                         ("features", hidden.penultimate_features(model, test))]:
        maps[name] = embed.tsne(embed.pca(values).transform(values, 50), seed=seed, device=device)
    return maps["pixels"], maps["features"], test.y.cpu()


def plot_embeddings(pixels, features, y):
    """The two maps side by side, each titled with its kNN score (fit on the first 80% of points, scored on the rest)."""
    fig, axes = plt.subplots(1, 2, figsize=(12, 6), layout="constrained")
    n_fit = int(0.8 * len(y))
    for ax, E, title in [(axes[0], pixels, "Raw pixels (784-d)"), (axes[1], features, "Penultimate features (256-d)")]:
        plots.plot_map(E, y, f"{title}, t-SNE", neighbors.knn_score(E, y, n_fit).accuracy, ax=ax)
    fig.suptitle(f"{len(y):,} test digits in 2-D: before and after the network")
    return fig


def _model(ctx: Context):
    return ctx.memo("hidden_cnn", lambda: trained_cnn(ctx.dataset("mnist"), settings_for(ctx.profile), ctx.seed)).model


@recipe("hidden_filters", "first-layer filters of a trained fast_cnn", NOTEBOOK)
def hidden_filters(ctx: Context):
    return plots.plot_filters(hidden.conv_layers(_model(ctx))["conv1"].weight)


@recipe("hidden_feature_maps", "feature maps of every conv layer for one digit", NOTEBOOK)
def hidden_feature_maps(ctx: Context):
    x = to_float(ctx.dataset("mnist").test.X[:1])
    maps = hidden.feature_maps(_model(ctx), x)
    return plots.plot_feature_maps(x[0, 0], {k: v[0] for k, v in maps.items()})


@recipe("hidden_embeddings", "test digits by t-SNE: raw pixels against penultimate features", NOTEBOOK)
def hidden_embeddings(ctx: Context):
    return plot_embeddings(*embeddings(_model(ctx), ctx.dataset("mnist"), settings_for(ctx.profile), ctx.seed))


@recipe("hidden_saliency", "gradient saliency maps of ten test digits", NOTEBOOK)
def hidden_saliency(ctx: Context):
    test = ctx.dataset("mnist").test
    index = hidden.first_of_each_class(test.y)
    x = to_float(test.X[index])
    return plots.plot_saliency(x[:, 0], hidden.saliency(_model(ctx), x), test.y[index])


@recipe("hidden_class_max", "inputs that maximise each class's logit", NOTEBOOK)
def hidden_class_max(ctx: Context):
    return plots.plot_class_maximising(hidden.class_maximising_inputs(_model(ctx), settings_for(ctx.profile).ascent_steps,
                                                                      seed=ctx.seed))
