"""An exponential moving average of a model's weights, kept by a training callback and checkpointed with the run."""
from __future__ import annotations

import copy

import torch
from torch import nn

from .metrics import evaluate
from .train import Callback


class EMA(Callback):
    """Average the weights (and batch-norm statistics) of ``model`` after every optimizer step.

    The average uses decay ``min(decay, (1 + n) / (10 + n))`` at its n-th update, so
    the random initial weights are forgotten quickly in short runs. At each epoch's
    end it scores the averaged model on the validation split and adds ``ema_val_loss``
    and ``ema_val_acc`` to the epoch's history. Its state is saved in the training
    checkpoint, so a resumed run ends with the same average as one that never stopped.

    Parameters
    ----------
    model
        The module being trained, already on its device (the average is a copy of it).
    decay
        The weight of the old average per step; 0.999 averages over about the last 1,000 steps.
    """

    def __init__(self, model: nn.Module, decay: float = 0.999):
        if not 0.0 < decay < 1.0:
            raise ValueError(f"decay must be between 0 and 1, got {decay}")
        self.decay = decay
        self.model = copy.deepcopy(model).eval().requires_grad_(False)
        self.updates = 0

    @torch.no_grad()
    def update(self, model: nn.Module) -> None:
        """Move the average towards ``model``'s current weights by one step."""
        self.updates += 1
        decay = min(self.decay, (1 + self.updates) / (10 + self.updates))
        pairs = [(a, m) for a, m in zip(self.model.state_dict().values(), model.state_dict().values(), strict=True)]
        floats = [(a, m) for a, m in pairs if a.is_floating_point()]
        torch._foreach_lerp_([a for a, _ in floats], [m for _, m in floats], 1.0 - decay)
        for a, m in pairs:
            if not a.is_floating_point():  # batch norm's step counter
                a.copy_(m)

    def on_batch_end(self, state) -> None:
        self.update(state.model)

    def on_epoch_end(self, state) -> None:
        loss, acc = evaluate(self.model, state.val, amp=state.config.amp)
        state.history.epochs[-1].update(ema_val_loss=loss, ema_val_acc=acc)

    def state_dict(self) -> dict:
        return {"model": self.model.state_dict(), "updates": self.updates}

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.updates = state["updates"]
