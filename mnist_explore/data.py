"""MNIST and Fashion-MNIST as uint8 tensors: checked once, cached, split and batched on the device.

The raw files are gzipped, in torchvision's layout (``<root>/MNIST/raw/*.gz``); the
package ships MNIST's four (``mnist_explore/datasets``), and the data roots searched
are those of :mod:`mnist_explore.paths`. On first load each file is decompressed
into the cache folder (``<cache>/MNIST/raw``, never next to the package, which may
be read-only), its md5 checked against the canonical file, and the tensors (read by
``torchvision.datasets.MNIST``) cached in ``<cache>/MNIST.pt`` so that later loads
skip both the check and the parsing. The cache stores a blake2b hash of its tensors,
checked on every load; a cache that is damaged, refused by ``weights_only`` or changed
since it was written is named in one warning and rebuilt from the md5-checked files.

Only the cache folder is ever written, each file through a uniquely named temporary
file renamed into place (:func:`mnist_explore.paths.atomic_path`), so concurrent first
loads never collide; the folder is checked for writing before any long work starts.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import re
import time
import warnings
import zlib
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import BinaryIO

import torch

from .errors import UserError
from .paths import DamagedFile, atomic_path, bundled_data_dir, cache_dir, check_writable, data_dir, load_torch

CACHE_FORMAT = 2  # 2: the tensors' blake2b is stored and checked on every load
CACHE_VARIABLE = "MNIST_EXPLORE_CACHE"
TENSORS = ("train_X", "train_y", "test_X", "test_y")
DTYPES = {"X": torch.uint8, "y": torch.int64}  # by a tensor name's last letter
STALE_AFTER_S = 3600  # a temporary file untouched this long was left by an interrupted load


@dataclass(frozen=True)
class Source:
    """Where one data set's raw files come from and what they must hash to."""

    folder: str  # torchvision's class name, hence the raw folder's name
    md5: dict[str, str]  # decompressed file name -> md5 of its bytes
    classes: tuple[str, ...]
    how_to_get: str
    system_dir: Path | None = None  # a read-only place the .gz files may already be


SOURCES = {
    "mnist": Source(
        folder="MNIST",
        md5={
            "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
            "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
            "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
            "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
        },
        classes=tuple(str(d) for d in range(10)),
        how_to_get="restore the bundled copy with `git checkout -- mnist_explore/datasets/MNIST/raw` "
        "in a source checkout, or reinstall mnist-explore",
    ),
    "fashion": Source(
        folder="FashionMNIST",
        md5={
            "train-images-idx3-ubyte": "f4a8712d7a061bf5bd6d2ca38dc4d50a",
            "train-labels-idx1-ubyte": "9018921c3c673c538a1fc5bad174d6f9",
            "t10k-images-idx3-ubyte": "8181f5470baa50b63fa0f6fddb340f0a",
            "t10k-labels-idx1-ubyte": "15d484375f8d13e6eb1aabb0c3f46965",
        },
        classes=("T-shirt/top", "Trouser", "Pullover", "Dress", "Coat",
                 "Sandal", "Shirt", "Sneaker", "Bag", "Ankle boot"),
        how_to_get="install them with `sudo apt-get install dataset-fashion-mnist`, or copy the four .gz "
        "files into FashionMNIST/raw/ under the folder that MNIST_EXPLORE_DATA names (data/ in a source checkout)",
        system_dir=Path("/usr/share/datasets/fashion-mnist"),
    ),
}


class DataError(UserError):
    """A data file is missing, truncated or corrupted."""


@dataclass(frozen=True)
class Split:
    """Images ``X`` (uint8, N x 28 x 28, 0-255) and labels ``y`` (int64, N)."""

    X: torch.Tensor
    y: torch.Tensor

    def __len__(self) -> int:
        return len(self.y)

    def to(self, device: torch.device | str) -> Split:
        return Split(self.X.to(device), self.y.to(device))

    def subset(self, index: torch.Tensor) -> Split:
        index = index.to(self.y.device)
        return Split(self.X[index], self.y[index])


@dataclass(frozen=True)
class Dataset:
    """A data set's name, class names, and its official train and test splits."""

    name: str
    classes: tuple[str, ...]
    train: Split
    test: Split

    def to(self, device: torch.device | str) -> Dataset:
        return Dataset(self.name, self.classes, self.train.to(device), self.test.to(device))


def _md5(path: Path) -> str:
    digest = hashlib.md5()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


_OPEN_MODE: list[int] = []  # the mode open() gives a new file (0o666 less the umask), found once per process


