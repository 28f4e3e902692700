"""Recipes for notebook 12: the label audit's synthetic-noise measurement and its candidates for review.

The two gallery recipes also write the full ranked list of their split's suspects,
``suspect_labels_<split>.csv``, atomically, next to the figure (``ctx.out``: ``--out``, else
``paths.figures_dir()``).
"""
from __future__ import annotations

import csv
from pathlib import Path

from .. import plots
from ..figures import Context, recipe
from ..paths import atomic_path, figures_dir
from ..studies import label_audit
from ..studies.label_audit import LabelAudit

NOTEBOOK = "12_label_audit"
COLUMNS = ("split", "index", "given_label", "suggested_label", "score", "rank")
GALLERY = 24


def write_suspects_csv(audit: LabelAudit, split: str, directory: str | Path | None = None) -> Path:
    """``suspect_labels_<split>.csv``: one row per suspect, most suspect first (rank 1), written atomically.

    ``index`` is the position in the split as torchvision orders MNIST; ``score`` is cleanlab's label-quality
    score of the given label under the audit's method (lower is more suspect).
    """
    suspects = getattr(audit, split)
    path = Path(directory if directory is not None else figures_dir()) / f"suspect_labels_{split}.csv"
    with atomic_path(path) as tmp, open(tmp, "w", newline="") as f:
        writer = csv.writer(f)
        writer.writerow(COLUMNS)
        for rank, (i, g, s, q) in enumerate(zip(suspects.index, suspects.given, suspects.suggested, suspects.score),
                                            start=1):
            writer.writerow((split, int(i), int(g), int(s), f"{float(q):.6f}", rank))
    return path


def gallery_title(audit: LabelAudit, split: str, shown: int) -> str:
    """Says what the tiles are (candidates for review), how they were found, and the measured precision."""
    total = len(audit.train_positions if split == "train" else audit.test_positions)
    name = "training" if split == "train" else "test"
    seeds = len({r["seed"] for r in audit.synthetic})
    return (f"Candidates for review, not confirmed mislabels: the first {shown} of {len(getattr(audit, split))} "
            f"{name} labels among {total:,} that the k-fold\nmodels (out-of-sample) read as another digit, "
            f"ranked by confident learning's {audit.method} score.\nMeasured on synthetic noise: with {audit.n_flipped / audit.noise_train_size:.0%} "
            f"of {audit.noise_train_size:,} training labels flipped at random, {audit.precision_at_flipped():.0%} of the "
            f"first {audit.n_flipped} suspects were flips (mean of {seeds} seed{'s' * (seeds > 1)})")


def _gallery(ctx: Context, split: str):
    audit = ctx.study(label_audit)
    write_suspects_csv(audit, split, ctx.out)
    top = getattr(audit, split).top(GALLERY)
    images = getattr(ctx.dataset("mnist"), split).X[top.index].cpu()
    return plots.plot_suspects(images, top.given, top.suggested, top.score, gallery_title(audit, split, len(top)))


@recipe("label_audit_synthetic_precision", "how often the audit's top suspects are randomly flipped labels", NOTEBOOK)
def label_audit_synthetic_precision(ctx: Context):
    audit = ctx.study(label_audit)
    return plots.plot_synthetic_precision(audit.synthetic, audit.method, audit.noise_train_size, audit.n_flipped)


@recipe("label_audit_test_suspects", "test labels for review, by confident learning (also writes the CSV)", NOTEBOOK)
def label_audit_test_suspects(ctx: Context):
    return _gallery(ctx, "test")


@recipe("label_audit_train_suspects", "training labels for review, by confident learning (also writes the CSV)",
        NOTEBOOK)
def label_audit_train_suspects(ctx: Context):
    return _gallery(ctx, "train")
