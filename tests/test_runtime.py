import random
import subprocess
import sys

import numpy as np
import pytest
import torch

from mnist_explore import runtime
from mnist_explore.errors import UserError
from mnist_explore.runtime import get_device, seed_everything


def test_explicit_device_wins_over_the_environment(monkeypatch):
    monkeypatch.setenv("MNIST_EXPLORE_DEVICE", "cuda:7")
    assert get_device("cpu") == torch.device("cpu")


def test_environment_variable_overrides_the_automatic_choice(monkeypatch):
    monkeypatch.setenv("MNIST_EXPLORE_DEVICE", "cpu")
    assert get_device() == torch.device("cpu")


@pytest.mark.parametrize("cuda, mps, expected", [(True, True, "cuda"), (False, True, "mps"), (False, False, "cpu")])
def test_automatic_choice_prefers_cuda_then_mps_then_cpu(monkeypatch, cuda, mps, expected):
    # Pretend each combination of accelerators is present, so every branch runs on any machine.
    monkeypatch.setattr(torch.cuda, "is_available", lambda: cuda)
    monkeypatch.setattr(runtime, "_mps_available", lambda: mps)
    monkeypatch.delenv("MNIST_EXPLORE_DEVICE", raising=False)
    assert get_device() == torch.device(expected)
    monkeypatch.setenv("MNIST_EXPLORE_DEVICE", "")  # an empty variable counts as unset
    assert get_device() == torch.device(expected)


def test_unknown_device_is_one_clear_sentence():
    with pytest.raises(UserError, match="Unknown device 'tpu'.*use cpu, cuda"):
        get_device("tpu")


@pytest.mark.skipif(torch.cuda.is_available(), reason="this machine has a GPU")
def test_missing_cuda_says_so():
    with pytest.raises(UserError, match="no usable CUDA GPU"):
        get_device("cuda")


def test_seed_everything_makes_all_three_generators_repeat():
    def draw():
        return random.random(), np.random.rand(), torch.rand(3).tolist()

    seed_everything(123)
    first = draw()
    seed_everything(123)
    assert draw() == first
    seed_everything(124)
    assert draw() != first


@pytest.mark.parametrize("bad", [-1, 2**32, 1.5, "7", True])
def test_bad_seed_is_refused(bad):
    with pytest.raises(UserError, match="seed must be an integer"):
        seed_everything(bad)


def test_importing_the_package_has_no_side_effects():
    script = """
import random, sys
import numpy as np, torch, matplotlib
random.seed(1); np.random.seed(1); torch.manual_seed(1)
before = (random.getstate(), np.random.get_state()[1].tolist(), torch.get_rng_state().tolist(),
          dict(matplotlib.rcParams))
import importlib, pkgutil, mnist_explore
modules = [m.name for m in pkgutil.walk_packages(mnist_explore.__path__, "mnist_explore.") if m.name != "mnist_explore.__main__"]
assert len(modules) > 15, modules
for name in modules:
    importlib.import_module(name)
after = (random.getstate(), np.random.get_state()[1].tolist(), torch.get_rng_state().tolist(),
         dict(matplotlib.rcParams))
assert before == after, "importing mnist_explore changed global state"
"""
    subprocess.run([sys.executable, "-c", script], check=True)


def test_bare_import_does_not_import_torch():
    code = "import sys, mnist_explore; print('torch' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], check=True, capture_output=True, text=True)
    assert out.stdout.strip() == "False"
