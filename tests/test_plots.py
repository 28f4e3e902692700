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


def _by_size(accs):
    return {"size": list(range(1, len(accs) + 1)), "mean": accs, "min": accs, "max": accs, "in_seed_order": accs}


def test_accuracy_vs_size_draws_only_the_published_results_near_ours():
    near = plots.plot_accuracy_vs_size(_by_size([0.9950, 0.9958, 0.9961]), 10_000)
    far = plots.plot_accuracy_vs_size(_by_size([0.90, 0.91, 0.92]), 2_000)
    dotted = [sum(line.get_linestyle() == ":" for line in fig.axes[0].get_lines()) for fig in (near, far)]
    assert dotted == [len(plots.ANCHORS), 0]
    assert any("not drawn" in t.get_text() for t in far.axes[0].texts)
    plt.close("all")


def test_best_model_galleries_refuse_empty_input_and_label_every_digit(small):
    X, y = small
    with pytest.raises(UserError, match="misclassifies no test digit"):
        plots.plot_ensemble_errors(X[:0], y[:0], y[:0], torch.zeros(3, 0, dtype=torch.long))
    with pytest.raises(UserError, match="disputes no test label"):
        plots.plot_disputed_labels(X[:0], y[:0], y[:0], torch.zeros(0), torch.zeros(0))
    votes = torch.stack([y[:7], (y[:7] + 1) % 10, (y[:7] + 1) % 10])
    fig = plots.plot_ensemble_errors(X[:7], y[:7], (y[:7] + 1) % 10, votes)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert f"{int(y[0])}→{int((y[0] + 1) % 10)}" in texts
    assert f"{int((y[0] + 1) % 10)}×2 {int(y[0])}×1" in texts
    wrong = (y[:7] + 1) % 10
    votes = torch.stack([y[:7], torch.where(torch.arange(7) < 4, wrong, y[:7]), torch.where(torch.arange(7) < 2, wrong, y[:7])])
    fig = plots.plot_hard_digits((votes != y[:7]).sum(0), 3, X[:7], y[:7], votes)
    titles = [ax.get_title() for sub in fig.subfigs for ax in sub.axes]
    assert "3 digits are right for every member" in titles[0]
    assert any(t.startswith("wrong for exactly one") and ": 2 digits" in t for t in titles)
    plt.close("all")
