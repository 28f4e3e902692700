"""The NumPy network: accuracy and training time against its PyTorch twin, and the cost of the
explicit-Jacobian backward pass against the short form.

    python benchmarks/bench_scratch.py [--device cpu|cuda]

Writes benchmarks/results/scratch-<host>.json. Targets (issue 9): at least 97.5% test accuracy,
mean of 3 seeds, in at most 60 s of training on 2 CPU cores.
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
from mnist_explore.runtime import describe_device, get_device  # noqa: E402
from mnist_explore.studies.numpy_from_scratch import Settings, run  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", help="device for the PyTorch twin (the NumPy network always runs on the CPU)")
    parser.add_argument("--host", help="name for the results file (default: from the device)")
    args = parser.parse_args()
    device = get_device(args.device)
    study = run(Settings.profile("default"), load_mnist(), device=device)
    summary = study.summary()
    cost = {(r["form"], r["batch_size"]): r for r in study.costs}
    largest = max(study.settings.cost_batch_sizes)
    record = {
        "numpy_hardware": describe_device(torch.device("cpu")), "pytorch_device": describe_device(device),
        "numpy": np.__version__, "torch": torch.__version__, "date": datetime.date.today().isoformat(),
        "selection_on_validation": study.grid, "chosen": {"lr": study.lr, "epochs": study.epochs,
                                                         "batch_size": study.settings.batch_size,
                                                         "optimizer": "SGD, momentum 0.9", "schedule": "cosine"},
        "numpy_runs": [{k: v for k, v in r.items() if k != "history"} for r in study.numpy_runs],
        "pytorch_runs": [{k: v for k, v in r.items() if k != "history"} for r in study.torch_runs],
        "summary": summary,
        "target_met": summary["numpy"]["test_acc"] >= 0.975 and summary["numpy"]["seconds"] <= 60,
        "backward_costs": study.costs,
        f"jacobian_over_short_at_batch_{largest}": {
            "seconds": cost[("jacobian", largest)]["seconds"] / cost[("short", largest)]["seconds"],
            "peak_bytes": cost[("jacobian", largest)]["peak_bytes"] / cost[("short", largest)]["peak_bytes"]},
    }
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"scratch-{args.host or host_label(torch.device('cpu'))}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps({k: record[k] for k in ("chosen", "summary", f"jacobian_over_short_at_batch_{largest}")}, indent=1))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
