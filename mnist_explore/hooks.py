"""A recorder built on PyTorch hooks: per-layer histograms of weights, gradients and activations,
norms, update-to-weight ratios and distribution shape, every N steps. It records; it never draws.

A recorded step only copies what it must keep (the weights before the update, the gradients, a sample
of each layer's activations) into buffers on the model's device. Every ``FLUSH_VALUES`` buffered values,
when :meth:`Recorder.history` is called and on :meth:`Recorder.close`, the buffered steps are reduced
together, on the device: one histogram pass per layer and kind over all of them, then the statistics.
Results reach the CPU only in :meth:`Recorder.history`, so recording costs no synchronisation per step
(fixing a layer's histogram range at first sight costs one, once).

With the engine: ``fit(..., callbacks=[recorder])``. By hand: call ``recorder.step()`` after
each ``optimizer.step()``. Use it as a context manager, or call ``close()``, to remove its hooks.
"""
from __future__ import annotations

import math
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import torch
from torch import nn

from .errors import UserError
from .paths import atomic_path
from .train import Callback

KINDS = ("weights", "grads", "acts")
ACT_SAMPLE = 65_536  # activations are histogrammed from an even sample of at most this many values
STATS = ("weight_norm", "grad_norm", "update_ratio", "grad_mean_abs", "grad_max_abs",
         "ks_normal", "ks_uniform", "kurtosis")
FLUSH_VALUES = 2**22  # buffered values (float32) reduced in one go: 16 MB, and a few times that while reducing


def recordable_layers(model: nn.Module) -> dict[str, nn.Module]:
    """The modules with a weight matrix or filter bank, in registration order, named conv1, conv2, ..., fc1, ..."""
    layers, counts = {}, {"conv": 0, "fc": 0}
    for m in model.modules():
        if isinstance(getattr(m, "weight", None), nn.Parameter) and m.weight.dim() >= 2:
            kind = "fc" if m.weight.dim() == 2 else "conv"
            counts[kind] += 1
            layers[f"{kind}{counts[kind]}"] = m
    return layers


def _span(kind: str, x: torch.Tensor) -> tuple[float, float]:
    """A layer's histogram range, fixed at first sight so that frames stay comparable (one host sync per layer)."""
    reach = float(x.abs().max()) or 1.0
    lo = float(x.min())
    # weights: symmetric, with room to grow 4x (trained layers outgrew 2x and piled into the end bins);
    # gradients: the first step's span (they shrink); activations: their observed span, doubled
    return (-4 * reach, 4 * reach) if kind == "weights" else (-reach, reach) if kind == "grads" \
        else (min(lo * 2, 0.0), 2 * reach)


def _histograms(x: torch.Tensor, offsets: torch.Tensor, span: tuple[float, float], bins: int, rows: int) -> torch.Tensor:
    """Counts (rows, bins) of the float32 values ``x`` over ``span`` (lo, hi), value j counted in row
    ``offsets[j] // bins`` (``offsets``, int32, broadcasts against ``x``); values outside the span fall in the
    end bins.

    numpy.histogram's method, in one pass over every step of a layer: index by formula, then correct by one
    against the very edges :meth:`Recorder.history` reports, so that ties fall the same way. The comparisons
    are exact in float32: a float32 x is below a float64 edge exactly when it is below the smallest float32 at
    or above that edge.
    """
    lo, hi = span
    edges = np.linspace(lo, hi, bins + 1)
    above = edges.astype(np.float32)
    above = torch.from_numpy(np.where(above.astype(np.float64) < edges, np.nextafter(above, np.float32(np.inf)),
                                      above)).to(x.device)
    x = x.clamp(np.float32(lo), np.float32(hi))  # no huge index for a huge value
    index = torch.sub(x, np.float32(lo)).mul_(np.float32(bins / (hi - lo))).int().clamp_(max=bins - 1)
    index -= (x < above[index]).int()
    index += ((x >= above[index + 1]) & (index != bins - 1)).int()
    index = index.clamp_(min=0) + offsets
    counts = torch.zeros(rows * bins, dtype=torch.long, device=x.device)
    ones = torch.ones(1, dtype=torch.long, device=x.device).expand(index.numel())
    return counts.index_add_(0, index.flatten(), ones).view(rows, bins)


def _sample_histograms(samples: list[torch.Tensor], span: tuple[float, float], bins: int) -> torch.Tensor:
    """Counts (len(samples), bins) of each sample over ``span``, values outside it in the end bins: torch.histc,
    one pass per sample. Activations are a sample already, so a value within float32 rounding of an edge may
    fall in the neighbouring bin."""
    lo, hi = span
    return torch.stack([torch.histc(s.clamp(lo, hi), bins, lo, hi) for s in samples]).long()


