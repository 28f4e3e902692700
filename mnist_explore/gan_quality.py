"""How good generated digits are, measured with the suite's own MNIST classifier (no downloads).

- **Fréchet distance** between the classifier's penultimate features of two image
  sets (FID with an MNIST feature extractor instead of Inception);
- an **Inception-score analogue**, exp E_x KL(p(y|x) || p(y)), from its softmax:
  10 is the ceiling, for confident predictions spread evenly over the digits;
- **class coverage**: the fraction of images predicted as each digit, and the KL
  divergence of that histogram from uniform.

Each is meaningful only next to its real-against-real baseline (train vs test).
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .data import Split
from .activations import penultimate_features
from .metrics import predict
from .models import Classifier
from .train import TrainConfig, fit


def feature_classifier(train: Split, val: Split, seed: int = 0, epochs: int = 2) -> Classifier:
    """fast_cnn trained with the race recipe (Adam, OneCycle to 3e-3), in eval mode.

    The feature extractor of every measure here, and the source model of transfer learning (notebook 09).
    """
    config = TrainConfig(model="fast_cnn", epochs=epochs, lr=3e-3, schedule="onecycle", seed=seed, progress=False)
    return fit(config, train, val).model.eval()


@torch.no_grad()
def features_and_probs(model: Classifier, images: torch.Tensor, batch_size: int = 1000):
    """Penultimate features (N, F) and softmax probabilities (N, 10) of uint8 images (N, 28, 28), in float64 on the CPU.

    The probabilities come from the model's ``head`` applied to those features, in one pass.
    """
    features = penultimate_features(model, images, batch_size)
    logits = predict(model.head, features, batch_size=None)
    return features.double().cpu(), torch.softmax(logits.double(), dim=1).cpu()


def frechet_distance(a: torch.Tensor, b: torch.Tensor) -> float:
    """|mu_a - mu_b|^2 + Tr(S_a + S_b - 2 (S_a S_b)^(1/2)) between the rows of two feature matrices."""
    a, b = a.double(), b.double()
    mu_a, mu_b = a.mean(0), b.mean(0)
    cov_a, cov_b = torch.cov(a.T), torch.cov(b.T)
    values, vectors = torch.linalg.eigh(cov_a)
    root_a = vectors @ torch.diag(values.clamp_min(0).sqrt()) @ vectors.T
    # Tr((S_a S_b)^(1/2)) = Tr((S_a^(1/2) S_b S_a^(1/2))^(1/2)), whose argument is symmetric PSD.
    cross = torch.linalg.eigvalsh(root_a @ cov_b @ root_a).clamp_min(0).sqrt().sum()
    return float((mu_a - mu_b).square().sum() + cov_a.trace() + cov_b.trace() - 2 * cross)


def inception_score(probs: torch.Tensor) -> float:
    """exp(mean_x KL(p(y|x) || p(y))); between 1 and the number of classes."""
    probs = probs.double().clamp_min(1e-12)
    marginal = probs.mean(0, keepdim=True)
    return float(torch.exp((probs * (probs.log() - marginal.log())).sum(1).mean()))


def class_fractions(probs: torch.Tensor, num_classes: int = 10) -> np.ndarray:
    """The fraction of images whose most probable class is each digit."""
    return (torch.bincount(probs.argmax(1), minlength=num_classes).double() / len(probs)).numpy()


def kl_from_uniform(fractions: np.ndarray) -> float:
    """KL(fractions || uniform) in nats: 0 for perfectly even coverage, log 10 = 2.30 for one class only."""
    f = np.asarray(fractions, dtype=float)
    nonzero = f > 0
    return float((f[nonzero] * np.log(f[nonzero] * len(f))).sum())


@dataclass(frozen=True)
class Fidelity:
    """Every measure for one image set, against a reference set's features."""

    frechet: float
    inception: float
    fractions: np.ndarray
    kl_uniform: float

    def as_dict(self) -> dict:
        return {"frechet_distance": round(self.frechet, 3), "inception_score": round(self.inception, 4),
                "class_fractions": [round(float(f), 4) for f in self.fractions],
                "kl_from_uniform": round(self.kl_uniform, 4)}


def measure(model: Classifier, images: torch.Tensor, reference_features: torch.Tensor) -> Fidelity:
    """Fréchet distance of ``images`` to the reference features, Inception-score analogue, class coverage."""
    features, probs = features_and_probs(model, images)
    fractions = class_fractions(probs)
    return Fidelity(frechet_distance(features, reference_features), inception_score(probs), fractions,
                    kl_from_uniform(fractions))
