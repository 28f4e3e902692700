"""The label audit: known flipped labels are found, no image is scored by a model that trained on it,
cached fold models are loaded rather than retrained, and the recipes write honest galleries and the CSVs."""
from __future__ import annotations

import csv

import matplotlib.pyplot as plt
import numpy as np
import pytest
import torch
from torch import nn

from mnist_explore import label_audit
from mnist_explore.data import Split
from mnist_explore.errors import UserError
from mnist_explore.figures import Context, recipes, render, select
from mnist_explore.recipes.label_audit import COLUMNS, write_suspects_csv
from mnist_explore.studies import label_audit as study

TINY = dict(folds=2, train_size=300, test_size=200, noise_train_size=300, noise_seeds=(0,), val_size=50)


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _blobs(n=3000, classes=10, seed=0):
    """Well-separated Gaussian blobs and their exact posterior probabilities (a perfect out-of-sample model)."""
    rng = np.random.default_rng(seed)
    means = rng.normal(scale=6.0, size=(classes, 5))
    y = rng.integers(0, classes, n)
    X = means[y] + rng.normal(size=(n, 5))
    logits = -0.5 * ((X[:, None, :] - means[None]) ** 2).sum(-1)
    probs = np.exp(logits - logits.max(1, keepdims=True))
    return y, probs / probs.sum(1, keepdims=True)


def test_flip_labels_flips_exactly_the_fraction_to_other_classes():
    y = np.arange(2000) % 10
    noisy, flipped = label_audit.flip_labels(y, 0.01, seed=3)
    assert len(flipped) == 20 and len(set(flipped)) == 20
    assert np.array_equal(np.flatnonzero(noisy != y), flipped)
    assert noisy.min() >= 0 and noisy.max() <= 9
    assert np.array_equal(label_audit.flip_labels(y, 0.01, seed=3)[0], noisy)  # seeded
    with pytest.raises(UserError, match="fraction"):
        label_audit.flip_labels(y, 1.5)


@pytest.mark.parametrize("method", label_audit.METHODS)
def test_confident_learning_finds_known_flipped_labels(method):
    y, probs = _blobs()
    noisy, flipped = label_audit.flip_labels(y, 0.02, seed=0)
    suspects = label_audit.find_suspects(noisy, probs, method)
    precision, recall = label_audit.precision_recall(suspects.index, flipped, len(suspects))
    assert precision > 0.9 and recall > 0.9
    assert np.array_equal(suspects.given, noisy[suspects.index])
    assert np.mean(suspects.suggested[np.isin(suspects.index, flipped)] == y[suspects.index[
        np.isin(suspects.index, flipped)]]) > 0.9  # the suggestion is the original label
    assert np.all(np.diff(suspects.score) >= 0)  # most suspect (lowest quality) first
    rows = label_audit.evaluate_ranking(noisy, probs, flipped, method)
    top = next(r for r in rows if r["cutoff"] == "top 1×flipped")
    assert top["k"] == len(flipped) and top["precision"] == top["recall"] > 0.9
    confident = label_audit.find_suspects(noisy, probs, method, "prune_by_noise_rate")
    precision, recall = label_audit.precision_recall(confident.index, flipped, len(confident))
    assert precision > 0.9 and recall > 0.9
    # Against clean labels the same ranking finds (almost) nothing: the score is about the label, not the image.
    assert len(label_audit.find_suspects(y, probs, method)) < 0.2 * len(flipped)


def _indexed_split(n: int) -> Split:
    """Images whose first two pixels spell their index, so a split can be traced back to positions."""
    X = torch.zeros(n, 28, 28, dtype=torch.uint8)
    X[:, 0, 0], X[:, 0, 1] = torch.arange(n) % 256, torch.arange(n) // 256
    return Split(X, torch.arange(n) % 10)


def _positions(split: Split) -> set[int]:
    return set((split.X[:, 0, 0].long() + 256 * split.X[:, 0, 1].long()).tolist())


