"""Recipes for notebook 01's figures: what MNIST looks like."""
from __future__ import annotations

from .. import plots
from ..figures import Context, recipe
from ..studies import data_statistics

NOTEBOOK = "01_data_statistics"


def _stats(ctx: Context) -> data_statistics.DataStatistics:
    return ctx.study(data_statistics)


@recipe("data_samples", "25 images from a shuffled batch of 32, with labels", NOTEBOOK)
def data_samples(ctx: Context):
    s = _stats(ctx)
    return plots.plot_sample_grid(s.batch_X, s.batch_y, n=25,
                                  title=f"25 images from a shuffled training batch of {len(s.batch_y)}")


@recipe("data_class_counts", "how many images of each class, train and test", NOTEBOOK)
def data_class_counts(ctx: Context):
    return plots.plot_class_counts(_stats(ctx).train_counts, _stats(ctx).test_counts)


@recipe("data_class_means", "the ten class-mean images on one colour scale", NOTEBOOK)
def data_class_means(ctx: Context):
    return plots.plot_class_means(_stats(ctx).class_means)


@recipe("data_pixel_histograms", "per-class pixel-intensity histograms, log y", NOTEBOOK)
def data_pixel_histograms(ctx: Context):
    return plots.plot_pixel_histograms(_stats(ctx).pixel_histograms)


@recipe("data_mean_intensity", "mean pixel intensity per class", NOTEBOOK)
def data_mean_intensity(ctx: Context):
    return plots.plot_mean_intensity(_stats(ctx).class_means.mean(dim=(1, 2)))


@recipe("data_pixel_std", "per-pixel standard deviation over the training images", NOTEBOOK)
def data_pixel_std(ctx: Context):
    return plots.plot_pixel_std(_stats(ctx).pixel_std)


@recipe("data_intensity_fractions", "per class, pixels exactly 0, in between, exactly 1", NOTEBOOK)
def data_intensity_fractions(ctx: Context):
    return plots.plot_intensity_fractions(_stats(ctx).intensity_fractions)
