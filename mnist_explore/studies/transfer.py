"""Transfer learning (notebook 09): from MNIST models to digits from elsewhere, to unseen digits, to clothing."""
from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import torch
from torch import nn

from .. import activations, embed, gan_quality, neighbors, transfer
from ..data import DataError, Dataset, Split, load_dataset, train_val_split
from ..models import Classifier
from ..runtime import get_device
from .profiles import StudySettings

TITLES = {"digits": "MNIST → scikit-learn's 8×8 digits", "5-9": "MNIST 0-4 → MNIST 5-9",
          "fashion": "MNIST → Fashion-MNIST"}


@dataclass(frozen=True)
class Settings(StudySettings):
    PROFILES = {"quick": dict(budgets=(1, 10), seeds=(0,), steps=30, source_train_size=5000, test_size=500),
                "full": dict(seeds=(0, 1, 2, 3, 4), steps=300, source_epochs=2, test_size=10000)}

    budgets: tuple[int | None, ...] = (1, 5, 10, 50, None)  # labels per class; None = all
    seeds: tuple[int, ...] = (0, 1, 2)
    steps: int = 50  # Adam steps of batch 64 (or fewer images) per training run
    source_epochs: int = 1
    source_train_size: int | None = None
    test_size: int = 2000  # test images per task, at most
    include_fashion: bool = True  # when Fashion-MNIST's files are installed


Task = tuple[torch.nn.Module, Split, Split]  # the source model, the labelled pool, the test split


@dataclass
class TransferStudy:
    tasks: dict[str, Task]
    curves: list[transfer.Curve]
    layer_changes: dict[str, dict[str, float]]  # by labels-per-class label, then layer
    digit_maps: dict[str, tuple[np.ndarray, float]]  # title -> (t-SNE map, kNN accuracy) of sklearn's digits
    digits: Split  # the digits those maps show


def source_model(train: Split, val: Split, settings: Settings, seed: int = 0):
    """fast_cnn trained on ``train`` with the race recipe: the model every transfer starts from."""
    if settings.source_train_size is not None:
        train = train.subset(torch.arange(min(settings.source_train_size, len(train))))
    return gan_quality.feature_classifier(train, val, seed, settings.source_epochs)


def fashion_or_none() -> Dataset | None:
    """Fashion-MNIST when its raw files are installed, else None (the notebook says how to get them)."""
    try:
        return load_dataset("fashion")
    except DataError:
        return None


def _capped(split: Split, cap: torch.Tensor) -> Split:
    return split.subset(cap[:len(split)])


def tasks(mnist: Dataset, settings: Settings, seed: int = 0) -> dict[str, Task]:
    """Every task: name -> (source model, training pool, test split), on ``mnist``'s device."""
    train, val = train_val_split(mnist.train, seed=0)
    everything = source_model(train, val, settings, seed)
    low = source_model(transfer.classes_only(train, range(5)), transfer.classes_only(val, range(5)), settings, seed)
    cap = torch.arange(settings.test_size)
    pool, test = transfer.sklearn_digits(seed=0)
    out = {"digits": (everything, pool, test),
           "5-9": (low, transfer.classes_only(train, range(5, 10)),
                   _capped(transfer.classes_only(mnist.test, range(5, 10)), cap))}
    fashion = fashion_or_none() if settings.include_fashion else None
    if fashion is not None:
        out["fashion"] = (everything, fashion.train.to(train.X.device), _capped(fashion.test.to(train.X.device), cap))
    return out


def all_curves(task_table: dict[str, Task], settings: Settings) -> list[transfer.Curve]:
    return [c for name, (source, pool, test) in task_table.items()
            for c in transfer.learning_curves(source, name, pool, test, settings.budgets, settings.seeds,
                                              settings.steps)]


def layer_labels(model: Classifier) -> dict[str, str]:
    """Readable names for the weights of the layers in ``model.features``, by parameter name.

    fast_cnn's: ``features.conv.0.weight`` is "conv1 (5×5, 24)", ``features.conv.4.weight`` "conv2 (3×3, 48)"
    and ``features.fc.0.weight`` "fc (1200 → 256)". The head, replaced by every transfer, has none.
    """
    convs = [(n, m) for n, m in model.features.named_modules() if isinstance(m, nn.Conv2d)]
    fcs = [(n, m) for n, m in model.features.named_modules() if isinstance(m, nn.Linear)]
    labels = {f"features.{n}.weight": f"conv{i} ({m.kernel_size[0]}×{m.kernel_size[1]}, {m.out_channels})"
              for i, (n, m) in enumerate(convs, 1)}
    labels |= {f"features.{n}.weight": f"fc{'' if len(fcs) == 1 else i} ({m.in_features} → {m.out_features})"
               for i, (n, m) in enumerate(fcs, 1)}
    return labels


def layer_changes(source: Classifier, pool: Split, test: Split, settings: Settings, budgets=(10, None)) -> dict:
    """Relative change of each layer of ``features`` after fine-tuning everything, at a few labels per class and at
    all of them."""
    labels = layer_labels(source)
    changes = {}
    for b in budgets:
        _, tuned = transfer.run(source, "all", transfer.labels_per_class(pool, b, 0), test, settings.steps, seed=0)
        label = f"{'all' if b is None else b} labels per class"
        changes[label] = {labels[name]: v for name, v in transfer.relative_change(source, tuned).items()
                          if name in labels}
    return changes


def feature_maps(source, digits: Split, seed: int = 0):
    """t-SNE maps of scikit-learn's digits from raw pixels and from the frozen MNIST features, with kNN scores."""
    pixels = digits.X.flatten(1).float() / 255
    features = activations.penultimate_features(source, digits)
    n_fit = int(0.8 * len(digits))
    maps = {}
    for title, values in [("raw pixels (784-d)", pixels), ("frozen MNIST features (256-d)", features)]:
        E = embed.tsne(embed.pca(values).transform(values, 50), seed=seed)
        maps[title] = (E, neighbors.knn_score(E, digits.y, n_fit).accuracy)
    return maps


def run(settings: Settings, data: Dataset, *, device: torch.device | str | None = None, seed: int = 0,
        progress: bool = True) -> TransferStudy:
    """Train the source models on ``device`` (None: ``get_device()``), then every curve, layer change and map."""
    table = tasks(data.to(get_device(device)), settings, seed)
    source, pool, test = table["digits"]
    digits = Split(torch.cat([pool.X, test.X]), torch.cat([pool.y, test.y]))
    curves = all_curves(table, settings)
    maps = feature_maps(source, digits, seed)
    return TransferStudy(table, curves, layer_changes(source, pool, test, settings), maps, digits)
