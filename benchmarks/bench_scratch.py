"""The NumPy network: accuracy and training time against its PyTorch twin, and the cost of the
explicit-Jacobian backward pass against the short form.

    python benchmarks/bench_scratch.py [--device cuda] [--pairs 5] [--dry-run] [--no-fail]

The study picks the learning rate and number of epochs on validation (its one NumPy and one PyTorch run of
the first seed warm both sides up); then the 784-512-10 network trains once per round in NumPy and, from
the same initial weights, in PyTorch, in alternating order, seed i in round i. Writes
results/scratch-<host>.json.

Goals: the NumPy network at least 97.5% test accuracy on average over the rounds, with at most 60 s of
training per run on 2 CPU threads.
"""
from __future__ import annotations

import statistics
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import harness  # noqa: E402

from mnist_explore import numpy_mlp  # noqa: E402
from mnist_explore.data import load_mnist, normalization, train_val_split  # noqa: E402
from mnist_explore.metrics import predict  # noqa: E402
from mnist_explore.studies.numpy_from_scratch import Settings, run as run_study  # noqa: E402

NUMPY, TORCH = "NumPy from scratch", "PyTorch twin"
DRY_RUN = dict(train_size=1000, epochs_grid=(1,), cost_batch_sizes=(1, 8))


def twin_sides(study, dataset, train, val) -> dict:
    """The NumPy network and its PyTorch twin, with the study's chosen recipe, as sides of a paired timing."""
    mean, std = normalization(train.X)
    X, X_val, X_test = (numpy_mlp.flatten(s.X, mean, std) for s in (train, val, dataset.test))
    y, y_val, y_test = (s.y.cpu().numpy() for s in (train, val, dataset.test))
    recipe = dict(epochs=study.epochs, lr=study.lr, batch_size=study.settings.batch_size)

    def in_numpy(seed: int) -> dict:
        params, history = numpy_mlp.train(X, y, X_val, y_val, seed=seed, params=numpy_mlp.init_params(seed), **recipe)
        return {"seconds": history.train_seconds,
                "test_acc": numpy_mlp.accuracy(y_test, numpy_mlp.predict(params, X_test).argmax(axis=1))}

    def in_torch(seed: int) -> dict:
        twin = numpy_mlp.torch_twin(numpy_mlp.init_params(seed), train, val, seed=seed, **recipe)
        predicted = predict(twin.model, dataset.test).argmax(dim=1).cpu().numpy()
        return {"seconds": twin.history.train_seconds, "test_acc": numpy_mlp.accuracy(y_test, predicted)}

    return {NUMPY: in_numpy, TORCH: in_torch}


def main(argv: list[str] | None = None) -> int:
    p = harness.parser(__doc__, __file__)
    args = harness.parse(p, argv)
    run = harness.Run("scratch", args)
    settings = Settings.profile("quick" if args.dry_run else "default", seeds=(0,), **(DRY_RUN if args.dry_run else {}))
    dataset = load_mnist().to(run.device)
    study = run_study(settings, dataset, device=run.device, progress=False)
    train, val = train_val_split(dataset.train, seed=0, train_size=settings.train_size)
    run.record["settings"] = {"selection_on_validation": study.grid, "chosen": {
        "lr": study.lr, "epochs": study.epochs, "batch_size": settings.batch_size, "optimizer": "SGD, momentum 0.9",
        "schedule": "cosine"}, "numpy_version": np.__version__, "numpy_runs_on": "the CPU, whatever --device says"}
    timing = run.paired("numpy_vs_torch", twin_sides(study, dataset, train, val), warmup=0)
    cost = {(r["form"], r["batch_size"]): r for r in study.costs}
    largest = max(settings.cost_batch_sizes)
    run.record["backward_costs"] = study.costs
    run.record[f"jacobian_over_short_at_batch_{largest}"] = {
        key: cost[("jacobian", largest)][key] / cost[("short", largest)][key] for key in ("seconds", "peak_bytes")}
    accuracy = statistics.fmean(r["test_acc"] for r in timing[NUMPY]["rounds"])
    for side in (NUMPY, TORCH):
        print(f"{side}: {100 * statistics.fmean(r['test_acc'] for r in timing[side]['rounds']):.2f}% on average, "
              f"median {timing[side]['seconds']['median']:.1f} s of training")
    run.goal("NumPy network: mean test accuracy of the rounds", accuracy, 0.975, at_most=False)
    run.goal("NumPy network: median training seconds per run on 2 CPU threads", timing[NUMPY]["seconds"]["median"],
             60.0, at_most=True, unit="s", **run.only_on_cpu(2))
    return run.finish()


if __name__ == "__main__":
    sys.exit(main())
