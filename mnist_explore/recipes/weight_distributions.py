"""Recipes for notebook 05: second_cnn trained with RMSprop (the walkthrough's setting), recorded by hooks."""
from __future__ import annotations

from .. import plots
from ..animate import histogram_frames
from ..figures import Context, recipe
from ..hooks import RecorderHistory
from ..studies import weight_distributions

NOTEBOOK = "05_weight_distributions"


def recorded_history(ctx: Context) -> RecorderHistory:
    """The recorded RMSprop run of this context, shared by notebooks 05 and 06's recipes."""
    return ctx.study(weight_distributions).history


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
