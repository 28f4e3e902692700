"""Recipes for notebook 11: the ensemble, trained once per context (its members checkpointed, so a rerun resumes)."""
from __future__ import annotations

import torch

from .. import plots
from ..ensemble import EnsembleReport
from ..figures import Context, recipe
from ..studies import best_model

NOTEBOOK = "11_best_model"


def _report(ctx: Context) -> EnsembleReport:
    return ctx.study(best_model)


def _test_images(ctx: Context, report: EnsembleReport) -> torch.Tensor:
    return ctx.dataset("mnist").test.X[:len(report.y)].cpu()


@recipe("best_ensemble_size", "test accuracy against the number of averaged members", NOTEBOOK)
def best_ensemble_size(ctx: Context):
    report = _report(ctx)
    return plots.plot_accuracy_vs_size(report.accuracy_by_size(seed=ctx.seed), len(report.y))


@recipe("best_ensemble_errors", "every test digit the ensemble gets wrong, with the members' votes", NOTEBOOK)
def best_ensemble_errors(ctx: Context):
    report = _report(ctx)
    wrong = report.errors()
    return plots.plot_ensemble_errors(_test_images(ctx, report)[wrong], report.y[wrong],
                                      report.probs[wrong].argmax(dim=1), report.votes[:, wrong])


@recipe("best_hard_digits", "test digits hard for every member vs hard for some", NOTEBOOK)
def best_hard_digits(ctx: Context):
    report = _report(ctx)
    return plots.plot_hard_digits(report.wrong_counts(), len(report.member_probs), _test_images(ctx, report),
                                  report.y, report.votes)


@recipe("best_disputed_labels", "test labels the ensemble confidently disputes: candidates for review", NOTEBOOK)
def best_disputed_labels(ctx: Context):
    report = _report(ctx)
    ranked = report.disputed()[:24]
    probs = report.probs[ranked]
    y, y_pred = report.y[ranked], probs.argmax(dim=1)
    return plots.plot_disputed_labels(_test_images(ctx, report)[ranked], y, y_pred,
                                      probs.max(dim=1).values, probs[torch.arange(len(ranked)), y])
