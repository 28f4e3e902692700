import numpy as np
import pytest
import torch
from sklearn import metrics as skm

from mnist_explore import numpy_mlp as scratch
from mnist_explore.data import train_val_split
from mnist_explore.errors import UserError


@pytest.fixture(scope="module")
def batch(mnist):
    params = scratch.init_params(seed=0, dtype=np.float64)
    X = scratch.flatten(mnist.train.X[:64], 0.1307, 0.3081).astype(np.float64)
    return params, X, mnist.train.y[:64].numpy()


def autograd_grads(params, X, y):
    t = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    h1 = torch.relu(torch.tensor(X) @ t["W1"] + t["b1"])
    loss = torch.nn.functional.cross_entropy(h1 @ t["W2"] + t["b2"], torch.tensor(y))
    loss.backward()
    return loss.item(), {k: v.grad.numpy() for k, v in t.items()}


@pytest.mark.parametrize("form", ["short", "jacobian"])
def test_backward_matches_autograd_in_float64(batch, form):
    params, X, y = batch
    cache = scratch.forward(params, X)
    loss, expected = autograd_grads(params, X, y)
    assert scratch.cross_entropy(cache["p"], y) == pytest.approx(loss, abs=1e-12)
    grads = scratch.BACKWARDS[form](params, X, y, cache)
    for k in params:
        assert grads[k].shape == params[k].shape
        assert np.abs(grads[k] - expected[k]).max() < 1e-8, k


def test_softmax_is_stable_for_huge_logits():
    p = scratch.softmax(np.array([[1000.0, 0.0, -1000.0]]))
    assert np.isfinite(p).all() and p[0, 0] == pytest.approx(1.0)


def test_he_initialisation_scale():
    params = scratch.init_params(seed=1)
    assert params["W1"].std() == pytest.approx(np.sqrt(2 / 784), rel=0.01)
    assert params["W2"].std() == pytest.approx(np.sqrt(2 / 512), rel=0.05)
    assert not params["b1"].any()


@pytest.fixture(scope="module")
def small(mnist):
    train, val = train_val_split(mnist.train, seed=0)
    sub, vsub = train.subset(torch.arange(3000)), val.subset(torch.arange(1000))
    return sub, vsub, [scratch.flatten(s.X, 0.1307, 0.3081) for s in (sub, vsub)], [s.y.numpy() for s in (sub, vsub)]


def test_training_learns_and_is_seeded(small):
    _, _, (X, X_val), (y, y_val) = small
    params, history = scratch.train(X, y, X_val, y_val, epochs=2, lr=0.05, seed=3)
    assert history.epochs[-1]["val_acc"] > 0.85
    assert np.mean(history.step_loss[-5:]) < 0.5 * np.mean(history.step_loss[:5])
    again, _ = scratch.train(X, y, X_val, y_val, epochs=2, lr=0.05, seed=3)
    assert all(np.array_equal(params[k], again[k]) for k in params)


def test_torch_twin_starts_from_the_same_weights(small):
    train, val, (X, X_val), _ = small
    params = scratch.init_params(seed=0)
    frozen = lambda step, total: 0.0  # noqa: E731 - a zero learning rate leaves the weights as they started
    result = scratch.torch_twin(params, train, val, epochs=1, batch_size=128, lr=1e-3, schedule=frozen)
    logits = scratch.predict(params, X_val)
    with torch.no_grad():
        twin = torch.softmax(result.model(val.X.float().unsqueeze(1) / 255), dim=1).numpy()
    assert np.abs(twin - logits).max() < 1e-4


def test_evaluation_from_scratch_matches_sklearn():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 10, 2000)
    y_pred = np.where(rng.random(2000) < 0.8, y, rng.integers(0, 10, 2000))
    y_pred[y_pred == 4] = 5  # class 4 never predicted: precision undefined, 0 as in sklearn
    assert scratch.accuracy(y, y_pred) == pytest.approx(skm.accuracy_score(y, y_pred))
    cm = scratch.confusion_matrix(y, y_pred)
    np.testing.assert_array_equal(cm, skm.confusion_matrix(y, y_pred, labels=range(10)))
    report = scratch.precision_recall_f1(cm)
    p, r, f, _ = skm.precision_recall_fscore_support(y, y_pred, labels=range(10), zero_division=0)
    np.testing.assert_allclose(report["precision"], p)
    np.testing.assert_allclose(report["recall"], r)
    np.testing.assert_allclose(report["f1"], f)
    assert report["macro_f1"] == pytest.approx(skm.f1_score(y, y_pred, average="macro", zero_division=0))


def test_jacobian_backward_costs_more_memory(batch):
    params, X, y = batch
    rows = scratch.measure_backward(params, X, y, batch_sizes=(1, 16), repeats=1)
    peak = {(r["form"], r["batch_size"]): r["peak_bytes"] for r in rows}
    assert peak[("jacobian", 16)] > 10 * peak[("short", 16)]
    assert peak[("jacobian", 16)] > 4 * peak[("jacobian", 1)]  # (N, 512, 512) grows with N; eye(512) is fixed
    assert peak[("jacobian", 16)] >= 16 * 512 * 512 * 8  # the dense ReLU Jacobians, float64


def test_bad_settings(small):
    _, _, (X, X_val), (y, y_val) = small
    with pytest.raises(UserError, match="Unknown backward pass 'magic'"):
        scratch.train(X, y, X_val, y_val, backward="magic")
    with pytest.raises(UserError, match="lower the learning rate"), np.errstate(all="ignore"):
        scratch.train(X, y, X_val, y_val, epochs=1, lr=1e6)


def test_study_selects_on_validation_and_summarises(mnist):
    from mnist_explore.studies.numpy_from_scratch import Settings, run

    settings = Settings.profile("quick", lr_grid=(0.01, 0.1), epochs_grid=(1,), seeds=(0, 1), cost_batch_sizes=(1, 4))
    study = run(settings, mnist, device="cpu", progress=False)
    assert len(study.grid) == 2 and study.lr == max(study.grid, key=lambda g: g["val_acc"])["lr"]
    summary = study.summary()
    assert summary["numpy"]["test_acc"] == pytest.approx(np.mean([r["test_acc"] for r in study.numpy_runs]))
    assert summary["numpy"]["test_acc"] > 0.8 and summary["pytorch"]["test_acc"] > 0.8
    assert {(r["form"], r["batch_size"]) for r in study.costs} == {(f, n) for f in ("short", "jacobian") for n in (1, 4)}
    assert study.test_pred.shape == (10000,) and study.params["W1"].shape == (784, 512)


def test_scratch_plots(mnist):
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    from mnist_explore import plots

    rows = [{"form": f, "batch_size": n, "seconds": n * (10 if f == "jacobian" else 1) * 1e-4,
             "peak_bytes": n * (100 if f == "jacobian" else 1) * 1e4} for f in ("short", "jacobian") for n in (1, 8)]
    fig = plots.plot_backward_costs(rows)
    assert isinstance(fig, Figure) and "10x the time and 100x the memory" in fig._suptitle.get_text()
    fig2 = plots.plot_weight_images(scratch.init_params(0)["W1"], n=16)
    assert isinstance(fig2, Figure) and fig2.axes[0].get_title()
    with pytest.raises(UserError, match="n must be between 1 and the number of hidden units"):
        plots.plot_weight_images(scratch.init_params(0)["W1"], n=600)
    with pytest.raises(UserError, match="Unknown cost 'flops'"):
        plots.plot_backward_cost(rows, "flops")
    plt.close("all")
