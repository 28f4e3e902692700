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
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
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


@contextmanager
def atomic_path(path: str | Path) -> Iterator[Path]:
    """A temporary file in ``path``'s folder to write to; renamed onto ``path`` only when the block succeeds.

    A crash, Ctrl-C or error half-way leaves ``path`` as it was (or absent) and removes the
    temporary file, so no reader ever sees half a PNG, GIF, JSON, checkpoint or cache array.
    The temporary name is unique (concurrent writers never collide) and keeps the suffix, so
    writers that choose a format by extension (savefig, imageio, np.save) still work.
    """
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(prefix=f".{path.stem}.", suffix=f".partial{path.suffix}", dir=path.parent)
    os.close(fd)
    os.chmod(tmp, 0o666 & ~_umask())  # the mode open() would give, not mkstemp's private 0600
    try:
        yield Path(tmp)
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


def _umask() -> int:
    mask = os.umask(0)
    os.umask(mask)
    return mask


def write_text_atomic(path: str | Path, text: str) -> Path:
    """Write ``text`` to ``path`` atomically (see :func:`atomic_path`)."""
    with atomic_path(path) as tmp:
        tmp.write_text(text)
    return Path(path)


@contextmanager
def locked(path: str | Path) -> Iterator[None]:
    """Hold an exclusive lock on ``.<name>.lock`` beside ``path`` for the block (POSIX ``flock``; no lock where it is missing),
    so that two processes doing read-merge-write on ``path`` take turns."""
    try:
        import fcntl
    except ImportError:  # Windows: no flock
        yield
        return
    lock = Path(path).with_name(f".{Path(path).name}.lock")  # hidden, and kept: removing it would race
    lock.parent.mkdir(parents=True, exist_ok=True)
    with open(lock, "a") as handle:
        fcntl.flock(handle, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle, fcntl.LOCK_UN)


def check_writable(directory: str | Path, what: str, variable: str | None = None) -> Path:
    """``directory``, created if needed, after proving a file can be written there; else a UserError naming
    the folder (and the variable or flag that moves it), raised before any long work starts."""
    from .errors import UserError

    directory = Path(directory)
    how = f" or point {variable} at a writable folder" if variable else ""
    if directory.exists() and not directory.is_dir():
        raise UserError(f"The {what} folder {directory} is a file, not a folder: choose a folder{how}.")
    try:
        directory.mkdir(parents=True, exist_ok=True)
        with tempfile.NamedTemporaryFile(dir=directory, prefix=".write-check-"):
            pass
    except OSError as exc:
        raise UserError(f"Cannot write to the {what} folder {directory} ({exc.strerror or exc}): "
                        f"make it writable{how}.") from exc
    return directory


class DamagedFile(Exception):
    """A file that could not be read back: truncated, corrupted, or not in the expected format."""


def load_torch(path: str | Path, map_location=None):
    """``torch.load(path, weights_only=True)``: tensors, numbers, strings, lists and dicts only, never code.

    Raises
    ------
    UserError
        When the file holds other Python objects (something this code never writes, and which could run
        code if unpickled): it is refused unread.
    DamagedFile
        When the file is truncated or corrupted; the caller decides whether to rebuild it.
    """
    import pickle

    import torch

    from .errors import UserError

    try:
        return torch.load(path, map_location=map_location, weights_only=True)
    except pickle.UnpicklingError as exc:
        if "Unsupported global" in str(exc) or "GLOBAL" in str(exc):  # it names a Python object to build
            raise UserError(f"{path} holds Python objects that no file written by mnist-explore contains, so it "
                            "was refused unread (loading it could run code): delete it and run again.") from None
        raise DamagedFile(f"{path} is damaged ({_first_sentence(exc)})") from exc
    except (RuntimeError, EOFError, IndexError, KeyError, ValueError, OSError) as exc:
        raise DamagedFile(f"{path} is damaged ({_first_sentence(exc)})") from exc


def _first_sentence(exc: BaseException) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    end = text.find(". ")
    return text[:end] if 0 < end < 160 else text[:160]