def _open_mode(folder: Path) -> int:
    """0o666 less the umask, read off a probe file (os.umask can only be read by changing it, for every thread)."""
    if not _OPEN_MODE:
        probe = folder / f".mode-probe-{os.getpid()}-{os.urandom(4).hex()}"
        fd = os.open(probe, os.O_CREAT | os.O_EXCL | os.O_WRONLY, 0o666)
        try:
            _OPEN_MODE.append(os.fstat(fd).st_mode & 0o777)
        finally:
            os.close(fd)
            os.unlink(probe)
    return _OPEN_MODE[0]


@contextmanager
def _written(path: Path) -> Iterator[BinaryIO]:
    """A binary file to write ``path``'s new contents to, renamed onto ``path`` only when the block succeeds.

    Through :func:`~mnist_explore.paths.atomic_path` (a unique temporary name, removed on any
    failure), with the mode ``open()`` would give rather than the temporary file's 0o600, so a
    cache shared with other users stays readable.
    """
    with atomic_path(path) as tmp:
        os.chmod(tmp, _open_mode(tmp.parent))
        with open(tmp, "wb") as f:
            yield f


def _decompressed(gz: Path, how_to_get: str) -> Iterator[bytes]:
    """The bytes of ``gz`` in 1 MiB blocks; a file that cannot be read or decompressed is a DataError."""
    try:
        with gzip.open(gz, "rb") as src:
            while block := src.read(1 << 20):
                yield block
    except (EOFError, OSError, zlib.error) as exc:
        raise DataError(f"{gz} is truncated or not valid gzip ({exc}); {how_to_get}.") from None


def _extract(gz: Path, target: Path, expected_md5: str, how_to_get: str) -> None:
    """Decompress ``gz`` to ``target`` atomically, refusing bytes whose md5 is wrong.

    A failed read blames ``gz`` (a DataError); a failed write blames the cache folder (a UserError),
    never the data. The temporary file has a unique name, so concurrent loads never collide.
    """
    digest = hashlib.md5()
    try:
        with _written(target) as dst:
            for block in _decompressed(gz, how_to_get):
                digest.update(block)
                dst.write(block)
            if digest.hexdigest() != expected_md5:
                raise DataError(f"{gz} is corrupted: its contents hash to md5 {digest.hexdigest()}, not the "
                                f"canonical {expected_md5}; {how_to_get}.")
    except OSError as exc:
        raise UserError(f"Could not write {target} ({exc.strerror or exc}): free some space in that folder or make "
                        f"it writable, or point {CACHE_VARIABLE} at another folder.") from None


def _candidates(source: Source, raws: list[Path], name: str) -> list[Path]:
    """Where ``<name>.gz`` may be, in the order searched: each raw folder, then the system folder."""
    folders = list(raws) + ([source.system_dir] if source.system_dir is not None else [])
    return [folder / f"{name}.gz" for folder in folders]


def _to_extract(source: Source, raws: list[Path], out: Path) -> list[tuple[Path, Path, str]]:
    """``(gz, target, md5)`` for each raw file that ``out`` lacks or holds md5-wrong; a DataError if one has no .gz.

    ``raws`` are the folders searched for the .gz files, in order; ``out`` is in the
    cache, so read-only data folders are never written to.
    """
    todo = []
    for name, expected in source.md5.items():
        target = out / name
        if target.exists() and _md5(target) == expected:
            continue
        candidates = _candidates(source, raws, name)
        gz = next((c for c in candidates if c.exists()), None)
        if gz is not None:
            todo.append((gz, target, expected))
        elif target.exists():
            raise DataError(f"{target} is corrupted (md5 {_md5(target)}, expected {expected}) and no "
                            f".gz copy is there to restore it from; {source.how_to_get}.")
        else:
            searched = ", ".join(str(c.parent) for c in candidates)
            raise DataError(f"{source.folder} file {name}.gz is missing from {searched}; {source.how_to_get}.")
    return todo


def _fingerprint(source: Source, raws: list[Path], out: Path) -> list:
    """Sizes and modification times of the raw files: a change to any invalidates the cache."""
    stats = []
    for name in source.md5:
        for path in (out / name, *_candidates(source, raws, name)):
            st = path.stat() if path.exists() else None
            stats.append((path.name, st and st.st_size, st and st.st_mtime_ns))
    return [CACHE_FORMAT, sorted(source.md5.items()), stats]


def _content_hash(blob: dict) -> str:
    """blake2b of the cached tensors' names, dtypes, shapes and bytes: about 0.1 s for MNIST's 70,000 images."""
    digest = hashlib.blake2b(digest_size=32)
    for key in TENSORS:
        tensor = blob[key].contiguous()
        digest.update(f"{key} {tensor.dtype} {tuple(tensor.shape)};".encode())
        digest.update(tensor.numpy())
    return digest.hexdigest()


