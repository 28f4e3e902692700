"""Peers: other projects' recipes, reproduced here so that they run on the same machine as the suite's.

``tuomaso_final`` is the last step of tuomaso/train_mnist_fast (``8_Final_00s76.ipynb``, MIT licence),
rewritten from its notebook without changes to the recipe: the whole training set standardised with
(0.1307, 0.3081) and shuffled once, kept on the device as float32; a CNN of conv 5x5 (24) -> max-pool ->
ReLU -> conv 3x3 (32) -> max-pool -> ReLU -> 800-256-10 with log-softmax; Adam with lr 1e-2 and betas
(0.7, 0.9); OneCycleLR to 1e-2 without momentum cycling; batch 256 in the saved order; one epoch of all
60,000 training images. Its README reports a mean of 99.04% over 30 runs in 0.76 s on a GTX 1660 Ti.
"""
from __future__ import annotations

import time

import torch
import torch.nn.functional as F
from torch import nn

from mnist_explore.data import Split
from mnist_explore.runtime import seeded_global_rng

TUOMASO = "tuomaso/train_mnist_fast, final recipe (8_Final_00s76.ipynb)"


class TuomasoNet(nn.Module):
    """The final notebook's network, layer for layer."""

    def __init__(self):
        super().__init__()
        self.conv1 = nn.Conv2d(1, 24, 5, 1)
        self.conv2 = nn.Conv2d(24, 32, 3, 1)
        self.fc1 = nn.Linear(800, 256)
        self.fc2 = nn.Linear(256, 10)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = F.relu(F.max_pool2d(self.conv1(x), 2))
        x = F.relu(F.max_pool2d(self.conv2(x), 2))
        x = F.relu(self.fc1(torch.flatten(x, 1)))
        return F.log_softmax(self.fc2(x), dim=1)


def standardised(split: Split, seed: int | None = None) -> tuple[torch.Tensor, torch.Tensor]:
    """The split as the peer saves it: float32 (N, 1, 28, 28) standardised, shuffled once when ``seed`` is given."""
    X = (split.X.float().unsqueeze(1) / 255 - 0.1307) / 0.3081
    if seed is None:
        return X, split.y
    order = torch.randperm(len(X), generator=torch.Generator().manual_seed(seed)).to(X.device)
    return X[order], split.y[order]


def tuomaso_final(train: Split, test: Split, seed: int, epochs: int = 1, batch_size: int = 256,
                  lr: float = 1e-2) -> dict:
    """Train the peer's final recipe once; ``seconds`` is the training loop alone, between device syncs.

    ``seed`` draws the default initial weights and the one shuffle. Returns seconds and test accuracy.
    """
    device = train.X.device
    X, y = standardised(train, seed)
    X_test, y_test = standardised(test)
    with seeded_global_rng(seed, device):
        model = TuomasoNet().to(device)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr, betas=(0.7, 0.9))
    batches_per_epoch = (len(X) - 1) // batch_size + 1
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=batches_per_epoch * epochs,
                                                    cycle_momentum=False)
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    start = time.perf_counter()
    model.train()
    for i in range(epochs * batches_per_epoch):
        i = i % batches_per_epoch
        optimizer.zero_grad()
        loss = F.nll_loss(model(X[batch_size * i:batch_size * (i + 1)]), y[batch_size * i:batch_size * (i + 1)])
        loss.backward()
        optimizer.step()
        scheduler.step()
    if device.type == "cuda":
        torch.cuda.synchronize(device)
    seconds = time.perf_counter() - start
    model.eval()
    with torch.no_grad():
        correct = sum(int((model(X_test[i:i + 2000]).argmax(1) == y_test[i:i + 2000]).sum())
                      for i in range(0, len(X_test), 2000))
    return {"seconds": seconds, "test_acc": correct / len(X_test)}
