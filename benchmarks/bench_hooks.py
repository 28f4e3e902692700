"""Overhead of the hooks recorder: the same training run with and without it, in one process.

    python benchmarks/bench_hooks.py [--device cuda]

Plain and recorded runs alternate (A B A B ...) so that drift in machine speed hits both alike.
Writes benchmarks/results/hooks-<host>.json. Target (issue 6): at the GIFs' frequency (100 frames or
more per run) the recorder adds at most 5% to training time, on GPU and on CPU.
"""
from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from bench_train import host_label  # noqa: E402

from mnist_explore.data import load_mnist, train_val_split  # noqa: E402
from mnist_explore.hooks import record_run  # noqa: E402
from mnist_explore.studies.weight_distributions import FRAMES, Settings  # noqa: E402
from mnist_explore.runtime import describe_device, get_device  # noqa: E402
from mnist_explore.train import TrainConfig, fit  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", help="cpu, cuda, cuda:N or mps (default: the best present)")
    parser.add_argument("--pairs", type=int, default=3, help="plain/recorded pairs per frequency (default 3)")
    parser.add_argument("--host", help="name for the results file (default: from the device)")
    args = parser.parse_args()
    device = get_device(args.device)
    mnist = load_mnist().to(device)
    train, val = train_val_split(mnist.train)
    val = val.subset(torch.arange(1000))
    settings = Settings.profile("default")
    config = TrainConfig(model="second_cnn", optimizer="rmsprop", lr=settings.lr, epochs=1,
                         batch_size=settings.batch_size, progress=False)
    gif_every = settings.every(len(train))  # the notebook's 5-epoch run records every this many steps
    fit(config, train.subset(torch.arange(12800)), val)  # warm-up
    record = {"device": describe_device(device), "torch": torch.__version__, "date": datetime.date.today().isoformat(),
              "model": "second_cnn", "optimizer": "rmsprop", "images_per_run": len(train), "epochs_per_run": 1,
              "gif_frames_per_notebook_run": FRAMES, "frequencies": []}
    for every in (gif_every, 1):
        pairs = []
        for _ in range(args.pairs):
            plain = fit(config, train, val).history.train_seconds
            recorded = record_run(config, train, val, every=every)[0].history.train_seconds
            pairs.append({"plain_s": round(plain, 3), "recorded_s": round(recorded, 3),
                          "overhead": recorded / plain - 1})
        overhead = statistics.median(p["overhead"] for p in pairs)
        record["frequencies"].append({"every": every, "pairs": pairs, "median_overhead": overhead})
        print(f"every {every:>3} steps: median overhead {100 * overhead:+.1f}%  ({pairs})")
    default = record["frequencies"][0]["median_overhead"]
    record["target_met_at_gif_frequency"] = default <= 0.05
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"hooks-{args.host or host_label(device)}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
