"""Recipes for notebook 09: transfer from MNIST models to digits from elsewhere, to unseen digits, to clothing."""
from __future__ import annotations

from .. import plots
from ..figures import Context, recipe
from ..studies import transfer

NOTEBOOK = "09_transfer_learning"


def _study(ctx: Context) -> transfer.TransferStudy:
    return ctx.study(transfer)


@recipe("transfer_curves", "accuracy against labels per class: scratch, probe, last block, everything", NOTEBOOK)
def transfer_curves(ctx: Context):
    return plots.plot_transfer_curves(_study(ctx).curves, transfer.TITLES)


@recipe("transfer_features", "t-SNE of scikit-learn's digits: raw pixels vs frozen MNIST features", NOTEBOOK)
def transfer_features(ctx: Context):
    s = _study(ctx)
    fig = plots.plot_maps(s.digit_maps, s.digits.y)
    fig.suptitle(f"scikit-learn's {len(s.digits):,} digits: before and after an MNIST network (t-SNE)")
    return fig


@recipe("transfer_layer_change", "how far each layer moves when fine-tuning everything", NOTEBOOK)
def transfer_layer_change(ctx: Context):
    return plots.plot_layer_change(_study(ctx).layer_changes)
