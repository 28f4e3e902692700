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


def drawn_image(ax):
    """The data of the axes' one image (a grid of small multiples is one mosaic: one colour scale), NaN where blank."""
    assert len(ax.images) == 1
    return np.ma.filled(np.ma.masked_invalid(np.ma.asarray(ax.images[0].get_array(), dtype=float)), np.nan)


def tiles(ax, ncols, size=28, pad=2):
    """The images of a mosaic, in reading order."""
    data = drawn_image(ax)
    nrows = (data.shape[0] + pad) // (size + pad)
    assert data.shape == (nrows * (size + pad) - pad, ncols * (size + pad) - pad)
    return np.stack([data[r * (size + pad):r * (size + pad) + size, c * (size + pad):c * (size + pad) + size]
                     for r in range(nrows) for c in range(ncols)])


def bar_heights(ax):
    return np.array([p.get_height() for p in ax.patches])


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


def check_sample_grid(ax, X, y):
    np.testing.assert_allclose(tiles(ax, 5)[:25], X[:25] / 255)
    assert [t.get_text() for t in ax.texts] == [str(k) for k in y[:25]]
    assert ax.images[0].get_clim() == (0, 1)


def check_class_counts(ax, X, y):
    train, test = np.bincount(y, minlength=10), np.bincount(y[:500], minlength=10)
    np.testing.assert_allclose(bar_heights(ax), np.r_[100 * train / len(y), 100 * test / 500])  # shares in %
    centres = [p.get_x() + p.get_width() / 2 for p in ax.patches]
    np.testing.assert_allclose(centres, np.r_[np.arange(10) - 0.2, np.arange(10) + 0.2])
    assert [list(line.get_ydata()) for line in ax.lines] == [[10, 10]]  # the uniform share
    labels = [t.get_text() for t in ax.texts]
    assert labels == [f"{c:,}" for c in np.r_[train, test]]


def check_class_means(ax, X, y):
    means = np.stack([X[y == k].mean(axis=0) / 255 for k in range(10)])
    np.testing.assert_allclose(tiles(ax, 5), means, rtol=1e-5, atol=1e-7)
    assert ax.images[0].get_clim() == pytest.approx((0, means.max()))  # one scale for all ten
    assert len(ax.figure.axes) == 2  # and a colour bar


def check_pixel_histograms(ax, X, y):
    # 0 and 255 in bins of their own, the levels in between 8 at a time (the last bin takes the 6 left).
    edges = np.r_[0, np.arange(1, 255, 8), 255, 256]
    assert len(ax.lines) == 10
    for k, line in enumerate(ax.lines):
        counts, _ = np.histogram(X[y == k], bins=edges)
        reference = counts / counts.sum()
        reference[1:-1] *= 8 / np.diff(edges)[1:-1]  # per 8 levels: the shorter last group is scaled up
        np.testing.assert_allclose(line.get_ydata(), reference, rtol=1e-12)
        inner = edges[1:-1]  # a pooled bin's x is the middle of its levels
        np.testing.assert_allclose(line.get_xdata(), np.r_[0, (inner[:-1] + inner[1:] - 1) / 2 / 255, 1])
    assert ax.get_yscale() == "log"


def check_mean_intensity(ax, X, y):
    means = np.array([X[y == k].mean() / 255 for k in range(10)])
    np.testing.assert_allclose(bar_heights(ax), means, rtol=1e-5)
    assert [bool(p.get_hatch()) for p in ax.patches] == list(np.arange(10) == means.argmin())
    assert ax.get_title().endswith(f"{means.argmin()} uses the least ink")


def check_pixel_std(ax, X, y):
    np.testing.assert_allclose(drawn_image(ax), (X / 255).std(axis=0, ddof=1), rtol=1e-5, atol=1e-7)
    assert ax.images[0].get_clim()[0] == 0


def check_intensity_fractions(ax, X, y):
    per_class = [X[y == k] for k in range(10)]
    expected = np.array([[(c == 0).mean(), ((c > 0) & (c < 255)).mean(), (c == 255).mean()] for c in per_class])
    widths = np.array([p.get_width() for p in ax.patches]).reshape(3, 10).T
    lefts = np.array([p.get_x() for p in ax.patches]).reshape(3, 10).T
    np.testing.assert_allclose(widths, expected, rtol=1e-12)
    np.testing.assert_allclose(lefts, np.c_[np.zeros(10), np.cumsum(expected, axis=1)[:, :2]], rtol=1e-12, atol=1e-15)
    assert [p.get_y() + p.get_height() / 2 for p in ax.patches[:10]] == list(range(10))  # one row per class