def _shape_stats(W: torch.Tensor) -> torch.Tensor:
    """Exact KS distance to a fitted normal and to a fitted uniform, and excess kurtosis, of each row of ``W``
    (T, n): returns (3, T)."""
    x = W.sort(dim=1).values.double()  # float32 sorts in the same order, faster
    n = x.shape[1]
    mean, std = x.mean(1, keepdim=True), x.std(1, keepdim=True)
    ecdf_hi = torch.arange(1, n + 1, device=x.device, dtype=x.dtype) / n
    ecdf_lo = ecdf_hi - 1 / n

    def ks(cdf: torch.Tensor) -> torch.Tensor:
        return torch.maximum((ecdf_hi - cdf).abs().amax(1), (cdf - ecdf_lo).abs().amax(1))

    normal = 0.5 * (1 + torch.erf((x - mean) / (std * math.sqrt(2))))
    half_width = math.sqrt(3) * std  # the uniform with this mean and standard deviation
    uniform = ((x - mean + half_width) / (2 * half_width)).clamp(0, 1)
    centred = x - mean
    kurtosis = (centred ** 4).mean(1) / (centred ** 2).mean(1) ** 2 - 3
    return torch.stack([ks(normal), ks(uniform), kurtosis])


@dataclass
class RecorderHistory:
    """What a recorder saw: T recorded steps x L layers, histograms over fixed per-layer edges."""

    steps: np.ndarray  # (T,)
    layers: list[str]  # (L,)
    edges: dict[str, np.ndarray]  # kind -> (L, bins + 1)
    hists: dict[str, np.ndarray]  # kind -> (T, L, bins); values outside the edges fall in the end bins
    stats: dict[str, np.ndarray]  # name -> (T, L)

    def save(self, path: str | Path) -> None:
        arrays = {"steps": self.steps, "layers": np.array(self.layers)}
        arrays.update({f"edges_{k}": v for k, v in self.edges.items()})
        arrays.update({f"hist_{k}": v for k, v in self.hists.items()})
        arrays.update({f"stat_{k}": v for k, v in self.stats.items()})
        path = Path(path) if str(path).endswith(".npz") else Path(f"{path}.npz")  # as np.savez names it
        with atomic_path(path) as tmp:
            np.savez_compressed(tmp, **arrays)

    @classmethod
    def load(cls, path: str | Path) -> RecorderHistory:
        with np.load(path) as f:
            pick = lambda prefix: {k[len(prefix):]: f[k] for k in f.files if k.startswith(prefix)}  # noqa: E731
            return cls(f["steps"], f["layers"].tolist(), pick("edges_"), pick("hist_"), pick("stat_"))


