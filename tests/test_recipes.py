"""The figure recipes render end to end on tiny settings."""
from __future__ import annotations

import json

import pytest

from mnist_explore.figures import Context, recipes, render, select
from mnist_explore.studies import best_model, embeddings, gan, optimizer_comparison, profiles, transfer


def _render(names, tmp_path):
    entries = render(select(names), Context(profile="quick"), tmp_path)
    manifest = json.loads((tmp_path / "MANIFEST.json").read_text())
    assert [e["name"] for e in entries] == names == [e["name"] for e in manifest["figures"]]
    assert all((tmp_path / e["file"]).stat().st_size > 10_000 for e in entries)


def _names(notebook: str) -> list[str]:
    return [name for name, r in recipes().items() if r.notebook == notebook]


def test_optimizer_recipes_render(tmp_path, monkeypatch):
    tiny = dict(train_size=128, val_size=100, epochs=1, lrs=(1e-3, 1e-2), seeds=(0, 1), optimizers=("sgd", "adam"))
    monkeypatch.setitem(optimizer_comparison.Settings.PROFILES, "quick", tiny)
    names = _names("04_optimizer_comparison")
    assert len(names) == 5
    _render(names, tmp_path)


def test_embedding_recipes_render(tmp_path, monkeypatch):
    monkeypatch.setitem(embeddings.Settings.PROFILES, "quick", dict(points=(400, 100)))
    monkeypatch.setenv("MNIST_EXPLORE_CACHE", str(tmp_path / "cache"))
    names = _names("02_embeddings")
    assert len(names) == 10
    _render(names, tmp_path / "figures")
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
    _render(names, tmp_path)


def test_transfer_recipes_render(tmp_path, monkeypatch):
    tiny = dict(budgets=(1, None), seeds=(0,), steps=5, source_epochs=1, source_train_size=1000, test_size=100)
    monkeypatch.setitem(transfer.Settings.PROFILES, "quick", tiny)
    monkeypatch.setenv("MNIST_EXPLORE_CACHE", str(tmp_path / "cache"))
    names = _names("09_transfer_learning")
    assert len(names) == 3
    _render(names, tmp_path / "figures")


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
