"""t-SNE with the suite's settings against openTSNE's defaults on the same PCA-50 input of all 70,000 digits,
other backends once each, and PCA itself.

    python benchmarks/bench_embeddings.py [--device cuda] [--pairs 5] [--others sklearn torch umap] [--dry-run]

The suite's side is the default backend for the device (openTSNE on a CPU; cuML or the torch t-SNE on a
GPU) with the suite's settings (perplexity 10, 250 + 250 iterations); the peer is openTSNE with its
library defaults (perplexity 30, 250 + 500 iterations) on every core. They run in alternating order, one
seed per round, after a warm-up of each on 2,000 points; each side's first call in a fresh process is timed
too (cold). Seconds count the fit from PCA-50 to the 2-D map, without a cache; every map is scored by kNN
(k=10) accuracy, fit on the training points and scored on the test points. ``--others`` runs further
backends once each, for context ("umap" times umap-learn, seeded, hence single-threaded; the torch backend is
O(N^2) per iteration, so off-GPU it runs on ``--cpu-torch-n`` points). Writes results/embeddings-<host>.json.

Goals: the suite's t-SNE at least 5 times as fast as openTSNE's defaults, with kNN accuracy at least 0.975;
all 70,000 in at most 45 s on 2 CPU threads and at most 15 s on an H100-class GPU; PCA of the 70,000 x 784
matrix in under 1 s there.
"""
from __future__ import annotations

import importlib.metadata
import statistics
import sys
import time
from pathlib import Path

import numpy as np
import torch

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))  # run from a checkout without installing

import harness  # noqa: E402

from mnist_explore import embed, neighbors  # noqa: E402
from mnist_explore.data import load_mnist  # noqa: E402

PEER = "peer: openTSNE library defaults"
UMAP = "umap"  # not a t-SNE backend: the notebook's third view, timed on the same input
WARM_UP_N = 2000


def subset(n_total: int, n_train: int, n: int) -> np.ndarray:
    """The first n points keeping the 6:1 train:test ratio, so that the kNN score keeps its meaning."""
    if n >= n_total:
        return np.arange(n_total)
    keep_train = round(n * n_train / n_total)
    return np.concatenate([np.arange(keep_train), n_train + np.arange(n - keep_train)])


def fit_and_score(name: str, Z: np.ndarray, y: np.ndarray, n_train: int, device: torch.device, seed: int,
                  dry_run: bool = False) -> dict:
    """Seconds of one map of ``Z`` by backend ``name``, ``PEER`` or ``UMAP`` (kNN scoring left out), and its kNN
    accuracy. A dry run cuts every t-SNE to 25 + 25 iterations."""
    harness.sync(device)
    start = time.perf_counter()
    if name == PEER:
        from openTSNE import TSNE

        short = dict(early_exaggeration_iter=25, n_iter=25) if dry_run else {}
        E = np.asarray(TSNE(n_jobs=embed.cores(), random_state=seed, **short).fit(Z))
    elif name == UMAP:
        E = embed.umap(Z, seed=seed, cache=False)
    else:
        settings = embed.TSNESettings(early_exaggeration_iter=25, n_iter=25) if dry_run else embed.TSNESettings()
        E = embed.tsne(Z, name, settings, seed=seed, device=device, cache=False)
    harness.sync(device)
    seconds = time.perf_counter() - start
    score = neighbors.knn_score(E, y, n_train)
    return {"seconds": seconds, "knn_accuracy": score.accuracy, "most_confused": score.most_confused(3), "N": len(Z)}


def version(name: str) -> str:
    if name == PEER:
        return embed.backend_version("opentsne")
    return importlib.metadata.version("umap-learn") if name == UMAP else embed.backend_version(name)


def suite_label(backend: str) -> str:
    return f"suite: {backend} with the suite's settings"


