"""PCA, kNN, the torch t-SNE, every t-SNE backend, UMAP and the embedding cache."""
from __future__ import annotations

import shutil
import warnings

import numpy as np
import pytest
import torch
from sklearn.decomposition import PCA as SkPCA
from sklearn.neighbors import KNeighborsClassifier, NearestNeighbors

from mnist_explore import embed, neighbors, tsne
from mnist_explore.errors import UserError


@pytest.fixture(scope="module")
def small(mnist):
    """800 training and 200 test digits as PCA-50 inputs, with their labels."""
    X, y, n_train = embed.all_digits(mnist)
    keep = torch.cat([torch.arange(800), n_train + torch.arange(200)])
    X, y = X[keep], y[keep]
    return embed.pca(X).transform(X, 50), y


def test_pca_matches_scikit_learn_up_to_sign():
    g = torch.Generator().manual_seed(0)  # both draws seeded: the data must not depend on test order
    X = torch.randn(300, 12, generator=g) @ torch.randn(12, 12, generator=g)
    ours, ref = embed.pca(X, 5), SkPCA(5).fit(X.numpy())
    np.testing.assert_allclose(ours.explained_variance_ratio[:5].numpy(), ref.explained_variance_ratio_, rtol=1e-6)
    signs = np.sign((ours.components.numpy() * ref.components_).sum(1))
    np.testing.assert_allclose(ours.components.numpy() * signs[:, None], ref.components_, atol=1e-6)
    np.testing.assert_allclose(ours.transform(X).numpy() * signs, ref.transform(X.numpy()), atol=1e-4)


def test_pca_components_are_orthonormal_and_all_of_them_reconstruct_exactly():
    X = torch.rand(200, 30, generator=torch.Generator().manual_seed(1))
    p = embed.pca(X)
    gram = p.components @ p.components.T
    torch.testing.assert_close(gram, torch.eye(30, dtype=gram.dtype), atol=1e-10, rtol=0)
    torch.testing.assert_close(p.reconstruct(X, 30), X, atol=1e-5, rtol=0)
    assert float(p.explained_variance_ratio.sum()) == pytest.approx(1.0)
    cumulative = p.explained_variance_ratio.cumsum(0)
    k = p.components_for(0.9)
    assert cumulative[k - 1] >= 0.9 > cumulative[k - 2]


def test_pca_refuses_a_single_row():
    with pytest.raises(UserError, match="at least 2 rows"):
        embed.pca(torch.rand(1, 5))


def test_knn_matches_scikit_learn_and_excludes_self():
    X = torch.rand(500, 8, generator=torch.Generator().manual_seed(2))
    dist, index = neighbors.knn(X, k=5, tile=64)
    ref_dist, ref_index = NearestNeighbors(n_neighbors=6).fit(X.numpy()).kneighbors(X.numpy())
    np.testing.assert_array_equal(index.numpy(), ref_index[:, 1:])
    np.testing.assert_allclose(dist.sqrt().numpy(), ref_dist[:, 1:], atol=1e-5)
    with pytest.raises(UserError, match="reference points"):
        neighbors.knn(X[:3], k=3)


def test_knn_score_matches_scikit_learn_classifier():
    g = torch.Generator().manual_seed(3)
    E, y = torch.randn(1000, 2, generator=g), torch.randint(0, 10, (1000,), generator=g)
    E[:, 0] += y * 0.8  # some signal
    score = neighbors.knn_score(E, y, 800)
    ref = KNeighborsClassifier(10).fit(E[:800].numpy(), y[:800].numpy())
    assert score.accuracy == pytest.approx(ref.score(E[800:].numpy(), y[800:].numpy()))
    assert score.confusion.sum() == 200 and np.trace(score.confusion) == round(200 * score.accuracy)
    (a, b, n), *_ = score.most_confused(3)
    both = score.confusion + score.confusion.T
    np.fill_diagonal(both, 0)
    assert a < b and n == score.confusion[a, b] + score.confusion[b, a] == both.max()


