"""The model zoo, built by name: ``build_model("vgg_bn_dropout")``.

Every built model is a :class:`Classifier`: it takes images scaled to [0, 1], shape
(N, 1, 28, 28), and returns logits (N, 10) through three named parts. ``standardize``
uses the training set's mean and standard deviation, kept as buffers, so callers never
carry them around; ``features`` computes the penultimate representation; ``head``
turns it into logits.
"""
from __future__ import annotations

from collections import OrderedDict
from collections.abc import Callable, Sequence

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


class Classifier(nn.Sequential):
    """A zoo model as three named parts: ``standardize``, ``features`` and ``head``.

    ``features`` maps the standardised images to the penultimate representation (for a
    CNN: its stages ``conv``, ``flatten`` and ``fc``, where present) and ``head`` maps that
    to logits, so ``model(x) == model.head(model.features(model.standardize(x)))``.
    Select layers by these names, never by position.
    """

    def __init__(self, features: nn.Module, head: nn.Module, standardize: nn.Module | None = None):
        super().__init__(OrderedDict(standardize=Standardize() if standardize is None else standardize,
                                     features=features, head=head))

    def __getitem__(self, idx):
        if isinstance(idx, slice):  # nn.Sequential would call this class's constructor with the slice
            return nn.Sequential(OrderedDict(list(self._modules.items())[idx]))
        return super().__getitem__(idx)

    def feature_extractor(self) -> nn.Sequential:
        """``standardize`` then ``features`` as one module sharing this model's layers: the penultimate features."""
        return nn.Sequential(self.standardize, self.features)


def stages(conv: Sequence[nn.Module] = (), fc: Sequence[nn.Module] = ()) -> nn.Sequential:
    """A model's ``features`` as named stages: ``conv`` (convolutions, pooling), ``flatten``, ``fc`` (hidden layers).

    Stages without layers are left out. The layers are built by the caller, in forward
    order, so that seeded initial weights do not depend on this grouping.
    """
    parts: OrderedDict[str, nn.Module] = OrderedDict()
    if conv:
        parts["conv"] = nn.Sequential(*conv)
    parts["flatten"] = nn.Flatten()
    if fc:
        parts["fc"] = nn.Sequential(*fc)
    return nn.Sequential(parts)


def linear() -> Classifier:
    """784 -> 10: multinomial logistic regression, the linear baseline."""
    return Classifier(stages(), nn.Linear(784, NUM_CLASSES))


def mlp() -> Classifier:
    """784-512-10 with ReLU: the TensorFlow tutorial's and notebook 10's from-scratch network."""
    return Classifier(stages(fc=[nn.Linear(784, 512), nn.ReLU()]), nn.Linear(512, NUM_CLASSES))


def first_cnn() -> Classifier:
    """One conv layer (32 filters, 3x3) and one fully connected layer."""
    # 28 -> 26 -> 13; pool first: same result, less work
    return Classifier(stages(conv=[nn.Conv2d(1, 32, 3), nn.MaxPool2d(2), nn.ReLU()]),
                      nn.Linear(32 * 13 * 13, NUM_CLASSES))


def second_cnn() -> Classifier:
    """Two conv and two FC layers with dropout: the PyTorch walkthrough's ``Net``."""
    features = stages(
        conv=[nn.Conv2d(1, 10, 5), nn.MaxPool2d(2), nn.ReLU(),  # 28 -> 24 -> 12
              nn.Conv2d(10, 20, 5), nn.Dropout2d(0.5), nn.MaxPool2d(2), nn.ReLU()],  # 12 -> 8 -> 4
        fc=[nn.Linear(320, 50), nn.ReLU(), nn.Dropout(0.5)])
    return Classifier(features, nn.Linear(50, NUM_CLASSES))


def _vgg(dropout: bool, batch_norm: bool) -> Classifier:
    """conv32, conv32, pool, conv64, conv64, pool, FC512 (the Keras notebook), optionally with BN and dropout."""
    def conv(c_in: int, c_out: int) -> list[nn.Module]:
        return [nn.Conv2d(c_in, c_out, 3, bias=not batch_norm), *([nn.BatchNorm2d(c_out)] if batch_norm else []),
                nn.ReLU()]

    def pool() -> list[nn.Module]:
        return [nn.MaxPool2d(2), *([nn.Dropout(0.25)] if dropout else [])]

    # The fully connected layers are built before the convolutions, as they always were: seeded
    # initial weights depend on the order in which layers are built.
    fc = [nn.Linear(64 * 4 * 4, 512, bias=not batch_norm), *([nn.BatchNorm1d(512)] if batch_norm else []), nn.ReLU(),
          *([nn.Dropout(0.5)] if dropout else [])]
    head = nn.Linear(512, NUM_CLASSES)
    return Classifier(stages(conv=[*conv(1, 32), *conv(32, 32), *pool(),  # 28 -> 26 -> 24 -> 12
                                   *conv(32, 64), *conv(64, 64), *pool()],  # 12 -> 10 -> 8 -> 4
                             fc=fc), head)


