"""DCGAN and conditional DCGAN: training time and measured quality against the real-vs-real baseline.

    python benchmarks/bench_gan.py [--device cuda] [--profile quick|default|full] [--dry-run] [--no-fail]

Trains each GAN once and measures 5,000 samples (10,000 in the full profile) against the test digits in the
suite's own classifier's features: the Fréchet distance, the Inception-score analogue and the class coverage,
next to real training digits (the baseline) and uniform noise. Writes results/gan-<host>-<profile>.json.

Goals, for each GAN: a Fréchet distance at most 5 times the baseline's, an Inception-score analogue of at
least 9.0 and every class between 7% and 13% of samples, from at most 5 minutes of training on 2 CPU
threads or on an H100-class GPU.
"""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import harness  # noqa: E402

from mnist_explore.data import load_mnist  # noqa: E402
from mnist_explore.runtime import get_device  # noqa: E402
from mnist_explore.studies import gan as gan_study  # noqa: E402

GANS = ("DCGAN", "conditional DCGAN")
DRY_RUN = dict(train_size=256, samples=300, classifier_train_size=1000)


def state_goals(run: harness.Run, study: gan_study.GANStudy, name: str, seconds: float) -> None:
    baseline, report = study.reports[gan_study.BASELINE], study.reports[name]
    run.goal(f"{name}: Fréchet distance / the real baseline's", report.frechet / baseline.frechet, 5.0,
             at_most=True, unit="x")
    run.goal(f"{name}: Inception-score analogue", report.inception, 9.0, at_most=False)
    run.goal(f"{name}: rarest class share", float(report.fractions.min()), 0.07, at_most=False)
    run.goal(f"{name}: commonest class share", float(report.fractions.max()), 0.13, at_most=True)
    cpu, gpu = run.only_on_cpu(2), run.only_on_gpu()
    run.goal(f"{name}: training seconds on 2 CPU threads or an H100-class GPU", seconds, 300.0, at_most=True,
             unit="s", applies=cpu["applies"] or gpu["applies"], why_not=cpu["why_not"])


def main(argv: list[str] | None = None) -> int:
    p = harness.parser(__doc__, __file__)
    p.add_argument("--profile", choices=["quick", "default", "full"],
                   help="settings (default: full on CUDA, default elsewhere; quick, smaller still, in a dry run)")
    p.add_argument("--seed", type=int, default=0)
    args = harness.parse(p, argv)
    device = get_device(args.device)
    profile = args.profile or ("quick" if args.dry_run else "full" if device.type == "cuda" else "default")
    settings = gan_study.Settings.profile(profile, **(DRY_RUN if args.dry_run else {}))
    run = harness.Run("gan", args, bf16_autocast=False, suffix=f"-{profile}", settings={"profile": profile, **settings.__dict__,
                                                                   "seed": args.seed})
    mnist = load_mnist()
    if args.dry_run:
        mnist = replace(mnist, test=mnist.test.subset(torch.arange(1000)))
    study = gan_study.run(settings, mnist, device=run.device, seed=args.seed, progress=False)
    seconds = {"DCGAN": study.unconditional.seconds, "conditional DCGAN": study.conditional.seconds}
    run.record["training_seconds"] = seconds
    run.record["measures"] = {name: report.as_dict() for name, report in study.reports.items()}
    for name in GANS:
        state_goals(run, study, name, seconds[name])
        report = study.reports[name]
        print(f"{name}: {seconds[name]:.1f} s of training, Fréchet {report.frechet:.2f} "
              f"(baseline {study.reports[gan_study.BASELINE].frechet:.2f}), Inception-score analogue "
              f"{report.inception:.2f}")
    return run.finish()


if __name__ == "__main__":
    sys.exit(main())
