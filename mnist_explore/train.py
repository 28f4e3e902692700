"""The training engine: ``fit(config, train, val)`` with data on the device, schedules,
callbacks with a public :class:`TrainState`, early stopping, checkpoints and exact resume.

Reproducibility: the initial weights come from ``config.seed``; each epoch's batch
order from a generator seeded by (seed, epoch); augmentation and dropout from
generators whose states are checkpointed (see :class:`TrainState`). The caller's
global generators are left as they were. A run interrupted at any step and resumed
from its checkpoint ends with the same weights as one that never stopped (same
device). An interrupt (Ctrl-C) saves such a checkpoint before it propagates.
"""
from __future__ import annotations

import math
import signal
import threading
import time
import warnings
from collections.abc import Callable, Iterator, Sequence
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from itertools import islice
from pathlib import Path

import torch
import torch.nn.functional as F
from torch import nn

from .augment import get_augmentation
from .data import Split, batches, to_float
from .errors import UserError
from .history import History
from .metrics import evaluate
from .models import init_model
from .optimizers import build_optimizer
from .paths import DamagedFile, atomic_path, check_writable, load_torch
from .progress import bar as progress_bar
from .runtime import autocast, global_rng_state, seeded_global_rng
from .schedules import build_schedule


@dataclass
class TrainConfig:
    """Everything that decides a training run, saved with its history."""

    model: str = "second_cnn"
    epochs: int = 3
    batch_size: int = 128
    optimizer: str = "adam"
    lr: float = 1e-3  # peak learning rate of the schedule
    schedule: str | Callable = "constant"  # a name from schedules.SCHEDULES, or fn(step, total_steps) -> lr
    weight_decay: float = 0.0
    label_smoothing: float = 0.0
    augment: str | None = None  # None, "affine" or "translate"
    seed: int = 0
    amp: bool | None = None  # bf16 autocast: None on CUDA only, True on any device (the CPU too), False never
    channels_last: bool = True  # faster convolutions on CUDA and on the CPU alike
    compile: bool = False  # torch.compile the model
    deterministic: bool = True  # on CUDA, deterministic cuDNN kernels: same seed, same GPU, same weights
    patience: int | None = None  # stop after this many epochs without a better validation accuracy
    check_every: int = 50  # steps between finite-loss checks and progress updates
    progress: bool = True

    def validate(self) -> None:
        """One UserError for the first setting out of range, before anything is built or trained."""
        from .optimizers import OPTIMIZERS

        for name in ("epochs", "batch_size", "check_every") + (("patience",) if self.patience is not None else ()):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise UserError(f"{name} must be a whole number of at least 1, got {value!r}.")
        for name, low in (("lr", 0.0), ("weight_decay", None)):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, (int, float)) or not math.isfinite(value) \
                    or (value <= low if low is not None else value < 0):
                raise UserError(f"{name} must be a {'positive' if low is not None else 'non-negative'} number, "
                                f"got {value!r}.")
        if isinstance(self.label_smoothing, bool) or not isinstance(self.label_smoothing, (int, float)) \
                or not 0 <= self.label_smoothing < 1:
            raise UserError(f"label_smoothing must be a number in [0, 1), got {self.label_smoothing!r}.")
        if self.optimizer not in OPTIMIZERS:
            raise UserError(f"Unknown optimizer {self.optimizer!r}: choose one of {', '.join(OPTIMIZERS)}.")
        get_augmentation(self.augment)


def _check_splits(train: Split, val: Split) -> None:
    for name, split in (("training", train), ("validation", val)):
        if len(split) == 0:
            raise UserError(f"The {name} split has no images: give it at least one.")
        low, high = int(split.y.min()), int(split.y.max())
        if low < 0 or high > 9:
            raise UserError(f"The {name} split has labels from {low} to {high}: MNIST's classes are 0-9.")


def _check_schedule(run: TrainState) -> None:
    """Evaluate the schedule at every step up front: a negative or non-finite rate would train uphill or crash."""
    for step in range(run.total_steps):
        lr = run.schedule(step)
        if not math.isfinite(lr) or lr < 0:
            raise UserError(f"The learning-rate schedule gives {lr} at step {step}: a rate must be a finite "
                            "number of at least 0.")


