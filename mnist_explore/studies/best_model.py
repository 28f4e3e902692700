"""The best model, honestly (notebook 11): an ensemble of CNNs chosen on validation, scored on the test set once.

The protocol lives in :mod:`mnist_explore.ensemble`; this study sizes it per profile, seals the
test split before anything trains, and checkpoints every member under the cache folder so that an
interrupted run resumes.
"""
from __future__ import annotations

import hashlib
import json
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import torch

from .. import __version__, ensemble
from ..data import Dataset, Split, train_val_split
from ..ensemble import EnsembleReport, EnsembleSettings, HeldOut
from ..errors import UserError
from ..paths import cache_dir
from ..runtime import get_device
from .profiles import StudySettings


@dataclass(frozen=True)
class Settings(StudySettings, EnsembleSettings):
    """The ensemble's members and recipe; the default is 4 fast_cnn members of 3 epochs (about 2 min on 2 cores)."""

    PROFILES = {
        "quick": dict(seeds=(0, 1, 2), epochs=1, train_size=2000, val_size=1000, test_size=2000),
        # An et al.'s three kernel sizes, 5 seeds each (a GPU).
        "full": dict(models=("simple_cnn3", "simple_cnn5", "simple_cnn7"), seeds=tuple(range(15)), epochs=30,
                     lr=2e-3),
    }

    @classmethod
    def profile(cls, name: str = "default", members: int | None = None, epochs: int | None = None,
                **overrides) -> Settings:
        """The settings of profile ``name``, optionally with ``members`` (seeds 0 to members-1) or ``epochs``."""
        base = super().profile(name)
        for field, value in (("members", members), ("epochs", epochs)):
            if value is not None and (isinstance(value, bool) or not isinstance(value, int) or value < 1):
                raise UserError(f"{field} must be a whole number of at least 1 (or None for the profile's "
                                f"{len(base.seeds) if field == 'members' else base.epochs}), got {value!r}.")
        if members is not None:
            overrides["seeds"] = tuple(range(members))
        if epochs is not None:
            overrides["epochs"] = epochs
        return super().profile(name, **overrides)


def default_checkpoint_dir(settings: EnsembleSettings, device: torch.device, seed: int = 0) -> Path:
    """Where an ensemble's members are checkpointed: one folder per settings, seed, device type and code version."""
    key = json.dumps([asdict(settings), seed, device.type, __version__, torch.__version__], sort_keys=True)
    return cache_dir() / "ensembles" / hashlib.sha256(key.encode()).hexdigest()[:16]


def splits(dataset: Dataset, settings: EnsembleSettings) -> tuple[Split, Split, HeldOut]:
    """Training and validation splits (carved from the training set) and the sealed test split."""
    held_out = HeldOut(dataset.test, settings.test_size)  # sealed before anything else runs
    train, val = train_val_split(dataset.train, settings.val_size, seed=0, train_size=settings.train_size)
    return train, val, held_out


def run(settings: EnsembleSettings, data: Dataset, *, device: torch.device | str | None = None, seed: int = 0,
        progress: bool = True, checkpoint_dir: str | Path | None | bool = True) -> EnsembleReport:
    """Train, select on validation, then score on the test set once: the whole protocol.

    Parameters
    ----------
    settings
        The members and their recipe, from ``Settings.profile(name)``.
    data
        MNIST; moved to ``device`` (None: ``get_device()``).
    seed
        Added to each member's seed in ``settings.seeds``.
    checkpoint_dir
        A folder for the members' checkpoints; True: one under the cache folder, keyed by the settings,
        the seed, the device type and the code version (so a rerun resumes); False or None: keep none.
    """
    device = get_device(device)
    if checkpoint_dir is True:
        checkpoint_dir = default_checkpoint_dir(settings, device, seed)
    elif checkpoint_dir is False:
        checkpoint_dir = None
    if seed:
        settings = replace(settings, seeds=tuple(seed + s for s in settings.seeds))
    train, val, held_out = splits(data.to(device), settings)
    members = ensemble.train_members(train, val, settings, checkpoint_dir, progress=progress)
    return ensemble.score(ensemble.select(members, val), held_out)
