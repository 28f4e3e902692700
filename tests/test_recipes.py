"""The figure recipes render end to end on tiny settings."""
from __future__ import annotations

import json

import pytest

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.figure import Figure

from mnist_explore.figures import Context, recipes, render, select
from mnist_explore.studies import best_model, embeddings, gan, optimizer_comparison, profiles, transfer


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _render(names, tmp_path, ctx=None):
    """Render ``names`` to files, then draw each again from the same context (its studies are memoised) and
    return the figures, so that a test can look at what was drawn."""
    ctx = ctx or Context(profile="quick")
    entries = render(select(names), ctx, tmp_path)
    manifest = json.loads((tmp_path / "MANIFEST.json").read_text())
    assert [e["name"] for e in entries] == names == [e["name"] for e in manifest["figures"]]
    assert all((tmp_path / e["file"]).stat().st_size > 10_000 for e in entries)
    figures = {name: recipes()[name].make(ctx) for name in names}
    for name, fig in figures.items():
        if isinstance(fig, Figure):
            titles = [ax.get_title() for ax in fig.axes] + [fig._suptitle.get_text() if fig._suptitle else ""]
            assert any(t.strip() for t in titles), f"{name} has no title"
            drawn = sum(len(ax.lines) + len(ax.collections) + len(ax.images) + len(ax.patches) + len(ax.tables)
                        for ax in fig.axes)
            assert drawn > 0, f"{name} draws nothing"
    return figures


def _title(fig) -> str:
    return " ".join([ax.get_title() for ax in fig.axes] + [fig._suptitle.get_text() if fig._suptitle else ""])


def _names(notebook: str) -> list[str]:
    return [name for name, r in recipes().items() if r.notebook == notebook]


def test_optimizer_recipes_render(tmp_path, monkeypatch):
    tiny = dict(train_size=128, val_size=100, epochs=1, lrs=(1e-3, 1e-2), seeds=(0, 1), optimizers=("sgd", "adam"))
    monkeypatch.setitem(optimizer_comparison.Settings.PROFILES, "quick", tiny)
    names = _names("04_optimizer_comparison")
    assert len(names) == 5
    figs = _render(names, tmp_path)
    assert "lr 0.001" in _title(figs["optimizers_protocol_a"]) and "seed 0" in _title(figs["optimizers_protocol_a"])
    legend = figs["optimizers_protocol_a"].axes[0].get_legend_handles_labels()[1]
    assert set(legend) == {"sgd", "adam"}
    ranking = " ".join(t.get_text() for ax in figs["optimizers_ranking"].axes
                       for t in ax.get_yticklabels() + ax.texts)
    assert "sgd" in ranking and "adam" in ranking


def test_embedding_recipes_render(tmp_path, monkeypatch):
    monkeypatch.setitem(embeddings.Settings.PROFILES, "quick", dict(points=(400, 100)))
    monkeypatch.setenv("MNIST_EXPLORE_CACHE", str(tmp_path / "cache"))
    names = _names("02_embeddings")
    assert len(names) == 10
    figs = _render(names, tmp_path / "figures")
    points = figs["tsne_map"].axes[0].collections
    assert sum(len(c.get_offsets()) for c in points) == 500  # 400 training + 100 test digits, one dot each
    assert "t-SNE of 500 digits" in _title(figs["tsne_map"])
    assert len(list((tmp_path / "cache" / "embeddings").glob("*.npy"))) == 2  # t-SNE and UMAP, cached


@pytest.mark.parametrize("profile", profiles.PROFILE_NAMES)
def test_every_profile_has_settings(profile):
    points = embeddings.Settings.profile(profile).points
    assert (points is None) == (profile != "quick") and (points is None or sum(points) <= 2000)
    settings = optimizer_comparison.Settings.profile(profile)
    assert settings.shared_lr in settings.lrs


def test_gan_recipes_render(tmp_path, monkeypatch):
    tiny = dict(epochs=1, train_size=256, width=8, batch_size=64, lr=1e-3, classifier_epochs=1,
                classifier_train_size=2000, samples=200)
    monkeypatch.setitem(gan.Settings.PROFILES, "quick", tiny)
    names = _names("08_gan")
    assert len(names) == 5
    figs = _render(names, tmp_path)
    assert "one row per digit" in _title(figs["gan_conditional_grid"])
    assert len(figs["gan_progress"].frames) >= 2  # an animation: the fixed-noise grid at several steps


