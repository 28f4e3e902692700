"""The DCGAN, its conditional variant, checkpoints, and the quality measures."""
from __future__ import annotations

import copy

import numpy as np
import pytest
import torch
import torch.nn.functional as F
from scipy import linalg

from mnist_explore import gan
from mnist_explore import gan_quality as fidelity
from mnist_explore.data import train_val_split
from mnist_explore.errors import UserError


@pytest.mark.parametrize("conditional", [False, True])
def test_generator_and_critic_use_their_inputs_and_the_generator_stays_in_range(conditional):
    torch.manual_seed(0)
    G, D = gan.Generator(16, 8, conditional).eval(), gan.Discriminator(8, conditional).eval()
    z = torch.randn(5, 16, generator=torch.Generator().manual_seed(1))
    y = torch.tensor([0, 3, 3, 7, 9]) if conditional else None
    with torch.no_grad():
        images = G(z, y)
        assert images.shape == (5, 1, 28, 28) and D(images, y).shape == (5,)
        # Each image depends on its own latent (and label) only: drawn one at a time, the same images.
        one_by_one = torch.cat([G(z[i:i + 1], None if y is None else y[i:i + 1]) for i in range(5)])
        torch.testing.assert_close(one_by_one, images)
        if conditional:  # the label steers both networks: same latent or image, another digit, another output
            other = (y + 1) % 10
            assert (G(z, other) - images).abs().amax(dim=(1, 2, 3)).min() > 1e-3
            assert (D(images, other) - D(images, y)).abs().min() > 1e-4
        # The last layer is a tanh: however large its input, the images stay in [-1, 1].
        G.net[-2].bias.fill_(10.0)
        saturated = G(z, y)
        assert saturated.max() <= 1 and saturated.min() > 0.99


def test_to_uint8_maps_the_generator_range_onto_0_255():
    images = torch.tensor([-1.0, -0.5, 0.0, 0.5, 1.0, 1.5, -2.0]).view(1, 1, 1, 7)
    # (v + 1) * 127.5, rounded (127.5 to even: 128), out-of-range values clamped first
    assert torch.equal(gan.to_uint8(images), torch.tensor([[[0, 64, 128, 191, 255, 255, 0]]], dtype=torch.uint8))


def test_uint8_round_trip():
    X = torch.randint(0, 256, (4, 28, 28), dtype=torch.uint8)
    assert torch.equal(gan.to_uint8(gan.to_gan_range(X)), X)


def test_one_step_is_a_discriminator_then_a_non_saturating_generator_update():
    """One _step with plain SGD equals a reference written from the losses: the critic first, then the generator."""
    torch.manual_seed(0)
    G, D = gan.Generator(16, 8, True), gan.Discriminator(8, True)
    G_ref, D_ref = copy.deepcopy(G), copy.deepcopy(D)
    x = torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(1)) * 2 - 1
    y, lr = torch.arange(8), 0.5
    torch.manual_seed(2)  # _step draws its latents from torch's global generator
    logged = gan._step(G, D, torch.optim.SGD(G.parameters(), lr), torch.optim.SGD(D.parameters(), lr), x, y, 16)

    torch.manual_seed(2)
    fake = G_ref(torch.randn(8, 16), y)
    real_logit, fake_logit = D_ref(x, y), D_ref(fake.detach(), y)
    # The critic minimises -log D(x) - log(1 - D(G(z))); -log sigmoid(l) = softplus(-l).
    loss_d = F.softplus(-real_logit).mean() + F.softplus(fake_logit).mean()
    grads_d = torch.autograd.grad(loss_d, list(D_ref.parameters()))
    with torch.no_grad():
        for p, g in zip(D_ref.parameters(), grads_d):
            p -= lr * g
    # Then the generator minimises -log D(G(z)) (non-saturating), against the critic just updated.
    loss_g = F.softplus(-D_ref(fake, y)).mean()
    grads_g = torch.autograd.grad(loss_g, list(G_ref.parameters()))
    assert all(g.abs().max() > 0 for g in [*grads_d, *grads_g])  # every parameter has something to learn
    for p, p_ref in zip(D.parameters(), D_ref.parameters()):
        torch.testing.assert_close(p, p_ref, rtol=1e-4, atol=1e-6)
    for p, p_ref, g in zip(G.parameters(), G_ref.parameters(), grads_g):
        torch.testing.assert_close(p, p_ref - lr * g, rtol=1e-4, atol=1e-6)
    expected = torch.stack([loss_d, loss_g, torch.sigmoid(real_logit).mean(), torch.sigmoid(fake_logit).mean()])
    torch.testing.assert_close(logged, expected.detach())


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
