"""Time to 99% test accuracy against a peer's recipe on the same machine, and seconds per epoch with the
engine's on-device batches against a DataLoader.

    python benchmarks/bench_train.py [--device cuda] [--pairs 5] [--dry-run] [--no-fail]

The suite's race recipe, fixed before measuring (one epoch of fast_cnn on the 55,000 training images, Adam
with OneCycle to lr 3e-3, batch 128), and the peer, tuomaso/train_mnist_fast's final recipe (see peers.py:
one epoch of a small CNN on all 60,000, Adam with OneCycle to 1e-2, batch 256), train in alternating order,
one seed per round, after a warm-up run of each. Both times count the training loop only, between device
syncs. Each side's first call in a fresh process is timed too (cold). Writes results/train-<host>.json.

Goals: the suite's time to 99.0% at most half the peer's, on the same machine (a recipe reaches 99.0% when
its mean test accuracy over the rounds does); every round of the suite at 99.0% or better; a median of at
most 30 s on 2 CPU threads, and at most 0.5 s on a GPU of the H100 class.
"""
from __future__ import annotations

import statistics
import sys
import time
from dataclasses import replace
from pathlib import Path

import torch
import torch.nn.functional as F

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import harness  # noqa: E402
import peers  # noqa: E402

from mnist_explore.data import Split, load_mnist, to_float, train_val_split  # noqa: E402
from mnist_explore.metrics import evaluate  # noqa: E402
from mnist_explore.models import build_model  # noqa: E402
from mnist_explore.train import TrainConfig, fit  # noqa: E402

# The recipe, fixed before measuring: one epoch of fast_cnn, Adam with OneCycle to lr 3e-3, batch 128.
RACE = dict(model="fast_cnn", epochs=1, batch_size=128, lr=3e-3, schedule="onecycle", progress=False)
SUITE, PEER = "suite: fast_cnn race recipe", f"peer: {peers.TUOMASO}"
EPOCH_MODELS = ("second_cnn", "vgg_bn_dropout")
WARM_UP_SEED = 10_000


def race_sides(mnist, train: Split, val: Split) -> dict:
    """The two recipes as sides of a paired timing; round i trains seed i (warm-up rounds a seed of their own)."""
    def suite(i: int) -> dict:
        result = fit(TrainConfig(**RACE, seed=i if i >= 0 else WARM_UP_SEED - i), train, val)
        return {"seconds": result.history.train_seconds, "test_acc": evaluate(result.model, mnist.test)[1]}

    def peer(i: int) -> dict:
        return peers.tuomaso_final(mnist.train, mnist.test, seed=i if i >= 0 else WARM_UP_SEED - i)

    return {PEER: peer, SUITE: suite}  # the ratio reads suite / peer


def dataloader_epoch_seconds(name: str, train: Split, device: torch.device, steps: int, warmup: int = 10) -> dict:
    """Seconds per 55,000-image epoch when batches come from a DataLoader over CPU tensors (the usual way)."""
    from torch.utils.data import DataLoader, TensorDataset

    torch.manual_seed(0)
    model = build_model(name).to(device, memory_format=torch.channels_last)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-3)
    loader = DataLoader(TensorDataset(train.X.cpu(), train.y.cpu()), batch_size=128, shuffle=True,
                        pin_memory=device.type == "cuda")
    start = None
    for i, (X, y) in enumerate(loader):
        if i == warmup:
            harness.sync(device)
            start = time.perf_counter()
        if i == warmup + steps:
            break
        X, y = X.to(device, non_blocking=True), y.to(device, non_blocking=True)
        x = to_float(X).contiguous(memory_format=torch.channels_last)
        with torch.autocast(device.type, dtype=torch.bfloat16, enabled=device.type == "cuda"):
            loss = F.cross_entropy(model(x).float(), y)
        optimizer.zero_grad(set_to_none=True)
        loss.backward()
        optimizer.step()
    harness.sync(device)
    return {"seconds": (time.perf_counter() - start) / steps * (55_000 / 128)}


def on_device_epoch_seconds(name: str, train: Split, val: Split, steps: int, warmup: int = 10) -> dict:
    """Seconds per 55,000-image epoch with the engine's on-device batches (measured over ``steps`` batches)."""
    subset = train.subset(torch.arange(128 * (steps + warmup)))
    fit(TrainConfig(model=name, epochs=1, progress=False), subset.subset(torch.arange(128 * warmup)), val)
    history = fit(TrainConfig(model=name, epochs=1, progress=False), subset.subset(torch.arange(128 * steps)), val).history
    return {"seconds": history.train_seconds / steps * (55_000 / 128)}


