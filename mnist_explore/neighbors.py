"""Exact k-nearest neighbours in torch, tiled so that any N fits, and the kNN score of an embedding.

The kNN score is how the suite compares embeddings: a k=10 nearest-neighbour
classifier is fit on the 60,000 training points of a 2-D map and scored on the
10,000 test points. A map that keeps digits of a class together scores high.
"""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .errors import UserError
from .metrics import confusion_matrix


def tile_rows(n_reference: int, budget: int = 2**26) -> int:
    """Rows of a query tile, so that one (rows, n_reference) distance block holds ``budget`` floats."""
    return max(1, budget // max(n_reference, 1))


def knn(query: torch.Tensor, reference: torch.Tensor | None = None, k: int = 10,
        tile: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """Squared distances and indices (each (len(query), k), nearest first) of the k nearest reference rows.

    With ``reference=None`` the query is its own reference and each point's
    neighbours exclude itself. Computed on the query's device, ``tile`` rows at a
    time.
    """
    self_search = reference is None
    reference = query if self_search else reference.to(query.device, query.dtype)
    if not 0 < k <= len(reference) - self_search:
        raise UserError(f"k={k} needs at least {k + self_search} reference points, got {len(reference)}; "
                        "choose a smaller k.")
    tile = tile or tile_rows(len(reference))
    ref_sq = reference.square().sum(1)
    dist = torch.empty(len(query), k, dtype=query.dtype, device=query.device)
    index = torch.empty(len(query), k, dtype=torch.long, device=query.device)
    for start in range(0, len(query), tile):
        rows = query[start:start + tile]
        block = torch.addmm(ref_sq[None, :], rows, reference.T, alpha=-2).add_(rows.square().sum(1, keepdim=True))
        if self_search:
            block[torch.arange(len(rows)), torch.arange(start, start + len(rows))] = float("inf")
        d, i = block.topk(k, dim=1, largest=False, sorted=True)
        dist[start:start + tile], index[start:start + tile] = d.clamp_min_(0), i
    return dist, index


def knn_predict(train_points: torch.Tensor, train_labels: torch.Tensor, query: torch.Tensor, k: int = 10,
                num_classes: int = 10) -> torch.Tensor:
    """Majority vote of the k nearest training points (ties go to the smaller label, as in scikit-learn)."""
    _, index = knn(query, train_points, k)
    votes = torch.zeros(len(query), num_classes, device=query.device)
    votes.scatter_add_(1, train_labels.to(query.device)[index], torch.ones_like(index, dtype=votes.dtype))
    return votes.argmax(1)


@dataclass(frozen=True)
class KNNScore:
    """How well a map keeps classes apart: kNN accuracy on the test points, and its confusion matrix."""

    accuracy: float
    confusion: np.ndarray  # (10, 10), rows true class, columns predicted
    predicted: np.ndarray  # predicted label of each test point

    def most_confused(self, top: int = 5) -> list[tuple[int, int, int]]:
        """The ``top`` unordered class pairs (a, b, count) most often mistaken for one another, both ways summed."""
        both = self.confusion + self.confusion.T
        pairs = [(a, b, int(both[a, b])) for a in range(len(both)) for b in range(a + 1, len(both))]
        return sorted(pairs, key=lambda p: -p[2])[:top]


def knn_score(points, labels, n_train: int, k: int = 10) -> KNNScore:
    """Fit the k-NN classifier on the first ``n_train`` points and score it on the rest."""
    points = torch.as_tensor(np.asarray(points), dtype=torch.float32)
    labels = torch.as_tensor(np.asarray(labels), dtype=torch.long)
    predicted = knn_predict(points[:n_train], labels[:n_train], points[n_train:], k)
    truth = labels[n_train:]
    return KNNScore(accuracy=float((predicted == truth).float().mean()),
                    confusion=confusion_matrix(truth, predicted).numpy(), predicted=predicted.numpy())


def sample_pair_distances(high, low, labels, n_pairs: int = 20000, seed: int = 0):
    """Distances of ``n_pairs`` random distinct pairs in two spaces, and whether each pair shares a label."""
    high, low, labels = (torch.as_tensor(np.asarray(a.cpu() if isinstance(a, torch.Tensor) else a))
                         for a in (high, low, labels))
    g = torch.Generator().manual_seed(seed)
    i = torch.randint(len(high), (n_pairs,), generator=g)
    j = torch.randint(len(high) - 1, (n_pairs,), generator=g)
    j = j + (j >= i)  # never a point with itself
    return ((high[i].float() - high[j].float()).norm(dim=1), (low[i].float() - low[j].float()).norm(dim=1),
            labels[i] == labels[j])
