"""Vanishing gradients (notebook 06): deep, narrow MLPs with sigmoid, ReLU and batch-normed ReLU, recorded.

Notebook 06's other half, the gradients of the recorded RMSprop run, comes from
:mod:`.weight_distributions`.
"""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..data import Dataset, train_val_split
from ..hooks import RecorderHistory, record_run
from ..models import deep_mlp, init_model
from ..runtime import get_device
from ..train import TrainConfig, TrainResult
from .profiles import StudySettings

NETWORKS = {"sigmoid": {"activation": "sigmoid"}, "relu": {"activation": "relu"},
            "relu + batch norm": {"activation": "relu", "batch_norm": True}}


@dataclass(frozen=True)
class Settings(StudySettings):
    PROFILES = {"quick": dict(train_size=2000, epochs=1, every=2)}

    train_size: int = 20000
    epochs: int = 2
    every: int = 4  # record every this many steps
    depth: int = 8
    lr: float = 0.05


@dataclass
class VanishingRuns:
    trained: dict[str, TrainResult]  # by network label
    histories: dict[str, RecorderHistory]


def run(settings: Settings, data: Dataset, *, device: torch.device | str | None = None, seed: int = 0,
        progress: bool = True) -> VanishingRuns:
    """Train each of ``NETWORKS`` (SGD with momentum 0.9) with the recorder attached, from seed ``seed``."""
    device = get_device(device)
    train, val = train_val_split(data.to(device).train, seed=0, train_size=settings.train_size)
    val = val.subset(torch.arange(2000))
    config = TrainConfig(model="deep_mlp", optimizer="sgd_momentum", lr=settings.lr, epochs=settings.epochs,
                         seed=seed, channels_last=False, progress=progress)
    result = VanishingRuns({}, {})
    for label, kwargs in NETWORKS.items():
        model = init_model(lambda: deep_mlp(depth=settings.depth, **kwargs), seed, device)
        result.trained[label], result.histories[label] = record_run(config, train, val, every=settings.every,
                                                                    model=model)
    return result
