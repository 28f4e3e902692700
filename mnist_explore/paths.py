"""Where the suite reads data, caches derived results and writes figures.

The package runs both from a source checkout (``pip install -e .``, ``make``) and
installed anywhere (``pip install .``), where its own folder may be read-only.
Each rule below is an environment variable, then a checkout default, then an
installed default:

================  ========================  =========================  ==============================
what              override                  in a source checkout       installed
================  ========================  =========================  ==============================
data (.gz files)  ``MNIST_EXPLORE_DATA``    ``<checkout>/data``        the bundled copy
cache             ``MNIST_EXPLORE_CACHE``   ``<checkout>/data/cache``  the per-user cache folder
figures           ``MNIST_EXPLORE_FIGURES`` ``<checkout>/figures``     ``./figures`` (current folder)
================  ========================  =========================  ==============================

The bundled MNIST files (``mnist_explore/datasets/MNIST/raw/*.gz``) ship inside the
package and are always searched after the data root, so MNIST loads everywhere.
Everything derived from them (the decompressed files and the tensor cache) is
written to the cache folder only, never next to the package. The per-user cache
folder is ``%LOCALAPPDATA%\\mnist-explore\\cache`` on Windows,
``~/Library/Caches/mnist-explore`` on macOS, and ``$XDG_CACHE_HOME/mnist-explore``
(default ``~/.cache/mnist-explore``) elsewhere.

A source checkout is the folder above the package when it holds a
``pyproject.toml`` that names the ``mnist-explore`` project; an installed copy sits in
``site-packages``, which never does.
"""
from __future__ import annotations

import os
import re
import sys
from pathlib import Path

PACKAGE_DIR = Path(__file__).resolve().parent
_PROJECT_NAME = re.compile(r"""^name\s*=\s*["']mnist-explore["']""", re.MULTILINE)


def _env_path(name: str) -> Path | None:
    value = os.environ.get(name)
    return Path(value).expanduser() if value else None  # an empty variable counts as unset


def checkout_root() -> Path | None:
    """The source checkout the package is imported from, or None when it is installed.

    Returns
    -------
    Path or None
        The folder above the package when its ``pyproject.toml`` names ``mnist-explore``.
    """
    root = PACKAGE_DIR.parent
    try:
        text = (root / "pyproject.toml").read_text(encoding="utf-8")
    except OSError:
        return None
    return root if _PROJECT_NAME.search(text) else None


def bundled_data_dir() -> Path:
    """The data root shipped inside the package (``<package>/datasets/MNIST/raw/*.gz``); read-only."""
    return PACKAGE_DIR / "datasets"


def data_dir() -> Path:
    """The first data root searched (torchvision layout: ``<root>/MNIST/raw/*.gz``).

    ``MNIST_EXPLORE_DATA``, else ``<checkout>/data`` in a source checkout, else the
    bundled copy; :func:`mnist_explore.data.load_dataset` falls back to the bundled copy.
    """
    override = _env_path("MNIST_EXPLORE_DATA")
    if override is not None:
        return override
    checkout = checkout_root()
    return checkout / "data" if checkout is not None else bundled_data_dir()


def _user_cache_dir() -> Path:
    """The per-user cache folder, by each platform's convention (what platformdirs would say)."""
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "mnist-explore" / "cache"
    if sys.platform == "darwin":
        return Path.home() / "Library" / "Caches" / "mnist-explore"
    xdg = os.environ.get("XDG_CACHE_HOME", "")
    # The XDG spec says a relative XDG_CACHE_HOME is invalid and must be ignored.
    base = Path(xdg) if os.path.isabs(xdg) else Path.home() / ".cache"
    return base / "mnist-explore"


def cache_dir() -> Path:
    """Where every derived file is cached: decompressed raw files, tensors, embeddings, models.

    ``MNIST_EXPLORE_CACHE``, else ``<checkout>/data/cache`` in a source checkout, else
    the per-user cache folder (see the module docstring).
    """
    override = _env_path("MNIST_EXPLORE_CACHE")
    if override is not None:
        return override
    checkout = checkout_root()
    return checkout / "data" / "cache" if checkout is not None else _user_cache_dir()


def figures_dir() -> Path:
    """Where figures are written by default.

    ``MNIST_EXPLORE_FIGURES`` (tests point it at a temp dir), else ``<checkout>/figures``
    in a source checkout, else ``figures/`` in the current working directory.
    """
    override = _env_path("MNIST_EXPLORE_FIGURES")
    if override is not None:
        return override
    checkout = checkout_root()
    return checkout / "figures" if checkout is not None else Path.cwd() / "figures"


def benchmark_results(pattern: str = "*.json") -> list[Path]:
    """The checkout's benchmark records ``benchmarks/results/<pattern>``, sorted; empty when installed."""
    checkout = checkout_root()
    return sorted((checkout / "benchmarks" / "results").glob(pattern)) if checkout is not None else []


def output_path(name: str, suffix: str, directory: str | Path | None = None) -> Path:
    """``<directory>/<name><suffix>`` (directory default: figures_dir()), creating the directory."""
    directory = Path(directory) if directory is not None else figures_dir()
    directory.mkdir(parents=True, exist_ok=True)
    return directory / f"{name}{suffix}"
