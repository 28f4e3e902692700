"""The model zoo, built by name: ``build_model("vgg_bn_dropout")``.

Every built model takes images scaled to [0, 1], shape (N, 1, 28, 28), and returns
logits (N, 10). Its first layer standardises with the training set's mean and
standard deviation, kept as buffers, so callers never carry them around.
"""
from __future__ import annotations

from collections.abc import Callable

import torch
from torch import nn

from .errors import UserError

NUM_CLASSES = 10
MNIST_MEAN, MNIST_STD = 0.1307, 0.3081  # data.normalization(train.X); a test checks them


class Standardize(nn.Module):
    """(x - mean) / std with the constants stored in the state dict."""

    def __init__(self, mean: float = MNIST_MEAN, std: float = MNIST_STD):
        super().__init__()
        self.register_buffer("mean", torch.tensor(float(mean)))
        self.register_buffer("std", torch.tensor(float(std)))

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x - self.mean) / self.std


def linear() -> nn.Module:
    """784 -> 10: multinomial logistic regression, the linear baseline."""
    return nn.Sequential(nn.Flatten(), nn.Linear(784, NUM_CLASSES))


def mlp() -> nn.Module:
    """784-512-10 with ReLU: the TensorFlow tutorial's and notebook 10's from-scratch network."""
    return nn.Sequential(nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, NUM_CLASSES))


def first_cnn() -> nn.Module:
    """One conv layer (32 filters, 3x3) and one fully connected layer."""
    return nn.Sequential(
        nn.Conv2d(1, 32, 3), nn.MaxPool2d(2), nn.ReLU(),  # 28 -> 26 -> 13; pool first: same result, less work
        nn.Flatten(), nn.Linear(32 * 13 * 13, NUM_CLASSES),
    )


def second_cnn() -> nn.Module:
    """Two conv and two FC layers with dropout: the PyTorch walkthrough's ``Net``."""
    return nn.Sequential(
        nn.Conv2d(1, 10, 5), nn.MaxPool2d(2), nn.ReLU(),  # 28 -> 24 -> 12
        nn.Conv2d(10, 20, 5), nn.Dropout2d(0.5), nn.MaxPool2d(2), nn.ReLU(),  # 12 -> 8 -> 4
        nn.Flatten(), nn.Linear(320, 50), nn.ReLU(), nn.Dropout(0.5), nn.Linear(50, NUM_CLASSES),
    )


def _vgg(dropout: bool, batch_norm: bool) -> nn.Module:
    """conv32, conv32, pool, conv64, conv64, pool, FC512 (the Keras notebook), optionally with BN and dropout."""
    def conv(c_in: int, c_out: int) -> list[nn.Module]:
        return [nn.Conv2d(c_in, c_out, 3, bias=not batch_norm), *([nn.BatchNorm2d(c_out)] if batch_norm else []),
                nn.ReLU()]

    def pool() -> list[nn.Module]:
        return [nn.MaxPool2d(2), *([nn.Dropout(0.25)] if dropout else [])]

    head = [nn.Linear(64 * 4 * 4, 512, bias=not batch_norm), *([nn.BatchNorm1d(512)] if batch_norm else []),
            nn.ReLU(), *([nn.Dropout(0.5)] if dropout else []), nn.Linear(512, NUM_CLASSES)]
    return nn.Sequential(*conv(1, 32), *conv(32, 32), *pool(),  # 28 -> 26 -> 24 -> 12
                         *conv(32, 64), *conv(64, 64), *pool(),  # 12 -> 10 -> 8 -> 4
                         nn.Flatten(), *head)


def vgg() -> nn.Module:
    """The Keras notebook's VGG-like network, without regularisation."""
    return _vgg(dropout=False, batch_norm=False)


def vgg_dropout() -> nn.Module:
    """VGG-like with dropout 0.25 after each pool and 0.5 before the output layer."""
    return _vgg(dropout=True, batch_norm=False)


def vgg_bn_dropout() -> nn.Module:
    """VGG-like with batch norm after every conv and FC layer, and dropout."""
    return _vgg(dropout=True, batch_norm=True)


