"""A notebook's parameters, checked in the cell after the parameters cell: one sentence for a bad value,
before any data is loaded or any model trained.

    from mnist_explore.parameters import check, notebook_profile, notebook_seed
    PROFILE = notebook_profile()                      # in the parameters cell
    SEED = notebook_seed()
    check(PROFILE=PROFILE, SEED=SEED, DEVICE=DEVICE)  # first thing in the next cell
"""
from __future__ import annotations

import os
from collections.abc import Callable

from .errors import UserError

QUICK_ENV = "MNIST_EXPLORE_QUICK"
PROFILE_ENV = "MNIST_EXPLORE_PROFILE"
SEED_ENV = "MNIST_EXPLORE_SEED"


def notebook_profile() -> str:
    """The profile a notebook runs at: ``quick`` when ``MNIST_EXPLORE_QUICK=1`` (how the tests run the notebooks),
    else ``MNIST_EXPLORE_PROFILE`` (``quick``, ``default`` or ``full``; unset: ``default``).

    ``MNIST_EXPLORE_QUICK`` takes ``1`` or ``0`` (unset or empty: ``0``); any other value is refused.
    """
    from .studies.profiles import check_profile

    quick = os.environ.get(QUICK_ENV, "").strip()
    if quick not in ("", "0", "1"):
        raise UserError(f"{QUICK_ENV}={quick!r} is not understood: set it to 1 (quick mode) or 0, or unset it.")
    if quick == "1":
        return "quick"
    profile = os.environ.get(PROFILE_ENV, "").strip() or "default"
    try:
        return check_profile(profile)
    except UserError:
        raise UserError(f"{PROFILE_ENV}={profile!r} is not a profile: set it to quick, default or full.") from None


def notebook_seed(default: int = 0) -> int:
    """The seed a notebook runs with: ``MNIST_EXPLORE_SEED`` (a whole number from 0 to 2**32 - 1), else ``default``.

    ``mnist-explore claims`` sets it to run each notebook for several seeds; unset or empty, ``default``.
    """
    value = os.environ.get(SEED_ENV, "").strip()
    if not value:
        return default
    if not (value.isascii() and value.isdigit()) or int(value) > 2**32 - 1:
        raise UserError(f"{SEED_ENV}={value!r} is not a seed: set it to a whole number from 0 to {2**32 - 1}, or unset it.")
    return int(value)


def _whole(low: int, high: int | None = None, allow_none: bool = False) -> Callable[[str, object], None]:
    def check_one(name: str, value: object) -> None:
        if value is None and allow_none:
            return
        if isinstance(value, bool) or not isinstance(value, int) or value < low or (high is not None and value > high):
            span = f"from {low} to {high}" if high is not None else f"of at least {low}"
            raise UserError(f"{name} must be a whole number {span}{' (or None)' if allow_none else ''}, "
                            f"got {value!r}.")
    return check_one


def _profile(name: str, value: object) -> None:
    if value not in ("quick", "default", "full"):
        raise UserError(f"{name} must be 'quick', 'default' or 'full', got {value!r}.")


def _device(name: str, value: object) -> None:
    from .runtime import get_device

    if value is not None and not isinstance(value, str):
        raise UserError(f"{name} must be None or a device name such as 'cpu' or 'cuda', got {value!r}.")
    get_device(value)  # a UserError naming the devices when it is not here


def _optimizers(name: str, value: object) -> None:
    from .optimizers import OPTIMIZERS

    if value is None:
        return
    if isinstance(value, str) or not isinstance(value, (list, tuple)) or not value:
        raise UserError(f"{name} must be None or a non-empty list of names such as ['adam', 'sgd'], got {value!r}.")
    unknown = [v for v in value if v not in OPTIMIZERS]
    if unknown:
        raise UserError(f"{name} has unknown optimizer(s) {', '.join(map(repr, unknown))}: "
                        f"choose from {', '.join(OPTIMIZERS)}.")


def _optional_bool(name: str, value: object) -> None:
    if value not in (None, True, False):
        raise UserError(f"{name} must be None, True or False, got {value!r}.")


def _optional_name(name: str, value: object) -> None:
    if value is not None and not isinstance(value, str):
        raise UserError(f"{name} must be None or a name, got {value!r}.")


CHECKS: dict[str, Callable[[str, object], None]] = {
    "PROFILE": _profile,
    "SEED": _whole(0, 2**32 - 1),
    "DEVICE": _device,
    "DIGIT": _whole(0, 9),
    "OPTIMIZERS": _optimizers,
    "CONCURRENT": _optional_bool,
    "BACKEND": _optional_name,
    "MEMBERS": _whole(1, allow_none=True),
    "EPOCHS": _whole(1, allow_none=True),
    "BATCH_SIZE": _whole(1, 60000),
    "VAL_SIZE": _whole(1, 59999),
}


def check(**parameters: object) -> None:
    """Check each notebook parameter by its name; the first bad one raises a UserError in one sentence.

    Relations between parameters are checked by the notebook (e.g. ``N_SHOW`` at most ``BATCH_SIZE``); pass
    ``N_SHOW`` with ``BATCH_SIZE`` and it is checked here too.
    """
    unknown = [n for n in parameters if n not in CHECKS and n != "N_SHOW"]
    if unknown:
        raise UserError(f"No check for parameter(s) {', '.join(unknown)}: known are {', '.join(CHECKS)}, N_SHOW.")
    for name, value in parameters.items():
        if name != "N_SHOW":
            CHECKS[name](name, value)
    if "N_SHOW" in parameters:
        _whole(1, parameters.get("BATCH_SIZE", 60000))("N_SHOW", parameters["N_SHOW"])
