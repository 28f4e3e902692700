"""Recipes for notebook 10's figures: the NumPy network against its PyTorch twin."""
from __future__ import annotations

from .. import numpy_mlp, plots
from ..figures import Context, recipe
from ..studies import numpy_from_scratch

NOTEBOOK = "10_numpy_from_scratch"


def _study(ctx: Context) -> numpy_from_scratch.Study:
    return ctx.study(numpy_from_scratch)


@recipe("scratch_learning_curves", "validation accuracy per epoch, NumPy against PyTorch", NOTEBOOK)
def scratch_learning_curves(ctx: Context):
    study = _study(ctx)
    fig = plots.plot_learning_curves({"NumPy": [r["history"] for r in study.numpy_runs],
                                      "PyTorch twin": [r["history"] for r in study.torch_runs]})
    fig.axes[0].set_title("784-512-10 network: NumPy from scratch and its PyTorch twin\n"
                          "(validation accuracy, mean ± std over seeds)")
    return fig


@recipe("scratch_hidden_weights", "input weights of 16 hidden units as 28x28 images", NOTEBOOK)
def scratch_hidden_weights(ctx: Context):
    return plots.plot_weight_images(_study(ctx).params["W1"], n=16)


@recipe("scratch_confusion", "the NumPy network's confusion matrix on the test set", NOTEBOOK)
def scratch_confusion(ctx: Context):
    study = _study(ctx)
    y_test = ctx.dataset("mnist").test.y.cpu().numpy()
    fig = plots.plot_confusion_matrix(numpy_mlp.confusion_matrix(y_test, study.test_pred))
    fig.axes[0].set_title(f"NumPy network: {fig.axes[0].get_title()}")
    return fig


@recipe("scratch_backward_cost", "time and memory of the Jacobian and short backward passes", NOTEBOOK)
def scratch_backward_cost(ctx: Context):
    return plots.plot_backward_costs(_study(ctx).costs)