def test_sampled_pairs_are_never_a_point_with_itself():
    high, low, same = neighbors.sample_pair_distances(torch.rand(50, 4), torch.rand(50, 2), torch.arange(50) % 5,
                                                      n_pairs=5000)
    assert (high > 0).all() and (low > 0).all() and same.float().mean() < 0.5


def test_conditional_probabilities_reach_the_requested_perplexity():
    sq = torch.rand(100, 30, generator=torch.Generator().manual_seed(4)).sort(1).values * 50
    p = tsne.conditional_probabilities(sq, perplexity=10)
    entropy = -(p * p.clamp_min(1e-30).log()).sum(1)
    torch.testing.assert_close(entropy.exp(), torch.full((100,), 10.0), atol=1e-3, rtol=0)
    torch.testing.assert_close(p.sum(1), torch.ones(100))


def _dense(P: tsne.Affinities, n: int) -> torch.Tensor:
    dense = torch.zeros(n, n, dtype=torch.float64)
    dense.index_put_((torch.arange(n).repeat_interleave(P.index.shape[1]), P.index.flatten()),
                     P.weight.flatten().double(), accumulate=True)
    return dense


def test_affinities_are_symmetric_and_sum_to_one(small):
    X, _ = small
    P = _dense(tsne.affinities(X[:300], perplexity=10), 300)
    torch.testing.assert_close(P, P.T)
    assert float(P.sum()) == pytest.approx(1.0) and float(P.diagonal().abs().sum()) == 0


def test_exact_gradient_matches_autograd_of_the_kl_divergence(small):
    X, _ = small
    n = 200
    P = tsne.affinities(X[:n].double(), perplexity=10)
    Y = torch.randn(n, 2, dtype=torch.float64, generator=torch.Generator().manual_seed(5)) * 3
    Yg = Y.clone().requires_grad_()
    W = 1 / (1 + torch.cdist(Yg, Yg).square())
    Q = (W * (1 - torch.eye(n, dtype=W.dtype))) / (W.sum() - n)
    Pd = _dense(P, n)
    kl = (Pd * (Pd.clamp_min(1e-300).log() - Q.clamp_min(1e-300).log())).sum()
    kl.backward()
    # openTSNE's convention drops the factor 4 of dKL/dy.
    torch.testing.assert_close(tsne.gradient(Y, P, exaggeration=1.0, tile=37), Yg.grad / 4, atol=1e-10, rtol=1e-7)


def test_the_fusable_and_eager_repulsions_agree():
    Y = torch.randn(600, 2, generator=torch.Generator().manual_seed(6)) * 20
    for a, b in zip(tsne.repulsion_tile(Y[:150], Y), tsne.repulsion_tile_fusable(Y[:150], Y)):
        torch.testing.assert_close(a, b, atol=2e-3 * float(b.abs().max()), rtol=0)


@pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None, reason="no C compiler for Inductor")
def test_the_compiled_repulsion_gives_the_eager_numbers():
    Y = torch.randn(400, 2, generator=torch.Generator().manual_seed(7)) * 10
    compiled = tsne.fused_repulsion()
    with warnings.catch_warnings():
        warnings.simplefilter("error")  # a silent fallback to eager would make this test vacuous
        got = compiled(Y[:100], Y)
    for a, b in zip(got, tsne.repulsion_tile_fusable(Y[:100], Y)):
        torch.testing.assert_close(a, b, atol=1e-4 * float(b.abs().max()), rtol=0)


ALWAYS = ["opentsne", "sklearn", "torch"]


@pytest.mark.parametrize("backend", ALWAYS + ["multicore"])
def test_every_backend_maps_digits_far_above_chance(small, backend, tmp_path):
    if backend not in embed.available_backends("cpu"):
        pytest.skip(f"{backend} is not installed")
    X, y = small
    E = embed.tsne(X, backend, cache=tmp_path)
    assert E.shape == (1000, 2) and np.isfinite(E).all()
    assert neighbors.knn_score(E, y, 800).accuracy > 0.7  # chance is 0.1


