"""Recipes for notebook 06: gradient flow in the recorded RMSprop run, and vanishing gradients in deep MLPs."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import plots
from ..animate import histogram_frames
from ..data import Dataset, train_val_split
from ..figures import Context, recipe
from ..hooks import RecorderHistory, record_run
from ..models import deep_mlp
from ..runtime import by_profile
from ..train import TrainConfig
from .weights import recorded_history

NOTEBOOK = "06_gradient_flow"
NETWORKS = {"sigmoid": {"activation": "sigmoid"}, "relu": {"activation": "relu"},
            "relu + batch norm": {"activation": "relu", "batch_norm": True}}


@dataclass(frozen=True)
class VanishingSettings:
    train_size: int
    epochs: int
    every: int
    depth: int = 8
    lr: float = 0.05


PROFILE_SETTINGS = {"quick": VanishingSettings(train_size=2000, epochs=1, every=2),
                    "default": VanishingSettings(train_size=20000, epochs=2, every=4)}
PROFILE_SETTINGS["full"] = PROFILE_SETTINGS["default"]


def settings_for(profile: str) -> VanishingSettings:
    return by_profile(PROFILE_SETTINGS, profile)


def vanishing_runs(dataset: Dataset, settings: VanishingSettings, seed: int = 0) -> dict[str, tuple]:
    """Train a deep sigmoid MLP, a ReLU one and a batch-normed ReLU one, recorded; label -> (TrainResult, history)."""
    train, val = train_val_split(dataset.train, seed=0)
    train, val = train.subset(torch.arange(settings.train_size)), val.subset(torch.arange(2000))
    config = TrainConfig(model="deep_mlp", optimizer="momentum", lr=settings.lr, epochs=settings.epochs,
                         seed=seed, channels_last=False, progress=False)
    runs = {}
    for label, kwargs in NETWORKS.items():
        torch.manual_seed(seed)
        model = deep_mlp(depth=settings.depth, **kwargs)
        runs[label] = record_run(config, train, val, every=settings.every, model=model)
    return runs


def _vanishing(ctx: Context) -> dict[str, RecorderHistory]:
    runs = ctx.memo("vanishing", lambda: vanishing_runs(ctx.dataset("mnist"), settings_for(ctx.profile), ctx.seed))
    return {label: history for label, (_, history) in runs.items()}


@recipe("grads_gif", "GIF: gradient distributions, last layer first", NOTEBOOK)
def grads_gif(ctx: Context):
    return histogram_frames(recorded_history(ctx), "grads")


@recipe("grads_flow", "mean and max |gradient| per layer over training", NOTEBOOK)
def grads_flow(ctx: Context):
    return plots.plot_gradient_flow(recorded_history(ctx))


@recipe("grads_vanishing", "mean |gradient| per layer of deep sigmoid, ReLU and ReLU+BN MLPs", NOTEBOOK)
def grads_vanishing(ctx: Context):
    return plots.plot_gradient_by_depth(_vanishing(ctx))
