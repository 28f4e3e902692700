"""Recipes for notebook 04: the optimizer comparison, protocol A (the walkthrough's) against protocol B (fair)."""
from __future__ import annotations

import numpy as np
import torch

from .. import compare, plots
from ..data import Dataset, train_val_split
from ..figures import Context, recipe
from ..runtime import by_profile

NOTEBOOK = "04_optimizer_comparison"


def settings_for(profile: str) -> compare.ComparisonSettings:
    return by_profile(compare.PROFILE_SETTINGS, profile)


def splits(dataset: Dataset, settings: compare.ComparisonSettings):
    """The training subset and validation subset the profile asks for (carved from the training set), and the test set."""
    train, val = train_val_split(dataset.train, seed=0)
    if settings.train_size is not None:
        train = train.subset(torch.arange(settings.train_size))
    return train, val.subset(torch.arange(settings.val_size)), dataset.test


def study(dataset: Dataset, settings: compare.ComparisonSettings, device=None, **kwargs) -> compare.Study:
    return compare.run_study(*splits(dataset, settings), settings, device=device, **kwargs)


def _pm(values, scale: float = 100) -> str:
    values = np.asarray(values, dtype=float) * scale
    return f"{values.mean():.2f} ± {values.std(ddof=1):.2f}" if len(values) > 1 else f"{values.mean():.2f}"


def table_rows(s: compare.Study) -> list[dict[str, str]]:
    """One row per optimizer in ranking order: protocol A's accuracy beside protocol B's choice and results."""
    a, chosen = s.protocol_a(), s.chosen()
    return [{"optimizer": r.optimizer,
             f"A: val % at lr {s.settings.shared_lr:g}": f"{a[r.optimizer].final_val_acc * 100:.2f}",
             "B: chosen lr": f"{r.lr:g}",
             "B: val %": _pm([run.final_val_acc for run in chosen[r.optimizer]]),
             "B: test %": _pm(r.accuracies),
             "B: tier": str(r.tier)} for r in s.ranking()]


def _study(ctx: Context) -> compare.Study:
    return ctx.memo("compare:study", lambda: study(ctx.dataset("mnist"), settings_for(ctx.profile), ctx.device,
                                                   progress=False))


def _describe(s: compare.Study) -> str:
    st = s.settings
    return (f"{st.model}, {st.train_size or 55000:,} training images, {st.epochs} epochs, batch {st.batch_size}; "
            f"{len(st.seeds)} seeds")


@recipe("optimizers_protocol_a", "the walkthrough's comparison: one shared learning rate, one seed", NOTEBOOK)
def optimizers_protocol_a(ctx: Context):
    s = _study(ctx)
    return plots.plot_optimizer_curves({o: [r] for o, r in s.protocol_a().items()},
                                       f"Protocol A (the walkthrough's): every optimizer at lr {s.settings.shared_lr:g}, "
                                       f"seed {s.settings.seeds[0]} ({_describe(s).split(';')[0]})")


@recipe("optimizers_curves", "each optimizer at its own tuned rate: curves with ±1 std bands over seeds", NOTEBOOK)
def optimizers_curves(ctx: Context):
    s = _study(ctx)
    return plots.plot_optimizer_curves({f"{o} ({s.best_lr[o]:g})": runs for o, runs in s.chosen().items()},
                                       f"Protocol B (fair): each optimizer at its best rate on validation, mean ± std "
                                       f"over seeds ({_describe(s)})")


@recipe("optimizers_lr_sensitivity", "final validation accuracy against learning rate per optimizer", NOTEBOOK)
def optimizers_lr_sensitivity(ctx: Context):
    s = _study(ctx)
    return plots.plot_lr_sensitivity(s.runs, s.settings.shared_lr, s.best_lr)


@recipe("optimizers_table", "final-epoch table: protocol A beside protocol B", NOTEBOOK)
def optimizers_table(ctx: Context):
    s = _study(ctx)
    return plots.plot_final_table(table_rows(s), f"Final epoch, protocol A beside protocol B ({_describe(s)})")


@recipe("optimizers_ranking", "protocol B's ranking, in tiers that cannot be told apart", NOTEBOOK)
def optimizers_ranking(ctx: Context):
    return plots.plot_ranking(_study(ctx).ranking())
