"""Recipes for notebook 07: what the hidden layers of a trained fast_cnn compute."""
from __future__ import annotations

from dataclasses import dataclass

import matplotlib.pyplot as plt
import torch

from .. import hidden, plots
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


PROFILE_SETTINGS = {"quick": HiddenSettings(train_size=3000, epochs=1, ascent_steps=20),
                    "default": HiddenSettings(train_size=None, epochs=2, ascent_steps=300)}
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


def embeddings(model, dataset: Dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """PCA to 2-D of the test set's raw pixels and of its penultimate-layer features."""
    pixels = hidden.pca_2d(dataset.test.X.flatten(1).float() / 255)
    features = hidden.pca_2d(hidden.penultimate_features(model, dataset.test))
    return pixels, features


def plot_embeddings(pixels, features, y):
    fig, axes = plt.subplots(1, 2, figsize=(12, 5.5), layout="constrained")
    plots.plot_embedding(pixels, y, "Raw pixels (784-d), PCA", ax=axes[0])
    plots.plot_embedding(features, y, "Penultimate-layer features, PCA", ax=axes[1])
    fig.suptitle("The 10,000 test digits in 2-D: before and after the network")
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


@recipe("hidden_embeddings", "test digits by PCA: raw pixels against penultimate features", NOTEBOOK)
def hidden_embeddings(ctx: Context):
    return plot_embeddings(*embeddings(_model(ctx), ctx.dataset("mnist")), ctx.dataset("mnist").test.y)


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