@pytest.mark.parametrize("name", list(calls(None, None)))
def test_each_plot_draws_its_data_in_a_titled_figure_and_respects_ax(small, name):
    draw = calls(*small)[name]
    check = globals()[f"check_{name}"]
    X, y = (t.numpy() for t in small)
    fig = draw(None)
    assert isinstance(fig, Figure) and fig.axes[0].get_title()
    check(fig.axes[0], X, y)
    plt.close(fig)
    fig, ax = plt.subplots()
    assert draw(ax) is fig and ax.get_title()
    check(ax, X, y)
    plt.close(fig)


def test_mosaic_places_each_image():
    images = np.arange(3 * 2 * 2, dtype=float).reshape(3, 2, 2)
    out = plots.mosaic(images, ncols=2, pad=1)
    assert out.shape == (5, 5)
    np.testing.assert_array_equal(out[0:2, 0:2], images[0])
    np.testing.assert_array_equal(out[0:2, 3:5], images[1])
    np.testing.assert_array_equal(out[3:5, 0:2], images[2])
    assert np.isnan(out[3:5, 3:5]).all() and np.isnan(out[2]).all() and np.isnan(out[:, 2]).all()


def test_sample_grid_draws_every_image_it_is_given_and_no_more(small):
    X, y = small
    with pytest.raises(UserError, match="n must be between 1 and"):
        plots.plot_sample_grid(X[:10], y[:10], n=25)
    fig = plots.plot_sample_grid(X[:10], y[:10], n=10)
    ax = fig.axes[0]
    np.testing.assert_allclose(tiles(ax, 5), X[:10].numpy() / 255)  # two full rows of five
    assert [t.get_text() for t in ax.texts] == [str(int(k)) for k in y[:10]]
    assert ax.get_title() == "10 training images and their labels"
    plt.close(fig)


def test_histogram_bins_pool_the_levels_between_0_and_255(small):
    with pytest.raises(UserError, match="bin_width must divide 256"):
        plots.plot_pixel_histograms(torch.ones(10, 256), bin_width=7)
    # Two classes of made-up pixel values; the reference is numpy's histogram of the values themselves.
    g = np.random.default_rng(0)
    values = [g.integers(0, 256, 500), np.r_[np.zeros(300, int), np.full(50, 255), g.integers(1, 255, 150)]]
    hist = torch.tensor(np.stack([np.bincount(v, minlength=256) for v in values]))
    fig = plots.plot_pixel_histograms(hist, classes=["a", "b"], bin_width=4)
    edges = np.r_[0, np.arange(1, 255, 4), 255, 256]
    for line, v in zip(fig.axes[0].lines, values, strict=True):
        reference = np.histogram(v, bins=edges)[0] / len(v)
        reference[1:-1] *= 4 / np.diff(edges)[1:-1]
        np.testing.assert_allclose(line.get_ydata(), reference, rtol=1e-12)
    assert [t.get_text() for t in fig.axes[0].get_legend().get_texts()] == ["a", "b"]
    plt.close(fig)


def test_histogram_bins_between_0_and_255_all_hold_bin_width_levels():
    flat = torch.tensor(np.r_[0, np.ones(254, int), 0]).repeat(10, 1)  # every level from 1 to 254 once
    line = plots.plot_pixel_histograms(flat, bin_width=8).axes[0].lines[0]
    plt.close("all")
    inner = line.get_ydata()[1:-1]
    np.testing.assert_allclose(inner, np.full_like(inner, 8 / 254))


def check_augmentations(ax, X, y, probs, histories):
    np.testing.assert_allclose(tiles(ax, 4), X[:16] / 255, rtol=1e-6)  # the original first, then 15 versions
    assert ax.texts[0].get_text() == "original" and ax.images[0].get_clim() == (0, 1)


def check_learning_curves(ax, X, y, probs, histories):
    values = np.array([[e["val_acc"] for e in h.epochs] for h in histories["a"]])
    (line,) = ax.lines
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(line.get_ydata(), values.mean(axis=0))
    band = ax.collections[0].get_paths()[0].vertices[:, 1]  # mean ± std over the two seeds
    std = values.std(axis=0, ddof=1)
    assert band.min() == pytest.approx((values.mean(axis=0) - std).min())
    assert band.max() == pytest.approx((values.mean(axis=0) + std).max())
    assert line.get_label() == "a (n=2)" and ax.get_ylabel() == "validation accuracy"