class Callback:
    """Hooks into the training loop, after Keras's callbacks and Lightning's ``Callback``.

    Each hook receives the run's :class:`TrainState`. ``on_step_end`` runs after
    ``optimizer.step()``, while the gradients are still in ``.grad``; ``on_epoch_end``
    runs after the validation pass, before the checkpoint is written, so a checkpoint
    holds what the callbacks did at the epoch's end. A callback that keeps state across
    steps returns it from ``state_dict()``; the engine saves it in every checkpoint and
    gives it back through ``load_state_dict()`` on resume.
    """

    def on_train_begin(self, state: TrainState) -> None:
        pass

    def on_step_end(self, state: TrainState) -> None:
        pass

    def on_epoch_end(self, state: TrainState) -> None:
        pass

    def on_train_end(self, state: TrainState) -> None:
        pass

    def state_dict(self) -> dict | None:
        return None

    def load_state_dict(self, state: dict) -> None:
        pass


class TrainingDiverged(UserError):
    """The loss became NaN or infinite."""


@dataclass
class TrainResult:
    model: nn.Module
    history: History


def _config_dict(config: TrainConfig) -> dict:
    d = asdict(config)
    if callable(config.schedule):
        d["schedule"] = getattr(config.schedule, "__name__", "custom")
    return d


def _epoch_generator(seed: int, epoch: int) -> torch.Generator:
    return torch.Generator().manual_seed(seed * 1_000_003 + epoch)


