"""Recipes for notebook 08: a DCGAN and a conditional DCGAN, and how good their digits are."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import fidelity, gan, plots
from ..animate import image_grid_frames
from ..data import Dataset, train_val_split
from ..figures import Context, recipe
from ..runtime import by_profile

NOTEBOOK = "08_gan"


@dataclass(frozen=True)
class GANSettings:
    epochs: int
    train_size: int | None  # GAN training images (None: all 55,000)
    width: int  # channels of the first conv layer; 64 is the usual DCGAN, 32 fits the CPU budget
    batch_size: int
    lr: float  # 2e-4 at batch 128 is DCGAN's; the CPU profiles use 1e-3 at batch 64 to get digits from one epoch
    classifier_epochs: int
    classifier_train_size: int | None
    samples: int  # images per quality measurement


PROFILE_SETTINGS = {
    "quick": GANSettings(epochs=1, train_size=4096, width=32, batch_size=64, lr=1e-3, classifier_epochs=1,
                         classifier_train_size=None, samples=1000),
    "default": GANSettings(epochs=1, train_size=None, width=32, batch_size=64, lr=1e-3, classifier_epochs=1,
                           classifier_train_size=None, samples=5000),
    "full": GANSettings(epochs=20, train_size=None, width=64, batch_size=128, lr=2e-4, classifier_epochs=2,
                        classifier_train_size=None, samples=10000),
}


def settings_for(profile: str) -> GANSettings:
    return by_profile(PROFILE_SETTINGS, profile)


@dataclass
class GANStudy:
    unconditional: gan.GANResult
    conditional: gan.GANResult
    classifier: torch.nn.Module
    reports: dict[str, fidelity.Fidelity]  # the real-vs-real baseline first, uniform noise last


BASELINE = "real: train vs test"


def gan_study(dataset: Dataset, settings: GANSettings, seed: int = 0, progress: bool = True) -> GANStudy:
    """Train the classifier and both GANs on the training split, then measure every image set against the test set."""
    train, val = train_val_split(dataset.train, seed=0)
    clf_train = train if settings.classifier_train_size is None else train.subset(
        torch.arange(settings.classifier_train_size))
    classifier = fidelity.feature_classifier(clf_train, val, seed, settings.classifier_epochs)
    results = [gan.train_gan(gan.GANConfig(conditional=c, epochs=settings.epochs, train_size=settings.train_size,
                                           width=settings.width, batch_size=settings.batch_size, lr=settings.lr,
                                           seed=seed, progress=progress), train)
               for c in (False, True)]
    reference, _ = fidelity.features_and_probs(classifier, dataset.test.X)
    n = settings.samples
    noise = torch.randint(0, 256, (n, 28, 28), generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)
    sets = {BASELINE: train.X[:n], "DCGAN": results[0].sample(n, seed=seed),
            "conditional DCGAN": results[1].sample(n, seed=seed), "uniform noise": noise}
    reports = {name: fidelity.measure(classifier, images, reference) for name, images in sets.items()}
    return GANStudy(results[0], results[1], classifier, reports)


def interpolations(result: gan.GANResult, classifier, pairs: int = 6, steps: int = 10, seed: int = 0):
    """Rows of ``steps`` images along a great circle between two latents, drawing different digits where it can."""
    device = next(result.generator.parameters()).device
    z = torch.randn(200, result.config.latent, generator=torch.Generator().manual_seed(seed)).to(device)
    result.generator.eval()
    with torch.no_grad():
        labels = fidelity.features_and_probs(classifier, gan.to_uint8(result.generator(z)))[1].argmax(1)
        firsts = [int((labels == k).nonzero()[0]) for k in labels.unique()]  # one latent per digit it draws
        chosen = (firsts + [i for i in range(len(z)) if i not in firsts])[:2 * pairs]
        rows, names = [], []
        for a, b in zip(chosen[0::2], chosen[1::2]):
            rows.append(gan.to_uint8(result.generator(gan.slerp(z[a], z[b], steps))).cpu())
            names.append(f"{int(labels[a])} → {int(labels[b])}")
    return torch.stack(rows), names


def conditional_grid(result: gan.GANResult, per_class: int = 10, seed: int = 0) -> torch.Tensor:
    """(10, per_class, 28, 28): row k holds ``per_class`` samples of digit k."""
    y = torch.arange(10).repeat_interleave(per_class)
    return result.sample(len(y), y=y, seed=seed).view(10, per_class, 28, 28)


def _study(ctx: Context) -> GANStudy:
    return ctx.memo("gan:study", lambda: gan_study(ctx.dataset("mnist"), settings_for(ctx.profile), ctx.seed,
                                                   progress=False))


@recipe("gan_progress", "GIF: a fixed-noise 8x8 grid of the DCGAN's samples through training", NOTEBOOK)
def gan_progress(ctx: Context):
    r = _study(ctx).unconditional
    return image_grid_frames(r.snapshots, r.snapshot_steps, title="DCGAN, fixed noise")


@recipe("gan_losses", "generator and discriminator losses, D(x) and D(G(z)), over training", NOTEBOOK)
def gan_losses(ctx: Context):
    r = _study(ctx).unconditional
    return plots.plot_gan_history(r.history, f"DCGAN training ({r.seconds:.0f} s on {ctx.device.type})")


@recipe("gan_interpolation", "latent-space interpolation between pairs of digits", NOTEBOOK)
def gan_interpolation(ctx: Context):
    s = _study(ctx)
    rows, names = interpolations(s.unconditional, s.classifier, seed=ctx.seed)
    return plots.plot_digit_rows(rows, names, "Walking the latent space (spherical interpolation) between two digits")


@recipe("gan_conditional_grid", "the conditional generator asked for each digit 0-9", NOTEBOOK)
def gan_conditional_grid(ctx: Context):
    grid = conditional_grid(_study(ctx).conditional, seed=ctx.seed)
    return plots.plot_digit_rows(grid, [f"asked for {k}" for k in range(10)], "Conditional DCGAN: one row per digit")


@recipe("gan_quality", "Fréchet distance, Inception-score analogue and class coverage against real data", NOTEBOOK)
def gan_quality(ctx: Context):
    return plots.plot_fidelity(_study(ctx).reports, BASELINE)
