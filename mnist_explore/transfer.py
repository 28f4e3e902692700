"""Transfer learning offline: from MNIST-trained fast_cnn models to data sets that are on the machine.

Targets: scikit-learn's bundled 8 x 8 digits (1,797 images from another source,
resized and matched in intensity to MNIST), MNIST digits 5-9 (from a model that
saw only 0-4), and Fashion-MNIST when its raw files are installed. Four ways to
use a source model, compared at a few labels per class:

- ``scratch``: a fresh fast_cnn, every layer trained;
- ``probe``: the source's layers frozen, a new linear head on its 256 features;
- ``last_block``: the convolutions frozen, the fully connected block retrained with a new head;
- ``all``: every layer fine-tuned from the source's weights, with a new head.

A model is a chain of named blocks (:func:`blocks`: ``standardize``, the stages of
``features``, ``head``); a mode freezes the blocks before the first one it trains.
The frozen prefix runs once over each data set, in eval mode (its batch-norm
statistics stay as they were), and only the trainable suffix is trained on the
cached features: the same result as a full forward pass, a fraction of the time.
"""
from __future__ import annotations

import copy
import os
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
import torch.nn.functional as F
from torch import nn

from .data import Split
from .errors import UserError
from .metrics import accuracy, predict
from .models import Classifier, build_model
from .runtime import get_device, seeded_global_rng

MODES = ("scratch", "probe", "last_block", "all")
# The first block each mode trains; the blocks before it stay frozen. fast_cnn's blocks are standardize,
# features.conv, features.flatten, features.fc and head; standardize has no weights and is never trained.
TRAINED_FROM = {"scratch": "features", "probe": "head", "last_block": "features.fc", "all": "features"}


def sklearn_digits(seed: int = 0, test_fraction: float = 0.3) -> tuple[Split, Split]:
    """scikit-learn's 1,797 8 x 8 digits as MNIST-like uint8 28 x 28 images: a 20 x 20 digit in a 4-pixel border.

    MNIST's digits fill a 20 x 20 box centred in 28 x 28, ink at 255; the 8 x 8
    images (ink 0-16) are resized bilinearly to 20 x 20, padded and scaled to
    0-255. A seeded split keeps ``test_fraction`` of each class for testing.
    """
    from sklearn.datasets import load_digits

    bunch = load_digits()
    small = torch.from_numpy(bunch.images).float()[:, None] / 16.0
    big = F.pad(F.interpolate(small, size=(20, 20), mode="bilinear", align_corners=False), (4, 4, 4, 4))
    X = (big[:, 0].clamp(0, 1) * 255).round().to(torch.uint8)
    y = torch.from_numpy(bunch.target).long()
    g = torch.Generator().manual_seed(seed)
    test = torch.cat([idx[torch.randperm(len(idx), generator=g)][:round(test_fraction * len(idx))]
                      for idx in (torch.nonzero(y == k)[:, 0] for k in range(10))])
    mask = torch.ones(len(y), dtype=torch.bool)
    mask[test] = False
    return Split(X[mask], y[mask]), Split(X[test], y[test])


def classes_only(split: Split, classes: range | list[int]) -> Split:
    """The images of ``split`` whose label is in ``classes``."""
    keep = torch.isin(split.y, torch.as_tensor(list(classes), device=split.y.device))
    return Split(split.X[keep], split.y[keep])


def labels_per_class_index(y: torch.Tensor, per_class: int | None, seed: int = 0) -> torch.Tensor | None:
    """Indices of ``per_class`` random examples of every class in labels ``y`` (None: all of them)."""
    if per_class is None:
        return None
    g = torch.Generator().manual_seed(seed)
    picks = []
    for k in torch.unique(y).tolist():
        idx = torch.nonzero(y == k)[:, 0].cpu()
        if len(idx) < per_class:
            raise UserError(f"Class {k} has only {len(idx)} examples; {per_class} labels per class is too many.")
        picks.append(idx[torch.randperm(len(idx), generator=g)[:per_class]])
    return torch.cat(picks)


def labels_per_class(split: Split, per_class: int | None, seed: int = 0) -> Split:
    """``per_class`` random examples of every class present (all of them for None)."""
    index = labels_per_class_index(split.y, per_class, seed)
    return split if index is None else split.subset(index)


def check_mode(mode: str) -> None:
    if mode not in MODES:
        raise UserError(f"Unknown transfer mode {mode!r}: choose one of {', '.join(MODES)}.")


