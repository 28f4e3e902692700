"""Embeddings of all 70,000 digits: PCA in torch, t-SNE by backend name, UMAP, and an on-disk cache.

t-SNE backends, chosen by name:

- ``opentsne`` (the default off-GPU): openTSNE's FFT-interpolated gradient on all cores;
- ``sklearn``: scikit-learn's Barnes-Hut t-SNE, always installed;
- ``multicore``: MulticoreTSNE, when importable (an optional extra; it needs a
  patched build on Python 3.11);
- ``cuml``: RAPIDS cuML's t-SNE, when importable and the device is CUDA (the GPU default);
- ``torch``: the suite's own exact-gradient t-SNE (:mod:`mnist_explore.tsne`),
  the GPU default when cuML is absent; it runs anywhere, but is O(N^2) per iteration.

Every backend gets the same settings (:class:`TSNESettings`). The suite's
defaults (perplexity 10, 250 + 250 iterations) reach the kNN accuracy of
openTSNE's library defaults in a third of the time; benchmarks/bench_embeddings.py
has the numbers. Results are cached under ``<cache>/embeddings``, keyed by
method, settings, library version and a hash of the input.
"""
from __future__ import annotations

import hashlib
import importlib
import importlib.util
import importlib.metadata
import json
import os
import warnings
from collections.abc import Callable
from dataclasses import asdict, dataclass
from pathlib import Path

import numpy as np
import torch

from .data import Dataset
from .errors import UserError
from .paths import atomic_path, cache_dir
from .runtime import get_device


def all_digits(dataset: Dataset) -> tuple[torch.Tensor, torch.Tensor, int]:
    """Train then test images as (N, 784) floats in [0, 1], their labels, and the number of training rows."""
    X = torch.cat([dataset.train.X, dataset.test.X]).flatten(1).float() / 255
    return X, torch.cat([dataset.train.y, dataset.test.y]), len(dataset.train)


# --- PCA -------------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class PCA:
    """Principal components of a data set: ``components`` (k, D) orthonormal rows, in order of variance."""

    mean: torch.Tensor  # (D,)
    components: torch.Tensor  # (k, D)
    explained_variance: torch.Tensor  # (D,): every eigenvalue, largest first

    @property
    def explained_variance_ratio(self) -> torch.Tensor:
        return self.explained_variance / self.explained_variance.sum()

    def components_for(self, fraction: float) -> int:
        """The fewest components whose cumulative explained variance reaches ``fraction``."""
        cumulative = self.explained_variance_ratio.cumsum(0)
        return int(torch.searchsorted(cumulative, torch.tensor(fraction, dtype=cumulative.dtype,
                                                               device=cumulative.device))) + 1

    def transform(self, X: torch.Tensor, k: int | None = None) -> torch.Tensor:
        """Scores of ``X`` on the first ``k`` components (all when None)."""
        W = self.components[:k]
        return ((X.to(W.dtype) - self.mean) @ W.T).to(X.dtype)

    def reconstruct(self, X: torch.Tensor, k: int) -> torch.Tensor:
        """``X`` projected onto the first ``k`` components and mapped back to pixel space."""
        W = self.components[:k]
        return ((X.to(W.dtype) - self.mean) @ W.T @ W + self.mean).to(X.dtype)


def pca(X: torch.Tensor, n_components: int | None = None) -> PCA:
    """PCA of the rows of ``X`` by an eigendecomposition of the covariance, in float64 on X's device.

    Signs follow scikit-learn's convention: each component's largest-magnitude
    entry is positive.
    """
    if X.ndim != 2 or len(X) < 2:
        raise UserError(f"PCA needs a 2-D array with at least 2 rows (one per point), got shape {tuple(X.shape)}; "
                        "flatten images to (N, pixels) first.")
    Xd = X.double()
    mean = Xd.mean(0)
    Xc = Xd - mean
    values, vectors = torch.linalg.eigh(Xc.T @ Xc / (len(X) - 1))
    values, vectors = values.flip(0).clamp_min(0), vectors.flip(1).T
    vectors = vectors * torch.sign(vectors.gather(1, vectors.abs().argmax(1, keepdim=True)))
    return PCA(mean, vectors[:n_components], values)


# --- the cache -------------------------------------------------------------------------------------------------

def _fingerprint(X: np.ndarray) -> str:
    return hashlib.sha256(np.ascontiguousarray(X).tobytes() + str(X.shape).encode()).hexdigest()[:20]


