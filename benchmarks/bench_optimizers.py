"""The optimizer grid (10 optimizers x 5 rates x 3 seeds), trained concurrently and one run after another.

    python benchmarks/bench_optimizers.py [--device cuda] [--profile quick|default|full] [--concurrency K]
        [--skip-sequential] [--pairs 5] [--dry-run] [--no-fail]

The concurrent grid (all runs of a seed in one vmapped pass, or K at a time) and the sequential grid train
on the same device in alternating order, after a warm-up of each on a small grid. Writes
results/optimizers-<host>-<profile>.json: the configuration, both ways' seconds, whether they agree, and
what protocols A and B conclude.

Goals: the study's own way (concurrent on CUDA, one after another elsewhere) trains the quick grid within
2 minutes on 2 CPU threads, and the full grid (55,000 images, 3 epochs) within 5 minutes on an H100-class
GPU.
"""
from __future__ import annotations

import sys
from dataclasses import replace
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import harness  # noqa: E402

from mnist_explore.data import load_mnist  # noqa: E402
from mnist_explore.runtime import get_device  # noqa: E402
from mnist_explore.studies import optimizer_comparison  # noqa: E402

CONCURRENT, SEQUENTIAL = "concurrent (vmap)", "one after another"
DRY_RUN = dict(train_size=128, val_size=64, epochs=1, optimizers=("sgd", "adam"), lrs=(1e-3, 1e-2), seeds=(0,),
               evals_per_epoch=1)


def summary(study) -> dict:
    a = study.protocol_a()
    return {"seconds": study.seconds, "concurrent": study.concurrent,
            "protocol_a_val_acc": {o: round(r.final_val_acc, 4) for o, r in a.items()},
            "protocol_b_best_lr": study.best_lr,
            "protocol_b_test_acc": {o: [round(x, 4) for x in v] for o, v in study.test_acc.items()},
            "protocol_b_ranking": [{"optimizer": r.optimizer, "lr": r.lr, "mean": round(r.mean, 4),
                                    "std": round(r.std, 4), "tier": r.tier} for r in study.ranking()]}


def grid_sides(settings, mnist, device, concurrency: int | None, skip_sequential: bool, last: dict) -> dict:
    """Both ways of training the grid as sides of a paired timing; warm-up rounds (i < 0) train a small grid.
    The last study of each way is kept in ``last``."""
    warm = replace(settings, train_size=min(256, settings.train_size or 256), val_size=min(128, settings.val_size),
                   epochs=1, seeds=settings.seeds[:1])

    def way(concurrent: bool):
        def call(i: int) -> dict:
            study = optimizer_comparison.run(warm if i < 0 else settings, mnist, device=device, progress=False,
                                             concurrent=concurrent, concurrency=concurrency)
            if i >= 0:
                last[concurrent] = study
            return {"seconds": study.seconds}
        return call
    sides = {CONCURRENT: way(True)}
    if not skip_sequential:
        sides[SEQUENTIAL] = way(False)
    return sides


def state_goals(run: harness.Run, timing: dict, profile: str) -> None:
    own = CONCURRENT if run.device.type == "cuda" else SEQUENTIAL
    seconds = timing[own]["seconds"]["median"] if own in timing else None
    for name, wanted, threshold, where in (("quick grid on 2 CPU threads", "quick", 120.0, run.only_on_cpu(2)),
                                           ("full grid on an H100-class GPU", "full", 300.0, run.only_on_gpu())):
        why_not = (where["why_not"] if not where["applies"] else f"needs --profile {wanted}; this run had {profile}"
                   if profile != wanted else f"{own} was skipped")
        run.goal(f"{name}, the study's own way ({own})", seconds, threshold, at_most=True, unit="s",
                 applies=where["applies"] and profile == wanted, why_not=why_not)


def main(argv: list[str] | None = None) -> int:
    p = harness.parser(__doc__, __file__)
    p.add_argument("--profile", choices=["quick", "default", "full"],
                   help="grid size (default: full on CUDA, quick elsewhere; smaller still in a dry run)")
    p.add_argument("--concurrency", type=int, help="models per vmapped pass (default: all runs of a seed)")
    p.add_argument("--skip-sequential", action="store_true", help="time the concurrent grid only")
    args = harness.parse(p, argv)
    device = get_device(args.device)
    profile = args.profile or ("full" if device.type == "cuda" else "quick")
    settings = optimizer_comparison.Settings.profile(profile, **(DRY_RUN if args.dry_run else {}))
    run = harness.Run("optimizers", args, bf16_autocast=False, suffix=f"-{profile}", settings={
        "profile": profile, **settings.__dict__, "runs": len(settings.optimizers) * len(settings.lrs) * len(settings.seeds),
        "concurrency": args.concurrency or "all runs of a seed"})
    mnist = load_mnist().to(run.device)
    if args.dry_run:
        mnist = replace(mnist, test=mnist.test.subset(torch.arange(500)))
    last: dict = {}
    timing = run.paired("grid", grid_sides(settings, mnist, run.device, args.concurrency, args.skip_sequential, last))
    for concurrent, study in last.items():
        run.record[CONCURRENT if concurrent else SEQUENTIAL] = summary(study)
        print(f"{CONCURRENT if concurrent else SEQUENTIAL}: median "
              f"{timing[CONCURRENT if concurrent else SEQUENTIAL]['seconds']['median']:.1f} s", flush=True)
    if len(last) == 2:
        together, alone = last[True], last[False]
        gaps = [abs(a.final_val_acc - b.final_val_acc) for a, b in zip(together.runs, alone.runs, strict=True)
                if np.isfinite(a.train_loss[-1]) and np.isfinite(b.train_loss[-1])]
        run.record["agreement"] = {"max_final_val_acc_gap": max(gaps), "median_final_val_acc_gap": float(np.median(gaps)),
                                   "same_lr_choices": together.best_lr == alone.best_lr}
    state_goals(run, timing, profile)
    return run.finish()


if __name__ == "__main__":
    sys.exit(main())
