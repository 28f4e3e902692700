"""Recipes for notebook 02: PCA, t-SNE and UMAP of the digits (all 70,000 by default, 2,000 in quick mode)."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch

from .. import embed, neighbors, plots
from ..data import Dataset
from ..figures import Context, recipe
from ..hidden import first_of_each_class
from ..runtime import by_profile

NOTEBOOK = "02_embeddings"
RECONSTRUCTION_KS = (1, 5, 20, 50, 150)

# Quick mode keeps the first 1,600 training and 400 test digits, so the kNN score keeps its train/test meaning.
PROFILE_POINTS = {"quick": (1600, 400), "default": None, "full": None}


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


def digits(dataset: Dataset, points: tuple[int, int] | None = None) -> Digits:
    """All 70,000 digits (train first), or the first ``points = (n_train, n_test)`` of each split."""
    X, y, n_train = embed.all_digits(dataset)
    if points is not None:
        keep = torch.cat([torch.arange(points[0]), n_train + torch.arange(points[1])])
        X, y, n_train = X[keep], y[keep], points[0]
    return Digits(X, y, n_train, embed.pca(X))


def _digits(ctx: Context) -> Digits:
    return ctx.memo("embed:digits", lambda: digits(ctx.dataset("mnist"), by_profile(PROFILE_POINTS, ctx.profile)))


def _map(ctx: Context, method: str) -> tuple[np.ndarray, neighbors.KNNScore]:
    """The named 2-D map ('pca', 'tsne' or 'umap') of the profile's digits, and its kNN score."""
    def compute():
        d = _digits(ctx)
        if method == "pca":
            E = d.pca.transform(d.X, 2).cpu().numpy()
        elif method == "tsne":
            E = embed.tsne(d.pca50, seed=ctx.seed, device=ctx.device)
        else:
            E = embed.umap(d.pca50, seed=ctx.seed)
        return E, neighbors.knn_score(E, d.y.cpu(), d.n_train)
    return ctx.memo(f"embed:{method}", compute)


@recipe("pca_variance", "explained variance per component and cumulative, with k for 90/95/99%", NOTEBOOK)
def pca_variance(ctx: Context):
    return plots.plot_explained_variance(_digits(ctx).pca.explained_variance_ratio)


@recipe("pca_scatter", "the digits on PC1-PC2 and PC1-PC3, coloured by class", NOTEBOOK)
def pca_scatter(ctx: Context):
    d = _digits(ctx)
    return plots.plot_pca_scatter(d.pca.transform(d.X, 3), d.y, seed=ctx.seed)


@recipe("pca_components", "the first 16 principal components as images", NOTEBOOK)
def pca_components(ctx: Context):
    return plots.plot_components(_digits(ctx).pca.components)


@recipe("pca_reconstructions", "digits rebuilt from 1, 5, 20, 50 and 150 components", NOTEBOOK)
def pca_reconstructions(ctx: Context):
    d = _digits(ctx)
    test = d.X[d.n_train:]
    originals = test[first_of_each_class(d.y[d.n_train:])[:6]]
    return plots.plot_reconstructions(originals, {k: d.pca.reconstruct(originals, k) for k in RECONSTRUCTION_KS})


@recipe("tsne_map", "t-SNE of the digits, labelled at class medians, with its kNN accuracy", NOTEBOOK)
def tsne_map(ctx: Context):
    E, score = _map(ctx, "tsne")
    return plots.plot_map(E, _digits(ctx).y, f"t-SNE of {len(E):,} digits (PCA-50 in)", score.accuracy)


@recipe("tsne_per_class", "the t-SNE map one class at a time", NOTEBOOK)
def tsne_per_class(ctx: Context):
    return plots.plot_per_class(_map(ctx, "tsne")[0], _digits(ctx).y)


@recipe("tsne_axis_distributions", "per-class distributions of each t-SNE axis", NOTEBOOK)
def tsne_axis_distributions(ctx: Context):
    return plots.plot_axis_distributions(_map(ctx, "tsne")[0], _digits(ctx).y)


@recipe("distances_784_vs_2d", "pairwise distances in 784-d against the 2-d t-SNE map", NOTEBOOK)
def distances_784_vs_2d(ctx: Context):
    d = _digits(ctx)
    high, low, same = neighbors.sample_pair_distances(d.X, _map(ctx, "tsne")[0], d.y, seed=ctx.seed)
    return plots.plot_distance_distributions(high, low, same)


@recipe("tsne_knn_confusion", "kNN (k=10) confusion in the t-SNE map, most confused pairs named", NOTEBOOK)
def tsne_knn_confusion(ctx: Context):
    _, score = _map(ctx, "tsne")
    fig = plots.plot_confusion_matrix(score.confusion)
    pairs = ", ".join(f"{a}/{b} ({n})" for a, b, n in score.most_confused(4))
    fig.axes[0].set_title(f"kNN (k=10) in the 2-D t-SNE map: {score.accuracy:.2%} of test digits right\n"
                          f"most confused pairs: {pairs}")
    return fig


@recipe("embeddings_compared", "PCA, t-SNE and UMAP maps side by side, each with its kNN accuracy", NOTEBOOK)
def embeddings_compared(ctx: Context):
    maps = {title: (E, score.accuracy) for title, (E, score) in
            {"PCA (linear)": _map(ctx, "pca"), "t-SNE": _map(ctx, "tsne"), "UMAP": _map(ctx, "umap")}.items()}
    return plots.plot_maps(maps, _digits(ctx).y)