def cached(kind: str, params: dict, X: np.ndarray, compute: Callable[[], np.ndarray],
           directory: str | Path | None = None) -> np.ndarray:
    """``compute()``, or its earlier result stored under a key of kind, params and X.

    A cache file that cannot be read, or holds the wrong shape or non-finite
    values, is recomputed with a warning. ``directory=False`` disables caching.
    """
    if directory is False:
        return compute()
    directory = Path(directory) if directory is not None else cache_dir() / "embeddings"
    key = hashlib.sha256(json.dumps({"kind": kind, **params}, sort_keys=True).encode()).hexdigest()[:20]
    path = directory / f"{kind}-{key}-{_fingerprint(X)}.npy"
    if path.exists():
        try:
            result = np.load(path, allow_pickle=False)
            if result.shape[0] == len(X) and np.isfinite(result).all():
                return result
            raise ValueError(f"shape {result.shape} or values do not fit the input")
        except (OSError, ValueError, EOFError) as exc:
            warnings.warn(f"Ignoring the unreadable cached embedding {path} ({exc}); recomputing it.", stacklevel=2)
    result = np.ascontiguousarray(compute(), dtype=np.float32)
    with atomic_path(path) as tmp:  # a unique name: two runs filling the cache at once never collide
        np.save(tmp, result)
    return result


# --- t-SNE -----------------------------------------------------------------------------------------------------

@dataclass(frozen=True)
class TSNESettings:
    """What every backend is given. openTSNE's library defaults are perplexity 30 and 250 + 500 iterations."""

    perplexity: float = 10.0
    early_exaggeration_iter: int = 250
    n_iter: int = 250
    exaggeration: float = 12.0


def cores() -> int:
    """CPU cores this process may use."""
    return len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count() or 1


def _opentsne(X: np.ndarray, s: TSNESettings, seed: int, device: torch.device) -> np.ndarray:
    from openTSNE import TSNE

    return np.asarray(TSNE(perplexity=s.perplexity, early_exaggeration_iter=s.early_exaggeration_iter,
                           early_exaggeration=s.exaggeration, n_iter=s.n_iter, ints_in_interval=2,
                           neighbors="annoy", n_jobs=cores(), random_state=seed).fit(X))


def _sklearn(X: np.ndarray, s: TSNESettings, seed: int, device: torch.device) -> np.ndarray:
    from sklearn.manifold import TSNE

    # scikit-learn fixes the exaggeration phase at 250 iterations.
    return TSNE(perplexity=min(s.perplexity, len(X) - 1), early_exaggeration=s.exaggeration, init="pca",
                learning_rate="auto", max_iter=250 + s.n_iter, random_state=seed, n_jobs=cores()).fit_transform(X)


def _multicore(X: np.ndarray, s: TSNESettings, seed: int, device: torch.device) -> np.ndarray:
    from MulticoreTSNE import MulticoreTSNE

    return MulticoreTSNE(perplexity=s.perplexity, early_exaggeration=s.exaggeration,
                         n_iter=s.early_exaggeration_iter + s.n_iter, random_state=seed,
                         n_jobs=cores()).fit_transform(X.astype(np.float64))


def _cuml(X: np.ndarray, s: TSNESettings, seed: int, device: torch.device) -> np.ndarray:
    from cuml.manifold import TSNE

    return np.asarray(TSNE(perplexity=s.perplexity, early_exaggeration=s.exaggeration,
                           exaggeration_iter=s.early_exaggeration_iter, n_iter=s.early_exaggeration_iter + s.n_iter,
                           method="fft", random_state=seed).fit_transform(X))


def _torch(X: np.ndarray, s: TSNESettings, seed: int, device: torch.device) -> np.ndarray:
    from .tsne import tsne as torch_tsne  # imported here, as every backend is: it imports this module's PCA

    Y = torch_tsne(torch.from_numpy(X).to(device), s.perplexity, s.early_exaggeration_iter, s.n_iter, s.exaggeration)
    return Y.cpu().numpy()


@dataclass(frozen=True)
class Backend:
    module: str  # what must be importable
    distribution: str  # its name on PyPI, for versions and install hints
    run: Callable[[np.ndarray, TSNESettings, int, torch.device], np.ndarray]
    cuda_only: bool = False


BACKENDS = {
    "opentsne": Backend("openTSNE", "openTSNE", _opentsne),
    "sklearn": Backend("sklearn", "scikit-learn", _sklearn),
    "multicore": Backend("MulticoreTSNE", "MulticoreTSNE", _multicore),
    "cuml": Backend("cuml", "cuml", _cuml, cuda_only=True),
    "torch": Backend("torch", "torch", _torch),
}