def confusion(n=10):
    """Counts whose off-diagonal cells all differ (so a transposed matrix shows), and more on the diagonal."""
    return torch.arange(n * n).view(n, n) + 100 * torch.eye(n, dtype=torch.long)


def check_confusion_matrix(ax, X, y, probs, histories):
    cm = confusion().numpy()
    shown = drawn_image(ax)
    off = ~np.eye(10, dtype=bool)
    np.testing.assert_array_equal(shown[off], cm[off])  # rows are the true class, columns the predicted one
    assert np.isnan(np.diag(shown)).all()  # correct predictions are not coloured
    texts = {(t.get_position(), t.get_text()) for t in ax.texts}
    assert texts == {((j, i), str(cm[i, j])) for i in range(10) for j in range(10)}
    assert ax.get_title() == f"Confusion matrix: {cm.sum() - np.trace(cm)} errors in {cm.sum():,} images"
    assert ax.images[0].norm.vmax == cm[off].max()


def check_misclassified(ax, X, y, probs, histories):
    np.testing.assert_allclose(tiles(ax, 8)[:5], X[:5] / 255)
    confidence, predicted = probs[:5].max(1)
    assert [t.get_text() for t in ax.texts] == [f"{int(t)}→{int(p)} {float(c):.0%}"
                                                for t, p, c in zip(y[:5], predicted, confidence)]


def test_training_plots_draw_their_data_and_respect_ax(small):
    from mnist_explore.train import History

    X, y = small
    # Two seeds whose validation accuracies differ by 0.01 at every epoch.
    histories = {"a": [History({}, epochs=[{"val_acc": 0.9 + i / 100 + s / 100, "epoch": i} for i in range(3)])
                       for s in range(2)]}
    probs = torch.softmax(torch.randn(50, 10, generator=torch.Generator().manual_seed(0)), dim=1)
    draws = {
        check_augmentations: lambda ax: plots.plot_augmentations(X[0].float() / 255, X[1:16].float() / 255, ax=ax),
        check_learning_curves: lambda ax: plots.plot_learning_curves(histories, "val_acc", ax=ax),
        check_confusion_matrix: lambda ax: plots.plot_confusion_matrix(confusion(), ax=ax),
        check_misclassified: lambda ax: plots.plot_misclassified(X[:5], y[:5], probs[:5].argmax(1),
                                                                 probs[:5].max(1).values, ax=ax),
    }
    for check, draw in draws.items():
        fig = draw(None)
        assert isinstance(fig, Figure) and fig.axes[0].get_title()
        check(fig.axes[0], X.numpy(), y.numpy(), probs, histories)
        plt.close(fig)
        fig, ax = plt.subplots()
        assert draw(ax) is fig
        check(ax, X.numpy(), y.numpy(), probs, histories)
        plt.close(fig)


def test_training_plots_refuse_bad_input_and_draw_one_seed_without_a_band(small):
    from mnist_explore.train import History

    with pytest.raises(UserError, match="Unknown metric 'acc'"):
        plots.plot_learning_curves({}, "acc")
    with pytest.raises(UserError, match="no misclassified images"):
        plots.plot_misclassified(small[0][:0], [], [], [])
    losses = [0.5, 0.3, 0.25, 0.2]
    ax = plots.plot_learning_curves({"b": History({}, epochs=[{"val_loss": v} for v in losses])}, "val_loss").axes[0]
    (line,) = ax.lines
    np.testing.assert_array_equal(line.get_ydata(), losses)
    np.testing.assert_array_equal(line.get_xdata(), [1, 2, 3, 4])
    assert not ax.collections and line.get_label() == "b (n=1)"  # one seed: no ± std band
    assert ax.get_ylabel() == "validation loss (cross-entropy)" and ax.get_xlabel() == "epoch"
    plt.close("all")


def _by_size(accs, spread=0.001):
    """Accuracies by ensemble size: a mean, a range of ±spread around it, and the seed order a little below."""
    accs = np.asarray(accs)
    return {"size": list(range(1, len(accs) + 1)), "mean": accs, "min": accs - spread, "max": accs + spread,
            "in_seed_order": accs - spread / 2}


