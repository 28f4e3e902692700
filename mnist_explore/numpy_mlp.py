"""The 784-512-10 network (ReLU, softmax, cross-entropy) in NumPy only: forward pass, two backward
passes, mini-batch SGD with momentum, and evaluation written from scratch.

Shapes: X (N, 784) scaled and standardised, y (N,) integer labels; weights W1 (784, 512), b1 (512,),
W2 (512, 10), b2 (10,). The network never touches torch; only ``torch_twin``, the side-by-side
PyTorch reference, imports it when called.
"""
from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field

import numpy as np

from .errors import UserError
from .schedules import build_schedule

Params = dict[str, np.ndarray]


def init_params(seed: int = 0, hidden: int = 512, dtype=np.float32) -> Params:
    """He initialisation: weights ~ N(0, 2 / fan_in), biases 0 (ReLU keeps activations' scale)."""
    rng = np.random.default_rng(seed)
    return {
        "W1": (rng.standard_normal((784, hidden)) * np.sqrt(2 / 784)).astype(dtype),
        "b1": np.zeros(hidden, dtype),
        "W2": (rng.standard_normal((hidden, 10)) * np.sqrt(2 / hidden)).astype(dtype),
        "b2": np.zeros(10, dtype),
    }


def softmax(z: np.ndarray) -> np.ndarray:
    e = np.exp(z - z.max(axis=1, keepdims=True))  # shift by the row max: no overflow
    return e / e.sum(axis=1, keepdims=True)


def forward(params: Params, X: np.ndarray) -> dict[str, np.ndarray]:
    """Every intermediate of the forward pass: z1, h1 = relu(z1), z2 (logits), p = softmax(z2)."""
    z1 = X @ params["W1"] + params["b1"]
    h1 = np.maximum(z1, 0)
    z2 = h1 @ params["W2"] + params["b2"]
    return {"z1": z1, "h1": h1, "z2": z2, "p": softmax(z2)}


def cross_entropy(p: np.ndarray, y: np.ndarray) -> float:
    """Mean negative log-likelihood of the labels."""
    return float(-np.log(np.clip(p[np.arange(len(y)), y], 1e-12, None)).mean())


def one_hot(y: np.ndarray, num_classes: int = 10, dtype=np.float32) -> np.ndarray:
    out = np.zeros((len(y), num_classes), dtype)
    out[np.arange(len(y)), y] = 1
    return out


def backward_short(params: Params, X: np.ndarray, y: np.ndarray, cache: dict) -> Params:
    """Gradients of the mean loss the way frameworks do it: dL/dz2 = (softmax - onehot) / N, then matmuls."""
    n = len(y)
    dz2 = (cache["p"] - one_hot(y, dtype=cache["p"].dtype)) / n
    dh1 = dz2 @ params["W2"].T
    dz1 = dh1 * (cache["z1"] > 0)
    return {"W1": X.T @ dz1, "b1": dz1.sum(axis=0), "W2": cache["h1"].T @ dz2, "b2": dz2.sum(axis=0)}


def backward_jacobian(params: Params, X: np.ndarray, y: np.ndarray, cache: dict) -> Params:
    """The same gradients through the explicit Jacobian chain, sample by sample (batched with einsum).

    For each sample: dL/dp (1x10), the softmax Jacobian diag(p) - p p^T (10x10), the layer Jacobian
    dz2/dh1 = W2^T (10x512), the ReLU Jacobian diag(z1 > 0) as a dense 512x512 matrix, and the weight
    Jacobian dz2/dW2 as a dense 10x5120 matrix. The 512x401,408 Jacobian dz1/dW1 would take 1.6 GB per
    sample in float64, so W1's gradient uses its outer-product form x^T dL/dz1, as every framework does.
    """
    n, p = len(y), cache["p"]
    dL_dp = -one_hot(y, dtype=p.dtype) / np.clip(p, 1e-300, None) / n  # (N, 10)
    J_softmax = np.einsum("ni,ij->nij", p, np.eye(10, dtype=p.dtype)) - np.einsum("ni,nj->nij", p, p)  # (N, 10, 10)
    dL_dz2 = np.einsum("ni,nij->nj", dL_dp, J_softmax)
    J_z2_h1 = params["W2"].T  # (10, 512), the same for every sample
    dL_dh1 = dL_dz2 @ J_z2_h1
    J_relu = np.einsum("ni,ij->nij", (cache["z1"] > 0).astype(p.dtype), np.eye(len(params["b1"]), dtype=p.dtype))
    dL_dz1 = np.einsum("ni,nij->nj", dL_dh1, J_relu)  # (N, 512) via (N, 512, 512)
    hidden = cache["h1"].shape[1]
    # dz2_k / dW2[i, j] = h1_i if j == k: a (10, hidden * 10) matrix per sample.
    J_z2_W2 = np.einsum("ni,kj->nkij", cache["h1"], np.eye(10, dtype=p.dtype)).reshape(n, 10, hidden * 10)
    dW2 = np.einsum("nk,nkm->m", dL_dz2, J_z2_W2).reshape(hidden, 10)
    return {"W1": X.T @ dL_dz1, "b1": dL_dz1.sum(axis=0), "W2": dW2, "b2": dL_dz2.sum(axis=0)}


