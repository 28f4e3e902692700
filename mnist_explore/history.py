"""The record of one training run: per-step loss and per-epoch metrics, saved as JSON."""
from __future__ import annotations

import json
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .paths import write_text_atomic


@dataclass
class History:
    """Per-step training loss and per-epoch metrics of one run."""

    config: dict
    step_loss: list[float] = field(default_factory=list)
    epochs: list[dict] = field(default_factory=list)  # epoch, train/val loss and accuracy, lr, seconds
    best_epoch: int | None = None
    stopped_early: bool = False

    @property
    def best_val_acc(self) -> float | None:
        return None if self.best_epoch is None else self.epochs[self.best_epoch - 1]["val_acc"]

    @property
    def train_seconds(self) -> float:
        return sum(e["seconds"] for e in self.epochs)

    def save(self, path: str | Path) -> None:
        write_text_atomic(path, json.dumps(asdict(self), indent=1))

    @classmethod
    def load(cls, path: str | Path) -> History:
        return cls(**json.loads(Path(path).read_text()))