def _well_formed(blob) -> bool:
    """Whether ``blob`` is a dict holding a fingerprint and the four tensors, of the dtypes this module writes."""
    return (isinstance(blob, dict) and isinstance(blob.get("fingerprint"), list)
            and all(isinstance(blob.get(key), torch.Tensor) and blob[key].dtype == DTYPES[key[-1]]
                    for key in TENSORS))


def _first_clause(exc: BaseException) -> str:
    """The first clause of the error behind ``exc`` (torch's messages run on for several sentences)."""
    cause = exc.__cause__ or exc
    text = str(cause).strip()
    return text.splitlines()[0].split(". ")[0].rstrip(".")[:160] if text else type(cause).__name__


def _rebuilding(reason: str) -> None:
    warnings.warn(f"{reason}; rebuilding it from the md5-checked raw files.", stacklevel=4)


def _read_cache(path: Path, fingerprint: list) -> dict | None:
    """The cached tensors; None when they must be rebuilt: absent, out of date, or (with one warning) damaged."""
    if not path.exists():
        return None
    try:
        blob = load_torch(path, map_location="cpu")
    except DamagedFile as exc:
        return _rebuilding(f"The tensor cache {path} is damaged ({_first_clause(exc)})")
    except UserError:  # weights_only refused it; no file this module writes holds Python objects
        return _rebuilding(f"The tensor cache {path} is damaged or holds Python objects, so it was not loaded")
    if not _well_formed(blob):
        return _rebuilding(f"The tensor cache {path} does not hold the expected tensors")
    if blob["fingerprint"] != fingerprint:
        return None  # the raw files changed, or the cache is of an older format: rebuilt without a word
    if blob.get("blake2b") != _content_hash(blob):
        return _rebuilding(f"The tensor cache {path} does not match its content hash (it changed after it was "
                           "written)")
    return blob


def _write_cache(blob: dict, path: Path) -> None:
    """Save ``blob`` to ``path`` atomically; a failed write is a warning, since the tensors are loaded already."""
    try:
        with _written(path) as f:
            torch.save(blob, f)
    except OSError as exc:
        warnings.warn(f"Could not write the tensor cache {path} ({exc.strerror or exc}), so the next load parses "
                      "the raw files again.", stacklevel=4)


def _remove_stale_partials(source: Source, derived: Path, out: Path) -> None:
    """Remove the temporary files that interrupted loads left in the cache (this version's and older ones' names).

    Only files untouched for STALE_AFTER_S go, so a load running now keeps its own; where the
    folder cannot be written they stay, silently. Nothing outside the cache folder is touched.
    """
    cutoff = time.time() - STALE_AFTER_S
    for folder, names in ((derived, [source.folder]), (out, list(source.md5))):
        # ".MNIST.<random>.partial.pt" (atomic_path), "MNIST.partial" and "<name>.partial" (older versions)
        ours = re.compile(r"\.?(?:%s)(?:\.\w+)?\.partial(?:\.pt)?" % "|".join(map(re.escape, names)))
        try:
            with os.scandir(folder) as entries:
                stray = [e for e in entries if ours.fullmatch(e.name)]
        except OSError:
            continue
        for entry in stray:
            try:
                if entry.stat(follow_symlinks=False).st_mtime < cutoff:
                    os.unlink(entry.path)
            except OSError:
                pass


def _require_writable(*folders: Path) -> None:
    for folder in folders:
        check_writable(folder, "cache", CACHE_VARIABLE)


def _torchvision_class(source: Source):
    import torchvision.datasets  # imported here: it is slow and only the cold path needs it

    return getattr(torchvision.datasets, source.folder)


def _build_cache(source: Source, raws: list[Path], out: Path, cache: Path, download: bool) -> dict:
    """Check and decompress the raw files into ``out``, parse them, and cache the tensors in ``cache``.

    The cache folder is proven writable before anything long starts.
    """
    derived = cache.parent  # torchvision's root for the decompressed files, and home of the tensor cache
    if download and not all((out / n).exists() or any(c.exists() for c in _candidates(source, raws, n))
                            for n in source.md5):
        _require_writable(derived, out)
        try:
            _torchvision_class(source)(derived, train=True, download=True)
        except Exception as exc:
            raise DataError(f"Downloading {source.folder} failed ({exc}); {source.how_to_get}.") from None
    todo = _to_extract(source, raws, out)
    _require_writable(derived, out)
    for gz, target, expected in todo:
        _extract(gz, target, expected, source.how_to_get)
    splits = {s: _torchvision_class(source)(derived, train=(s == "train"), download=False)
              for s in ("train", "test")}
    blob = {"fingerprint": _fingerprint(source, raws, out)}
    for s, ds in splits.items():
        blob[f"{s}_X"], blob[f"{s}_y"] = ds.data.contiguous(), ds.targets.long()
    blob["blake2b"] = _content_hash(blob)
    _write_cache(blob, cache)
    return blob


