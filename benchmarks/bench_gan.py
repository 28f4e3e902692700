"""DCGAN and conditional DCGAN: training time and measured quality against the real-vs-real baseline.

    python benchmarks/bench_gan.py [--device cpu|cuda] [--profile quick|default|full]

Writes benchmarks/results/gan-<host>-<profile>.json: each GAN's training seconds, and for
every image set (real train vs test, both GANs, uniform noise) the Fréchet distance in the
suite's classifier's features, the Inception-score analogue and the class coverage.
Targets (issue 7), for the full profile on an H100: at most 5 minutes of training, a
Fréchet distance at most 5x the baseline, an Inception-score analogue of at least 9.0,
and every class between 7% and 13% of samples.
"""
from __future__ import annotations

import argparse
import datetime
import json
import sys
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

from bench_train import host_label  # noqa: E402

from mnist_explore.data import load_mnist  # noqa: E402
from mnist_explore.studies import gan as gan_study  # noqa: E402
from mnist_explore.runtime import describe_device, get_device  # noqa: E402

RESULTS = Path(__file__).resolve().parent / "results"


def targets(study: gan_study.GANStudy, name: str) -> dict:
    baseline, report = study.reports[gan_study.BASELINE], study.reports[name]
    return {"frechet_at_most_5x_baseline": report.frechet <= 5 * baseline.frechet,
            "inception_at_least_9": report.inception >= 9.0,
            "every_class_7_to_13_percent": bool(((report.fractions >= 0.07) & (report.fractions <= 0.13)).all())}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--device", help="cpu, cuda, cuda:N or mps (default: the best present)")
    parser.add_argument("--profile", choices=["quick", "default", "full"],
                        help="settings (default: full on CUDA, default elsewhere)")
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--host", help="name for the results file (default: from the device)")
    args = parser.parse_args()
    device = get_device(args.device)
    profile = args.profile or ("full" if device.type == "cuda" else "default")
    settings = gan_study.Settings.profile(profile)
    study = gan_study.run(settings, load_mnist(), device=device, seed=args.seed)
    record = {"date": datetime.date.today().isoformat(), "device": describe_device(device), "torch": torch.__version__,
              "profile": profile, "settings": settings.__dict__, "seed": args.seed,
              "training_seconds": {"DCGAN": round(study.unconditional.seconds, 1),
                                   "conditional DCGAN": round(study.conditional.seconds, 1)},
              "measures": {name: report.as_dict() for name, report in study.reports.items()},
              "targets": {name: targets(study, name) for name in ("DCGAN", "conditional DCGAN")}}
    RESULTS.mkdir(exist_ok=True)
    path = RESULTS / f"gan-{args.host or host_label(device)}-{profile}.json"
    path.write_text(json.dumps(record, indent=2) + "\n")
    print(json.dumps({k: record[k] for k in ("training_seconds", "measures", "targets")}, indent=1))
    print(f"wrote {path}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
