"""Where code runs and how reproducibly: device choice, seeding, quick mode."""
from __future__ import annotations

import os
import platform
import random

import numpy as np
import torch

from .errors import UserError

DEVICE_ENV = "MNIST_EXPLORE_DEVICE"
QUICK_ENV = "MNIST_EXPLORE_QUICK"


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


def by_profile(table: dict, profile: str):
    """``table[profile]``, or a UserError listing the profiles the table knows."""
    if profile not in table:
        raise UserError(f"Unknown profile {profile!r}: choose one of {', '.join(table)}.")
    return table[profile]


def quick_mode() -> bool:
    """True when ``MNIST_EXPLORE_QUICK=1``: notebooks and recipes shrink data and epochs (CI)."""
    return os.environ.get(QUICK_ENV, "0").strip().lower() in {"1", "true", "yes"}


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
