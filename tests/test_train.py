import json

import pytest
import torch

from mnist_explore.data import train_val_split
from mnist_explore.errors import UserError
from mnist_explore.history import History
from mnist_explore.train import Callback, TrainConfig, TrainingDiverged, fit


@pytest.fixture(scope="module")
def small(mnist):
    train, val = train_val_split(mnist.train, val_size=5000, seed=0)
    return train.subset(torch.arange(1000)), val.subset(torch.arange(500))


def config(**kw):
    base = dict(model="mlp", epochs=2, batch_size=100, lr=1e-3, progress=False, check_every=7)
    return TrainConfig(**{**base, **kw})


def test_short_run_lowers_the_loss(small):
    history = fit(config(epochs=3), *small).history
    assert len(history.step_loss) == 30
    assert sum(history.step_loss[-5:]) < 0.6 * sum(history.step_loss[:5])
    assert history.epochs[-1]["val_loss"] < history.epochs[0]["val_loss"]
    assert history.epochs[-1]["val_acc"] > 0.8


def test_same_seed_same_weights(small):
    a = fit(config(model="second_cnn", augment="affine"), *small).model
    b = fit(config(model="second_cnn", augment="affine"), *small).model
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


class InterruptAt(Callback):
    def __init__(self, step):
        self.step = step

    def on_step_end(self, state):
        if state.step == self.step:
            raise KeyboardInterrupt


@pytest.mark.parametrize("stop_at", [13, 10])  # mid-epoch, and exactly at an epoch boundary
def test_resume_equals_an_uninterrupted_run(small, tmp_path, stop_at):
    # second_cnn has dropout, affine augmentation draws random numbers: every generator must be restored.
    cfg = dict(model="second_cnn", augment="affine", epochs=3, schedule="onecycle", lr=3e-3)
    whole = fit(config(**cfg), *small, restore_best=False)
    with pytest.raises(KeyboardInterrupt):
        fit(config(**cfg), *small, checkpoint_dir=tmp_path, callbacks=[InterruptAt(stop_at)])
    resumed = fit(config(**cfg), *small, checkpoint_dir=tmp_path, resume=True, restore_best=False)
    for key, value in whole.model.state_dict().items():
        assert torch.equal(value, resumed.model.state_dict()[key]), key
    assert resumed.history.step_loss == whole.history.step_loss
    strip = [{k: v for k, v in e.items() if k != "seconds"} for e in whole.history.epochs]
    assert [{k: v for k, v in e.items() if k != "seconds"} for e in resumed.history.epochs] == strip


def test_nan_loss_stops_naming_the_step_and_keeps_the_last_good_checkpoint(small, tmp_path):
    explode = lambda step, total: 1e-3 if step < 10 else 1e30  # noqa: E731 - epoch 1 is fine, epoch 2 diverges
    with pytest.raises(TrainingDiverged) as info:
        fit(config(optimizer="sgd", schedule=explode), *small, checkpoint_dir=tmp_path)
    message = str(info.value)
    assert "at step 1" in message and "(epoch 2)" in message and str(tmp_path / "last.pt") in message
    assert "\n" not in message
    kept = torch.load(tmp_path / "last.pt", weights_only=True)
    assert kept["epoch"] == 1 and all(torch.isfinite(v).all() for v in kept["model"].values() if v.is_floating_point())


def test_early_stopping_and_best_checkpoint(small, tmp_path):
    frozen_after_one_epoch = lambda step, total: 1e-3 if step < 10 else 0.0  # noqa: E731
    result = fit(config(epochs=6, patience=2, schedule=frozen_after_one_epoch), *small, checkpoint_dir=tmp_path)
    history = result.history
    assert len(history.epochs) == 3 and history.stopped_early and history.best_epoch == 1
    best = torch.load(tmp_path / "best.pt", weights_only=True)
    assert best["epoch"] == 1
    for key, value in result.model.state_dict().items():
        assert torch.equal(value.cpu(), best["model"][key])
    saved = History.load(tmp_path / "history.json")
    assert saved.epochs == history.epochs and json.loads((tmp_path / "history.json").read_text())["best_epoch"] == 1


def test_bad_settings_are_one_sentence(small):
    with pytest.raises(UserError, match="epochs must be a whole number of at least 1"):
        fit(config(epochs=0), *small)
    with pytest.raises(UserError, match="Unknown model 'resnet'"):
        fit(config(model="resnet"), *small)
    with pytest.raises(UserError, match="Unknown optimizer 'lbfgs'"):
        fit(config(optimizer="lbfgs"), *small)


def test_fit_restores_the_callers_cudnn_settings(small):
    cudnn = torch.backends.cudnn
    before = cudnn.deterministic, cudnn.benchmark
    cudnn.benchmark = True
    try:
        fit(config(epochs=1), *small)
        assert (cudnn.deterministic, cudnn.benchmark) == (before[0], True)
    finally:
        cudnn.deterministic, cudnn.benchmark = before