class Recorder(Callback):
    """Record per-layer histograms and statistics every ``every`` training steps.

    Parameters
    ----------
    model
        Any module; its Linear and Conv layers (or ``layers``, by name) are recorded.
    every
        Record on steps 0, every, 2 * every, ...
    bins
        Histogram bins per layer and kind.
    layers
        Names from ``recordable_layers(model)``; default all of them, in forward order.
    """

    def __init__(self, model: nn.Module, every: int = 20, bins: int = 96, layers: list[str] | None = None):
        available = recordable_layers(model)
        if isinstance(every, bool) or not isinstance(every, int) or every < 1:
            raise UserError(f"every must be a positive whole number of steps, got {every!r}.")
        if bins < 2:
            raise UserError(f"bins must be at least 2, got {bins}.")
        unknown = [n for n in layers or [] if n not in available]
        if unknown:
            raise UserError(f"Unknown layer(s) {', '.join(unknown)}: choose from {', '.join(available)}.")
        self.names = list(layers or available)
        self.modules = [available[n] for n in self.names]
        self.every, self.bins, self.step_count = every, bins, 0
        self.recording = True  # step 0 is recorded
        self.edges: dict[str, list] = {k: [None] * len(self.names) for k in KINDS}  # (lo, hi) per layer
        self.rows: dict[str, list] = {k: [] for k in (*KINDS, *STATS)}  # per reduced step: (L[, bins]) tensors
        self.steps: list[int] = []
        self._frames: list[dict] = []  # recorded steps not reduced yet: kind -> L tensors, and the update ratios
        self._buffered = 0  # values held in _frames
        self._taken = self._empty_step()
        self._handles = []
        for i, module in enumerate(self.modules):
            self._handles.append(module.weight.register_post_accumulate_grad_hook(self._grad_hook(i)))
            self._handles.append(module.register_forward_hook(self._forward_hook(i)))

    def _empty_step(self) -> dict[str, list]:
        return {k: [None] * len(self.names) for k in KINDS}

    # -- hooks: copy what the step must keep ------------------------------------------------------
    def _forward_hook(self, i: int):
        def hook(module, inputs, output):
            if self.recording and module.training:
                values = output.detach()
                if values.dim() == 4 and values.is_contiguous(memory_format=torch.channels_last):
                    values = values.permute(0, 2, 3, 1)  # the same numbers in memory order: no copy to flatten
                values = values.flatten()
                if len(values) > ACT_SAMPLE:  # histogramming a whole conv output was most of a record's cost
                    values = values[::len(values) // ACT_SAMPLE]
                self._taken["acts"][i] = values.to(torch.float32, copy=True)  # an in-place ReLU may follow
        return hook

    def _grad_hook(self, i: int):
        def hook(weight: torch.Tensor):
            if self.recording:  # before the update: the weights that produced this gradient
                self._taken["weights"][i] = weight.detach().flatten().to(torch.float32, copy=True)
                self._taken["grads"][i] = weight.grad.detach().flatten().to(torch.float32, copy=True)
        return hook

    # -- the step protocol -----------------------------------------------------------------------
    def step(self) -> None:
        """Call after each ``optimizer.step()``: finishes a recording step and arms the next one."""
        taken = self._taken
        if self.recording and any(g is not None for g in taken["grads"]):
            missing = [self.names[i] for i, g in enumerate(taken["grads"]) if g is None]
            if missing:
                raise UserError(f"No gradient reached layer(s) {', '.join(missing)} in step {self.step_count}: "
                                "record only layers that take part in the loss (layers=...).")
            device = taken["weights"][0].device
            taken["acts"] = [torch.empty(0, device=device) if a is None else a for a in taken["acts"]]  # not run
            after = [m.weight.detach().flatten().float() for m in self.modules]
            change = torch._foreach_norm(torch._foreach_sub(after, taken["weights"]))
            taken["update_ratio"] = torch.stack(change) / torch.stack(torch._foreach_norm(taken["weights"])).clamp(
                min=1e-30)
            self._frames.append(taken)
            self._buffered += sum(t.numel() for k in KINDS for t in taken[k])
            self.steps.append(self.step_count)
            if self._buffered >= FLUSH_VALUES:
                self._reduce()
        self._taken = self._empty_step()
        self.step_count += 1
        self.recording = self.step_count % self.every == 0

    def on_step_end(self, state) -> None:  # as a training callback: fit calls it after each optimizer step
        self.step()

    # -- reduction: every buffered step at once, layer by layer, on the device --------------------
    def _reduce(self) -> None:
        frames, self._frames, self._buffered = self._frames, [], 0
        if not frames:
            return
        steps, device = len(frames), frames[0]["weights"][0].device
        offsets = (torch.arange(steps, device=device, dtype=torch.int32) * self.bins)[:, None]
        rows: dict[str, list] = {k: [] for k in (*KINDS, *STATS) if k != "update_ratio"}  # per layer: (steps[, bins])
        for i in range(len(self.names)):
            W, G = (torch.stack([f[kind][i] for f in frames]) for kind in ("weights", "grads"))  # (steps, n)
            for kind, X in (("weights", W), ("grads", G)):
                if self.edges[kind][i] is None:
                    self.edges[kind][i] = _span(kind, X[0])
                rows[kind].append(_histograms(X, offsets, self.edges[kind][i], self.bins, steps))
            acts = [f["acts"][i] for f in frames]
            if self.edges["acts"][i] is None and any(len(a) for a in acts):
                self.edges["acts"][i] = _span("acts", next(a for a in acts if len(a)))
            rows["acts"].append(_sample_histograms(acts, self.edges["acts"][i] or (0.0, 1.0), self.bins))
            magnitude = G.abs()
            rows["grad_norm"].append(torch.linalg.vector_norm(G, dim=1))
            rows["grad_mean_abs"].append(magnitude.mean(1))
            rows["grad_max_abs"].append(magnitude.amax(1))
            rows["weight_norm"].append(torch.linalg.vector_norm(W, dim=1))
            for name, values in zip(("ks_normal", "ks_uniform", "kurtosis"), _shape_stats(W), strict=True):
                rows[name].append(values)
        for key, per_layer in rows.items():
            self.rows[key].extend(torch.stack(per_layer, dim=1).unbind(0))
        self.rows["update_ratio"].extend(f["update_ratio"] for f in frames)

    # -- results and clean-up --------------------------------------------------------------------
    def history(self) -> RecorderHistory:
        """Everything recorded so far, moved to the CPU as numpy."""
        if not self.steps:
            raise UserError("Nothing was recorded yet: train at least one step with the recorder attached.")
        self._reduce()
        cpu = {k: torch.stack(v).cpu().numpy() for k, v in self.rows.items()}
        edges = {k: np.array([np.linspace(*(span or (0.0, 1.0)), self.bins + 1) for span in self.edges[k]])
                 for k in KINDS}
        return RecorderHistory(np.array(self.steps), list(self.names), edges,
                               {k: cpu[k] for k in KINDS}, {k: cpu[k].astype(np.float64) for k in STATS})

    def close(self) -> None:
        """Reduce what is still buffered and remove every hook this recorder added."""
        self._reduce()
        for handle in self._handles:
            handle.remove()
        self._handles = []

    def __enter__(self) -> Recorder:
        return self

    def __exit__(self, *exc) -> None:
        self.close()


def record_run(config, train, val, every: int, bins: int = 96, model: nn.Module | None = None):
    """Train ``config`` (or ``model``, when given) with a recorder attached; return (TrainResult, RecorderHistory)."""
    from .models import init_model
    from .train import fit

    if model is None:
        model = init_model(config.model, config.seed, train.X.device)  # the initial weights fit() would draw
    with Recorder(model, every=every, bins=bins) as recorder:
        result = fit(config, train, val, model=model, callbacks=[recorder], restore_best=False)
    return result, recorder.history()