class TrainState:
    """The state of one training run, owned by the loop and shown to callbacks.

    Public attributes: ``config``, ``model``, ``optimizer``, ``train`` and ``val`` (the
    splits), ``device``, ``epoch`` (epochs finished), ``step`` (optimizer steps taken),
    ``steps_per_epoch``, ``total_steps`` and ``history``. Randomness: the batch order of
    epoch e comes from a generator seeded by (seed, e); augmentation draws from
    ``aug_generator``; dropout draws from the run's own global-generator stream,
    ``rng_state`` between steps, restored around the loop so the caller's is untouched.
    All of it is checkpointed, so a resumed run is exact. Callbacks add numbers to the
    current epoch's record with :meth:`log`.
    """

    def __init__(self, config: TrainConfig, model: nn.Module, train: Split, val: Split,
                 callbacks: Sequence[Callback] = ()):
        self.config, self.model, self.train, self.val = config, model, train, val
        self.callbacks = list(callbacks)
        self.forward = torch.compile(model) if config.compile else model
        self.device = train.X.device
        self.steps_per_epoch = -(-len(train) // config.batch_size)
        self.total_steps = self.steps_per_epoch * config.epochs
        self.optimizer = build_optimizer(config.optimizer, model.parameters(), config.lr,
                                         weight_decay=config.weight_decay)
        self.schedule = build_schedule(config.schedule, config.lr, self.total_steps, self.steps_per_epoch)
        self.augment = get_augmentation(config.augment)
        self.aug_generator = torch.Generator().manual_seed(config.seed + 1)
        with seeded_global_rng(config.seed + 2, self.device):  # dropout's stream
            self.rng_state = global_rng_state(self.device)
        self.history = History(_config_dict(config))
        self.step, self.epoch, self.batch_in_epoch = 0, 0, 0
        self.epoch_sums = torch.zeros(2, dtype=torch.float64, device=self.device)  # loss sum, correct: no sync per step
        self.epoch_seen = 0
        self.best_state: dict | None = None
        self.best_acc, self.bad_epochs, self.pending = -1.0, 0, []

    def log(self, **metrics: float) -> None:
        """Add ``metrics`` (name=value) to the record of the epoch that just ended."""
        self.history.epochs[-1].update(metrics)

    def state_dict(self) -> dict:
        """Everything a checkpoint needs for an exact resume: tensors, numbers, strings, lists and dicts only."""
        return {
            "model": self.model.state_dict(), "optimizer": self.optimizer.state_dict(),
            "step": self.step, "epoch": self.epoch, "batch_in_epoch": self.batch_in_epoch,
            "epoch_sums": self.epoch_sums.cpu(), "epoch_seen": self.epoch_seen,
            "aug_generator": self.aug_generator.get_state(), "rng": self.rng_state,
            "history": asdict(self.history), "best_state": self.best_state,
            "best_acc": self.best_acc, "bad_epochs": self.bad_epochs,
            "callbacks": [cb.state_dict() if hasattr(cb, "state_dict") else None for cb in self.callbacks],
        }

    def load_state_dict(self, state: dict) -> None:
        self.model.load_state_dict(state["model"])
        self.optimizer.load_state_dict(state["optimizer"])
        self.step, self.epoch, self.batch_in_epoch = state["step"], state["epoch"], state["batch_in_epoch"]
        self.epoch_sums, self.epoch_seen = state["epoch_sums"].to(self.device), state["epoch_seen"]
        self.aug_generator.set_state(state["aug_generator"])
        self.rng_state = state["rng"]
        self.history = History(**state["history"])
        self.best_state, self.best_acc, self.bad_epochs = state["best_state"], state["best_acc"], state["bad_epochs"]
        for cb, cb_state in zip(self.callbacks, state.get("callbacks", []), strict=False):
            if cb_state is not None:
                cb.load_state_dict(cb_state)


def _save(state: dict, path: Path) -> None:
    with atomic_path(path) as tmp:
        torch.save(state, tmp)


def _train_step(run: TrainState, X: torch.Tensor, y: torch.Tensor) -> None:
    config = run.config
    x = to_float(X)
    if run.augment is not None:
        x = run.augment(x, generator=run.aug_generator)
    if config.channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    for group in run.optimizer.param_groups:
        group["lr"] = run.schedule(run.step)
    with autocast(run.device, config.amp):
        logits = run.forward(x)
        loss = F.cross_entropy(logits.float(), y, label_smoothing=config.label_smoothing)
    run.optimizer.zero_grad(set_to_none=True)
    loss.backward()
    run.optimizer.step()
    detached = loss.detach()
    run.pending.append(detached)
    run.epoch_sums += torch.stack([detached.double() * len(y), (logits.argmax(1) == y).sum().double()])
    run.epoch_seen += len(y)
    run.step += 1
    run.batch_in_epoch += 1


def _flush(run: TrainState, checkpoint: Path | None) -> None:
    """Move pending losses to the history; stop with a clear message at the first non-finite one."""
    if not run.pending:
        return
    losses = torch.stack(run.pending).float().cpu()
    first_step = run.step - len(losses)
    run.pending = []
    bad = (~torch.isfinite(losses)).nonzero()
    if len(bad):
        i = int(bad[0])
        kept = (f"the last good checkpoint (end of epoch {run.epoch}) is {checkpoint}" if checkpoint is not None
                and checkpoint.exists() else "no checkpoint was kept (pass checkpoint= to keep one)")
        raise TrainingDiverged(f"The training loss became {losses[i].item()} at step {first_step + i + 1} "
                               f"(epoch {run.epoch + 1}); training stopped and {kept}; lower the learning rate "
                               f"(now {run.config.lr}) or use a warm-up schedule such as onecycle.")
    run.history.step_loss.extend(losses.tolist())


def _end_epoch(run: TrainState, seconds: float, checkpoint: Path | None) -> bool:
    """Evaluate, record, checkpoint; return True when early stopping says stop."""
    (loss_sum, correct), seen = run.epoch_sums.tolist(), run.epoch_seen
    val_loss, val_acc = evaluate(run.model, run.val, amp=run.config.amp)
    if not math.isfinite(val_loss):  # the last step's update broke the weights: keep the last good checkpoint
        kept = (f"the last good checkpoint (end of epoch {run.epoch}) is {checkpoint}" if checkpoint is not None
                and checkpoint.exists() else "no checkpoint was kept")
        raise TrainingDiverged(f"The weights became non-finite at step {run.step} (the last of epoch "
                               f"{run.epoch + 1}): the validation loss is {val_loss}; training stopped and {kept}; "
                               f"lower the learning rate (now {run.config.lr}) or use a warm-up schedule.")
    run.epoch += 1
    run.batch_in_epoch = 0
    run.epoch_sums.zero_()
    run.epoch_seen = 0
    run.history.epochs.append({"epoch": run.epoch, "train_loss": loss_sum / seen, "train_acc": correct / seen,
                               "val_loss": val_loss, "val_acc": val_acc, "lr": run.schedule(run.step - 1),
                               "seconds": seconds})
    if val_acc > run.best_acc:
        run.best_acc, run.bad_epochs, run.history.best_epoch = val_acc, 0, run.epoch
        run.best_state = {k: v.detach().cpu().clone() for k, v in run.model.state_dict().items()}
        if checkpoint is not None:
            _save({"model": run.best_state, "epoch": run.epoch, "val_acc": val_acc,
                   "config": run.history.config}, checkpoint.with_name("best.pt"))
    else:
        run.bad_epochs += 1
    stop = run.config.patience is not None and run.bad_epochs >= run.config.patience
    run.history.stopped_early = stop and run.epoch < run.config.epochs
    for cb in run.callbacks:  # before the checkpoint, so it holds what they did at the epoch's end
        cb.on_epoch_end(run)
    run.rng_state = global_rng_state(run.device)  # inside the loop's scope: the run's dropout stream
    if checkpoint is not None:
        _save(run.state_dict(), checkpoint)
        run.history.save(checkpoint.with_name("history.json"))
    return stop


def fit(config: TrainConfig, train: Split, val: Split, *, model: nn.Module | None = None,
        callbacks: Sequence[Callback] = (), checkpoint_dir: str | Path | None = None,
        resume: bool = False, overwrite: bool = False, restore_best: bool = True) -> TrainResult:
    """Train a model on ``train`` (on its device), selecting epochs on ``val``.

    Parameters
    ----------
    config
        The run's settings; ``config.model`` names the model unless ``model`` is given.
    train, val
        uint8 splits on the device to train on; batches never leave it.
    model
        Train this module instead of ``init_model(config.model, config.seed)``.
    callbacks
        :class:`Callback` objects; each hook receives the run's :class:`TrainState`. Those with
        ``state_dict()`` and ``load_state_dict(state)`` are saved in checkpoints and restored on resume.
    checkpoint_dir
        Keep ``last.pt`` (for resume), ``best.pt`` and ``history.json`` there.
    resume
        Continue from ``checkpoint_dir/last.pt`` when it exists; its settings must be ``config``'s. A damaged
        ``last.pt`` is reported in a warning and the run starts again from its first step.
    overwrite
        Start a new run in a ``checkpoint_dir`` that holds one, replacing its files. Without ``resume`` or
        ``overwrite``, a folder that already holds a run is refused, so no run is overwritten by accident.
    restore_best
        Return the weights of the best validation epoch rather than the last.

    Returns
    -------
    TrainResult
        The model (on the device) and its History.
    """
    config.validate()
    _check_splits(train, val)
    if model is None:
        model = init_model(config.model, config.seed, train.X.device)  # drawn on the CPU: the same on every device
    model = model.to(train.X.device)
    if config.channels_last:
        model = model.to(memory_format=torch.channels_last)
    run = TrainState(config, model, train, val, callbacks)
    _check_schedule(run)
    checkpoint = _run_folder(checkpoint_dir, resume, overwrite)
    if resume and checkpoint is not None and checkpoint.exists():
        saved = _load_checkpoint(checkpoint, run.device)
        if saved is not None:
            _check_same_settings(saved["history"]["config"], run.history.config, checkpoint)
            run.load_state_dict(saved)
    bar = progress_bar(total=run.total_steps, initial=run.step, desc=config.model, disable=not config.progress,
               unit="step", leave=False)
    for cb in run.callbacks:
        cb.on_train_begin(run)
    with (_deferred_interrupt() as interrupted, _cudnn_deterministic(config.deterministic),
          seeded_global_rng(state=run.rng_state, device=run.device)):
        _loop(run, checkpoint, bar, interrupted)
    for cb in run.callbacks:
        cb.on_train_end(run)
    if restore_best and run.best_state is not None:
        model.load_state_dict(run.best_state)
    return TrainResult(model, run.history)


RUN_FILES = ("last.pt", "best.pt", "history.json")
IGNORED_ON_RESUME = ("progress", "check_every")  # how a run reports, not what it computes


def _run_folder(checkpoint_dir: str | Path | None, resume: bool, overwrite: bool) -> Path | None:
    """``checkpoint_dir/last.pt`` after checking the folder may be used: a new run never replaces an old one
    unless asked to."""
    if checkpoint_dir is None:
        return None
    directory = Path(checkpoint_dir)
    found = [name for name in RUN_FILES if (directory / name).exists()]
    if found and not resume and not overwrite:
        raise UserError(f"{directory} already holds a training run ({', '.join(found)}): pass resume=True to "
                        "continue it, or overwrite=True to replace it with a new run.")
    if found and overwrite and not resume:
        for name in found:
            (directory / name).unlink()
    check_writable(directory, "checkpoint")
    return directory / "last.pt"


def _load_checkpoint(path: Path, device: torch.device) -> dict | None:
    """The saved run, or None (with a warning) when the file is damaged and the run must start again."""
    try:
        return load_torch(path, map_location=device)
    except DamagedFile as exc:
        warnings.warn(f"{exc}: the run starts again from its first step and will replace it.", stacklevel=3)
        return None


def _check_same_settings(saved: dict, now: dict, path: Path) -> None:
    differ = [k for k in sorted(set(saved) | set(now))
              if k not in IGNORED_ON_RESUME and saved.get(k) != now.get(k)]
    if differ:
        changes = "; ".join(f"{k} {saved.get(k)!r} -> {now.get(k)!r}" for k in differ)
        raise UserError(f"Cannot resume {path} with different settings ({changes}): resume with the settings it "
                        "was started with, or pass overwrite=True (and resume=False) to start a new run.")


@contextmanager
def _cudnn_deterministic(enabled: bool) -> Iterator[None]:
    """Pick deterministic cuDNN algorithms for the run, restoring the caller's settings afterwards."""
    cudnn = torch.backends.cudnn
    previous = cudnn.deterministic, cudnn.benchmark
    if enabled:
        cudnn.deterministic, cudnn.benchmark = True, False
    try:
        yield
    finally:
        cudnn.deterministic, cudnn.benchmark = previous


@contextmanager
def _deferred_interrupt() -> Iterator[Callable[[], bool]]:
    """Turn Ctrl-C into a flag checked between steps, so a checkpoint never holds half a step."""
    if threading.current_thread() is not threading.main_thread():
        yield lambda: False
        return
    requested: list[int] = []
    previous = signal.signal(signal.SIGINT, lambda signum, frame: requested.append(signum))
    try:
        yield lambda: bool(requested)
    finally:
        signal.signal(signal.SIGINT, previous)


def _loop(run: TrainState, checkpoint: Path | None, bar, interrupted) -> None:
    config, train = run.config, run.train
    try:
        stop = run.history.stopped_early
        while run.epoch < config.epochs and not stop:
            run.model.train()
            order = batches(train, config.batch_size, generator=_epoch_generator(config.seed, run.epoch))
            start = time.perf_counter()
            for X, y in islice(order, run.batch_in_epoch, None):
                _train_step(run, X, y)
                for cb in run.callbacks:
                    cb.on_step_end(run)
                if interrupted():
                    raise KeyboardInterrupt
                if run.step % config.check_every == 0:
                    _flush(run, checkpoint)  # syncs anyway: the running accuracy costs nothing more
                    bar.set_postfix(epoch=run.epoch + 1, loss=f"{run.history.step_loss[-1]:.3f}",
                                    acc=f"{run.epoch_sums[1].item() / run.epoch_seen:.3f}", refresh=False)
                bar.update(1)
            _flush(run, checkpoint)
            if run.device.type == "cuda":
                torch.cuda.synchronize(run.device)
            stop = _end_epoch(run, time.perf_counter() - start, checkpoint)
            bar.set_postfix(epoch=run.epoch, val_acc=f"{run.history.epochs[-1]['val_acc']:.4f}")
    except KeyboardInterrupt:
        if checkpoint is not None:
            _flush(run, checkpoint)
            run.rng_state = global_rng_state(run.device)
            _save(run.state_dict(), checkpoint)
            print(f"Interrupted at step {run.step}; `fit(..., resume=True)` continues from {checkpoint}.")
        raise
    finally:
        bar.close()
