"""Where code runs and how reproducibly: device choice and seeding.

Randomness: only :func:`seed_everything` sets the global generators, and only notebooks,
the CLI and tests call it. Library code threads a seed or a ``torch.Generator`` through
everything that takes one. The few torch operations that take no generator (a module's
default initialisation, dropout) run inside :func:`seeded_global_rng`, which seeds a
private copy of the global state and restores the caller's state on the way out.
"""
from __future__ import annotations

import os
import platform
import random
from collections.abc import Iterator
from contextlib import contextmanager

import numpy as np
import torch

from .errors import UserError

DEVICE_ENV = "MNIST_EXPLORE_DEVICE"


def _mps_available() -> bool:
    mps = getattr(torch.backends, "mps", None)
    return bool(mps is not None and mps.is_available())


def get_device(name: str | torch.device | None = None) -> torch.device:
    """Return the device to compute on.

    Parameters
    ----------
    name
        ``"cpu"``, ``"cuda"``, ``"cuda:1"``, ``"mps"``, or None. None reads the
        ``MNIST_EXPLORE_DEVICE`` environment variable and, when that is unset,
        tries cuda, then mps, then cpu.

    Returns
    -------
    torch.device
        A device that is present on this machine.
    """
    name = name if name is not None else os.environ.get(DEVICE_ENV) or None
    if name is None:
        if torch.cuda.is_available():
            return torch.device("cuda")
        return torch.device("mps") if _mps_available() else torch.device("cpu")
    try:
        device = torch.device(name)
    except (RuntimeError, TypeError) as exc:
        raise UserError(
            f"Unknown device {str(name)!r}: use cpu, cuda, cuda:N or mps "
            f"(or unset {DEVICE_ENV} to choose automatically)."
        ) from exc
    if device.type == "cuda" and not torch.cuda.is_available():
        raise UserError(f"Device {str(name)!r} was asked for but this machine has no usable CUDA GPU: use cpu.")
    if device.type == "cuda" and device.index is not None and device.index >= torch.cuda.device_count():
        raise UserError(f"Device {str(name)!r} does not exist: this machine has {torch.cuda.device_count()} CUDA GPU(s).")
    if device.type == "mps" and not _mps_available():
        raise UserError(f"Device {str(name)!r} was asked for but MPS is not available here: use cpu.")
    if device.type not in {"cpu", "cuda", "mps"}:
        raise UserError(f"Device type {device.type!r} is not supported: use cpu, cuda, cuda:N or mps.")
    return device


def seed_everything(seed: int) -> None:
    """Seed Python's, NumPy's and torch's global generators (all devices) with ``seed``."""
    if isinstance(seed, bool) or not isinstance(seed, (int, np.integer)) or not 0 <= seed < 2**32:
        raise UserError(f"seed must be an integer in [0, 2**32), got {seed!r}.")
    random.seed(int(seed))
    np.random.seed(int(seed))
    torch.manual_seed(int(seed))  # also seeds every CUDA device


@contextmanager
def seeded_global_rng(seed: int | None = None, device: torch.device | str | None = None,
                      state: dict | None = None) -> Iterator[None]:
    """Run a block with torch's global generators (the CPU's, and ``device``'s when it is CUDA) seeded with
    ``seed``, or set to ``state`` (from :func:`global_rng_state`), restoring the caller's states afterwards.

    For the operations that take no generator argument: dropout, and modules' default initialisation.
    """
    device = torch.device(device) if device is not None else torch.device("cpu")
    cuda = [device] if device.type == "cuda" else []
    with torch.random.fork_rng(devices=cuda):
        if state is not None:
            torch.set_rng_state(state["cpu"])
            if cuda and state.get("cuda") is not None:
                torch.cuda.set_rng_state(state["cuda"], device)
        elif seed is not None:
            torch.default_generator.manual_seed(int(seed))
            if cuda:
                with torch.cuda.device(device):
                    torch.cuda.manual_seed(int(seed))
        yield


def autocast(device: torch.device, amp: bool | None = None):
    """bf16 autocast for ``device``: ``amp=None`` turns it on for CUDA only, True on any device (the CPU included,
    which is how tests run the GPU's mixed-precision path), False never."""
    enabled = device.type == "cuda" if amp is None else bool(amp)
    return torch.autocast(device.type, dtype=torch.bfloat16, enabled=enabled)


def global_rng_state(device: torch.device | str | None = None) -> dict:
    """The global generators' states (CPU, and ``device``'s when it is CUDA), for a checkpoint."""
    device = torch.device(device) if device is not None else torch.device("cpu")
    return {"cpu": torch.get_rng_state(),
            "cuda": torch.cuda.get_rng_state(device) if device.type == "cuda" else None}


def describe_device(device: torch.device) -> str:
    """The hardware behind ``device`` in words, for benchmark records and notebook outputs."""
    if device.type == "cuda":
        return f"{torch.cuda.get_device_name(device)} (CUDA {torch.version.cuda})"
    if device.type == "mps":
        return f"Apple MPS ({platform.machine()})"
    model = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            model = next(line.split(":", 1)[1].strip() for line in f if line.startswith("model name"))
    except (OSError, StopIteration):
        pass
    return f"CPU: {model}, {torch.get_num_threads()} threads"