def tsne_sides(backend: str, Z: np.ndarray, y: np.ndarray, n_train: int, device: torch.device,
               dry_run: bool) -> dict:
    """The suite's t-SNE and the peer as sides of a paired timing; warm-up rounds (i < 0) use 2,000 points."""
    def side(name: str):
        def call(i: int) -> dict:
            keep = subset(len(Z), n_train, min(WARM_UP_N, len(Z) // 2)) if i < 0 else np.arange(len(Z))
            train_part = int((keep < n_train).sum())
            return fit_and_score(name, Z[keep], y[keep], train_part, device, max(i, 0), dry_run)
        return call
    return {suite_label(backend): side(backend), PEER: side(PEER)}  # the ratio reads peer / suite: the speed-up


def pca_input(run: harness.Run, n: int | None, timed: bool) -> tuple[np.ndarray, np.ndarray, int, float | None]:
    """PCA-50 of the digits (the first ``n``, keeping the train:test ratio), labels, training rows, and the
    median seconds of the full 784-d PCA (timed in ``run`` when ``timed``)."""
    X, y, n_train = embed.all_digits(load_mnist())
    if n is not None:
        keep = torch.from_numpy(subset(len(X), n_train, n))
        X, y, n_train = X[keep], y[keep], int((keep < n_train).sum())
    X, fitted = X.to(run.device), []

    def pca_once(i: int) -> None:
        fitted[:] = [embed.pca(X)]

    seconds = None
    if timed:
        once = dict(pairs=1, warmup=0) if run.dry_run else {}  # a 784 x 784 eigh: seconds on a busy 2-core CPU
        seconds = run.paired("pca_784d", {"pca": pca_once}, **once)["pca"]["seconds"]["median"]
    else:
        pca_once(0)
    return fitted[0].transform(X, 50).cpu().numpy(), y.numpy(), n_train, seconds


def state_goals(run: harness.Run, timing: dict, backend: str, pca_seconds: float, n: int) -> None:
    suite = suite_label(backend)
    knn = statistics.median(r["knn_accuracy"] for r in timing[suite]["rounds"])
    run.goal("t-SNE speed-up over openTSNE defaults (same machine)", timing["ratio"]["median"], 5.0, at_most=False,
             unit="x")
    run.goal("suite t-SNE: kNN-10 accuracy (median of the rounds)", knn, 0.975, at_most=False)
    whole = {"applies": n == 70_000, "why_not": f"needs all 70,000 digits; this run had {n:,}"}
    seconds = timing[suite]["seconds"]["median"]
    cpu, gpu = run.only_on_cpu(2), run.only_on_gpu()
    for name, threshold, where in (("t-SNE of all 70,000 on 2 CPU threads", 45.0, cpu),
                                   ("t-SNE of all 70,000 on an H100-class GPU", 15.0, gpu),
                                   ("PCA of 70,000 x 784 on an H100-class GPU", 1.0, gpu)):
        value = pca_seconds if name.startswith("PCA") else seconds
        applies = where["applies"] and whole["applies"]
        run.goal(name, value, threshold, at_most=True, unit="s", applies=applies,
                 why_not=where["why_not"] if not where["applies"] else whole["why_not"])


def main(argv: list[str] | None = None) -> int:
    p = harness.parser(__doc__, __file__)
    p.add_argument("--others", nargs="*", help=f"further backends run once each (default: every other available one, "
                                                f"then {UMAP}; none in a dry run)")
    p.add_argument("--n", type=int, help="points (default all 70,000; 600 in a dry run)")
    p.add_argument("--cpu-torch-n", type=int, default=5000, help="points for the torch backend off-GPU")
    args = harness.parse(p, argv)
    n = args.n or (600 if args.dry_run else None)
    run = harness.Run("embeddings", args)
    suite = embed.default_backend(run.device)
    Z, y, n_train, pca = pca_input(run, n, timed=not args.cold)
    sides = tsne_sides(suite, Z, y, n_train, run.device, args.dry_run)
    if args.cold:
        return run.cold_probe(sides)
    print(f"PCA of {len(Z):,} x 784 on {run.record['environment']['device']}: {pca:.3f} s")
    run.record["settings"] = {"input": f"PCA-50 of {len(Z):,} digits", "suite_backend": suite,
                              "suite_settings": embed.TSNESettings().__dict__, "cores": embed.cores(),
                              "peer_settings": "openTSNE() defaults: perplexity 30, 250 + 500 iterations",
                              "versions": {name: version(backend) for name, backend in zip(sides, (suite, PEER), strict=True)}}
    timing = run.paired("tsne", sides)
    for name in sides:
        print(f"  {name}: median {timing[name]['seconds']['median']:.2f} s, kNN accuracy "
              f"{[round(r['knn_accuracy'], 4) for r in timing[name]['rounds']]}", flush=True)
    run.save()
    if not args.dry_run:
        run.cold("tsne", list(sides))
    state_goals(run, timing, suite, pca, len(Z))
    others = args.others if args.others is not None else [] if args.dry_run else \
        [b for b in embed.available_backends(run.device) if b != suite] + [UMAP]
    run.record["others_run_once"] = []
    for name in others:
        if name != UMAP:
            embed.check_backend(name, run.device)
        keep = subset(len(Z), n_train, args.cpu_torch_n if name == "torch" and run.device.type != "cuda" else len(Z))
        row = {"backend": name, "version": version(name),
               **fit_and_score(name, Z[keep], y[keep], int((keep < n_train).sum()), run.device, seed=0)}
        run.record["others_run_once"].append(row)
        print(f"  {name} (once): {row['seconds']:.1f} s on {row['N']:,} points, kNN {row['knn_accuracy']:.4f}", flush=True)
        run.save()
    return run.finish()


if __name__ == "__main__":
    sys.exit(main())
