import numpy as np
import pytest
import torch

from mnist_explore import stats


@pytest.fixture(scope="module")
def sample():
    g = torch.Generator().manual_seed(0)
    X = torch.randint(0, 256, (500, 6, 5), generator=g, dtype=torch.uint8)
    X[::7] = 0  # plenty of exact zeros and 255s, as in MNIST
    X[::11, 2:4] = 255
    y = torch.randint(0, 10, (500,), generator=g)
    return X, y


def test_class_counts_match_numpy(sample):
    _, y = sample
    assert stats.class_counts(y).numpy().tolist() == np.bincount(y.numpy(), minlength=10).tolist()


def test_class_means_match_a_loop(sample):
    X, y = sample
    expected = np.stack([X.numpy()[y.numpy() == k].mean(axis=0) / 255 for k in range(10)])
    np.testing.assert_allclose(stats.class_means(X, y).numpy(), expected, rtol=1e-6)
    np.testing.assert_allclose(stats.class_mean_intensity(X, y).numpy(), expected.mean(axis=(1, 2)), rtol=1e-6)


def test_pixel_histograms_match_numpy_histogram(sample):
    X, y = sample
    hist = stats.pixel_histograms(X, y)
    for k in range(10):
        expected, _ = np.histogram(X.numpy()[y.numpy() == k], bins=256, range=(0, 256))
        assert hist[k].numpy().tolist() == expected.tolist()


def test_pixel_std_matches_numpy(sample):
    X, _ = sample
    np.testing.assert_allclose(stats.pixel_std(X).numpy(), (X.numpy() / 255).std(axis=0, ddof=1), rtol=1e-5)


def test_intensity_fractions_count_exact_zeros_and_ones(sample):
    X, y = sample
    fractions = stats.intensity_fractions(X, y).numpy()
    np.testing.assert_allclose(fractions.sum(axis=1), 1)
    for k in range(10):
        pixels = X.numpy()[y.numpy() == k].ravel()
        assert fractions[k, 0] == pytest.approx(np.mean(pixels == 0))
        assert fractions[k, 2] == pytest.approx(np.mean(pixels == 255))


def test_on_mnist_class_one_uses_the_least_ink(mnist):
    intensity = stats.class_mean_intensity(mnist.train.X, mnist.train.y)
    assert int(intensity.argmin()) == 1 and int(intensity.argmax()) == 0
