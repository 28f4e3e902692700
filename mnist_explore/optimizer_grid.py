"""A grid of optimizer runs (optimizer x learning rate x seed), trained many at once, and the choice of
each optimizer's learning rate on validation. ``studies.optimizer_comparison`` builds its two protocols on it.

For a given seed every run starts from the same initial weights and sees the
same batches in the same order with the same dropout masks, so the optimizer is
the only difference. Runs that share a seed can be trained concurrently: their
parameters are stacked and one ``torch.func.vmap``-ed forward and backward pass
serves them all (one grouped convolution instead of K small ones), while each
keeps its own ``torch.optim`` optimizer. The sequential path trains the same
runs one after another with a plain module; the two agree to float tolerance.
"""
from __future__ import annotations

import copy
import math
import time
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np
import torch
import torch.nn.functional as F
from torch.func import functional_call, vmap

from .data import Split, to_float
from .errors import UserError
from .metrics import accuracy, predict
from .models import init_model
from .optimizers import OPTIMIZERS, build_optimizer
from .progress import bar as progress_bar
from .runtime import get_device, seeded_global_rng


@dataclass(frozen=True)
class Spec:
    optimizer: str
    lr: float
    seed: int


@dataclass
class GridRun:
    """One run of the grid: its loss and validation curves, and its final weights (kept on the CPU for the test
    pass). Lighter than the engine's ``History``: the grid trains many runs at once, outside ``train.fit``."""

    spec: Spec
    epochs: list[float] = field(default_factory=list)  # x of each curve point, in epochs
    train_loss: list[float] = field(default_factory=list)  # mean training loss since the previous point
    val_acc: list[float] = field(default_factory=list)
    state: dict | None = field(default=None, repr=False)

    @property
    def final_val_acc(self) -> float:
        return self.val_acc[-1]

    @property
    def diverged(self) -> bool:
        return not all(math.isfinite(v) for v in self.train_loss)


def check_optimizers(names: Sequence[str]) -> None:
    unknown = [n for n in names if n not in OPTIMIZERS]
    if unknown:
        raise UserError(f"Unknown optimizer(s) {', '.join(map(repr, unknown))}: choose from {', '.join(OPTIMIZERS)}.")


def grid(optimizers: Sequence[str], lrs: Sequence[float], seeds: Sequence[int]) -> list[Spec]:
    """Every (optimizer, lr, seed), validated."""
    check_optimizers(optimizers)
    if not lrs or any(not lr > 0 for lr in lrs):
        raise UserError(f"Learning rates must be positive numbers, got {list(lrs)}.")
    return [Spec(o, float(lr), int(s)) for s in seeds for o in optimizers for lr in lrs]


def batch_order(n: int, batch_size: int, epochs: int, seed: int) -> list[torch.Tensor]:
    """Index batches for every epoch, from a CPU generator: the same on every device."""
    g = torch.Generator().manual_seed(seed)
    return [perm[i:i + batch_size] for _ in range(epochs)
            for perm in [torch.randperm(n, generator=g)] for i in range(0, n - batch_size + 1, batch_size)]


class _Group:
    """K models with identical initial weights, trained either with one vmapped pass or one by one."""

    def __init__(self, specs: Sequence[Spec], model: str, device: torch.device):
        self.specs, self.device = list(specs), device
        self.models = [init_model(model, s.seed, device) for s in specs]
        self.optimizers = [build_optimizer(s.optimizer, m.parameters(), s.lr) for s, m in zip(specs, self.models)]
        self.base = copy.deepcopy(self.models[0]).to("meta")
        self.names = [n for n, _ in self.models[0].named_parameters()]
        self.buffers = {n: torch.stack([b] * len(specs)) for n, b in self.models[0].named_buffers()}

    def _stacked(self) -> dict[str, torch.Tensor]:
        per_model = [dict(m.named_parameters()) for m in self.models]
        return {n: torch.stack([p[n] for p in per_model]) for n in self.names}

    def logits(self, x: torch.Tensor, concurrent: bool) -> torch.Tensor:
        """(K, B, 10): every model on the same batch."""
        if not concurrent:
            return torch.stack([m(x) for m in self.models])
        self.base.train(self.models[0].training)
        def call(params, buffers, inputs):
            return functional_call(self.base, (params, buffers), (inputs,))
        return vmap(call, in_dims=(0, 0, None), randomness="same")(self._stacked(), self.buffers, x)

    def step(self, x: torch.Tensor, y: torch.Tensor, concurrent: bool) -> torch.Tensor:
        """One optimisation step of every model; returns the K losses (detached)."""
        for m in self.models:
            m.train()
        for opt in self.optimizers:
            opt.zero_grad(set_to_none=True)
        if concurrent:
            logits = self.logits(x, True)
            losses = F.cross_entropy(logits.flatten(0, 1), y.repeat(len(self.models)), reduction="none")
            losses = losses.view(len(self.models), -1).mean(1)
            losses.sum().backward()  # each model's gradient is that of its own loss
        else:
            losses = torch.stack([F.cross_entropy(m(x), y) for m in self.models])  # one model: see train_group
            losses.sum().backward()
        for opt in self.optimizers:
            opt.step()
        return losses.detach()

    @torch.no_grad()
    def accuracy(self, split: Split, concurrent: bool, batch_size: int = 1000) -> list[float]:
        for m in self.models:
            m.eval()
        correct = torch.zeros(len(self.models), device=self.device)
        for i in range(0, len(split), batch_size):
            x = to_float(split.X[i:i + batch_size].to(self.device))
            correct += (self.logits(x, concurrent).argmax(-1) == split.y[i:i + batch_size].to(self.device)).sum(1)
        return (correct / len(split)).tolist()


