"""MNIST and Fashion-MNIST as uint8 tensors: checked once, cached, split and batched on the device.

The raw files are gzipped, in torchvision's layout (``<root>/MNIST/raw/*.gz``); the
package ships MNIST's four (``mnist_explore/datasets``), and the data roots searched
are those of :mod:`mnist_explore.paths`. On first load each file is decompressed
into the cache folder (``<cache>/MNIST/raw``, never next to the package, which may
be read-only), its md5 checked against the canonical file, and the tensors (read by
``torchvision.datasets.MNIST``) cached in ``<cache>/MNIST.pt`` so that later loads
skip both the check and the parsing.
"""
from __future__ import annotations

import gzip
import hashlib
import os
import shutil
import warnings
import zlib
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import torch

from .errors import UserError
from .paths import bundled_data_dir, cache_dir, data_dir

CACHE_FORMAT = 1


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


def _extract(gz: Path, target: Path, expected_md5: str, how_to_get: str) -> None:
    """Decompress ``gz`` to ``target`` atomically, refusing bytes whose md5 is wrong."""
    tmp = target.with_name(target.name + ".partial")
    try:
        with gzip.open(gz, "rb") as src, open(tmp, "wb") as dst:
            shutil.copyfileobj(src, dst, 1 << 20)
    except (EOFError, OSError, zlib.error) as exc:
        tmp.unlink(missing_ok=True)
        raise DataError(f"{gz} is truncated or not valid gzip ({exc}); {how_to_get}.") from None
    actual = _md5(tmp)
    if actual != expected_md5:
        tmp.unlink()
        raise DataError(f"{gz} is corrupted: its contents hash to md5 {actual}, not the canonical "
                        f"{expected_md5}; {how_to_get}.")
    os.replace(tmp, target)


def _candidates(source: Source, raws: list[Path], name: str) -> list[Path]:
    """Where ``<name>.gz`` may be, in the order searched: each raw folder, then the system folder."""
    folders = list(raws) + ([source.system_dir] if source.system_dir is not None else [])
    return [folder / f"{name}.gz" for folder in folders]


def _check_raw(source: Source, raws: list[Path], out: Path) -> None:
    """Make every decompressed raw file in ``out`` present and md5-correct, or raise DataError.

    ``raws`` are the folders searched for the .gz files, in order; ``out`` is in the
    cache, so read-only data folders are never written to.
    """
    for name, expected in source.md5.items():
        target = out / name
        if target.exists() and _md5(target) == expected:
            continue
        candidates = _candidates(source, raws, name)
        gz = next((c for c in candidates if c.exists()), None)
        if gz is not None:
            out.mkdir(parents=True, exist_ok=True)
            _extract(gz, target, expected, source.how_to_get)
        elif target.exists():
            raise DataError(f"{target} is corrupted (md5 {_md5(target)}, expected {expected}) and no "
                            f".gz copy is there to restore it from; {source.how_to_get}.")
        else:
            searched = ", ".join(str(c.parent) for c in candidates)
            raise DataError(f"{source.folder} file {name}.gz is missing from {searched}; {source.how_to_get}.")


def _fingerprint(source: Source, raws: list[Path], out: Path) -> list:
    """Sizes and modification times of the raw files: a change to any invalidates the cache."""
    stats = []
    for name in source.md5:
        for path in (out / name, *_candidates(source, raws, name)):
            st = path.stat() if path.exists() else None
            stats.append((path.name, st and st.st_size, st and st.st_mtime_ns))
    return [CACHE_FORMAT, sorted(source.md5.items()), stats]


def _read_cache(path: Path, fingerprint: list) -> dict | None:
    if not path.exists():
        return None
    try:
        blob = torch.load(path, map_location="cpu", weights_only=True)
        return blob if blob["fingerprint"] == fingerprint else None
    except Exception as exc:  # any unreadable cache is rebuilt, never fatal
        warnings.warn(f"Ignoring the unreadable cache {path} ({exc}); rebuilding it.", stacklevel=3)
        return None


def _torchvision_class(source: Source):
    import torchvision.datasets  # imported here: it is slow and only the cold path needs it

    return getattr(torchvision.datasets, source.folder)


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
    derived = cache_dir()  # torchvision's root for the decompressed files, and home of the tensor cache
    out = derived / source.folder / "raw"
    # .gz files downloaded by torchvision land in `out`, so it is searched too, last among the folders.
    raws = [r / source.folder / "raw" for r in roots] + [out]
    cache = derived / f"{source.folder}.pt"

    blob = _read_cache(cache, _fingerprint(source, raws, out))
    if blob is None:
        if download and not all((out / n).exists() or any(c.exists() for c in _candidates(source, raws, n))
                                for n in source.md5):
            try:
                _torchvision_class(source)(derived, train=True, download=True)
            except Exception as exc:
                raise DataError(f"Downloading {source.folder} failed ({exc}); {source.how_to_get}.") from None
        _check_raw(source, raws, out)
        splits = {s: _torchvision_class(source)(derived, train=(s == "train"), download=False)
                  for s in ("train", "test")}
        blob = {"fingerprint": _fingerprint(source, raws, out)}
        for s, ds in splits.items():
            blob[f"{s}_X"], blob[f"{s}_y"] = ds.data.contiguous(), ds.targets.long()
        cache.parent.mkdir(parents=True, exist_ok=True)
        torch.save(blob, cache.with_suffix(".partial"))
        os.replace(cache.with_suffix(".partial"), cache)
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
