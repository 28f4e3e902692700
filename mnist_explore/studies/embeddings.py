"""PCA, t-SNE and UMAP of the digits (notebook 02): all 70,000 by default, 2,000 in the quick profile."""
from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import torch

from .. import embed, neighbors
from ..data import Dataset
from ..errors import UserError
from ..progress import bar as progress_bar
from ..runtime import get_device
from .profiles import StudySettings

METHODS = ("pca", "tsne", "umap")


@dataclass(frozen=True)
class Settings(StudySettings):
    # The quick profile keeps the first 1,600 training and 400 test digits, so the kNN score keeps its meaning.
    PROFILES = {"quick": dict(points=(1600, 400))}

    points: tuple[int, int] | None = None  # (training, test) digits to embed; None: all 60,000 + 10,000
    methods: tuple[str, ...] = METHODS

    def check(self) -> None:
        unknown = [m for m in self.methods if m not in METHODS]
        if unknown:
            raise UserError(f"Unknown map method(s) {', '.join(unknown)}: choose from {', '.join(METHODS)}.")


@dataclass
class Digits:
    """The digits being embedded: pixels (N, 784) in [0, 1], labels, how many come from the training set, PCA."""

    X: torch.Tensor
    y: torch.Tensor
    n_train: int
    pca: embed.PCA

    @property
    def pca50(self) -> torch.Tensor:
        return self.pca.transform(self.X, 50)


@dataclass
class Maps:
    """The digits and their 2-D maps by method, each with its kNN score (fit on training points, scored on test)."""

    digits: Digits
    maps: dict[str, tuple[np.ndarray, neighbors.KNNScore]] = field(default_factory=dict)


def digits(dataset: Dataset, points: tuple[int, int] | None = None) -> Digits:
    """All 70,000 digits (train first), or the first ``points = (n_train, n_test)`` of each split."""
    X, y, n_train = embed.all_digits(dataset)
    if points is not None:
        keep = torch.cat([torch.arange(points[0]), n_train + torch.arange(points[1])])
        X, y, n_train = X[keep], y[keep], points[0]
    return Digits(X, y, n_train, embed.pca(X))


def embed_map(d: Digits, method: str, *, device: torch.device, seed: int = 0) -> np.ndarray:
    """The 2-D map of ``d`` by ``method``: PCA's first two components, or t-SNE or UMAP of PCA-50."""
    if method == "pca":
        return d.pca.transform(d.X, 2).cpu().numpy()
    if method == "tsne":
        return embed.tsne(d.pca50, seed=seed, device=device)
    return embed.umap(d.pca50, seed=seed)


def run(settings: Settings, data: Dataset, *, device: torch.device | str | None = None, seed: int = 0,
        progress: bool = True) -> Maps:
    """PCA of the digits on ``device`` (None: ``get_device()``), then each map of ``settings.methods``, seeded."""
    device = get_device(device)
    result = Maps(digits(data.to(device), settings.points))
    for method in progress_bar(settings.methods, desc="maps", unit="map", disable=not progress, leave=False):
        E = embed_map(result.digits, method, device=device, seed=seed)
        result.maps[method] = E, neighbors.knn_score(E, result.digits.y.cpu(), result.digits.n_train)
    return result
