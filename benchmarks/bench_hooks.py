"""Overhead of the hooks recorder: the same training run with and without it, in one process.

    python benchmarks/bench_hooks.py [--device cuda] [--pairs 5] [--dry-run] [--no-fail]

second_cnn trains one epoch with RMSprop, plainly and with the recorder attached, in alternating order after
a warm-up run of each, at two rates: every step, and every 21 steps (the rate that gives the 5-epoch
notebook run its 100 frames). A recorded run's seconds count its training loop plus moving the frames to the
host at the end. Writes results/hooks-<host>.json.

Goals: recording every step adds at most 10% to the training time, and recording 100 frames per run at
most 2%, on any device.
"""
from __future__ import annotations

import sys
import time
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import harness  # noqa: E402

from mnist_explore.data import load_mnist, train_val_split  # noqa: E402
from mnist_explore.hooks import Recorder  # noqa: E402
from mnist_explore.models import init_model  # noqa: E402
from mnist_explore.studies.weight_distributions import FRAMES, Settings  # noqa: E402
from mnist_explore.train import TrainConfig, fit  # noqa: E402


def sides(config: TrainConfig, train, val, every: int, device: torch.device) -> dict:
    """Plain and recorded training as sides of a paired timing."""
    def plain(i: int) -> dict:
        return {"seconds": fit(config, train, val, restore_best=False).history.train_seconds}

    def recorded(i: int) -> dict:
        model = init_model(config.model, config.seed, device)  # the initial weights fit() would draw
        with Recorder(model, every=every) as recorder:
            result = fit(config, train, val, model=model, callbacks=[recorder], restore_best=False)
            harness.sync(device)
            start = time.perf_counter()
            frames = recorder.history()
            to_host = time.perf_counter() - start
        return {"seconds": result.history.train_seconds + to_host, "to_host_s": to_host, "frames": len(frames.steps)}

    return {"plain": plain, f"recorded every {every} steps": recorded}  # the ratio reads recorded / plain


def main(argv: list[str] | None = None) -> int:
    args = harness.parse(harness.parser(__doc__, __file__), argv)
    run = harness.Run("hooks", args)
    mnist = load_mnist().to(run.device)
    train, val = train_val_split(mnist.train, train_size=512 if args.dry_run else None)
    val = val.subset(torch.arange(100 if args.dry_run else 1000))
    settings = Settings.profile("default")
    config = TrainConfig(model="second_cnn", optimizer="rmsprop", lr=settings.lr, epochs=1,
                         batch_size=settings.batch_size, progress=False)
    gif_every = settings.every(55_000)  # the notebook's 5-epoch run of 55,000 images gets FRAMES frames
    run.record["settings"] = {"model": "second_cnn", "optimizer": "rmsprop", "images_per_run": len(train),
                              "epochs_per_run": 1, "gif_frames_per_notebook_run": FRAMES, "gif_every": gif_every}
    overhead = {}
    for every in (1, gif_every):
        timing = run.paired(f"every_{every}", sides(config, train, val, every, run.device))
        overhead[every] = timing["ratio"]["median"] - 1
        print(f"every {every:>3} steps: median overhead {100 * overhead[every]:+.1f}% "
              f"(quartiles {100 * (timing['ratio']['q1'] - 1):+.1f}% to {100 * (timing['ratio']['q3'] - 1):+.1f}%)",
              flush=True)
        run.save()
    run.goal("recording every step: added training time", overhead[1], 0.10, at_most=True, unit="fraction")
    run.goal(f"recording {FRAMES} frames per run (every {gif_every} steps): added training time",
             overhead[gif_every], 0.02, at_most=True, unit="fraction")
    return run.finish()


if __name__ == "__main__":
    sys.exit(main())