def blocks(model: Classifier) -> dict[str, nn.Module]:
    """The model as a chain of named blocks, in forward order: standardize, each stage of features, head."""
    return {"standardize": model.standardize,
            **{f"features.{name}": stage for name, stage in model.features.named_children()}, "head": model.head}


def frozen_blocks(model: Classifier, mode: str) -> tuple[str, ...]:
    """The names of the blocks that ``mode`` freezes: every block before the first one it trains."""
    check_mode(mode)
    names = list(blocks(model))
    start = TRAINED_FROM[mode]
    return tuple(names[:next(i for i, n in enumerate(names) if n == start or n.startswith(f"{start}."))])


def prepare(source: Classifier | None, mode: str, seed: int = 0) -> Classifier:
    """A copy of ``source`` (a fresh fast_cnn for ``scratch``) with a new head and its prefix frozen.

    Frozen parameters get ``requires_grad=False`` and frozen modules stay in eval
    mode under :func:`train_mode`, so neither their weights nor their batch-norm
    statistics change. The names of the frozen blocks are kept in ``model.frozen``.
    """
    check_mode(mode)
    with seeded_global_rng(seed):  # a new model's or head's initial weights
        if mode == "scratch" or source is None:
            model = build_model("fast_cnn")
        else:
            model = copy.deepcopy(source)
            model.head = nn.Linear(model.head.in_features, model.head.out_features)
    model = model.to(next(source.parameters()).device if source is not None else "cpu")
    model.frozen = frozen_blocks(model, mode)
    for name, block in blocks(model).items():
        for p in block.parameters():
            p.requires_grad_(name not in model.frozen)
    return model


def prefix(model: Classifier) -> nn.Sequential:
    """The frozen blocks of a prepared model, as one module."""
    return nn.Sequential(*(block for name, block in blocks(model).items() if name in model.frozen))


def suffix(model: Classifier) -> nn.Sequential:
    """The trainable blocks of a prepared model, as one module: what runs on the cached prefix features."""
    return nn.Sequential(*(block for name, block in blocks(model).items() if name not in model.frozen))


def train_mode(model: Classifier) -> None:
    """Training mode for the trainable suffix only."""
    for name, block in blocks(model).items():
        block.train(name not in model.frozen)


