"""Faults a new user meets (crafted or damaged files, interrupted writes, runs side by side, read-only
folders, bad settings), each reproduced, with the behaviour promised for it."""
from __future__ import annotations

import json
import os
import pickle
import subprocess
import sys

import matplotlib.pyplot as plt
import pytest
import torch

from mnist_explore.data import Split, train_val_split
from mnist_explore.errors import UserError
from mnist_explore.figures import Context, render, save_figure, select
from mnist_explore.paths import atomic_path
from mnist_explore.train import Callback, TrainConfig, TrainingDiverged, fit


@pytest.fixture(scope="module")
def small(mnist):
    train, val = train_val_split(mnist.train, val_size=5000, seed=0)
    return train.subset(torch.arange(300)), val.subset(torch.arange(200))


def _config(**kw):
    return TrainConfig(**{**dict(model="mlp", epochs=2, batch_size=100, progress=False), **kw})


class _Payload:
    """Unpickling this runs a shell command: what a crafted checkpoint would do with weights_only=False."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (os.system, (f"touch {self.marker}",))


def test_a_crafted_checkpoint_is_refused_unread(small, tmp_path):
    marker = tmp_path / "code-ran"
    with open(tmp_path / "last.pt", "wb") as f:
        pickle.dump({"model": _Payload(marker)}, f, protocol=2)
    with pytest.raises(UserError, match="refused unread") as info:
        fit(_config(), *small, checkpoint_dir=tmp_path, resume=True)
    assert "\n" not in str(info.value)
    assert not marker.exists()


def test_a_new_run_never_overwrites_an_old_one(small, tmp_path):
    fit(_config(epochs=1), *small, checkpoint_dir=tmp_path)
    before = {p.name: p.read_bytes() for p in tmp_path.iterdir()}
    with pytest.raises(UserError, match="already holds a training run.*resume=True.*overwrite=True"):
        fit(_config(epochs=1), *small, checkpoint_dir=tmp_path)
    assert {p.name: p.read_bytes() for p in tmp_path.iterdir()} == before  # nothing touched
    fit(_config(epochs=1, seed=1), *small, checkpoint_dir=tmp_path, overwrite=True)
    assert json.loads((tmp_path / "history.json").read_text())["config"]["seed"] == 1


def test_resuming_with_other_settings_names_them(small, tmp_path):
    fit(_config(epochs=1), *small, checkpoint_dir=tmp_path)
    with pytest.raises(UserError, match=r"different settings \(lr 0.001 -> 0.01; seed 0 -> 3\)"):
        fit(_config(epochs=1, lr=1e-2, seed=3), *small, checkpoint_dir=tmp_path, resume=True)
    fit(_config(epochs=1, progress=True), *small, checkpoint_dir=tmp_path, resume=True)  # reporting may differ


def test_broken_weights_at_an_epochs_last_step_keep_the_last_good_checkpoint(small, tmp_path):
    # 3 steps per epoch: epoch 1 is fine, the last step of epoch 2 takes a step so large the weights overflow.
    explode = lambda step, total: 1e-3 if step != 5 else 1e38  # noqa: E731
    with pytest.raises(TrainingDiverged, match=r"non-finite at step 6 \(the last of epoch 2\)") as info:
        fit(_config(optimizer="sgd", schedule=explode), *small, checkpoint_dir=tmp_path)
    assert "end of epoch 1" in str(info.value)
    kept = torch.load(tmp_path / "last.pt", weights_only=True)
    assert kept["epoch"] == 1 and all(torch.isfinite(v).all() for v in kept["model"].values() if v.is_floating_point())
    assert all(torch.isfinite(torch.tensor(e["val_loss"])) for e in kept["history"]["epochs"])


def test_a_truncated_checkpoint_is_reported_and_the_run_starts_again(small, tmp_path):
    whole = fit(_config(), *small, restore_best=False)
    fit(_config(epochs=1), *small, checkpoint_dir=tmp_path / "run")
    last = tmp_path / "run" / "last.pt"
    last.write_bytes(last.read_bytes()[:1000])
    with pytest.warns(UserWarning, match="last.pt is damaged.*starts again from its first step"):
        again = fit(_config(), *small, checkpoint_dir=tmp_path / "run", resume=True, restore_best=False)
    assert again.history.step_loss == whole.history.step_loss
    torch.load(last, weights_only=True)  # rewritten whole


def test_an_interrupted_save_leaves_the_old_file_and_no_leftovers(tmp_path):
    fig = plt.figure()
    good = save_figure(fig, "figure", tmp_path).read_bytes()
    with pytest.raises(KeyboardInterrupt), atomic_path(tmp_path / "figure.png") as tmp:
        tmp.write_bytes(b"\x89PNG half")
        raise KeyboardInterrupt
    assert (tmp_path / "figure.png").read_bytes() == good
    assert [p.name for p in tmp_path.iterdir()] == ["figure.png"]
    plt.close(fig)


def test_two_renders_at_once_keep_every_manifest_entry(tmp_path):
    code = ("import sys; from mnist_explore.cli import main; "
            "sys.exit(main(['figures', '--profile', 'quick', '--device', 'cpu', '--out', sys.argv[1], "
            "'--only', *sys.argv[2:]]))")
    names = [["data_samples", "data_class_counts", "data_class_means"],
             ["data_pixel_histograms", "data_mean_intensity", "data_pixel_std"]]
    env = {**os.environ, "MPLBACKEND": "Agg"}
    procs = [subprocess.Popen([sys.executable, "-c", code, str(tmp_path), *n], env=env,
                              stdout=subprocess.PIPE, stderr=subprocess.PIPE) for n in names]
    for p in procs:
        _, err = p.communicate(timeout=600)
        assert p.returncode == 0, err.decode()[-2000:]
    manifest = json.loads((tmp_path / "MANIFEST.json").read_text())
    assert sorted(e["name"] for e in manifest["figures"]) == sorted(names[0] + names[1])
    assert not [p for p in tmp_path.iterdir() if "partial" in p.name]


def test_an_output_path_that_is_a_file_is_one_sentence_before_any_work(tmp_path, capsys):
    from mnist_explore.cli import main

    target = tmp_path / "not-a-folder"
    target.write_text("x")
    assert main(["figures", "--only", "data_samples", "--out", str(target)]) == 2
    err = capsys.readouterr().err
    assert "is a file, not a folder" in err and "--out" in err and err.count("\n") == 1


def test_an_unwritable_output_folder_is_refused_before_any_work(tmp_path, monkeypatch):
    (tmp_path / "file").write_text("x")  # a folder below a file cannot be made, even by root
    made = []
    monkeypatch.setattr(Context, "study", lambda self, module: made.append(module))
    with pytest.raises(UserError, match="Cannot write to the output folder .*file/figures.*--out"):
        render(select(["data_samples"]), Context(profile="quick"), tmp_path / "file" / "figures")
    assert not made  # refused before any recipe ran


@pytest.mark.parametrize("settings, message", [
    (dict(epochs=1.7), "epochs must be a whole number of at least 1, got 1.7"),
    (dict(epochs=True), "epochs must be a whole number"),
    (dict(lr="0.01"), "lr must be a positive number, got '0.01'"),
    (dict(lr=float("nan")), "lr must be a positive number"),
    (dict(label_smoothing=1.0), r"label_smoothing must be a number in \[0, 1\), got 1.0"),
    (dict(label_smoothing=-0.1), r"label_smoothing must be a number in \[0, 1\)"),
    (dict(optimizer="adamax"), "Unknown optimizer 'adamax': choose one of sgd"),
    (dict(model="resnet"), "Unknown model 'resnet': choose one of linear"),
    (dict(augment="flip"), "Unknown augmentation 'flip'"),
    (dict(schedule=lambda step, total: 1e-3 - 3e-4 * step), r"schedule gives -0.000199\d* at step 4"),
])
def test_bad_training_settings_are_one_sentence_before_any_step(small, settings, message):
    steps = []

    class Count(Callback):
        def on_step_end(self, state):
            steps.append(state.step)

    with pytest.raises(UserError, match=message) as info:
        fit(_config(**settings), *small, callbacks=[Count()])
    assert "\n" not in str(info.value) and not steps


def test_empty_splits_and_labels_outside_0_9_are_refused(small):
    train, val = small
    with pytest.raises(UserError, match="The training split has no images"):
        fit(_config(), train.subset(torch.arange(0)), val)
    bad = Split(train.X, train.y.clone().index_fill_(0, torch.tensor([3]), 10))
    with pytest.raises(UserError, match="labels from 0 to 10: MNIST's classes are 0-9"):
        fit(_config(), bad, val)