def fast_cnn() -> nn.Module:
    """A small batch-normed CNN that reaches 99% in one or two epochs (after tuomaso/train_mnist_fast)."""
    return nn.Sequential(
        # Pooling before BN and ReLU normalises 4x fewer values: 20% faster on a 2-core CPU.
        nn.Conv2d(1, 24, 5, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(24), nn.ReLU(),  # 28 -> 24 -> 12
        nn.Conv2d(24, 48, 3, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(48), nn.ReLU(),  # 12 -> 10 -> 5
        nn.Flatten(), nn.Linear(48 * 5 * 5, 256, bias=False), nn.BatchNorm1d(256), nn.ReLU(),
        nn.Linear(256, NUM_CLASSES),
    )


def _simple_cnn(kernel: int, channels: tuple[int, ...]) -> nn.Module:
    """Unpadded kernel x kernel convolutions, each with BN and ReLU, then one FC layer with BN (An et al. 2020)."""
    layers: list[nn.Module] = []
    side, c_in = 28, 1
    for c_out in channels:
        layers += [nn.Conv2d(c_in, c_out, kernel, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
        side, c_in = side - kernel + 1, c_out
    return nn.Sequential(*layers, nn.Flatten(), nn.Linear(c_in * side * side, NUM_CLASSES, bias=False),
                         nn.BatchNorm1d(NUM_CLASSES))


def simple_cnn3() -> nn.Module:
    """An et al.'s M3: ten 3x3 convolutions (32 to 176 channels), 28 -> 8, no pooling."""
    return _simple_cnn(3, tuple(range(32, 177, 16)))


def simple_cnn5() -> nn.Module:
    """An et al.'s M5: five 5x5 convolutions (32 to 160 channels), 28 -> 8, no pooling."""
    return _simple_cnn(5, (32, 64, 96, 128, 160))


def simple_cnn7() -> nn.Module:
    """An et al.'s M7: four 7x7 convolutions (48 to 192 channels), 28 -> 4, no pooling."""
    return _simple_cnn(7, (48, 96, 144, 192))


MODELS: dict[str, Callable[[], nn.Module]] = {
    f.__name__: f for f in (linear, mlp, first_cnn, second_cnn, vgg, vgg_dropout, vgg_bn_dropout, fast_cnn,
                            simple_cnn3, simple_cnn5, simple_cnn7)
}


def build_model(name: str, mean: float = MNIST_MEAN, std: float = MNIST_STD) -> nn.Sequential:
    """A freshly initialised model from the registry, standardising its input first.

    Its weights come from torch's global generator: use :func:`init_model` for seeded weights.
    """
    if name not in MODELS:
        raise UserError(f"Unknown model {name!r}: choose one of {', '.join(MODELS)}.")
    return nn.Sequential(Standardize(mean, std), *MODELS[name]())


def init_model(name: str | Callable[[], nn.Module], seed: int = 0,
               device: torch.device | str | None = None) -> nn.Module:
    """A model whose initial weights depend on ``seed`` only: the one way to build a seeded model.

    Parameters
    ----------
    name
        A zoo name (see ``MODELS``), or a function that builds a module (``lambda: deep_mlp(depth=4)``).
    seed
        The weights are drawn on the CPU from this seed, so they are the same on every device;
        the caller's global generators are left as they were.
    device
        Where the model goes; None: ``get_device()``.
    """
    from .runtime import get_device, seeded_global_rng

    with seeded_global_rng(seed):
        model = build_model(name) if isinstance(name, str) else name()
    return model.to(get_device(device))


def count_parameters(model: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in model.parameters() if p.requires_grad)


def deep_mlp(activation: str = "sigmoid", batch_norm: bool = False, depth: int = 8, width: int = 128) -> nn.Sequential:
    """A deep, narrow MLP for the vanishing-gradient demonstration (notebook 06); not in the zoo.

    ``depth`` hidden layers of ``width`` units with sigmoid or ReLU, optionally batch-normed,
    after the usual Standardize layer; PyTorch's default initialisation.
    """
    activations = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}
    if activation not in activations:
        raise UserError(f"Unknown activation {activation!r}: choose one of {', '.join(activations)}.")
    layers: list[nn.Module] = [Standardize(), nn.Flatten()]
    for i in range(depth):
        layers += [nn.Linear(784 if i == 0 else width, width), *([nn.BatchNorm1d(width)] if batch_norm else []),
                   activations[activation]()]
    return nn.Sequential(*layers, nn.Linear(width, NUM_CLASSES))