@pytest.mark.parametrize("backend", ["opentsne", "torch"])
def test_same_seed_gives_the_same_map(small, backend):
    X, _ = small
    settings = embed.TSNESettings(early_exaggeration_iter=50, n_iter=50)
    a = embed.tsne(X[:300], backend, settings, seed=3, cache=False)
    np.testing.assert_array_equal(a, embed.tsne(X[:300], backend, settings, seed=3, cache=False))


def test_umap_maps_digits_far_above_chance(small, tmp_path):
    X, y = small
    E = embed.umap(X, cache=tmp_path)
    assert E.shape == (1000, 2) and neighbors.knn_score(E, y, 800).accuracy > 0.7


def test_default_backend_is_opentsne_off_gpu_and_the_gpu_one_on_cuda():
    assert embed.default_backend("cpu") == "opentsne"
    assert embed.default_backend("cuda") in ("cuml", "torch")
    assert "cuml" not in embed.available_backends("cpu")


def test_no_device_means_get_device(monkeypatch):
    monkeypatch.setenv("MNIST_EXPLORE_DEVICE", "cpu")  # what get_device() returns
    assert embed.default_backend() == "opentsne" and embed.available_backends() == embed.available_backends("cpu")
    monkeypatch.setattr(embed, "get_device", lambda device=None: torch.device("cuda"))
    assert embed.default_backend() in ("cuml", "torch")


def test_torch_tsne_starts_from_embed_pca():
    X = torch.randn(300, 20, generator=torch.Generator().manual_seed(5)) @ torch.diag(torch.linspace(3, 0.1, 20))
    Y = tsne.initial_embedding(X)
    scores = embed.pca(X, 2).transform(X.double())
    for k in range(2):  # the same scores up to sign, scaled so the first has standard deviation 1e-4
        direction = torch.sign((Y[:, k].double() * scores[:, k]).sum())
        torch.testing.assert_close(Y[:, k].double() * direction, scores[:, k] / scores[:, 0].std() * 1e-4,
                                   rtol=1e-5, atol=1e-12)
    assert float(Y[:, 0].std()) == pytest.approx(1e-4, rel=1e-5)


def test_unknown_backend_names_the_available_ones():
    with pytest.raises(UserError, match="Unknown t-SNE backend 'bhtsne'.*available here: opentsne, sklearn"):
        embed.tsne(np.zeros((10, 2)), "bhtsne")


def test_missing_optional_backend_says_how_to_install_it(monkeypatch):
    monkeypatch.setattr(embed, "_importable", lambda module: module != "MulticoreTSNE")
    with pytest.raises(UserError, match=r"needs MulticoreTSNE.*pip install MulticoreTSNE.*available here"):
        embed.tsne(np.zeros((10, 2)), "multicore")


def test_cuml_needs_cuda():
    with pytest.raises(UserError, match="needs a CUDA device"):
        embed.check_backend("cuml", "cpu")


def test_cache_hits_misses_and_recovers_from_a_corrupted_file(tmp_path):
    X = np.random.default_rng(0).random((20, 3)).astype(np.float32)
    calls = []

    def compute():
        calls.append(1)
        return X[:, :2] * 2

    first = embed.cached("demo", {"a": 1}, X, compute, tmp_path)
    np.testing.assert_array_equal(embed.cached("demo", {"a": 1}, X, compute, tmp_path), first)
    assert len(calls) == 1  # a hit
    embed.cached("demo", {"a": 2}, X, compute, tmp_path)
    embed.cached("demo", {"a": 1}, X + 1, compute, tmp_path)
    assert len(calls) == 3  # other params, other data: misses
    for path in tmp_path.glob("demo-*.npy"):
        path.write_bytes(b"not a numpy file")
    with pytest.warns(UserWarning, match="unreadable cached embedding"):
        again = embed.cached("demo", {"a": 1}, X, compute, tmp_path)
    np.testing.assert_array_equal(again, first)
    assert len(calls) == 4
    np.testing.assert_array_equal(embed.cached("demo", {"a": 1}, X, compute, tmp_path), first)
    assert len(calls) == 4  # the rewritten file is used again