def prefix_features(model: Classifier, X: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """The frozen prefix's output for uint8 images X, computed once in eval mode on the model's device."""
    return predict(prefix(model), X, batch_size)


def fit_suffix(model: Classifier, features: torch.Tensor, y: torch.Tensor, steps: int = 100, lr: float = 1e-3,
               batch_size: int = 64, seed: int = 0) -> Classifier:
    """Train the trainable blocks (:func:`suffix`) on cached prefix features with Adam, ``steps`` mini-batches."""
    trainable = suffix(model)
    opt = torch.optim.Adam([p for p in trainable.parameters() if p.requires_grad], lr=lr)
    g = torch.Generator().manual_seed(seed)
    y = y.to(features.device)
    batch = min(batch_size, len(y))
    for _ in range(steps):
        index = torch.randperm(len(y), generator=g)[:batch].to(features.device)
        train_mode(model)
        loss = F.cross_entropy(trainable(features[index]), y[index])
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    model.eval()
    return model


def accuracy_on(model: Classifier, features: torch.Tensor, y: torch.Tensor) -> float:
    """Accuracy of a prepared model on cached prefix features and their labels ``y``."""
    model.eval()
    return accuracy(y.cpu(), predict(suffix(model), features, batch_size=None).argmax(1).cpu())


def run(source: Classifier | None, mode: str, train: Split, test: Split, steps: int = 100,
        seed: int = 0) -> tuple[float, Classifier]:
    """Test accuracy of ``mode`` trained on ``train``, and the trained model."""
    model = prepare(source, mode, seed)
    fit_suffix(model, prefix_features(model, train.X), train.y, steps=steps, seed=seed)
    return accuracy_on(model, prefix_features(model, test.X), test.y), model


def relative_change(before: nn.Module, after: nn.Module) -> dict[str, float]:
    """||W_after - W_before|| / ||W_before|| for every weight matrix or kernel, by layer name."""
    b = dict(before.named_parameters())
    return {name: float((p.detach() - b[name].detach()).norm() / b[name].detach().norm().clamp_min(1e-12))
            for name, p in after.named_parameters() if p.ndim > 1 and name in b and p.shape == b[name].shape}


@dataclass(frozen=True)
class Curve:
    """Test accuracy per labels-per-class budget (None = all labels), one row per seed."""

    task: str
    mode: str
    budgets: tuple[int | None, ...]
    accuracies: np.ndarray  # (seeds, budgets)


def learning_curves(source: Classifier | None, task: str, pool: Split, test: Split, budgets, seeds,
                    steps: int = 100) -> list[Curve]:
    """Every mode at every budget and seed: the numbers behind the accuracy-vs-labels figure.

    Each frozen prefix runs once over the whole pool and the test set; every
    budget and seed then trains on its rows of those features.
    """
    pool_features: dict[int, torch.Tensor] = {}
    test_features: dict[int, torch.Tensor] = {}
    curves = []
    for mode in MODES:
        acc = np.zeros((len(seeds), len(budgets)))
        for i, seed in enumerate(seeds):
            for j, budget in enumerate(budgets):
                model = prepare(source, mode, seed)
                if model.frozen not in pool_features:
                    pool_features[model.frozen] = prefix_features(model, pool.X)
                    test_features[model.frozen] = prefix_features(model, test.X)
                index = labels_per_class_index(pool.y, budget, seed)
                feats, y = (pool_features[model.frozen], pool.y) if index is None else \
                    (pool_features[model.frozen][index.to(pool_features[model.frozen].device)], pool.y[index])
                fit_suffix(model, feats, y, steps=steps, seed=seed)
                acc[i, j] = accuracy_on(model, test_features[model.frozen], test.y)
        curves.append(Curve(task, mode, tuple(budgets), acc))
    return curves


# --- the optional ImageNet baseline --------------------------------------------------------------------------

RESNET18_FILE = "resnet18-f37072fd.pth"  # torchvision's IMAGENET1K_V1 weights


def torch_cache_weights(filename: str = RESNET18_FILE) -> Path | None:
    """The weights file in the local torch hub cache, if present. Never downloads."""
    hub = Path(os.environ.get("TORCH_HOME", Path.home() / ".cache" / "torch")) / "hub" / "checkpoints" / filename
    return hub if hub.exists() else None


def imagenet_resnet18(device: torch.device | str | None = None) -> nn.Module:
    """torchvision's ResNet-18 with ImageNet weights from the local cache, as a 512-d feature extractor, in eval mode
    on ``device`` (None: ``get_device()``)."""
    from torchvision.models import resnet18

    path = torch_cache_weights()
    if path is None:
        raise UserError(f"ImageNet ResNet-18 weights are not in the local torch cache ({RESNET18_FILE}); this "
                        "optional baseline is skipped offline. On a machine with internet, "
                        "torchvision.models.resnet18(weights='IMAGENET1K_V1') puts them there.")
    model = resnet18(weights=None)
    model.load_state_dict(torch.load(path, map_location="cpu", weights_only=True))
    model.fc = nn.Identity()
    return model.to(get_device(device)).eval()


class ImageNetInput(nn.Module):
    """Digits in [0, 1], (N, 1, 28, 28), resized to ``size`` x ``size``, repeated to RGB and ImageNet-normalised."""

    def __init__(self, size: int = 64):
        super().__init__()
        self.size = size
        self.register_buffer("mean", torch.tensor([0.485, 0.456, 0.406])[:, None, None])
        self.register_buffer("std", torch.tensor([0.229, 0.224, 0.225])[:, None, None])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.interpolate(x, size=(self.size, self.size), mode="bilinear", align_corners=False).repeat(1, 3, 1, 1)
        return (x - self.mean) / self.std


def imagenet_features(model: nn.Module, X: torch.Tensor, size: int = 64, batch_size: int = 256) -> torch.Tensor:
    """uint8 digits (N, 28, 28) through :class:`ImageNetInput` and ``model``, on the model's device."""
    device = next(model.parameters()).device
    return predict(nn.Sequential(ImageNetInput(size).to(device), model), X, batch_size)


def linear_probe_accuracy(train_features: torch.Tensor, train_y: torch.Tensor, test_features: torch.Tensor,
                          test_y: torch.Tensor, steps: int = 300, lr: float = 1e-2, seed: int = 0) -> float:
    """Test accuracy of a linear classifier trained full-batch with Adam on fixed features."""
    with seeded_global_rng(seed):
        probe = nn.Linear(train_features.shape[1], int(train_y.max()) + 1).to(train_features.device)
    opt = torch.optim.Adam(probe.parameters(), lr=lr)
    for _ in range(steps):
        loss = F.cross_entropy(probe(train_features), train_y.to(train_features.device))
        opt.zero_grad(set_to_none=True)
        loss.backward()
        opt.step()
    return accuracy(test_y.cpu(), predict(probe, test_features, batch_size=None).argmax(1).cpu())
