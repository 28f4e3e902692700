"""Where the suite reads data and writes figures, overridable by environment variables."""
from __future__ import annotations

import os
from pathlib import Path

PROJECT_ROOT = Path(__file__).resolve().parents[1]


def data_dir() -> Path:
    """The data root (torchvision layout: ``<root>/MNIST/raw``); ``MNIST_EXPLORE_DATA`` overrides it."""
    return Path(os.environ.get("MNIST_EXPLORE_DATA", PROJECT_ROOT / "data"))


def cache_dir() -> Path:
    """Where derived results are cached (tensors, embeddings); ``MNIST_EXPLORE_CACHE`` overrides ``<data>/cache``."""
    return Path(os.environ.get("MNIST_EXPLORE_CACHE", data_dir() / "cache"))


def figures_dir() -> Path:
    """Where figures are written; ``MNIST_EXPLORE_FIGURES`` overrides it (tests point it at a temp dir)."""
    return Path(os.environ.get("MNIST_EXPLORE_FIGURES", PROJECT_ROOT / "figures"))


def output_path(name: str, suffix: str, directory: str | Path | None = None) -> Path:
    """``<directory>/<name><suffix>`` (directory default: figures_dir()), creating the directory."""
    directory = Path(directory) if directory is not None else figures_dir()
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"{name}{suffix}"
