"""What MNIST looks like (notebook 01): a shuffled batch, class balance, class means, pixel statistics."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import stats
from ..data import Dataset, batches
from ..runtime import get_device
from .profiles import StudySettings


@dataclass(frozen=True)
class Settings(StudySettings):
    """The statistics are of all 70,000 images in every profile; only the sample batch is sized here."""

    batch_size: int = 32  # the shuffled batch the sample grid is drawn from


@dataclass
class DataStatistics:
    batch_X: torch.Tensor  # (batch_size, 28, 28) uint8: the first shuffled training batch
    batch_y: torch.Tensor
    train_counts: torch.Tensor  # images per class
    test_counts: torch.Tensor
    class_means: torch.Tensor  # (10, 28, 28) in [0, 1]
    pixel_histograms: torch.Tensor  # (10, 256): per class, how many pixels take each value 0-255
    pixel_std: torch.Tensor  # (28, 28): per-pixel standard deviation over the training images

    @property
    def intensity_fractions(self) -> torch.Tensor:
        """Per class, the fractions of pixels exactly 0, in between and exactly 255."""
        return stats.fractions_from_histograms(self.pixel_histograms.double())


def run(settings: Settings, data: Dataset, *, device: torch.device | str | None = None, seed: int = 0,
        progress: bool = True) -> DataStatistics:
    """Every statistic of the training set (and the test set's class counts), computed on ``device``.

    ``seed`` shuffles the sample batch; ``progress`` is accepted for a uniform signature (this takes seconds).
    """
    ds = data.to(get_device(device))
    train = ds.train
    X, y = next(batches(train, settings.batch_size, generator=torch.Generator().manual_seed(seed)))
    return DataStatistics(X, y, stats.class_counts(train.y), stats.class_counts(ds.test.y),
                          stats.class_means(train.X, train.y), stats.pixel_histograms(train.X, train.y),
                          stats.pixel_std(train.X))