def load_dataset(name: str = "mnist", root: str | Path | None = None, download: bool = False) -> Dataset:
    """Load a data set's train and test splits as uint8 tensors on the CPU.

    Parameters
    ----------
    name
        ``"mnist"`` or ``"fashion"`` (Fashion-MNIST, when its raw files are present).
    root
        The data root searched for the .gz files, in torchvision's layout; by default
        :func:`~mnist_explore.paths.data_dir`, then the copy bundled with the package.
    download
        Let torchvision try its mirrors for files that are missing (needs internet);
        they are downloaded into the cache folder.

    Returns
    -------
    Dataset
        ``train`` (60,000 images) and ``test`` (10,000 images).
    """
    if name not in SOURCES:
        raise UserError(f"Unknown data set {name!r}: choose one of {', '.join(SOURCES)}.")
    source = SOURCES[name]
    roots = [Path(root)] if root is not None else list(dict.fromkeys([data_dir(), bundled_data_dir()]))
    derived = cache_dir()
    out = derived / source.folder / "raw"
    # .gz files downloaded by torchvision land in `out`, so it is searched too, last among the folders.
    raws = [r / source.folder / "raw" for r in roots] + [out]
    cache = derived / f"{source.folder}.pt"

    _remove_stale_partials(source, derived, out)
    blob = _read_cache(cache, _fingerprint(source, raws, out))
    if blob is None:
        blob = _build_cache(source, raws, out, cache, download)
    return Dataset(name, source.classes,
                   Split(blob["train_X"], blob["train_y"]), Split(blob["test_X"], blob["test_y"]))


def load_mnist(root: str | Path | None = None, download: bool = False) -> Dataset:
    """Load MNIST; see :func:`load_dataset`."""
    return load_dataset("mnist", root, download)


def split_indices(n: int, val_size: int = 5000, seed: int = 0) -> tuple[torch.Tensor, torch.Tensor]:
    """Disjoint index sets (train, validation) covering ``range(n)``, drawn on the CPU from ``seed``."""
    if not 0 < val_size < n:
        raise UserError(f"val_size must be between 1 and {n - 1}, got {val_size}.")
    order = torch.randperm(n, generator=torch.Generator().manual_seed(seed))
    return order[val_size:], order[:val_size]


def train_val_split(train: Split, val_size: int = 5000, seed: int = 0,
                    train_size: int | None = None) -> tuple[Split, Split]:
    """Carve a validation split out of the training split (default 55,000 / 5,000): the one way to split.

    The split depends on ``seed`` only, never on the device. ``train_size`` keeps only that
    many training images, a random subset (the first of the shuffled order); None keeps all.
    """
    train_index, val_index = split_indices(len(train), val_size, seed)
    if train_size is not None:
        if not 0 < train_size <= len(train_index):
            raise UserError(f"train_size must be between 1 and {len(train_index)}, got {train_size}.")
        train_index = train_index[:train_size]
    return train.subset(train_index), train.subset(val_index)


def normalization(X: torch.Tensor) -> tuple[float, float]:
    """Mean and standard deviation of the pixel intensities of ``X`` scaled to [0, 1].

    On MNIST's training images they are 0.1307 and 0.3081.
    """
    x = X.double() / 255.0
    return x.mean().item(), x.std().item()


def to_float(X: torch.Tensor, mean: float = 0.0, std: float = 1.0) -> torch.Tensor:
    """uint8 images (N, 28, 28) to float32 (N, 1, 28, 28), scaled to [0, 1] then standardised."""
    return ((X.float() / 255.0 - mean) / std).unsqueeze(1)


def batches(
    split: Split,
    batch_size: int,
    *,
    shuffle: bool = True,
    generator: torch.Generator | None = None,
    drop_last: bool = False,
) -> Iterator[tuple[torch.Tensor, torch.Tensor]]:
    """Yield ``(X, y)`` batches that stay on the split's device: one epoch, no DataLoader.

    The order is drawn on the CPU (from ``generator`` when given) and moved to the
    device, so a seed gives the same batches on every device.
    """
    if batch_size < 1:
        raise UserError(f"batch_size must be at least 1, got {batch_size}.")
    n = len(split)
    order = torch.randperm(n, generator=generator) if shuffle else torch.arange(n)
    order = order.to(split.y.device)
    stop = n - n % batch_size if drop_last else n
    for start in range(0, stop, batch_size):
        index = order[start:start + batch_size]
        yield split.X[index], split.y[index]
