"""The DCGAN, its conditional variant, checkpoints, and the quality measures."""
from __future__ import annotations

import numpy as np
import pytest
import torch
from scipy import linalg

from mnist_explore import fidelity, gan
from mnist_explore.data import train_val_split
from mnist_explore.errors import UserError


@pytest.mark.parametrize("conditional", [False, True])
def test_shapes_and_ranges(conditional):
    G, D = gan.Generator(16, 8, conditional), gan.Discriminator(8, conditional)
    y = torch.arange(5) if conditional else None
    images = G(torch.randn(5, 16), y)
    assert images.shape == (5, 1, 28, 28) and images.min() >= -1 and images.max() <= 1
    assert D(images, y).shape == (5,)
    assert gan.to_uint8(images).dtype == torch.uint8 and gan.to_uint8(images).shape == (5, 28, 28)


def test_uint8_round_trip():
    X = torch.randint(0, 256, (4, 28, 28), dtype=torch.uint8)
    assert torch.equal(gan.to_uint8(gan.to_gan_range(X)), X)


def test_one_step_changes_both_networks():
    torch.manual_seed(0)
    G, D = gan.Generator(16, 8, True), gan.Discriminator(8, True)
    opt_g, opt_d = torch.optim.Adam(G.parameters(), 1e-3), torch.optim.Adam(D.parameters(), 1e-3)
    before = [p.detach().clone() for p in [*G.parameters(), *D.parameters()]]
    gan._step(G, D, opt_g, opt_d, torch.rand(8, 1, 28, 28) * 2 - 1, torch.arange(8), 16)
    changed_g = [not torch.equal(b, p) for b, p in zip(before, G.parameters())]
    changed_d = [not torch.equal(b, p) for b, p in zip(before[len(changed_g):], D.parameters())]
    assert all(changed_g) and all(changed_d)


@pytest.mark.parametrize("label", [10, -1])
def test_bad_class_label_is_one_clear_sentence(label):
    G = gan.Generator(16, 8, conditional=True)
    with pytest.raises(UserError, match=f"Class label {label} is out of range: .* digits 0-9"):
        G(torch.randn(1, 16), torch.tensor([label]))
    with pytest.raises(UserError, match="needs a class label"):
        G(torch.randn(1, 16))
    with pytest.raises(UserError, match="must be integers"):
        gan.check_labels(torch.tensor([1.5]))


def test_training_is_seeded_and_checkpoints(mnist, tmp_path):
    config = gan.GANConfig(conditional=True, epochs=1, batch_size=32, train_size=128, width=8, latent=16, snapshots=3,
                           progress=False)
    a = gan.train_gan(config, mnist.train, checkpoint=tmp_path / "gan.pt", log_every=2)
    b = gan.train_gan(config, mnist.train, log_every=2)
    assert a.history == b.history and len(a.history["step"]) == 2
    assert a.snapshot_steps == [0, 1, 3, 4] and a.snapshots[0].shape == (64, 28, 28)
    restored = gan.load_checkpoint(tmp_path / "gan.pt")
    y = torch.arange(10)
    assert torch.equal(restored.sample(10, y), a.sample(10, y))
    with pytest.raises(UserError, match="No GAN checkpoint"):
        gan.load_checkpoint(tmp_path / "missing.pt")


def test_slerp_ends_at_both_latents():
    z0, z1 = torch.randn(16), torch.randn(16)
    path = gan.slerp(z0, z1, 5)
    torch.testing.assert_close(path[0], z0)
    torch.testing.assert_close(path[-1], z1)


def test_frechet_distance_matches_scipy():
    g = np.random.default_rng(0)
    a, b = g.normal(size=(400, 6)), g.normal(size=(300, 6)) @ g.normal(size=(6, 6)) + 0.5
    cov_a, cov_b = np.cov(a.T), np.cov(b.T)
    expected = ((a.mean(0) - b.mean(0)) ** 2).sum() + np.trace(cov_a + cov_b - 2 * linalg.sqrtm(cov_a @ cov_b).real)
    assert fidelity.frechet_distance(torch.from_numpy(a), torch.from_numpy(b)) == pytest.approx(expected, rel=1e-6)


def test_inception_score_and_coverage_limits():
    confident_even = torch.eye(10).repeat(5, 1)
    assert fidelity.inception_score(confident_even) == pytest.approx(10, rel=1e-6)
    assert fidelity.inception_score(torch.full((50, 10), 0.1)) == pytest.approx(1)
    assert fidelity.kl_from_uniform(fidelity.class_fractions(confident_even)) == pytest.approx(0)
    assert fidelity.kl_from_uniform(np.eye(10)[3]) == pytest.approx(np.log(10))


@pytest.fixture(scope="module")
def measured(mnist):
    train, val = train_val_split(mnist.train)
    model = fidelity.feature_classifier(train, val.subset(torch.arange(1000)), epochs=1)
    reference, _ = fidelity.features_and_probs(model, mnist.test.X[:3000])
    noise = torch.randint(0, 256, (2000, 28, 28), generator=torch.Generator().manual_seed(0), dtype=torch.uint8)
    return (fidelity.measure(model, train.X[:2000], reference), fidelity.measure(model, noise, reference))


def test_real_digits_score_like_real_digits_and_noise_does_not(measured):
    real, noise = measured
    assert real.inception > 8.0 and noise.inception < 3.0
    assert noise.frechet > 20 * real.frechet
    assert (real.fractions > 0.06).all() and (real.fractions < 0.14).all() and real.kl_uniform < 0.01
    assert noise.kl_uniform > 0.5  # noise lands in one or two classes


@pytest.mark.parametrize("n, every, frames", [(5, 2, 3), (6, 2, 4), (3, 1, 3)])
def test_image_grid_frames_always_end_on_the_last_grid(n, every, frames):
    from mnist_explore.animate import image_grid_frames

    grids = [np.full((4, 28, 28), i * 40, dtype=np.uint8) for i in range(n)]
    animation = image_grid_frames(grids, list(range(n)), ncols=2, every=every)
    assert len(animation.frames) == frames
    assert len({f.shape for f in animation.frames}) == 1
    assert not np.array_equal(animation.frames[-1], animation.frames[-2])  # the last grid, not a repeat
