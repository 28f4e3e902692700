import math

import pytest
from matplotlib.figure import Figure

from mnist_explore import plots
from mnist_explore.errors import UserError
from mnist_explore.studies.model_search import Settings, format_summary, run, summary


@pytest.fixture(scope="module")
def result(mnist):
    settings = Settings.profile("quick", models=("linear", "mlp"), train_size=2000, epochs=2)
    return run(settings, mnist, device=mnist.train.X.device, progress=False)


def test_every_model_augmentation_and_seed_is_trained(result):
    assert {(r.model, r.augment, r.seed) for r in result.runs} == {
        (m, a, s) for m in ("linear", "mlp") for a in (None, "affine") for s in (0, 1)}
    assert all(len(r.history.epochs) == 2 for r in result.runs)


def test_summary_rows_are_means_over_seeds(result):
    rows = {r["label"]: r for r in summary(result)}
    assert set(rows) == {"linear", "linear + aug", "mlp", "mlp + aug"}
    runs = result.by_label()["mlp"]
    assert rows["mlp"]["test_acc"] == pytest.approx(sum(r.test_acc for r in runs) / 2)
    assert rows["mlp"]["seeds"] == 2 and not math.isnan(rows["mlp"]["test_std"])
    assert rows["mlp"]["test_acc"] > 0.8 and rows["mlp"]["parameters"] == 407_050
    assert "mlp + aug" in format_summary(summary(result))


def test_best_is_chosen_on_validation_and_its_test_probabilities_kept(result):
    rows = summary(result)
    assert result.best_label == max(rows, key=lambda r: r["val_acc"])["label"]
    assert result.best_test_probs.shape == (2000, 10)
    assert result.best_test_probs.sum(dim=1).sub(1).abs().max() < 1e-4


def test_search_figures(result):
    assert isinstance(plots.plot_search_curves(result.histories()), Figure)
    assert isinstance(plots.plot_search_summary(summary(result)), Figure)


def test_train_size_out_of_range(mnist):
    with pytest.raises(UserError, match="train_size must be between 1 and 55000"):
        run(Settings.profile("quick", train_size=60000, val_size=5000), mnist, device="cpu", progress=False)
