import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from matplotlib.figure import Figure

from mnist_explore import plots, stats
from mnist_explore.errors import UserError


@pytest.fixture(scope="module")
def small(mnist):
    return mnist.train.X[:2000], mnist.train.y[:2000]


def calls(X, y):
    return {
        "sample_grid": lambda ax: plots.plot_sample_grid(X, y, n=25, ax=ax),
        "class_counts": lambda ax: plots.plot_class_counts(stats.class_counts(y), stats.class_counts(y[:500]), ax=ax),
        "class_means": lambda ax: plots.plot_class_means(stats.class_means(X, y), ax=ax),
        "pixel_histograms": lambda ax: plots.plot_pixel_histograms(stats.pixel_histograms(X, y), ax=ax),
        "mean_intensity": lambda ax: plots.plot_mean_intensity(stats.class_mean_intensity(X, y), ax=ax),
        "pixel_std": lambda ax: plots.plot_pixel_std(stats.pixel_std(X), ax=ax),
        "intensity_fractions": lambda ax: plots.plot_intensity_fractions(stats.intensity_fractions(X, y), ax=ax),
    }


@pytest.mark.parametrize("name", list(calls(None, None)))
def test_each_plot_returns_a_titled_figure_and_respects_ax(small, name):
    draw = calls(*small)[name]
    fig = draw(None)
    assert isinstance(fig, Figure) and fig.axes[0].get_title()
    plt.close(fig)
    fig, ax = plt.subplots()
    assert draw(ax) is fig and ax.get_title()
    plt.close(fig)


def test_mosaic_places_each_image():
    images = np.arange(3 * 2 * 2, dtype=float).reshape(3, 2, 2)
    out = plots.mosaic(images, ncols=2, pad=1)
    assert out.shape == (5, 5)
    np.testing.assert_array_equal(out[3:5, 0:2], images[2])
    assert np.isnan(out[3:5, 3:5]).all()


def test_sample_grid_refuses_more_images_than_given(small):
    with pytest.raises(UserError, match="n must be between 1 and"):
        plots.plot_sample_grid(small[0][:10], small[1][:10], n=25)


def test_histogram_bin_width_must_divide_256(small):
    with pytest.raises(UserError, match="bin_width must divide 256"):
        plots.plot_pixel_histograms(torch.ones(10, 256), bin_width=7)


def test_training_plots_return_figures_and_respect_ax(small):
    from mnist_explore.train import History

    X, y = small
    histories = {"a": [History({}, epochs=[{"val_acc": 0.9 + i / 100, "epoch": i} for i in range(3)]) for _ in range(2)]}
    probs = torch.softmax(torch.randn(50, 10, generator=torch.Generator().manual_seed(0)), dim=1)
    draws = [
        lambda ax: plots.plot_augmentations(X[0].float() / 255, X[1:16].float() / 255, ax=ax),
        lambda ax: plots.plot_learning_curves(histories, "val_acc", ax=ax),
        lambda ax: plots.plot_confusion_matrix(torch.eye(10, dtype=torch.long) * 5 + 1, ax=ax),
        lambda ax: plots.plot_misclassified(X[:5], y[:5], probs[:5].argmax(1), probs[:5].max(1).values, ax=ax),
    ]
    for draw in draws:
        fig = draw(None)
        assert isinstance(fig, Figure) and fig.axes[0].get_title()
        plt.close(fig)
        fig, ax = plt.subplots()
        assert draw(ax) is fig
        plt.close(fig)


def test_training_plots_refuse_bad_input(small):
    with pytest.raises(UserError, match="Unknown metric 'acc'"):
        plots.plot_learning_curves({}, "acc")
    with pytest.raises(UserError, match="no misclassified images"):
        plots.plot_misclassified(small[0][:0], [], [], [])
