"""What hidden layers compute: feature maps, penultimate features, saliency, class-maximising inputs.

Every function takes a trained model (a ``models.Classifier`` as ``models.build_model`` makes:
images in [0, 1], shape (N, 1, 28, 28)) and leaves no hook behind.
"""
from __future__ import annotations

from contextlib import contextmanager

import torch
import torch.nn.functional as F
from torch import nn

from .data import Split
from .errors import UserError
from .metrics import predict
from .models import Classifier


@contextmanager
def _capture(modules: dict[str, nn.Module]):
    """Collect each module's output during the forward passes inside the block."""
    captured: dict[str, list[torch.Tensor]] = {name: [] for name in modules}

    def hook_for(name):
        def hook(module, inputs, output):
            captured[name].append(output.detach())
        return hook

    handles = [m.register_forward_hook(hook_for(name)) for name, m in modules.items()]
    try:
        yield captured
    finally:
        for handle in handles:
            handle.remove()


def conv_layers(model: nn.Module) -> dict[str, nn.Module]:
    """The model's Conv2d layers in order, named conv1, conv2, ..."""
    convs = [m for m in model.modules() if isinstance(m, nn.Conv2d)]
    if not convs:
        raise UserError("This model has no convolutional layers: feature maps need a CNN.")
    return {f"conv{i + 1}": m for i, m in enumerate(convs)}


@torch.no_grad()
def feature_maps(model: nn.Module, x: torch.Tensor) -> dict[str, torch.Tensor]:
    """Each conv layer's output for images ``x`` (N, 1, 28, 28): name -> (N, C, H, W)."""
    model.eval()
    with _capture(conv_layers(model)) as captured:
        model(x)
    return {name: outs[0] for name, outs in captured.items()}


def penultimate_features(model: Classifier, split: Split | torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """What the model's ``features`` compute (the input of its ``head``) for every image: (N, features).

    ``split``: a Split or uint8 images (N, 28, 28). Returned on the model's device.
    """
    return predict(model.feature_extractor(), split, batch_size).flatten(1).float()


def first_of_each_class(y: torch.Tensor, num_classes: int = 10) -> torch.Tensor:
    """Index of the first example of each class in labels ``y``."""
    return torch.stack([(y == k).nonzero()[0, 0] for k in range(num_classes)])


def saliency(model: nn.Module, x: torch.Tensor, target: torch.Tensor | None = None) -> torch.Tensor:
    """|d logit_target / d pixel| for each image (N, 28, 28); ``target`` defaults to the predicted class."""
    model.eval()
    x = x.detach().clone().requires_grad_(True)
    logits = model(x)
    target = logits.argmax(dim=1) if target is None else target.to(logits.device)
    logits.gather(1, target.view(-1, 1)).sum().backward()
    return x.grad.abs()[:, 0]


def class_maximising_inputs(model: nn.Module, steps: int = 200, lr: float = 0.05, l2: float = 0.02,
                            blur_every: int = 10, seed: int = 0) -> torch.Tensor:
    """For each class, an input in [0, 1] that maximises its logit by gradient ascent: (10, 28, 28).

    Starts from faint noise; an L2 penalty and a periodic 3x3 blur keep the images smooth enough
    to read (without them, ascent finds high-frequency patterns that no digit has).
    """
    if steps < 1:
        raise UserError(f"steps must be at least 1, got {steps}.")
    model.eval()
    device = next(model.parameters()).device
    g = torch.Generator().manual_seed(seed)
    x = (0.1 * torch.rand(10, 1, 28, 28, generator=g)).to(device).requires_grad_(True)
    optimizer = torch.optim.Adam([x], lr=lr)
    target = torch.arange(10, device=device)
    blur = torch.full((1, 1, 3, 3), 1 / 9, device=device)
    for step in range(steps):
        optimizer.zero_grad()
        logits = model(x)
        (-logits.gather(1, target.view(-1, 1)).sum() + l2 * x.pow(2).sum()).backward()
        optimizer.step()
        with torch.no_grad():
            if blur_every and (step + 1) % blur_every == 0:
                x.copy_(F.conv2d(x, blur, padding=1))
            x.clamp_(0, 1)
    return x.detach()[:, 0]