def test_transfer_recipes_render(tmp_path, monkeypatch):
    tiny = dict(budgets=(1, None), seeds=(0,), steps=5, source_epochs=1, source_train_size=1000, test_size=100)
    monkeypatch.setitem(transfer.Settings.PROFILES, "quick", tiny)
    monkeypatch.setenv("MNIST_EXPLORE_CACHE", str(tmp_path / "cache"))
    names = _names("09_transfer_learning")
    assert len(names) == 3
    figs = _render(names, tmp_path / "figures")
    assert "1,797" in _title(figs["transfer_features"])  # every scikit-learn digit, pool and test


def test_best_model_recipes_render_and_a_rerun_resumes(tmp_path, monkeypatch):
    tiny = dict(models=("fast_cnn",), seeds=(0, 1, 2), epochs=1, train_size=500, val_size=300, test_size=400)
    monkeypatch.setitem(best_model.Settings.PROFILES, "quick", tiny)
    monkeypatch.setenv("MNIST_EXPLORE_CACHE", str(tmp_path / "cache"))
    names = _names("11_best_model")
    assert names == ["best_ensemble_size", "best_ensemble_errors", "best_hard_digits", "best_disputed_labels"]
    _render(names, tmp_path / "figures")
    checkpoints = sorted((tmp_path / "cache" / "ensembles").glob("*/*/last.pt"))
    assert len(checkpoints) == 3
    written = [p.stat().st_mtime_ns for p in checkpoints]
    _render(names[:1], tmp_path / "again")  # a new context: members are loaded from their checkpoints
    assert [p.stat().st_mtime_ns for p in checkpoints] == written


def test_data_statistics_recipes_draw_the_counts_and_means(tmp_path, mnist):
    names = _names("01_data_statistics")
    assert len(names) == 7
    figs = _render(names, tmp_path)
    heights = [p.get_height() for p in figs["data_class_counts"].axes[0].patches]
    shares = [100 * c / len(s.y) for s in (mnist.train, mnist.test) for c in s.y.bincount().tolist()]
    assert sorted(heights) == pytest.approx(sorted(shares))  # each class's share of its split, in %
    tiles = figs["data_class_means"].axes[0].images[0].get_array()  # 2 rows of 5 tiles, 2 pixels apart
    means = [(mnist.train.X[mnist.train.y == k].float() / 255).mean(0).numpy() for k in range(10)]
    for k, mean in enumerate(means):
        r, c = divmod(k, 5)
        np.testing.assert_allclose(tiles[r * 30:r * 30 + 28, c * 30:c * 30 + 28], mean, atol=1e-5)


@pytest.mark.parametrize("notebook, study, overrides, check", [
    ("03_model_search", "model_search",
     dict(models=("linear", "mlp"), augments=(None,), seeds=(0,), train_size=256, val_size=200, test_size=200),
     lambda figs: "linear" in " ".join(t.get_text() for t in figs["search_summary"].axes[0].get_yticklabels())),
    ("05_weight_distributions", "weight_distributions", dict(train_size=512),
     lambda figs: len(figs["weights_gif"].frames) >= 2),
    ("06_gradient_flow", "gradient_flow", dict(train_size=256, depth=3),
     lambda figs: {"sigmoid", "relu", "relu + batch norm"} <= set(
         " ".join(t.get_text() for ax in figs["grads_vanishing"].axes for t in ax.texts + [ax.title]).split(", ")
         + [label for ax in figs["grads_vanishing"].axes for label in ax.get_legend_handles_labels()[1]]
         + [ax.get_title() for ax in figs["grads_vanishing"].axes])),
    ("07_hidden_layers", "hidden_layers", dict(train_size=256, ascent_steps=2, embed_points=200),
     lambda figs: "200 test digits" in _title(figs["hidden_embeddings"])),
    ("10_numpy_from_scratch", "numpy_from_scratch", dict(train_size=300, seeds=(0,), cost_batch_sizes=(1, 4)),
     lambda figs: "NumPy" in _title(figs["scratch_learning_curves"])),
])
def test_more_recipes_render_what_their_study_found(notebook, study, overrides, check, tmp_path, monkeypatch):
    import importlib

    module = importlib.import_module(f"mnist_explore.studies.{study}")
    monkeypatch.setitem(module.Settings.PROFILES, "quick", {**module.Settings.PROFILES.get("quick", {}),
                                                            **overrides})
    monkeypatch.setenv("MNIST_EXPLORE_CACHE", str(tmp_path / "cache"))
    assert check(_render(_names(notebook), tmp_path / "figures"))
