"""The code paths written for a GPU, run on the CPU: bf16 autocast, torch.compile, the deterministic cuDNN
switch, and the device-side generators. Tests marked ``cuda`` need a real GPU and are skipped without one."""
from __future__ import annotations

import shutil

import pytest
import torch

from mnist_explore.data import train_val_split
from mnist_explore.models import init_model
from mnist_explore.runtime import autocast, global_rng_state, seeded_global_rng
from mnist_explore.train import TrainConfig, _cudnn_deterministic, fit

needs_compiler = pytest.mark.skipif(shutil.which("cc") is None and shutil.which("gcc") is None,
                                    reason="no C compiler for Inductor")


@pytest.fixture(scope="module")
def small(mnist):
    train, val = train_val_split(mnist.train, val_size=5000, seed=0)
    return train.subset(torch.arange(640)), val.subset(torch.arange(300))


def _config(**kw):
    return TrainConfig(**{**dict(model="fast_cnn", epochs=1, batch_size=64, progress=False), **kw})


def test_autocast_rule():
    cpu = torch.device("cpu")
    with autocast(cpu, None):
        assert not torch.is_autocast_enabled("cpu")
    with autocast(cpu, True):
        assert torch.is_autocast_enabled("cpu") and torch.get_autocast_dtype("cpu") == torch.bfloat16
        assert (torch.ones(4, 4) @ torch.ones(4, 4)).dtype == torch.bfloat16
    with autocast(cpu, False):
        assert not torch.is_autocast_enabled("cpu")


def test_bf16_training_runs_on_the_cpu_and_differs_from_float32(small):
    full = fit(_config(amp=False), *small)
    mixed = fit(_config(amp=True), *small)
    assert mixed.history.epochs[0]["val_acc"] > 0.6  # it learns
    assert mixed.history.step_loss != full.history.step_loss  # and bf16 really ran: the numbers moved
    assert all(p.dtype == torch.float32 for p in mixed.model.parameters())  # weights stay float32


@needs_compiler
def test_compiled_model_trains_to_the_eager_numbers(small):
    eager = fit(_config(model="linear"), *small)
    compiled = fit(_config(model="linear", compile=True), *small)
    torch.testing.assert_close(torch.tensor(compiled.history.step_loss), torch.tensor(eager.history.step_loss),
                               rtol=1e-4, atol=1e-5)


def test_deterministic_switch_is_set_inside_and_restored_after():
    cudnn = torch.backends.cudnn
    previous = cudnn.deterministic, cudnn.benchmark
    cudnn.deterministic, cudnn.benchmark = False, True
    try:
        with _cudnn_deterministic(True):
            assert cudnn.deterministic and not cudnn.benchmark
        assert (cudnn.deterministic, cudnn.benchmark) == (False, True)
        with _cudnn_deterministic(False):
            assert (cudnn.deterministic, cudnn.benchmark) == (False, True)
    finally:
        cudnn.deterministic, cudnn.benchmark = previous


def test_seeded_global_rng_restores_the_callers_state_and_replays():
    torch.manual_seed(5)
    before = torch.get_rng_state()
    with seeded_global_rng(3):
        a = torch.rand(3)
        state = global_rng_state()
    with seeded_global_rng(3):
        b = torch.rand(3)
    with seeded_global_rng(state=state):
        c = torch.rand(3)
    assert torch.equal(a, b) and not torch.equal(a, c)
    assert torch.equal(torch.get_rng_state(), before)


def test_init_model_is_the_same_on_every_call_and_leaves_the_global_generator():
    torch.manual_seed(5)
    before = torch.get_rng_state()
    a, b, c = init_model("fast_cnn", 1, "cpu"), init_model("fast_cnn", 1, "cpu"), init_model("fast_cnn", 2, "cpu")
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    assert not all(torch.equal(p, q) for p, q in zip(a.parameters(), c.parameters()))
    assert torch.equal(torch.get_rng_state(), before)


@pytest.mark.cuda
def test_same_seed_same_weights_on_the_gpu(small):
    train, val = (s.to("cuda") for s in small)
    a = fit(_config(model="second_cnn", augment="affine"), train, val).model
    b = fit(_config(model="second_cnn", augment="affine"), train, val).model
    assert all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values()))


@pytest.mark.cuda
def test_initial_weights_are_the_same_on_cpu_and_gpu():
    cpu, gpu = init_model("fast_cnn", 0, "cpu"), init_model("fast_cnn", 0, "cuda")
    assert all(torch.equal(p, q.cpu()) for p, q in zip(cpu.parameters(), gpu.parameters()))