def test_kfold_never_scores_an_image_with_a_model_that_trained_on_it(monkeypatch):
    n, folds = 503, 4
    trained, scored = [], []

    class Result:
        model = nn.Identity()

    def fake_fit(config, train, val, **kw):
        trained.append(_positions(train) | _positions(val))
        scored.append([])
        return Result()

    def fake_predict(model, X, probs=False):
        scored[-1].append(_positions(X))
        return torch.full((len(X), 10), 0.1)

    monkeypatch.setattr(label_audit, "fit", fake_fit)
    monkeypatch.setattr(label_audit, "predict", fake_predict)
    test = _indexed_split(40)
    label_audit.out_of_sample_probs(_indexed_split(n), folds, 1, seed=5, others=(test,), val_size=30, progress=False)
    assert len(trained) == folds
    held_out = [s[0] for s in scored]
    assert all(not (t & h) for t, h in zip(trained, held_out))  # never scored by a model that saw it
    assert set().union(*held_out) == set(range(n)) and sum(map(len, held_out)) == n  # each scored exactly once
    assert all(t | h == set(range(n)) for t, h in zip(trained, held_out))  # each model uses all the rest
    assert all(s[1] == set(range(40)) for s in scored)  # the test split is scored by every fold model
    ids = label_audit.fold_ids(n, folds, seed=5)
    assert sorted(torch.bincount(ids).tolist()) == [125, 126, 126, 126]


def test_resuming_loads_cached_fold_models_without_training(mnist, tmp_path, monkeypatch):
    train = mnist.train.subset(torch.arange(240))
    first, _ = label_audit.out_of_sample_probs(train, 2, 1, val_size=20, checkpoint_dir=tmp_path, progress=False)
    files = sorted(tmp_path.glob("fold*/*"))
    assert len(files) >= 4
    mtimes = [f.stat().st_mtime_ns for f in files]

    def no_training(*args, **kwargs):
        raise AssertionError("a cached fold model was trained again")

    monkeypatch.setattr("mnist_explore.train._train_step", no_training)
    again, _ = label_audit.out_of_sample_probs(train, 2, 1, val_size=20, checkpoint_dir=tmp_path, progress=False)
    assert torch.equal(first, again)
    assert [f.stat().st_mtime_ns for f in sorted(tmp_path.glob("fold*/*"))] == mtimes


def test_recipes_render_honest_galleries_and_ranked_csvs(mnist, tmp_path, monkeypatch):
    monkeypatch.setitem(study.Settings.PROFILES, "quick", TINY)
    monkeypatch.setenv("MNIST_EXPLORE_CACHE", str(tmp_path / "cache"))
    monkeypatch.setenv("MNIST_EXPLORE_FIGURES", str(tmp_path / "figures"))
    names = [name for name, r in recipes().items() if r.notebook == "12_label_audit"]
    assert names == ["label_audit_synthetic_precision", "label_audit_test_suspects", "label_audit_train_suspects"]
    ctx = Context(profile="quick")
    ctx.memo("dataset:mnist", lambda: mnist)
    render(select(names), ctx, tmp_path / "figures")
    audit = ctx.study(study)
    for split in ("test", "train"):
        rows = list(csv.reader(open(tmp_path / "figures" / f"suspect_labels_{split}.csv")))
        assert tuple(rows[0]) == COLUMNS
        body = rows[1:]
        assert len(body) == len(getattr(audit, split))
        assert [int(r[5]) for r in body] == list(range(1, len(body) + 1))
        assert all(r[0] == split for r in body)
        scores = [float(r[4]) for r in body]
        assert scores == sorted(scores)
        labels = getattr(mnist, split).y.numpy()
        assert all(labels[int(r[1])] == int(r[2]) for r in body)  # index is the position in torchvision's order
        fig = recipes()[f"label_audit_{split}_suspects"].make(ctx)
        title = " ".join(ax.get_title() for ax in fig.axes)
        assert "Candidates for review" in title and "not confirmed mislabels" in title
        assert audit.method in title and f"{audit.precision_at_flipped():.0%}" in title
    synthetic = recipes()["label_audit_synthetic_precision"].make(ctx)
    assert "randomly flipped" in synthetic._suptitle.get_text()
    assert len(synthetic.axes[0].patches) == 5 * len(study.METHODS)  # one bar per cut-off and method
    assert {r["method"] for r in audit.synthetic} == set(study.METHODS)
    assert audit.method == max(study.METHODS, key=audit.precision_at_flipped)
    assert audit.n_flipped == 3 and len(audit.train_positions) == 300
    predicted = audit.train_probs.argmax(1).numpy()
    assert sorted(audit.train.index) == sorted(audit.train_positions[predicted != mnist.train.y.numpy()[
        audit.train_positions]])  # the suspects are the images the fold models read as another digit


def test_csv_of_an_empty_split_has_its_header_only(tmp_path):
    empty = label_audit.Suspects(*(np.array([], dtype=np.int64),) * 3, np.array([]))

    class Audit:
        test = empty

    path = write_suspects_csv(Audit(), "test", tmp_path)
    assert path.read_text().strip() == ",".join(COLUMNS)
