"""Recipes for the data-statistics figures of notebook 01 (see ``figures.recipe``)."""
from __future__ import annotations

import torch

from .. import plots, stats
from ..data import batches
from ..figures import Context, recipe

NOTEBOOK = "01_data_statistics"


def _train(ctx: Context):
    return ctx.dataset("mnist").train


@recipe("data_samples", "25 images from a shuffled batch of 32, with labels", NOTEBOOK)
def data_samples(ctx: Context):
    X, y = next(batches(_train(ctx), 32, generator=torch.Generator().manual_seed(ctx.seed)))
    return plots.plot_sample_grid(X, y, n=25, title="25 images from a shuffled training batch of 32")


@recipe("data_class_counts", "how many images of each class, train and test", NOTEBOOK)
def data_class_counts(ctx: Context):
    ds = ctx.dataset("mnist")
    return plots.plot_class_counts(stats.class_counts(ds.train.y), stats.class_counts(ds.test.y))


def _class_means(ctx: Context):
    train = _train(ctx)
    return ctx.memo("class_means", lambda: stats.class_means(train.X, train.y))


def _pixel_histograms(ctx: Context):
    train = _train(ctx)
    return ctx.memo("pixel_histograms", lambda: stats.pixel_histograms(train.X, train.y))


@recipe("data_class_means", "the ten class-mean images on one colour scale", NOTEBOOK)
def data_class_means(ctx: Context):
    return plots.plot_class_means(_class_means(ctx))


@recipe("data_pixel_histograms", "per-class pixel-intensity histograms, log y", NOTEBOOK)
def data_pixel_histograms(ctx: Context):
    return plots.plot_pixel_histograms(_pixel_histograms(ctx))


@recipe("data_mean_intensity", "mean pixel intensity per class", NOTEBOOK)
def data_mean_intensity(ctx: Context):
    return plots.plot_mean_intensity(_class_means(ctx).mean(dim=(1, 2)))


@recipe("data_pixel_std", "per-pixel standard deviation over the training images", NOTEBOOK)
def data_pixel_std(ctx: Context):
    return plots.plot_pixel_std(stats.pixel_std(_train(ctx).X))


@recipe("data_intensity_fractions", "per class, pixels exactly 0, in between, exactly 1", NOTEBOOK)
def data_intensity_fractions(ctx: Context):
    hist = _pixel_histograms(ctx).double()
    return plots.plot_intensity_fractions(stats.fractions_from_histograms(hist))