def _importable(module: str) -> bool:
    try:
        return importlib.util.find_spec(module) is not None
    except (ImportError, ValueError):
        return False


def _target(device: torch.device | str | None) -> torch.device:
    """None: ``get_device()``; otherwise the named device, which need not be present (to ask what would run there)."""
    return get_device() if device is None else torch.device(device)


def available_backends(device: torch.device | str | None = None) -> list[str]:
    """The t-SNE backends that can run on ``device`` (None: ``get_device()``), in order of preference."""
    device = _target(device)
    return [name for name, b in BACKENDS.items()
            if _importable(b.module) and (device.type == "cuda" or not b.cuda_only)]


def default_backend(device: torch.device | str | None = None) -> str:
    """cuML, else the suite's torch t-SNE, on CUDA; openTSNE elsewhere (scikit-learn if openTSNE is missing).

    ``device``: None means ``get_device()``.
    """
    device = _target(device)
    available = available_backends(device)
    preference = ["cuml", "torch"] if device.type == "cuda" else ["opentsne", "sklearn"]
    return next(name for name in preference if name in available)


def backend_version(name: str) -> str:
    try:
        return importlib.metadata.version(BACKENDS[name].distribution)
    except importlib.metadata.PackageNotFoundError:
        return "unknown"


def check_backend(name: str, device: torch.device | str | None = None) -> Backend:
    """The named backend, or a UserError saying why it cannot run on ``device`` (None: ``get_device()``) and which
    ones can."""
    device = _target(device)
    choices = ", ".join(available_backends(device))
    if name not in BACKENDS:
        raise UserError(f"Unknown t-SNE backend {name!r}: choose one of {', '.join(BACKENDS)} "
                        f"(available here: {choices}).")
    backend = BACKENDS[name]
    if backend.cuda_only and device.type != "cuda":
        raise UserError(f"The t-SNE backend {name!r} needs a CUDA device, not {device.type}; "
                        f"available here: {choices}.")
    if not _importable(backend.module):
        raise UserError(f"The t-SNE backend {name!r} needs {backend.distribution}, which is not installed "
                        f"(pip install {backend.distribution}); available here: {choices}.")
    return backend


def tsne(X, backend: str | None = None, settings: TSNESettings = TSNESettings(), seed: int = 0,
         device: torch.device | str | None = None, cache: str | Path | bool | None = None) -> np.ndarray:
    """A 2-D t-SNE map (N, 2) of the rows of ``X`` with the named backend (default: :func:`default_backend`).

    ``device``: where the torch and cuML backends run, and which backend is the default; None means
    ``get_device()``. ``cache``: a directory, None for ``<cache>/embeddings``, or False for none.
    """
    device = get_device(device)
    name = backend or default_backend(device)
    chosen = check_backend(name, device)
    X = np.ascontiguousarray(np.asarray(X.cpu() if isinstance(X, torch.Tensor) else X), dtype=np.float32)
    params = {"backend": name, "version": backend_version(name), "seed": seed, **asdict(settings),
              **({"device": device.type} if name in ("torch", "cuml") else {})}
    return cached("tsne", params, X, lambda: chosen.run(X, settings, seed, device), None if cache is True else cache)


# --- UMAP ------------------------------------------------------------------------------------------------------

def umap(X, n_neighbors: int = 15, min_dist: float = 0.1, seed: int = 0,
         cache: str | Path | bool | None = None) -> np.ndarray:
    """A 2-D UMAP map (umap-learn) of the rows of ``X``. A fixed seed makes umap-learn run on one core."""
    if not _importable("umap"):
        raise UserError("UMAP needs umap-learn, which is not installed (pip install umap-learn).")
    X = np.ascontiguousarray(np.asarray(X.cpu() if isinstance(X, torch.Tensor) else X), dtype=np.float32)
    params = {"n_neighbors": n_neighbors, "min_dist": min_dist, "seed": seed,
              "version": importlib.metadata.version("umap-learn")}

    def compute():
        import umap as umap_learn

        with warnings.catch_warnings():
            warnings.filterwarnings("ignore", message=".*n_jobs value 1 overridden.*")
            return umap_learn.UMAP(n_neighbors=n_neighbors, min_dist=min_dist, random_state=seed).fit_transform(X)
    return cached("umap", params, X, compute, None if cache is True else cache)
