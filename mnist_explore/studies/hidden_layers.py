"""What the hidden layers of a trained fast_cnn compute (notebook 07): filters, feature maps, saliency,
class-maximising inputs, and t-SNE maps of test digits before and after the network."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import activations, embed
from ..data import Dataset, train_val_split
from ..runtime import get_device
from ..train import TrainConfig, TrainResult, fit
from .profiles import StudySettings


@dataclass(frozen=True)
class Settings(StudySettings):
    PROFILES = {"quick": dict(train_size=3000, epochs=1, ascent_steps=20, embed_points=2000)}

    train_size: int | None = None  # None: all 55,000
    epochs: int = 2
    ascent_steps: int = 300  # gradient-ascent steps for the class-maximising inputs
    embed_points: int | None = None  # test digits in the t-SNE maps (None: all 10,000)


@dataclass
class TestMaps:
    """t-SNE maps (each from PCA-50) of the same test digits in raw pixels and in penultimate features."""

    pixels: np.ndarray
    features: np.ndarray
    y: torch.Tensor


@dataclass
class HiddenLayers:
    trained: TrainResult
    maps: TestMaps
    class_max: torch.Tensor  # (10, 28, 28): the input that maximises each class's logit


def train_cnn(settings: Settings, data: Dataset, *, seed: int = 0, progress: bool = False) -> TrainResult:
    """fast_cnn trained with the race recipe (Adam, OneCycle to 3e-3) on ``data``'s device."""
    train, val = train_val_split(data.train, seed=0, train_size=settings.train_size)
    config = TrainConfig(model="fast_cnn", epochs=settings.epochs, lr=3e-3, schedule="onecycle", seed=seed,
                         progress=progress)
    return fit(config, train, val)


def test_maps(model: torch.nn.Module, settings: Settings, data: Dataset, *, seed: int = 0) -> TestMaps:
    """t-SNE maps of the first ``settings.embed_points`` test digits: raw pixels and penultimate features."""
    test = data.test.subset(torch.arange(settings.embed_points or len(data.test)))
    device = test.X.device
    maps = {}
    for name, values in [("pixels", test.X.flatten(1).float() / 255),
                         ("features", activations.penultimate_features(model, test))]:
        maps[name] = embed.tsne(embed.pca(values).transform(values, 50), seed=seed, device=device)
    return TestMaps(maps["pixels"], maps["features"], test.y.cpu())


def run(settings: Settings, data: Dataset, *, device: torch.device | str | None = None, seed: int = 0,
        progress: bool = True) -> HiddenLayers:
    """Train fast_cnn on ``device`` (None: ``get_device()``), then map the test digits and find class maxima."""
    data = data.to(get_device(device))
    trained = train_cnn(settings, data, seed=seed, progress=progress)
    return HiddenLayers(trained, test_maps(trained.model, settings, data, seed=seed),
                        activations.class_maximising_inputs(trained.model, settings.ascent_steps, seed=seed))