BACKWARDS = {"short": backward_short, "jacobian": backward_jacobian}


@dataclass
class ScratchHistory:
    step_loss: list[float] = field(default_factory=list)
    epochs: list[dict] = field(default_factory=list)  # epoch, train_loss, val_acc, seconds

    @property
    def train_seconds(self) -> float:
        return sum(e["seconds"] for e in self.epochs)


def predict(params: Params, X: np.ndarray, batch_size: int = 4096) -> np.ndarray:
    """Class probabilities (N, 10)."""
    return np.concatenate([forward(params, X[i:i + batch_size])["p"] for i in range(0, len(X), batch_size)])


def train(X: np.ndarray, y: np.ndarray, X_val: np.ndarray, y_val: np.ndarray, *, epochs: int = 10,
          batch_size: int = 128, lr: float = 0.05, momentum: float = 0.9, schedule: str = "cosine",
          seed: int = 0, params: Params | None = None, backward: str = "short") -> tuple[Params, ScratchHistory]:
    """Mini-batch SGD with heavy-ball momentum, as torch.optim.SGD does it: v = m v + g, w -= lr v.

    The batch order comes from ``seed``; pass ``params`` to start from given weights.
    """
    if backward not in BACKWARDS:
        raise UserError(f"Unknown backward pass {backward!r}: choose one of {', '.join(BACKWARDS)}.")
    if epochs < 1 or batch_size < 1:
        raise UserError(f"epochs and batch_size must be at least 1, got {epochs} and {batch_size}.")
    params = {k: v.copy() for k, v in (params or init_params(seed)).items()}
    velocity = {k: np.zeros_like(v) for k, v in params.items()}
    steps_per_epoch = -(-len(X) // batch_size)
    lr_at = build_schedule(schedule, lr, steps_per_epoch * epochs, steps_per_epoch)
    rng, history, step = np.random.default_rng(seed + 1), ScratchHistory(), 0
    for epoch in range(1, epochs + 1):
        start, order, losses = time.perf_counter(), rng.permutation(len(X)), []
        for i in range(0, len(X), batch_size):
            index = order[i:i + batch_size]
            cache = forward(params, X[index])
            losses.append(cross_entropy(cache["p"], y[index]))
            grads = BACKWARDS[backward](params, X[index], y[index], cache)
            rate = lr_at(step)
            for k in params:
                velocity[k] = momentum * velocity[k] + grads[k]
                params[k] -= rate * velocity[k]
            step += 1
        seconds = time.perf_counter() - start
        if not np.isfinite(losses[-1]):
            raise UserError(f"The loss became {losses[-1]} in epoch {epoch}; lower the learning rate (now {lr}).")
        history.step_loss.extend(losses)
        history.epochs.append({"epoch": epoch, "train_loss": float(np.mean(losses)),
                               "val_acc": accuracy(y_val, predict(params, X_val).argmax(axis=1)), "seconds": seconds})
    return params, history


def accuracy(y_true: np.ndarray, y_pred: np.ndarray) -> float:
    """Fraction of predictions equal to the labels (``(y_true, y_pred)``, as scikit-learn's metrics)."""
    return float((y_pred == y_true).mean())


def confusion_matrix(y_true: np.ndarray, y_pred: np.ndarray, num_classes: int = 10) -> np.ndarray:
    """Counts (num_classes, num_classes): row = true class, column = predicted class."""
    cm = np.zeros((num_classes, num_classes), dtype=np.int64)
    np.add.at(cm, (y_true, y_pred), 1)
    return cm


def precision_recall_f1(cm: np.ndarray) -> dict[str, np.ndarray]:
    """Per-class precision, recall and F1 from a confusion matrix (0 where undefined), plus macro averages."""
    tp = np.diag(cm).astype(float)
    predicted, actual = cm.sum(axis=0), cm.sum(axis=1)
    precision = np.divide(tp, predicted, out=np.zeros_like(tp), where=predicted > 0)
    recall = np.divide(tp, actual, out=np.zeros_like(tp), where=actual > 0)
    f1 = np.divide(2 * precision * recall, precision + recall, out=np.zeros_like(tp), where=precision + recall > 0)
    return {"precision": precision, "recall": recall, "f1": f1,
            "macro_precision": precision.mean(), "macro_recall": recall.mean(), "macro_f1": f1.mean()}


def flatten(X_uint8, mean: float, std: float) -> np.ndarray:
    """uint8 images (N, 28, 28), numpy or torch, to standardised float32 rows (N, 784)."""
    X = np.asarray(X_uint8.cpu() if hasattr(X_uint8, "cpu") else X_uint8)
    return ((X.reshape(len(X), -1).astype(np.float32) / 255 - mean) / std).astype(np.float32)


def measure_backward(params: Params, X: np.ndarray, y: np.ndarray, batch_sizes=(1, 8, 32, 128),
                     repeats: int = 10) -> list[dict]:
    """Seconds (best of ``repeats``, with BLAS on one thread) and peak bytes that numpy allocates for one backward
    pass, per form and batch size."""
    import tracemalloc  # numpy reports its allocations to tracemalloc

    rows = []
    with _one_blas_thread():
        for backward in BACKWARDS.values():  # warm-up: first calls pay for lazy initialisation
            backward(params, X[:8], y[:8], forward(params, X[:8]))
        for n in batch_sizes:
            cache = forward(params, X[:n])
            for name, backward in BACKWARDS.items():
                times = []
                for _ in range(repeats):
                    start = time.perf_counter()
                    backward(params, X[:n], y[:n], cache)
                    times.append(time.perf_counter() - start)
                tracemalloc.start()
                backward(params, X[:n], y[:n], cache)
                peak = tracemalloc.get_traced_memory()[1]
                tracemalloc.stop()
                rows.append({"batch_size": n, "form": name, "seconds": min(times), "peak_bytes": peak})
    return rows


def _one_blas_thread():
    """BLAS on one thread while timing: like for like with einsum, which always runs on one, and steady on a busy
    machine, where another process pre-empting one of BLAS's threads can make every matmul tens of times slower."""
    try:
        from threadpoolctl import threadpool_limits  # installed with scikit-learn
    except ImportError:
        return contextlib.nullcontext()
    return threadpool_limits(limits=1, user_api="blas")


def torch_twin(params: Params, train, val, *, epochs: int, batch_size: int, lr: float, schedule: str = "cosine",
               seed: int = 0):
    """Train the same network in PyTorch, from the same initial weights and with the same recipe
    (SGD with momentum 0.9, as ``train``'s default).

    The NumPy network itself never touches torch; this is the side-by-side reference. ``train`` and
    ``val`` are uint8 splits (see ``data.Split``). Returns the engine's TrainResult.
    """
    import torch

    from .models import init_model
    from .train import TrainConfig, fit

    model = init_model("mlp", seed, train.X.device)  # its weights are then set to params
    with torch.no_grad():
        for layer, w, b in ((model.features.fc[0], "W1", "b1"), (model.head, "W2", "b2")):
            layer.weight.copy_(torch.from_numpy(params[w].T.copy()))
            layer.bias.copy_(torch.from_numpy(params[b]))
    config = TrainConfig(model="mlp", optimizer="sgd_momentum", lr=lr, schedule=schedule, epochs=epochs,
                         batch_size=batch_size, seed=seed, channels_last=False, progress=False)
    return fit(config, train, val, model=model, restore_best=False)


def check_against_autograd(params: Params, X: np.ndarray, y: np.ndarray) -> dict[str, float]:
    """Largest absolute difference between each backward pass and PyTorch autograd, in float64."""
    import torch

    params = {k: v.astype(np.float64) for k, v in params.items()}
    X = X.astype(np.float64)
    t = {k: torch.tensor(v, requires_grad=True) for k, v in params.items()}
    logits = torch.relu(torch.tensor(X) @ t["W1"] + t["b1"]) @ t["W2"] + t["b2"]
    torch.nn.functional.cross_entropy(logits, torch.tensor(y)).backward()
    cache = forward(params, X)
    return {name: max(float(np.abs(backward(params, X, y, cache)[k] - t[k].grad.numpy()).max()) for k in params)
            for name, backward in BACKWARDS.items()}
