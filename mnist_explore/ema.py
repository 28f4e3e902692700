"""An exponential moving average of a model's weights, kept by a training callback and checkpointed with the run."""
from __future__ import annotations

import torch
from torch import nn
from torch.optim.swa_utils import AveragedModel

from .errors import UserError
from .metrics import evaluate
from .train import Callback, TrainState


def warmup_ema(decay: float):
    """An ``AveragedModel`` ``multi_avg_fn``: an EMA whose decay at its n-th update is ``min(decay, (1 + n) / (10 + n))``.

    A fixed decay of 0.999 would keep the random initial weights for thousands of
    steps; the warm-up forgets them within the first few dozen, as TensorFlow's
    ``ExponentialMovingAverage(num_updates=...)`` does.
    """
    @torch.no_grad()
    def update(averaged: list[torch.Tensor], current: list[torch.Tensor], n_averaged: torch.Tensor) -> None:
        n = float(n_averaged)
        weight = 1.0 - min(decay, (1 + n) / (10 + n))
        for a, m in zip(averaged, current, strict=True):
            if a.is_floating_point():
                a.lerp_(m, weight)
            else:  # batch norm's step counter
                a.copy_(m)
    return update


class EMA(Callback):
    """Average the weights (and batch-norm statistics) of the model being trained after every optimizer step.

    The average is a ``torch.optim.swa_utils.AveragedModel`` with a warm-up decay (see
    :func:`warmup_ema`); it starts at the model's initial weights, and its n-th step after
    that uses decay ``min(decay, (1 + n) / (10 + n))``. At each epoch's end it scores the averaged model on the
    validation split and logs ``ema_val_loss`` and ``ema_val_acc`` in the epoch's record.
    Its state is saved in the training checkpoint, so a resumed run ends with the same
    average as one that never stopped.

    Parameters
    ----------
    model
        The module being trained, already on its device (the average starts as a copy of it).
    decay
        The weight of the old average per step; 0.999 averages over about the last 1,000 steps.
    """

    def __init__(self, model: nn.Module, decay: float = 0.999):
        if not 0.0 < decay < 1.0:
            raise UserError(f"The EMA decay must be between 0 and 1 (exclusive), got {decay}.")
        self.decay = decay
        self.averaged = AveragedModel(model, multi_avg_fn=warmup_ema(decay), use_buffers=True)
        self.averaged.eval().requires_grad_(False)
        self.averaged.update_parameters(model)  # the average starts at the initial weights: update 1 of the warm-up

    @property
    def model(self) -> nn.Module:
        """The averaged weights as a plain module of the trained model's class, in eval mode."""
        return self.averaged.module

    def on_step_end(self, state: TrainState) -> None:
        self.averaged.update_parameters(state.model)

    def on_epoch_end(self, state: TrainState) -> None:
        loss, acc = evaluate(self.model, state.val, amp=state.config.amp)
        state.log(ema_val_loss=loss, ema_val_acc=acc)

    def state_dict(self) -> dict:
        return self.averaged.state_dict()

    def load_state_dict(self, state: dict) -> None:
        self.averaged.load_state_dict(state)
