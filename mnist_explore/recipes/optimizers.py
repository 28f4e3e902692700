"""Recipes for notebook 04: the optimizer comparison, protocol A (the walkthrough's) against protocol B (fair)."""
from __future__ import annotations

from .. import plots
from ..figures import Context, recipe
from ..studies import optimizer_comparison as comparison

NOTEBOOK = "04_optimizer_comparison"


def _study(ctx: Context) -> comparison.Study:
    return ctx.study(comparison)


@recipe("optimizers_protocol_a", "the walkthrough's comparison: one shared learning rate, one seed", NOTEBOOK)
def optimizers_protocol_a(ctx: Context):
    s = _study(ctx)
    runs = s.protocol_a()
    seed = next(iter(runs.values())).spec.seed
    return plots.plot_optimizer_curves({o: [r] for o, r in runs.items()},
                                       f"Protocol A (the walkthrough's): every optimizer at lr {s.settings.shared_lr:g}, "
                                       f"seed {seed} ({s.settings.describe().split(';')[0]})")


@recipe("optimizers_curves", "each optimizer at its own tuned rate: curves with ±1 std bands over seeds", NOTEBOOK)
def optimizers_curves(ctx: Context):
    s = _study(ctx)
    return plots.plot_optimizer_curves({f"{o} ({s.best_lr[o]:g})": runs for o, runs in s.chosen().items()},
                                       f"Protocol B (fair): each optimizer at its best rate on validation, mean ± std "
                                       f"over seeds ({s.settings.describe()})")


@recipe("optimizers_lr_sensitivity", "final validation accuracy against learning rate per optimizer", NOTEBOOK)
def optimizers_lr_sensitivity(ctx: Context):
    s = _study(ctx)
    return plots.plot_lr_sensitivity(s.runs, s.settings.shared_lr, s.best_lr)


@recipe("optimizers_table", "final-epoch table: protocol A beside protocol B", NOTEBOOK)
def optimizers_table(ctx: Context):
    s = _study(ctx)
    return plots.plot_final_table(comparison.table_rows(s),
                                  f"Final epoch, protocol A beside protocol B ({s.settings.describe()})")


@recipe("optimizers_ranking", "protocol B's ranking, in tiers that cannot be told apart", NOTEBOOK)
def optimizers_ranking(ctx: Context):
    return plots.plot_ranking(_study(ctx).ranking())
