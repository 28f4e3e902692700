"""Recipes for notebook 02: PCA, t-SNE and UMAP of the digits."""
from __future__ import annotations

from .. import neighbors, plots
from ..activations import first_of_each_class
from ..figures import Context, recipe
from ..studies import embeddings

NOTEBOOK = "02_embeddings"
RECONSTRUCTION_KS = (1, 5, 20, 50, 150)


def _maps(ctx: Context) -> embeddings.Maps:
    return ctx.study(embeddings)


@recipe("pca_variance", "explained variance per component and cumulative, with k for 90/95/99%", NOTEBOOK)
def pca_variance(ctx: Context):
    return plots.plot_explained_variance(_maps(ctx).digits.pca.explained_variance_ratio)


@recipe("pca_scatter", "the digits on PC1-PC2 and PC1-PC3, coloured by class", NOTEBOOK)
def pca_scatter(ctx: Context):
    d = _maps(ctx).digits
    return plots.plot_pca_scatter(d.pca.transform(d.X, 3), d.y, seed=ctx.seed)


@recipe("pca_components", "the first 16 principal components as images", NOTEBOOK)
def pca_components(ctx: Context):
    return plots.plot_components(_maps(ctx).digits.pca.components)


@recipe("pca_reconstructions", "digits rebuilt from 1, 5, 20, 50 and 150 components", NOTEBOOK)
def pca_reconstructions(ctx: Context):
    d = _maps(ctx).digits
    originals = d.X[d.n_train:][first_of_each_class(d.y[d.n_train:])[:6]]
    return plots.plot_reconstructions(originals, {k: d.pca.reconstruct(originals, k) for k in RECONSTRUCTION_KS})


@recipe("tsne_map", "t-SNE of the digits, labelled at class medians, with its kNN accuracy", NOTEBOOK)
def tsne_map(ctx: Context):
    E, score = _maps(ctx).maps["tsne"]
    return plots.plot_map(E, _maps(ctx).digits.y, f"t-SNE of {len(E):,} digits (PCA-50 in)", score.accuracy)


@recipe("tsne_per_class", "the t-SNE map one class at a time", NOTEBOOK)
def tsne_per_class(ctx: Context):
    return plots.plot_per_class(_maps(ctx).maps["tsne"][0], _maps(ctx).digits.y)


@recipe("tsne_axis_distributions", "per-class distributions of each t-SNE axis", NOTEBOOK)
def tsne_axis_distributions(ctx: Context):
    return plots.plot_axis_distributions(_maps(ctx).maps["tsne"][0], _maps(ctx).digits.y)


@recipe("distances_784_vs_2d", "pairwise distances in 784-d against the 2-d t-SNE map", NOTEBOOK)
def distances_784_vs_2d(ctx: Context):
    d = _maps(ctx).digits
    high, low, same = neighbors.sample_pair_distances(d.X, _maps(ctx).maps["tsne"][0], d.y, seed=ctx.seed)
    return plots.plot_distance_distributions(high, low, same)


@recipe("tsne_knn_confusion", "kNN (k=10) confusion in the t-SNE map, most confused pairs named", NOTEBOOK)
def tsne_knn_confusion(ctx: Context):
    _, score = _maps(ctx).maps["tsne"]
    fig = plots.plot_confusion_matrix(score.confusion)
    pairs = ", ".join(f"{a}/{b} ({n})" for a, b, n in score.most_confused(4))
    fig.axes[0].set_title(f"kNN (k=10) in the 2-D t-SNE map: {score.accuracy:.2%} of test digits right\n"
                          f"most confused pairs: {pairs}")
    return fig


@recipe("embeddings_compared", "PCA, t-SNE and UMAP maps side by side, each with its kNN accuracy", NOTEBOOK)
def embeddings_compared(ctx: Context):
    maps = _maps(ctx).maps
    titles = {"pca": "PCA (linear)", "tsne": "t-SNE", "umap": "UMAP"}
    return plots.plot_maps({titles[m]: (E, score.accuracy) for m, (E, score) in maps.items()},
                           _maps(ctx).digits.y)
