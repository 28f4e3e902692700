"""Recipes for notebook 08: a DCGAN and a conditional DCGAN, and how good their digits are."""
from __future__ import annotations

from .. import plots
from ..animate import image_grid_frames
from ..figures import Context, recipe
from ..studies import gan

NOTEBOOK = "08_gan"


def _study(ctx: Context) -> gan.GANStudy:
    return ctx.study(gan)


@recipe("gan_progress", "GIF: a fixed-noise 8x8 grid of the DCGAN's samples through training", NOTEBOOK)
def gan_progress(ctx: Context):
    r = _study(ctx).unconditional
    return image_grid_frames(r.snapshots, r.snapshot_steps, title="DCGAN, fixed noise")


@recipe("gan_losses", "generator and discriminator losses, D(x) and D(G(z)), over training", NOTEBOOK)
def gan_losses(ctx: Context):
    r = _study(ctx).unconditional
    return plots.plot_gan_history(r.history, f"DCGAN training ({r.seconds:.0f} s on {ctx.device.type})")


@recipe("gan_interpolation", "latent-space interpolation between pairs of digits", NOTEBOOK)
def gan_interpolation(ctx: Context):
    s = _study(ctx)
    rows, names = gan.interpolations(s.unconditional, s.classifier, seed=ctx.seed)
    return plots.plot_digit_rows(rows, names, "Walking the latent space (spherical interpolation) between two digits")


@recipe("gan_conditional_grid", "the conditional generator asked for each digit 0-9", NOTEBOOK)
def gan_conditional_grid(ctx: Context):
    grid = gan.conditional_grid(_study(ctx).conditional, seed=ctx.seed)
    return plots.plot_digit_rows(grid, [f"asked for {k}" for k in range(10)], "Conditional DCGAN: one row per digit")


@recipe("gan_quality", "Fréchet distance, Inception-score analogue and class coverage against real data", NOTEBOOK)
def gan_quality(ctx: Context):
    return plots.plot_fidelity(_study(ctx).reports, gan.BASELINE)
