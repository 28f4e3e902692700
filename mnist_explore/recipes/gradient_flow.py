"""Recipes for notebook 06: gradient flow in the recorded RMSprop run, and vanishing gradients in deep MLPs."""
from __future__ import annotations

from .. import plots
from ..animate import histogram_frames
from ..figures import Context, recipe
from ..studies import gradient_flow
from .weight_distributions import recorded_history

NOTEBOOK = "06_gradient_flow"


@recipe("grads_gif", "GIF: gradient distributions, last layer first", NOTEBOOK)
def grads_gif(ctx: Context):
    return histogram_frames(recorded_history(ctx), "grads")


@recipe("grads_flow", "mean and max |gradient| per layer over training", NOTEBOOK)
def grads_flow(ctx: Context):
    return plots.plot_gradient_flow(recorded_history(ctx))


@recipe("grads_vanishing", "mean |gradient| per layer of deep sigmoid, ReLU and ReLU+BN MLPs", NOTEBOOK)
def grads_vanishing(ctx: Context):
    return plots.plot_gradient_by_depth(ctx.study(gradient_flow).histories)