def test_accuracy_vs_size_draws_only_the_published_results_near_ours():
    accs = [0.9950, 0.9958, 0.9961]
    near = plots.plot_accuracy_vs_size(_by_size(accs), 10_000)
    some = plots.plot_accuracy_vs_size(_by_size([0.976, 0.978, 0.980]), 2_000)  # up to 98.1%: 99.55 is within 1.5
    far = plots.plot_accuracy_vs_size(_by_size([0.90, 0.91, 0.92]), 2_000)
    dotted = [[line.get_ydata()[0] for line in fig.axes[0].get_lines() if line.get_linestyle() == ":"]
              for fig in (near, some, far)]
    assert dotted == [list(plots.ANCHORS.values()), [99.55], []]
    texts = [[t.get_text() for t in fig.axes[0].texts] for fig in (some, far)]
    assert "published results above this range (99.64-99.91%) not drawn" in texts[0]
    assert "published results above this range (99.55-99.91%) not drawn" in texts[1]
    ax = near.axes[0]
    lines = {line.get_label(): line for line in ax.get_lines()}
    np.testing.assert_array_equal(lines["mean over orders"].get_xdata(), [1, 2, 3])
    np.testing.assert_allclose(lines["mean over orders"].get_ydata(), 100 * np.array(accs))  # in percent
    np.testing.assert_allclose(lines["members in seed order"].get_ydata(), 100 * (np.array(accs) - 0.0005))
    band = ax.collections[0].get_paths()[0].vertices[:, 1]  # the range over member orders
    assert band.min() == pytest.approx(100 * (accs[0] - 0.001)) and band.max() == pytest.approx(100 * (accs[-1] + 0.001))
    plt.close("all")


def test_best_model_galleries_refuse_empty_input_and_label_every_digit(small):
    X, y = small
    with pytest.raises(UserError, match="misclassifies no test digit"):
        plots.plot_ensemble_errors(X[:0], y[:0], y[:0], torch.zeros(3, 0, dtype=torch.long))
    with pytest.raises(UserError, match="disputes no test label"):
        plots.plot_disputed_labels(X[:0], y[:0], y[:0], torch.zeros(0), torch.zeros(0))
    votes = torch.stack([y[:7], (y[:7] + 1) % 10, (y[:7] + 1) % 10])
    faint = X[:7] // 2  # uint8 images are scaled by 255, not by their brightest pixel
    fig = plots.plot_ensemble_errors(faint, y[:7], (y[:7] + 1) % 10, votes)
    np.testing.assert_allclose(tiles(fig.axes[0], 7, pad=11), faint.numpy() / 255)
    texts = [t.get_text() for t in fig.axes[0].texts]
    assert f"{int(y[0])}→{int((y[0] + 1) % 10)}" in texts
    assert f"{int((y[0] + 1) % 10)}×2 {int(y[0])}×1" in texts
    wrong = (y[:7] + 1) % 10
    # Member 0 is always right, member 1 wrong on digits 0-3, member 2 on digits 0-1: wrong counts 2 2 1 1 0 0 0.
    votes = torch.stack([y[:7], torch.where(torch.arange(7) < 4, wrong, y[:7]), torch.where(torch.arange(7) < 2, wrong, y[:7])])
    fig = plots.plot_hard_digits((votes != y[:7]).sum(0), 3, X[:7], y[:7], votes)
    bars, all_wrong, one_wrong = [ax for sub in fig.subfigs for ax in sub.axes]
    np.testing.assert_array_equal(bar_heights(bars), [2, 2, 0])  # digits wrong for 1, 2 and 3 members
    np.testing.assert_array_equal([p.get_x() + p.get_width() / 2 for p in bars.patches], [1, 2, 3])
    assert "3 digits are right for every member" in bars.get_title()
    assert one_wrong.get_title().startswith("wrong for exactly one") and one_wrong.get_title().endswith(": 2 digits")
    np.testing.assert_allclose(tiles(one_wrong, 12)[:2], X[2:4].numpy() / 255)  # digits 2 and 3
    assert [t.get_text() for t in one_wrong.texts] == [f"{int(y[i])}, 1×{int(wrong[i])}" for i in (2, 3)]
    assert [t.get_text() for t in all_wrong.texts] == ["none"] and not all_wrong.images
    plt.close("all")