def vgg() -> Classifier:
    """The Keras notebook's VGG-like network, without regularisation."""
    return _vgg(dropout=False, batch_norm=False)


def vgg_dropout() -> Classifier:
    """VGG-like with dropout 0.25 after each pool and 0.5 before the output layer."""
    return _vgg(dropout=True, batch_norm=False)


def vgg_bn_dropout() -> Classifier:
    """VGG-like with batch norm after every conv and FC layer, and dropout."""
    return _vgg(dropout=True, batch_norm=True)


def fast_cnn() -> Classifier:
    """A small batch-normed CNN that reaches 99% in one or two epochs (after tuomaso/train_mnist_fast)."""
    features = stages(
        # Pooling before BN and ReLU normalises 4x fewer values: 20% faster on a 2-core CPU.
        conv=[nn.Conv2d(1, 24, 5, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(24), nn.ReLU(),  # 28 -> 24 -> 12
              nn.Conv2d(24, 48, 3, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(48), nn.ReLU()],  # 12 -> 10 -> 5
        fc=[nn.Linear(48 * 5 * 5, 256, bias=False), nn.BatchNorm1d(256), nn.ReLU()])
    return Classifier(features, nn.Linear(256, NUM_CLASSES))


def _simple_cnn(kernel: int, channels: tuple[int, ...]) -> Classifier:
    """Unpadded kernel x kernel convolutions, each with BN and ReLU, then one FC layer with BN (An et al. 2020)."""
    layers: list[nn.Module] = []
    side, c_in = 28, 1
    for c_out in channels:
        layers += [nn.Conv2d(c_in, c_out, kernel, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
        side, c_in = side - kernel + 1, c_out
    # The head is the FC layer and the batch norm of its logits.
    return Classifier(stages(conv=layers), nn.Sequential(nn.Linear(c_in * side * side, NUM_CLASSES, bias=False),
                                                         nn.BatchNorm1d(NUM_CLASSES)))


def simple_cnn3() -> Classifier:
    """An et al.'s M3: ten 3x3 convolutions (32 to 176 channels), 28 -> 8, no pooling."""
    return _simple_cnn(3, tuple(range(32, 177, 16)))


def simple_cnn5() -> Classifier:
    """An et al.'s M5: five 5x5 convolutions (32 to 160 channels), 28 -> 8, no pooling."""
    return _simple_cnn(5, (32, 64, 96, 128, 160))


def simple_cnn7() -> Classifier:
    """An et al.'s M7: four 7x7 convolutions (48 to 192 channels), 28 -> 4, no pooling."""
    return _simple_cnn(7, (48, 96, 144, 192))


MODELS: dict[str, Callable[[], Classifier]] = {
    f.__name__: f for f in (linear, mlp, first_cnn, second_cnn, vgg, vgg_dropout, vgg_bn_dropout, fast_cnn,
                            simple_cnn3, simple_cnn5, simple_cnn7)
}


def build_model(name: str, mean: float = MNIST_MEAN, std: float = MNIST_STD) -> Classifier:
    """A freshly initialised model from the registry, standardising its input first.

    Its weights come from torch's global generator: use :func:`init_model` for seeded weights.
    """
    if name not in MODELS:
        raise UserError(f"Unknown model {name!r}: choose one of {', '.join(MODELS)}.")
    model = MODELS[name]()
    model.standardize = Standardize(mean, std)  # replaces the default in place: no random numbers drawn
    return model


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


def deep_mlp(activation: str = "sigmoid", batch_norm: bool = False, depth: int = 8, width: int = 128) -> Classifier:
    """A deep, narrow MLP for the vanishing-gradient demonstration (notebook 06); not in the zoo.

    ``depth`` hidden layers of ``width`` units with sigmoid or ReLU, optionally batch-normed (the
    ``features.fc`` stage), after the usual Standardize layer; PyTorch's default initialisation.
    """
    activations = {"sigmoid": nn.Sigmoid, "relu": nn.ReLU, "tanh": nn.Tanh}
    if activation not in activations:
        raise UserError(f"Unknown activation {activation!r}: choose one of {', '.join(activations)}.")
    layers: list[nn.Module] = []
    for i in range(depth):
        layers += [nn.Linear(784 if i == 0 else width, width), *([nn.BatchNorm1d(width)] if batch_norm else []),
                   activations[activation]()]
    return Classifier(stages(fc=layers), nn.Linear(width, NUM_CLASSES))