def train_group(specs: Sequence[Spec], train: Split, val: Split, epochs: int, batch_size: int = 64,
                evals_per_epoch: int = 2, model: str = "second_cnn", device: torch.device | None = None,
                concurrent: bool = True, progress: bool = True) -> list[GridRun]:
    """Train runs that share a seed, concurrently (one vmapped pass) or one after another.

    Either way each run gets the seed's initial weights, batch order and dropout
    masks (vmap's ``randomness="same"`` draws each mask once, as a single model would).
    """
    if not concurrent and len(specs) > 1:  # one run after another, each from the same seeded start
        return [run for s in specs for run in train_group([s], train, val, epochs, batch_size, evals_per_epoch,
                                                           model, device, False, progress)]
    seeds = {s.seed for s in specs}
    if len(seeds) != 1:  # a caller's mistake, not a setting: run_grid always groups runs by seed
        raise ValueError(f"train_group needs runs that share a seed, got seeds {sorted(seeds)}.")
    seed = seeds.pop()
    device = get_device(device)
    group = _Group(specs, model, device)
    batches = batch_order(len(train), batch_size, epochs, seed)
    per_epoch = len(batches) / epochs
    points = epochs * evals_per_epoch  # evenly spaced, the last at the last step
    eval_at = {max(1, round(k * len(batches) / points)) for k in range(1, points + 1)}
    runs = [GridRun(s) for s in specs]
    with seeded_global_rng(seed, device):  # the dropout stream, the same for every run of this seed
        return _train(group, runs, train, val, batches, eval_at, per_epoch, concurrent, progress)


def _train(group: _Group, runs: list[GridRun], train: Split, val: Split, batches: list[torch.Tensor], eval_at: set[int],
           per_epoch: float, concurrent: bool, progress: bool) -> list[GridRun]:
    device, specs, seed = group.device, group.specs, group.specs[0].seed
    running = torch.zeros(len(specs), device=device)
    since = 0
    bar = progress_bar(batches, desc=f"seed {seed}: {len(specs)} runs", leave=False, disable=not progress)
    for step, index in enumerate(bar, 1):
        index = index.to(train.X.device)
        running += group.step(to_float(train.X[index]).to(device), train.y[index].to(device), concurrent)
        since += 1
        if step in eval_at:
            accs = group.accuracy(val, concurrent)
            for run, loss, acc in zip(runs, (running / since).tolist(), accs):
                run.epochs.append(step / per_epoch)
                run.train_loss.append(loss)
                run.val_acc.append(acc)
            running.zero_()
            since = 0
    for run, m in zip(runs, group.models):
        run.state = {k: v.detach().cpu().clone() for k, v in m.state_dict().items()}
    return runs


def run_grid(specs: Sequence[Spec], train: Split, val: Split, epochs: int, concurrency: int | None = None,
             concurrent: bool = True, progress: bool = True, **kwargs) -> tuple[list[GridRun], float]:
    """Every run of the grid (grouped by seed, ``concurrency`` models per pass) and the seconds it took."""
    by_seed = defaultdict(list)
    for s in specs:
        by_seed[s.seed].append(s)
    runs, start = [], time.perf_counter()
    chunks = []
    for group in by_seed.values():
        size = (concurrency or len(group)) if concurrent else 1
        chunks += [group[i:i + size] for i in range(0, len(group), size)]
    # Concurrent groups are few and long: a bar per group. Sequential runs are many and short: one bar over them.
    for chunk in progress_bar(chunks, desc="optimizer grid", unit="run", disable=concurrent or not progress):
        runs += train_group(chunk, train, val, epochs, concurrent=concurrent, progress=progress and concurrent,
                            **kwargs)
    return runs, time.perf_counter() - start


def select_lrs(runs: Sequence[GridRun]) -> dict[str, float]:
    """Per optimizer, the learning rate with the best mean final validation accuracy over seeds (ties: the smaller)."""
    by_key = defaultdict(list)
    for r in runs:
        by_key[(r.spec.optimizer, r.spec.lr)].append(r.final_val_acc)
    best: dict[str, tuple[float, float]] = {}
    for (opt, lr), accs in sorted(by_key.items()):
        mean = float(np.nanmean(accs)) if not all(math.isnan(a) for a in accs) else -1.0
        if opt not in best or mean > best[opt][1]:
            best[opt] = (lr, mean)
    return {opt: lr for opt, (lr, _) in best.items()}


def test_accuracy(runs: Sequence[GridRun], test: Split, model: str = "second_cnn",
                  device: torch.device | str | None = None, batch_size: int = 1000) -> list[float]:
    """Each run's final weights scored on ``test`` on ``device`` (None: ``get_device()``).

    Call it once, at the end, on the chosen runs only.
    """
    net = init_model(model, device=get_device(device))  # its weights are replaced by each run's
    accs = []
    for run in runs:
        net.load_state_dict(run.state)
        accs.append(accuracy(test.y.cpu(), predict(net, test, batch_size).argmax(dim=1).cpu()))
    return accs