def state_goals(run: harness.Run, race: dict) -> None:
    suite_acc, peer_acc = ([r["test_acc"] for r in race[side]["rounds"]] for side in (SUITE, PEER))
    reached = statistics.fmean(suite_acc) >= 0.99
    peer_short = (f"the peer's recipe averaged {100 * statistics.fmean(peer_acc):.2f}% here, short of 99.0%, "
                  "so it has no time to 99.0% to compare with")
    run.goal("time to 99.0%, suite / peer (same machine)", race["ratio"]["median"], 0.5, at_most=True, unit="x",
             applies=statistics.fmean(peer_acc) >= 0.99, why_not=peer_short,
             missed_because="" if reached else "the suite's mean test accuracy is below 99.0%")
    run.goal("suite: lowest test accuracy of the rounds", min(suite_acc), 0.99, at_most=False)
    seconds = race[SUITE]["seconds"]["median"]
    run.goal("suite: median training seconds on 2 CPU threads", seconds, 30.0, at_most=True, unit="s",
             **run.only_on_cpu(2))
    run.goal("suite: median training seconds on an H100-class GPU", seconds, 0.5, at_most=True, unit="s",
             **run.only_on_gpu())
    run.anchor("tuomaso/train_mnist_fast final recipe, 99.04% mean over 30 runs, training plus test pass", 0.76, "s",
               "GTX 1660 Ti laptop GPU", "the repository's README")
    run.anchor("PyTorch examples/mnist, 14 epochs, 99.185% mean of 2 runs", 172, "s", "GTX 1660 Ti laptop GPU",
               "tuomaso/train_mnist_fast README, its starting benchmark")


def main(argv: list[str] | None = None) -> int:
    p = harness.parser(__doc__, __file__)
    p.add_argument("--epoch-steps", type=int, default=100,
                   help="batches measured per seconds-per-epoch figure, scaled to a full epoch (default 100)")
    p.add_argument("--epoch-models", nargs="*", default=list(EPOCH_MODELS), help="models timed per epoch")
    args = harness.parse(p, argv)
    warmup = 10
    run = harness.Run("train", args, settings={"race": RACE, "peer": peers.TUOMASO})
    mnist = load_mnist().to(run.device)
    epoch_train, _ = train_val_split(mnist.train)
    if args.dry_run:  # tiny sizes: the same code paths in seconds
        small = torch.arange(1000)
        mnist = replace(mnist, train=mnist.train.subset(small), test=mnist.test.subset(small))
        args.epoch_steps, args.epoch_models, warmup = 2, args.epoch_models[:1], 1
    train, val = train_val_split(mnist.train, val_size=5000 if not args.dry_run else 200)
    sides = race_sides(mnist, train, val)
    if args.cold:
        return run.cold_probe(sides)
    print(f"{run.record['environment']['device']}: the race to 99%, {args.pairs} rounds, sides alternating")
    race = run.paired("race_to_99", sides)
    for side in sides:
        print(f"  {side}: median {race[side]['seconds']['median']:.3f} s "
              f"(min {race[side]['seconds']['min']:.3f}, max {race[side]['seconds']['max']:.3f}), "
              f"test accuracy {[round(100 * r['test_acc'], 2) for r in race[side]['rounds']]}")
    run.cold("race_to_99", list(sides))  # even in a dry run: the one place the probes are exercised
    state_goals(run, race)
    run.save()
    run.record["settings"]["epoch_seconds_method"] = (f"{args.epoch_steps} batches of 128 after {warmup} warm-up "
                                                      "batches, scaled to 55,000 images")
    for name in args.epoch_models:
        epoch = run.paired(f"epoch_seconds_{name}", {
            "on-device batches": lambda i, name=name: on_device_epoch_seconds(name, epoch_train, val, args.epoch_steps, warmup),
            "DataLoader": lambda i, name=name: dataloader_epoch_seconds(name, epoch_train, run.device,
                                                                       args.epoch_steps, warmup)})
        print(f"  {name} s/epoch: on-device {epoch['on-device batches']['seconds']['median']:.2f}, "
              f"DataLoader {epoch['DataLoader']['seconds']['median']:.2f}")
    return run.finish()


if __name__ == "__main__":
    sys.exit(main())
