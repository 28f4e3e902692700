"""Weights, activations and gradients through training (notebooks 05 and 06): second_cnn trained with
RMSprop, the walkthrough's setting, with the hooks recorder attached about ``FRAMES`` times."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from ..data import Dataset, train_val_split
from ..hooks import RecorderHistory, record_run
from ..runtime import get_device
from ..train import TrainConfig, TrainResult
from .profiles import StudySettings

FRAMES = 100  # at least this many recorded steps per run, for the GIFs


@dataclass(frozen=True)
class Settings(StudySettings):
    PROFILES = {"quick": dict(train_size=3000, epochs=1)}

    train_size: int | None = None  # None: all 55,000
    epochs: int = 5
    lr: float = 1e-3
    batch_size: int = 128

    def every(self, n_train: int) -> int:
        """Record often enough for ``FRAMES`` frames over the whole run."""
        steps = -(-n_train // self.batch_size) * self.epochs
        return max(1, steps // FRAMES)


@dataclass
class RecordedRun:
    trained: TrainResult
    history: RecorderHistory


def run(settings: Settings, data: Dataset, *, device: torch.device | str | None = None, seed: int = 0,
        progress: bool = True) -> RecordedRun:
    """second_cnn with RMSprop on ``device`` (None: ``get_device()``), recorded about ``FRAMES`` times."""
    train, val = train_val_split(data.to(get_device(device)).train, seed=0, train_size=settings.train_size)
    config = TrainConfig(model="second_cnn", optimizer="rmsprop", lr=settings.lr, epochs=settings.epochs,
                         batch_size=settings.batch_size, seed=seed, progress=progress)
    return RecordedRun(*record_run(config, train, val, every=settings.every(len(train))))
