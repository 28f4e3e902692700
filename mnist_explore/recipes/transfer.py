"""Recipes for notebook 09: transfer from MNIST models to digits from elsewhere, to unseen digits, to clothing."""
from __future__ import annotations

from dataclasses import dataclass

import torch

from .. import embed, fidelity, hidden, neighbors, plots, transfer
from ..data import DataError, Dataset, Split, load_dataset, train_val_split
from ..figures import Context, recipe
from ..runtime import by_profile

NOTEBOOK = "09_transfer_learning"
TITLES = {"digits": "MNIST → scikit-learn's 8×8 digits", "5-9": "MNIST 0-4 → MNIST 5-9",
          "fashion": "MNIST → Fashion-MNIST"}


@dataclass(frozen=True)
class TransferSettings:
    budgets: tuple[int | None, ...]  # labels per class; None = all
    seeds: tuple[int, ...]
    steps: int  # Adam steps of batch 64 (or fewer images) per training run
    source_epochs: int
    source_train_size: int | None
    test_size: int  # test images per task, at most


PROFILE_SETTINGS = {
    "quick": TransferSettings(budgets=(1, 10), seeds=(0,), steps=30, source_epochs=1, source_train_size=5000,
                              test_size=500),
    "default": TransferSettings(budgets=(1, 5, 10, 50, None), seeds=(0, 1, 2), steps=50, source_epochs=1,
                                source_train_size=None, test_size=2000),
}
PROFILE_SETTINGS["full"] = TransferSettings(budgets=(1, 5, 10, 50, None), seeds=(0, 1, 2, 3, 4), steps=300,
                                            source_epochs=2, source_train_size=None, test_size=10000)


def settings_for(profile: str) -> TransferSettings:
    return by_profile(PROFILE_SETTINGS, profile)


def source_model(train: Split, val: Split, settings: TransferSettings, seed: int = 0):
    """fast_cnn trained on ``train`` with the race recipe: the model every transfer starts from."""
    if settings.source_train_size is not None:
        train = train.subset(torch.arange(min(settings.source_train_size, len(train))))
    return fidelity.feature_classifier(train, val, seed, settings.source_epochs)


def fashion_or_none() -> Dataset | None:
    """Fashion-MNIST when its raw files are installed, else None (the notebook says how to get them)."""
    try:
        return load_dataset("fashion")
    except DataError:
        return None


def tasks(mnist: Dataset, settings: TransferSettings, seed: int = 0, include_fashion: bool = True) -> dict:
    """Every task: name -> (source model, training pool, test split)."""
    train, val = train_val_split(mnist.train, seed=0)
    everything = source_model(train, val, settings, seed)
    low = source_model(transfer.classes_only(train, range(5)), transfer.classes_only(val, range(5)), settings, seed)
    cap = torch.arange(settings.test_size)
    pool, test = transfer.sklearn_digits(seed=0)
    out = {"digits": (everything, pool, test),
           "5-9": (low, transfer.classes_only(train, range(5, 10)),
                   _capped(transfer.classes_only(mnist.test, range(5, 10)), cap))}
    fashion = fashion_or_none() if include_fashion else None
    if fashion is not None:
        out["fashion"] = (everything, fashion.train.to(train.X.device), _capped(fashion.test.to(train.X.device), cap))
    return out


def _capped(split: Split, cap: torch.Tensor) -> Split:
    return split.subset(cap[:len(split)])


def all_curves(task_table: dict, settings: TransferSettings) -> list[transfer.Curve]:
    return [c for name, (source, pool, test) in task_table.items()
            for c in transfer.learning_curves(source, name, pool, test, settings.budgets, settings.seeds,
                                              settings.steps)]


LAYER_NAMES = {"1.weight": "conv1 (5×5, 24)", "5.weight": "conv2 (3×3, 48)", "10.weight": "fc (1200 → 256)"}


def layer_changes(source, pool: Split, test: Split, settings: TransferSettings, budgets=(10, None)) -> dict:
    """Relative change per layer after fine-tuning everything, at a few labels per class and at all of them."""
    changes = {}
    for b in budgets:
        _, tuned = transfer.run(source, "all", transfer.labels_per_class(pool, b, 0), test, settings.steps, seed=0)
        label = f"{'all' if b is None else b} labels per class"
        changes[label] = {LAYER_NAMES.get(name, name): v for name, v in transfer.relative_change(source, tuned).items()
                          if not name.startswith("13.")}
    return changes


def feature_maps(source, digits: Split, seed: int = 0):
    """t-SNE maps of scikit-learn's digits from raw pixels and from the frozen MNIST features, with kNN scores."""
    pixels = digits.X.flatten(1).float() / 255
    features = hidden.penultimate_features(source, digits)
    n_fit = int(0.8 * len(digits))
    maps = {}
    for title, values in [("raw pixels (784-d)", pixels), ("frozen MNIST features (256-d)", features)]:
        E = embed.tsne(embed.pca(values).transform(values, 50), seed=seed)
        maps[title] = (E, neighbors.knn_score(E, digits.y, n_fit).accuracy)
    return maps


def _tasks(ctx: Context) -> dict:
    return ctx.memo("transfer:tasks", lambda: tasks(ctx.dataset("mnist"), settings_for(ctx.profile), ctx.seed))


@recipe("transfer_curves", "accuracy against labels per class: scratch, probe, last block, everything", NOTEBOOK)
def transfer_curves(ctx: Context):
    curves = ctx.memo("transfer:curves", lambda: all_curves(_tasks(ctx), settings_for(ctx.profile)))
    return plots.plot_transfer_curves(curves, TITLES)


@recipe("transfer_features", "t-SNE of scikit-learn's digits: raw pixels vs frozen MNIST features", NOTEBOOK)
def transfer_features(ctx: Context):
    source, pool, test = _tasks(ctx)["digits"]
    digits = Split(torch.cat([pool.X, test.X]), torch.cat([pool.y, test.y]))
    maps = feature_maps(source, digits, ctx.seed)
    fig = plots.plot_maps(maps, digits.y)
    fig.suptitle(f"scikit-learn's {len(digits):,} digits: before and after an MNIST network (t-SNE)")
    return fig


@recipe("transfer_layer_change", "how far each layer moves when fine-tuning everything", NOTEBOOK)
def transfer_layer_change(ctx: Context):
    source, pool, test = _tasks(ctx)["digits"]
    return plots.plot_layer_change(layer_changes(source, pool, test, settings_for(ctx.profile)))
