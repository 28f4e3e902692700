"""Recipes for notebook 05: second_cnn trained with RMSprop (the walkthrough's setting), recorded by hooks."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import plots
from ..animate import histogram_frames
from ..data import train_val_split
from ..figures import Context, recipe
from ..hooks import RecorderHistory, record_run
from ..runtime import by_profile
from ..train import TrainConfig

NOTEBOOK = "05_weight_distributions"
FRAMES = 100  # at least this many recorded steps per run, for the GIFs


@dataclass(frozen=True)
class RecordingSettings:
    train_size: int | None  # None: all 55,000
    epochs: int
    lr: float = 1e-3
    batch_size: int = 128

    def every(self, n_train: int) -> int:
        """Record often enough for ``FRAMES`` frames over the whole run."""
        steps = -(-n_train // self.batch_size) * self.epochs
        return max(1, steps // FRAMES)


PROFILE_SETTINGS = {
    "quick": RecordingSettings(train_size=3000, epochs=1),
    "default": RecordingSettings(train_size=None, epochs=5),
}
PROFILE_SETTINGS["full"] = PROFILE_SETTINGS["default"]


def settings_for(profile: str) -> RecordingSettings:
    return by_profile(PROFILE_SETTINGS, profile)


def recorded_rmsprop_run(dataset, settings: RecordingSettings, seed: int = 0):
    """second_cnn with RMSprop, recorded ~100 times; returns (TrainResult, RecorderHistory)."""
    train, val = train_val_split(dataset.train, seed=0)
    if settings.train_size is not None:
        train = train.subset(torch.arange(settings.train_size))
    config = TrainConfig(model="second_cnn", optimizer="rmsprop", lr=settings.lr, epochs=settings.epochs,
                         batch_size=settings.batch_size, seed=seed, progress=False)
    return record_run(config, train, val, every=settings.every(len(train)))


def recorded_history(ctx: Context) -> RecorderHistory:
    """The recorded RMSprop run of this context, shared by notebooks 05 and 06's recipes."""
    return ctx.memo("rmsprop_recording",
                    lambda: recorded_rmsprop_run(ctx.dataset("mnist"), settings_for(ctx.profile), ctx.seed)[1])


@recipe("weights_gif", "GIF: second_cnn's weight distributions through RMSprop training", NOTEBOOK)
def weights_gif(ctx: Context):
    return histogram_frames(recorded_history(ctx), "weights")


@recipe("acts_gif", "GIF: activation distributions of each layer", NOTEBOOK)
def acts_gif(ctx: Context):
    return histogram_frames(recorded_history(ctx), "acts")


@recipe("weights_heatmap", "each layer's weight histogram over training, as a heatmap", NOTEBOOK)
def weights_heatmap(ctx: Context):
    return plots.plot_histogram_heatmaps(recorded_history(ctx), "weights")


@recipe("weights_shape", "KS distance to normal and uniform fits, and kurtosis, over training", NOTEBOOK)
def weights_shape(ctx: Context):
    return plots.plot_shape_stats(recorded_history(ctx))
