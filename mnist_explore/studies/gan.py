"""A DCGAN and a conditional DCGAN (notebook 08), and how good their digits are against real ones."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import gan, gan_quality
from ..data import Dataset, train_val_split
from ..errors import UserError
from ..runtime import get_device
from .profiles import StudySettings

BASELINE = "real: train vs test"


@dataclass(frozen=True)
class Settings(StudySettings):
    PROFILES = {"quick": dict(train_size=4096, samples=1000),
                "full": dict(epochs=20, width=64, batch_size=128, lr=2e-4, classifier_epochs=2, samples=10000)}

    epochs: int = 1
    train_size: int | None = None  # GAN training images (None: all 55,000)
    width: int = 32  # channels of the first conv layer; 64 is the usual DCGAN, 32 fits a CPU
    batch_size: int = 64
    lr: float = 1e-3  # 2e-4 at batch 128 is DCGAN's; 1e-3 at batch 64 draws digits after one epoch
    classifier_epochs: int = 1
    classifier_train_size: int | None = None
    samples: int = 5000  # images per quality measurement


@dataclass
class GANStudy:
    unconditional: gan.GANResult
    conditional: gan.GANResult
    classifier: torch.nn.Module
    reports: dict[str, gan_quality.Fidelity]  # the real-vs-real baseline first, uniform noise last


def run(settings: Settings, data: Dataset, *, device: torch.device | str | None = None, seed: int = 0,
        progress: bool = True) -> GANStudy:
    """Train the classifier and both GANs on the training split, then measure every image set against the test set."""
    dataset = data.to(get_device(device))
    train, val = train_val_split(dataset.train, seed=0)
    clf_train = train if settings.classifier_train_size is None else train.subset(
        torch.arange(settings.classifier_train_size))
    classifier = gan_quality.feature_classifier(clf_train, val, seed, settings.classifier_epochs)
    results = [gan.train_gan(gan.GANConfig(conditional=c, epochs=settings.epochs, train_size=settings.train_size,
                                           width=settings.width, batch_size=settings.batch_size, lr=settings.lr,
                                           seed=seed, progress=progress), train)
               for c in (False, True)]
    reference, _ = gan_quality.features_and_probs(classifier, dataset.test.X)
    n = settings.samples
    noise = torch.randint(0, 256, (n, 28, 28), generator=torch.Generator().manual_seed(seed), dtype=torch.uint8)
    sets = {BASELINE: train.X[:n], "DCGAN": results[0].sample(n, seed=seed),
            "conditional DCGAN": results[1].sample(n, seed=seed), "uniform noise": noise}
    reports = {name: gan_quality.measure(classifier, images, reference) for name, images in sets.items()}
    return GANStudy(results[0], results[1], classifier, reports)


def _latents_and_digits(result: gan.GANResult, classifier, count: int, seed: int):
    """``count`` seeded latents and the digit the classifier reads in what the generator draws from each."""
    device = next(result.generator.parameters()).device
    z = torch.randn(count, result.config.latent, generator=torch.Generator().manual_seed(seed)).to(device)
    result.generator.eval()
    with torch.no_grad():
        labels = gan_quality.features_and_probs(classifier, gan.to_uint8(result.generator(z)))[1].argmax(1)
    return z, labels


def interpolations(result: gan.GANResult, classifier, pairs: int = 6, steps: int = 10, seed: int = 0):
    """Rows of ``steps`` images along a great circle between two latents, drawing different digits where it can."""
    z, labels = _latents_and_digits(result, classifier, 200, seed)
    firsts = [int((labels == k).nonzero()[0]) for k in labels.unique()]  # one latent per digit it draws
    chosen = (firsts + [i for i in range(len(z)) if i not in firsts])[:2 * pairs]
    rows, names = [], []
    with torch.no_grad():
        for a, b in zip(chosen[0::2], chosen[1::2]):
            rows.append(gan.to_uint8(result.generator(gan.slerp(z[a], z[b], steps))).cpu())
            names.append(f"{int(labels[a])} → {int(labels[b])}")
    return torch.stack(rows), names


def interpolate_digits(result: gan.GANResult, classifier, first: int, second: int, steps: int = 10,
                       seed: int = 0) -> torch.Tensor:
    """(steps, 28, 28): the walk from a latent the generator draws as ``first`` to one it draws as ``second``."""
    z, labels = _latents_and_digits(result, classifier, 500, seed)
    found = {digit: (labels == digit).nonzero().flatten().tolist() for digit in (first, second)}
    for digit, where in found.items():
        if not where:
            raise UserError(f"none of {len(z)} samples of this generator reads as a {digit}: pick another digit.")
    start = found[first][0]
    end = found[second][1] if first == second and len(found[second]) > 1 else found[second][0]
    with torch.no_grad():
        return gan.to_uint8(result.generator(gan.slerp(z[start], z[end], steps))).cpu().view(steps, 28, 28)


def conditional_grid(result: gan.GANResult, per_class: int = 10, seed: int = 0) -> torch.Tensor:
    """(10, per_class, 28, 28): row k holds ``per_class`` samples of digit k."""
    y = torch.arange(10).repeat_interleave(per_class)
    return result.sample(len(y), y=y, seed=seed).view(10, per_class, 28, 28)
