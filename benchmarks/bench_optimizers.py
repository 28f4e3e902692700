"""The optimizer grid (10 optimizers x 5 rates x 3 seeds), trained concurrently and one run after another.

    python benchmarks/bench_optimizers.py [--device cpu|cuda] [--profile quick|default|full] [--concurrency K]

Writes benchmarks/results/optimizers-<host>-<profile>.json: the device, the
configuration, the seconds of the concurrent grid (vmap, all runs of a seed in
one pass, or K at a time) and of the sequential grid on the same device, whether
the two agree, and what protocols A and B conclude. Targets (issue 5): protocol
B's full grid (55,000 images, 3 epochs) in at most 5 minutes on an H100; quick
mode in at most 2 minutes on 2 CPU cores.
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from bench_train import host_label  # noqa: E402

from mnist_explore.data import load_mnist  # noqa: E402
from mnist_explore.studies import optimizer_comparison  # noqa: E402
from mnist_explore.runtime import describe_device, get_device  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def summary(study) -> dict:
    a = study.protocol_a()
    return {"seconds": round(study.seconds, 1), "concurrent": study.concurrent,
            "protocol_a_val_acc": {o: round(r.final_val_acc, 4) for o, r in a.items()},
            "protocol_b_best_lr": study.best_lr,
            "protocol_b_test_acc": {o: [round(x, 4) for x in v] for o, v in study.test_acc.items()},
            "protocol_b_ranking": [{"optimizer": r.optimizer, "lr": r.lr, "mean": round(r.mean, 4),
                                    "std": round(r.std, 4), "tier": r.tier} for r in study.ranking()]}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", help="cpu, cuda, cuda:N or mps (default: the best present)")
    parser.add_argument("--profile", choices=["quick", "default", "full"],
                        help="grid size (default: full on CUDA, quick elsewhere)")
    parser.add_argument("--concurrency", type=int, help="models per vmapped pass (default: all runs of a seed)")
    parser.add_argument("--skip-sequential", action="store_true", help="time the concurrent grid only")
    parser.add_argument("--host", help="name for the results file (default: from the device)")
    args = parser.parse_args()
    device = get_device(args.device)
    profile = args.profile or ("full" if device.type == "cuda" else "quick")
    settings = optimizer_comparison.Settings.profile(profile)
    mnist = load_mnist().to(device)
    record = {"date": datetime.date.today().isoformat(), "device": describe_device(device), "torch": torch.__version__,
              "profile": profile, "configuration": {**settings.__dict__, "runs": len(settings.optimizers) *
                                                    len(settings.lrs) * len(settings.seeds),
                                                    "concurrency": args.concurrency or "all runs of a seed"}}
    path = RESULTS / f"optimizers-{args.host or host_label(device)}-{profile}.json"
    RESULTS.mkdir(exist_ok=True)
    together = optimizer_comparison.run(settings, mnist, device=device, concurrent=True, concurrency=args.concurrency)
    record["concurrent"] = summary(together)
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps(record["concurrent"]["protocol_b_ranking"]), f"\nconcurrent: {together.seconds:.1f} s", flush=True)
    if not args.skip_sequential:
        alone = optimizer_comparison.run(settings, mnist, device=device, concurrent=False)
        record["sequential"] = summary(alone)
        gaps = [abs(a.final_val_acc - b.final_val_acc) for a, b in zip(together.runs, alone.runs)
                if np.isfinite(a.train_loss[-1]) and np.isfinite(b.train_loss[-1])]
        record["max_final_val_acc_gap_concurrent_vs_sequential"] = round(max(gaps), 4)
        record["median_final_val_acc_gap_concurrent_vs_sequential"] = round(float(np.median(gaps)), 4)
        record["same_lr_choices"] = together.best_lr == alone.best_lr
        record["speedup"] = round(alone.seconds / together.seconds, 2)
        print(f"sequential: {alone.seconds:.1f} s; speed-up {record['speedup']}x", flush=True)
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
