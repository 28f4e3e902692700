import builtins
import errno
import gzip
import hashlib
import io
import os
import shutil
import struct
import threading
import time
import warnings
import zipfile
from fractions import Fraction
from pathlib import Path

import pytest
import torch

from mnist_explore import data, paths
from mnist_explore.data import (DataError, Source, Split, batches, load_dataset, normalization, split_indices,
                                train_val_split)
from mnist_explore.errors import UserError

RAW = Path(__file__).resolve().parents[1] / "mnist_explore" / "datasets" / "MNIST" / "raw"
# The canonical MNIST md5 sums, written out here rather than read from the package.
CANONICAL = {
    "train-images-idx3-ubyte": "6bbc9ace898e44ae57da46a324031adb",
    "train-labels-idx1-ubyte": "a25bea736e30d166cdddb491f175f624",
    "t10k-images-idx3-ubyte": "2646ac647ad5339dbf082846283269ea",
    "t10k-labels-idx1-ubyte": "27ae3e4e09519cfbb04c329615203637",
}


@pytest.fixture
def cache(tmp_path, monkeypatch) -> Path:
    """A private cache folder, so that loads from a temporary root never touch the shared one."""
    monkeypatch.setenv("MNIST_EXPLORE_CACHE", str(tmp_path / "cache"))
    return tmp_path / "cache"


def copy_raw(root: Path) -> Path:
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True)
    for name in CANONICAL:
        shutil.copy(RAW / f"{name}.gz", raw)
    return raw


@pytest.mark.parametrize("name", CANONICAL)
def test_bundled_files_have_the_canonical_md5(name):
    with gzip.open(RAW / f"{name}.gz") as f:
        assert hashlib.md5(f.read()).hexdigest() == CANONICAL[name]
    assert data.SOURCES["mnist"].md5[name] == CANONICAL[name]


def test_shapes_and_dtypes(mnist):
    assert mnist.train.X.shape == (60000, 28, 28) and mnist.test.X.shape == (10000, 28, 28)
    assert mnist.train.X.dtype == torch.uint8 and mnist.train.y.dtype == torch.int64
    assert int(mnist.train.X.max()) == 255 and int(mnist.train.X.min()) == 0


def test_label_counts(mnist):
    assert mnist.train.y.bincount().tolist() == [5923, 6742, 5958, 6131, 5842, 5421, 5918, 6265, 5851, 5949]
    assert mnist.test.y.bincount().tolist() == [980, 1135, 1032, 1010, 982, 892, 958, 1028, 974, 1009]


def test_normalization_constants(mnist):
    mean, std = normalization(mnist.train.X)
    assert (round(mean, 4), round(std, 4)) == (0.1307, 0.3081)


def test_to_float_standardises(mnist):
    mean, std = normalization(mnist.train.X)
    x = data.to_float(mnist.train.X[:20000], mean, std)
    assert x.shape == (20000, 1, 28, 28) and x.dtype == torch.float32
    assert abs(x.mean().item()) < 0.01 and abs(x.std().item() - 1) < 0.01


def test_split_indices_are_disjoint_complete_and_seeded():
    train, val = split_indices(60000, 5000, seed=3)
    assert len(train) == 55000 and len(val) == 5000
    assert torch.cat([train, val]).sort().values.equal(torch.arange(60000))
    again, _ = split_indices(60000, 5000, seed=3)
    other, _ = split_indices(60000, 5000, seed=4)
    assert train.equal(again) and not train.equal(other)


def test_train_val_split_takes_those_indices(mnist):
    train, val = train_val_split(mnist.train, seed=1)
    train_index, val_index = split_indices(60000, 5000, seed=1)
    assert train.y.equal(mnist.train.y[train_index]) and val.X.equal(mnist.train.X[val_index])
    with pytest.raises(UserError, match="val_size"):
        train_val_split(mnist.train, val_size=60000)


def test_train_size_keeps_the_first_of_the_shuffled_training_images(mnist):
    full, val = train_val_split(mnist.train, seed=2)
    small, same_val = train_val_split(mnist.train, seed=2, train_size=1000)
    assert small.X.equal(full.X[:1000]) and small.y.equal(full.y[:1000]) and same_val.y.equal(val.y)
    assert small.y.bincount().min() > 50  # a random subset: every class is there
    with pytest.raises(UserError, match="train_size must be between 1 and 55000, got 60000"):
        train_val_split(mnist.train, train_size=60000)


def test_user_errors_are_value_errors():
    assert issubclass(UserError, ValueError) and issubclass(data.DataError, ValueError)
    with pytest.raises(ValueError):
        train_val_split(Split(torch.zeros(10, 28, 28, dtype=torch.uint8), torch.zeros(10, dtype=torch.long)),
                        val_size=0)


def test_batches_cover_each_example_once_and_are_seeded(mnist):
    split = mnist.test
    seen = torch.cat([y for _, y in batches(split, 128, generator=torch.Generator().manual_seed(0))])
    assert len(seen) == 10000 and seen.bincount().equal(split.y.bincount())
    first = [x for x, _ in batches(split, 128, generator=torch.Generator().manual_seed(0))]
    second = [x for x, _ in batches(split, 128, generator=torch.Generator().manual_seed(0))]
    assert all(a.equal(b) for a, b in zip(first, second))
    assert not first[0].equal(split.X[:128])  # shuffled
    sizes = [len(y) for _, y in batches(split, 3000, drop_last=True)]
    assert sizes == [3000, 3000, 3000]
    ordered = torch.cat([y for _, y in batches(split, 999, shuffle=False)])
    assert ordered.equal(split.y)


def test_cold_then_warm_load_skips_the_checks(tmp_path, cache, monkeypatch):
    copy_raw(tmp_path)
    cold = load_dataset("mnist", tmp_path)
    assert (cache / "MNIST.pt").exists()

    def no_md5(path):
        raise AssertionError("a warm load must not hash files")

    monkeypatch.setattr(data, "_md5", no_md5)
    warm = load_dataset("mnist", tmp_path)
    assert warm.train.X.equal(cold.train.X) and warm.test.y.equal(cold.test.y)


def _one_sentence(exc: Exception) -> str:
    message = str(exc)
    assert "\n" not in message and message.endswith(".")
    return message


def test_missing_file_names_it_and_says_how_to_fix(tmp_path, cache):
    raw = copy_raw(tmp_path)
    (raw / "t10k-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(DataError) as info:
        load_dataset("mnist", tmp_path)
    message = _one_sentence(info.value)
    assert "t10k-labels-idx1-ubyte.gz is missing" in message and "git checkout" in message


def test_truncated_file_is_reported(tmp_path, cache):
    raw = copy_raw(tmp_path)
    path = raw / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:5000])
    with pytest.raises(DataError) as info:
        load_dataset("mnist", tmp_path)
    message = _one_sentence(info.value)
    assert "train-labels-idx1-ubyte.gz is truncated" in message and "git checkout" in message
    assert not list((cache / "MNIST" / "raw").glob("train-labels-idx1-ubyte*"))  # no half-written file left behind


def test_corrupted_contents_are_reported_by_md5(tmp_path, cache):
    raw = copy_raw(tmp_path)
    with gzip.open(RAW / "t10k-labels-idx1-ubyte.gz") as f:
        payload = bytearray(f.read())
    payload[100] = (payload[100] + 1) % 10  # one label changed: valid gzip, wrong data
    with gzip.open(raw / "t10k-labels-idx1-ubyte.gz", "wb") as f:
        f.write(bytes(payload))
    with pytest.raises(DataError) as info:
        load_dataset("mnist", tmp_path)
    message = _one_sentence(info.value)
    assert "t10k-labels-idx1-ubyte.gz is corrupted" in message and CANONICAL["t10k-labels-idx1-ubyte"] in message


def test_corrupted_decompressed_file_is_restored_from_gz(tmp_path, cache):
    copy_raw(tmp_path)
    load_dataset("mnist", tmp_path)
    (cache / "MNIST.pt").unlink()
    (cache / "MNIST" / "raw" / "t10k-labels-idx1-ubyte").write_bytes(b"garbage")
    assert load_dataset("mnist", tmp_path).test.y.bincount()[0] == 980


def test_unknown_data_set_lists_the_choices():
    with pytest.raises(UserError, match="choose one of mnist, fashion"):
        load_dataset("cifar")


def test_files_are_found_in_a_system_dir(tmp_path, cache, monkeypatch):
    system = copy_raw(tmp_path / "system")
    monkeypatch.setitem(data.SOURCES, "mnist", Source(
        folder="MNIST", md5=dict(CANONICAL), classes=data.SOURCES["mnist"].classes,
        how_to_get="install them", system_dir=system))
    assert len(load_dataset("mnist", tmp_path / "root").train) == 60000


def test_missing_fashion_mnist_says_how_to_get_it(tmp_path, cache, monkeypatch):
    fashion = data.SOURCES["fashion"]
    monkeypatch.setitem(data.SOURCES, "fashion", Source(
        fashion.folder, fashion.md5, fashion.classes, fashion.how_to_get, tmp_path / "nowhere"))
    with pytest.raises(DataError) as info:
        load_dataset("fashion", tmp_path)
    assert "apt-get install dataset-fashion-mnist" in _one_sentence(info.value)
    assert not cache.exists()  # a failed load creates no folders


def test_every_derived_file_goes_to_the_cache_and_the_bundled_copy_is_the_fallback(tmp_path, cache, monkeypatch):
    monkeypatch.setenv("MNIST_EXPLORE_DATA", str(tmp_path / "empty"))  # searched first, holds nothing
    bundled = sorted(p.name for p in (paths.bundled_data_dir() / "MNIST" / "raw").iterdir())
    assert len(load_dataset("mnist").train) == 60000
    assert (cache / "MNIST.pt").exists()
    assert sorted(p.name for p in (cache / "MNIST" / "raw").iterdir()) == sorted(CANONICAL)
    # Nothing is written next to the package data, which may be read-only once installed.
    assert sorted(p.name for p in (paths.bundled_data_dir() / "MNIST" / "raw").iterdir()) == bundled
    assert not (tmp_path / "empty").exists()


def test_the_data_root_is_searched_before_the_bundled_copy(tmp_path, cache, monkeypatch):
    raw = copy_raw(tmp_path / "mine")
    path = raw / "train-images-idx3-ubyte.gz"  # the first file checked: the test fails fast
    path.write_bytes(path.read_bytes()[:5000])
    monkeypatch.setenv("MNIST_EXPLORE_DATA", str(tmp_path / "mine"))
    with pytest.raises(DataError, match="train-images-idx3-ubyte.gz is truncated"):
        load_dataset("mnist")
    assert sorted(p.name for p in raw.iterdir()) == sorted(f"{n}.gz" for n in CANONICAL)  # read, never written


@pytest.mark.skipif(not Path("/usr/share/datasets/fashion-mnist").exists(),
                    reason="Fashion-MNIST is not installed (apt-get install dataset-fashion-mnist)")
def test_fashion_mnist_through_the_same_api(tmp_path):
    fashion = load_dataset("fashion", tmp_path)
    assert fashion.train.X.shape == (60000, 28, 28) and fashion.classes[9] == "Ankle boot"
    assert fashion.train.y.bincount().tolist() == [6000] * 10
    assert fashion.test.y.bincount().tolist() == [1000] * 10


# --- The tensor cache, concurrent loads, and folders that cannot be written ---------------------------------------


@pytest.fixture(scope="module")
def built(tmp_path_factory):
    """A data root and a cache folder after one cold load, to copy from: (folder holding both, the tensors)."""
    base = tmp_path_factory.mktemp("built")
    copy_raw(base / "root")
    with pytest.MonkeyPatch.context() as mp:
        mp.setenv("MNIST_EXPLORE_CACHE", str(base / "cache"))
        dataset = load_dataset("mnist", base / "root")
    return base, dataset


@pytest.fixture
def warm(built, tmp_path, cache):
    """A private copy of ``built`` (modification times kept, so its cache is current): (data root, the tensors)."""
    base, dataset = built
    shutil.copytree(base / "root", tmp_path / "root")
    shutil.copytree(base / "cache", cache)
    return tmp_path / "root", dataset


def _same(a, b) -> bool:
    return all(x.equal(y) for x, y in ((a.train.X, b.train.X), (a.train.y, b.train.y),
                                        (a.test.X, b.test.X), (a.test.y, b.test.y)))


def _one_warning(record) -> str:
    assert len(record) == 1, [str(w.message) for w in record]
    message = str(record[0].message)
    assert "\n" not in message and ". " not in message and message.endswith("."), message
    return message


def _quiet_load(root: Path):
    """Load with every warning an error: the cache must be trusted as it is."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        return load_dataset("mnist", root)


def no_work(*args, **kwargs):
    raise AssertionError("no file may be decompressed or parsed before the cache folder is known to be writable")


def refuse_writes(monkeypatch, *folders: Path, code: int = errno.EROFS) -> list[str]:
    """Make the file system under ``folders`` refuse every write, as a read-only mount does, without chmod
    (tests run as root in CI, and root ignores permission bits); returns the refused paths as they are tried.

    Like Linux, it refuses to remove even a file that is not there, and reports an existing folder to mkdir.
    """
    roots = [os.path.abspath(f) for f in folders]
    refused: list[str] = []

    def inside(path) -> bool:
        if isinstance(path, int):
            return False
        path = os.path.abspath(os.fsdecode(path))
        return any(path == r or path.startswith(r + os.sep) for r in roots)

    def refuse(path):
        refused.append(os.fsdecode(path))
        raise OSError(code, os.strerror(code), os.fsdecode(path))

    real = {name: getattr(os, name) for name in ("open", "mkdir", "unlink", "remove", "rmdir", "replace", "rename")}
    real_open = builtins.open
    writes = os.O_WRONLY | os.O_RDWR | os.O_CREAT | os.O_TRUNC | os.O_APPEND

    def fake_open(file, mode="r", *args, **kwargs):
        # With an opener (tempfile passes the folder as `file`), the opener's os.open decides.
        if inside(file) and set(mode) & set("wax+") and kwargs.get("opener") is None:
            refuse(file)
        return real_open(file, mode, *args, **kwargs)

    def fake_os_open(path, flags, *args, **kwargs):
        if inside(path) and flags & writes:
            refuse(path)
        return real["open"](path, flags, *args, **kwargs)

    def fake_mkdir(path, *args, **kwargs):
        if inside(path):
            if os.path.exists(path):
                raise FileExistsError(errno.EEXIST, os.strerror(errno.EEXIST), os.fsdecode(path))
            refuse(path)
        return real["mkdir"](path, *args, **kwargs)

    def removing(name):
        def fake(path, *args, **kwargs):
            if inside(path):
                refuse(path)
            return real[name](path, *args, **kwargs)
        return fake

    def moving(name):
        def fake(src, dst, *args, **kwargs):
            if inside(src) or inside(dst):
                refuse(dst if inside(dst) else src)
            return real[name](src, dst, *args, **kwargs)
        return fake

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(io, "open", fake_open)  # pathlib opens through io.open
    monkeypatch.setattr(os, "open", fake_os_open)  # tempfile creates through os.open
    monkeypatch.setattr(os, "mkdir", fake_mkdir)
    for name in ("unlink", "remove", "rmdir"):
        monkeypatch.setattr(os, name, removing(name))
    for name in ("replace", "rename"):
        monkeypatch.setattr(os, name, moving(name))
    return refused


def fill_disk(monkeypatch, wanted) -> None:
    """Files opened for writing whose path satisfies ``wanted`` are created, but every write fails, as on a full disk."""
    real_open = builtins.open

    class Full(io.FileIO):
        def write(self, b):
            raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))

    def fake_open(file, mode="r", *args, **kwargs):
        if not isinstance(file, int) and "w" in mode and not kwargs.get("opener") and wanted(Path(os.fsdecode(file))):
            return Full(file, "wb")
        return real_open(file, mode, *args, **kwargs)

    monkeypatch.setattr(builtins, "open", fake_open)
    monkeypatch.setattr(io, "open", fake_open)


def _flip_a_pixel(path: Path) -> None:
    """Invert one byte in the middle of the largest tensor stored in the zip file ``path``: the training images."""
    with zipfile.ZipFile(path) as z:
        info = max(z.infolist(), key=lambda i: i.file_size)
    with open(path, "r+b") as f:
        f.seek(info.header_offset + 26)
        name_len, extra_len = struct.unpack("<HH", f.read(4))
        f.seek(info.header_offset + 30 + name_len + extra_len + info.file_size // 2)
        byte = f.read(1)[0]
        f.seek(-1, os.SEEK_CUR)
        f.write(bytes([byte ^ 0xFF]))


def test_a_copied_cache_is_trusted_without_rebuilding(warm, monkeypatch):
    root, expected = warm
    monkeypatch.setattr(data, "_torchvision_class", no_work)
    assert _same(_quiet_load(root), expected)


def test_a_changed_byte_in_the_tensor_cache_is_caught_and_rebuilt(warm, cache):
    root, expected = warm
    _flip_a_pixel(cache / "MNIST.pt")
    with pytest.warns(UserWarning) as record:
        again = load_dataset("mnist", root)
    message = _one_warning(record)
    assert str(cache / "MNIST.pt") in message and "content hash" in message and "rebuilding" in message
    assert _same(again, expected)
    assert _same(_quiet_load(root), expected)  # the rebuilt cache is trusted again


def _truncate(path: Path) -> None:
    path.write_bytes(path.read_bytes()[:path.stat().st_size // 2])


def _garbage(path: Path) -> None:
    path.write_bytes(b"not a torch file")


def _empty(path: Path) -> None:
    path.write_bytes(b"")


def _python_objects(path: Path) -> None:
    torch.save({"fingerprint": Fraction(1, 3)}, path)  # weights_only=True refuses it unread


def _tensors_missing(path: Path) -> None:
    blob = torch.load(path, weights_only=True)
    del blob["train_X"]
    torch.save(blob, path)


DAMAGE = {"truncated": _truncate, "garbage": _garbage, "empty": _empty, "python objects": _python_objects,
          "tensors missing": _tensors_missing}


@pytest.mark.parametrize("damage", DAMAGE)
def test_a_damaged_tensor_cache_is_reported_in_one_sentence_and_rebuilt(warm, cache, damage):
    root, expected = warm
    DAMAGE[damage](cache / "MNIST.pt")
    with pytest.warns(UserWarning) as record:
        again = load_dataset("mnist", root)
    message = _one_warning(record)
    assert str(cache / "MNIST.pt") in message and "rebuilding" in message
    assert _same(again, expected)
    assert _same(_quiet_load(root), expected)


class _WaitingGzip:
    """A gzip file whose first read waits at ``barrier``: both extractions have opened their output by then."""

    def __init__(self, file, barrier: threading.Barrier):
        self.file, self.barrier, self.first = file, barrier, True

    def read(self, size=-1):
        if self.first:
            self.first = False
            self.barrier.wait()
        return self.file.read(size)

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.file.close()

    def __getattr__(self, name):
        return getattr(self.file, name)


def _run_twice(function) -> list:
    """Run ``function`` in two threads at once; the results, or the exceptions raised."""
    results = []

    def run():
        try:
            results.append(function())
        except BaseException as exc:  # noqa: BLE001 - reported by the caller
            results.append(exc)

    threads = [threading.Thread(target=run) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=120)
    return results


def test_concurrent_extractions_of_one_file_do_not_collide(tmp_path, monkeypatch):
    raw, out = copy_raw(tmp_path / "root"), tmp_path / "out"
    out.mkdir()
    name = "t10k-labels-idx1-ubyte"
    barrier, real_open = threading.Barrier(2, timeout=30), gzip.open
    monkeypatch.setattr(gzip, "open", lambda *args, **kwargs: _WaitingGzip(real_open(*args, **kwargs), barrier))
    results = _run_twice(lambda: data._extract(raw / f"{name}.gz", out / name, CANONICAL[name], "restore it"))
    assert results == [None, None]
    assert hashlib.md5((out / name).read_bytes()).hexdigest() == CANONICAL[name]
    assert [p.name for p in out.iterdir()] == [name]  # no temporary file left behind


def test_concurrent_first_loads_do_not_collide(warm, cache, monkeypatch):
    root, expected = warm
    (cache / "MNIST.pt").unlink()
    barrier, real_save = threading.Barrier(2, timeout=60), torch.save

    def save_then_wait(*args, **kwargs):  # both have written their cache file before either moves it into place
        real_save(*args, **kwargs)
        barrier.wait()

    monkeypatch.setattr(torch, "save", save_then_wait)
    results = _run_twice(lambda: load_dataset("mnist", root))
    assert len(results) == 2 and all(not isinstance(r, BaseException) and _same(r, expected) for r in results), results
    monkeypatch.undo()
    assert sorted(p.name for p in cache.iterdir()) == ["MNIST", "MNIST.pt"]
    assert _same(_quiet_load(root), expected)


def test_leftovers_of_interrupted_loads_are_removed_once_stale(warm, cache):
    root, expected = warm
    stale = [cache / "MNIST.partial", cache / ".MNIST.k3j2h1g0.partial.pt",
             cache / "MNIST" / "raw" / "train-images-idx3-ubyte.partial",
             cache / "MNIST" / "raw" / ".t10k-labels-idx1-ubyte.a1b2c3d4.partial"]
    live = [cache / ".MNIST.zz9y8x7w.partial.pt"]  # another process may be writing it right now
    others = [cache / ".embedding.q1w2e3r4.partial.npy", cache / "FashionMNIST.partial"]  # not MNIST's to remove
    two_hours_ago = time.time() - 7200
    for path in stale + live + others:
        path.write_bytes(b"half")
    for path in stale + others:
        os.utime(path, (two_hours_ago, two_hours_ago))
    assert _same(_quiet_load(root), expected)
    assert [p for p in stale if p.exists()] == [] and all(p.exists() for p in live + others)


def test_an_unwritable_cache_folder_is_one_sentence_before_any_work(tmp_path, monkeypatch):
    copy_raw(tmp_path / "root")
    (tmp_path / "file").write_text("a file, not a folder")
    monkeypatch.setenv("MNIST_EXPLORE_CACHE", str(tmp_path / "file" / "cache"))
    monkeypatch.setattr(gzip, "open", no_work)
    monkeypatch.setattr(data, "_torchvision_class", no_work)
    with pytest.raises(UserError) as info:
        load_dataset("mnist", tmp_path / "root")
    message = _one_sentence(info.value)
    assert str(tmp_path / "file" / "cache") in message and "MNIST_EXPLORE_CACHE" in message


def test_a_read_only_cache_folder_is_one_sentence_before_any_work(tmp_path, cache, monkeypatch):
    copy_raw(tmp_path / "root")
    (cache / "MNIST" / "raw").mkdir(parents=True)  # there, but on a read-only mount
    refuse_writes(monkeypatch, cache)
    monkeypatch.setattr(gzip, "open", no_work)
    monkeypatch.setattr(data, "_torchvision_class", no_work)
    with pytest.raises(UserError) as info:
        load_dataset("mnist", tmp_path / "root")
    message = _one_sentence(info.value)
    assert str(cache) in message and "Read-only file system" in message and "MNIST_EXPLORE_CACHE" in message


def test_a_read_only_warm_cache_loads_without_writing(warm, cache, monkeypatch):
    root, expected = warm
    stale = cache / "MNIST.partial"  # a leftover it cannot remove: left there, silently
    stale.write_bytes(b"half")
    os.utime(stale, (time.time() - 7200,) * 2)
    refused = refuse_writes(monkeypatch, cache)
    assert _same(_quiet_load(root), expected)
    assert refused == [str(stale)]


def test_a_read_only_data_folder_is_read_and_never_written(tmp_path, cache, monkeypatch):
    good, bad = copy_raw(tmp_path / "good"), copy_raw(tmp_path / "bad")
    path = bad / "train-labels-idx1-ubyte.gz"
    path.write_bytes(path.read_bytes()[:5000])
    refused = refuse_writes(monkeypatch, good, bad, paths.bundled_data_dir())
    monkeypatch.setenv("MNIST_EXPLORE_DATA", str(tmp_path / "bad"))
    with pytest.raises(DataError) as info:  # the error path writes nothing near the raw files either
        load_dataset("mnist")
    assert "train-labels-idx1-ubyte.gz is truncated" in _one_sentence(info.value)
    monkeypatch.setenv("MNIST_EXPLORE_DATA", str(tmp_path / "good"))
    assert len(load_dataset("mnist").train) == 60000
    assert refused == [] and (cache / "MNIST.pt").exists()


def test_a_failed_write_blames_the_cache_folder_not_the_data(tmp_path, cache, monkeypatch):
    copy_raw(tmp_path / "root")
    fill_disk(monkeypatch, lambda path: cache in path.parents)
    with pytest.raises(UserError) as info:
        load_dataset("mnist", tmp_path / "root")
    message = _one_sentence(info.value)
    assert not isinstance(info.value, DataError) and "truncated" not in message
    assert "No space left on device" in message and str(cache) in message and "MNIST_EXPLORE_CACHE" in message
    assert list((cache / "MNIST" / "raw").iterdir()) == []  # no half-written file left behind


def test_a_tensor_cache_that_cannot_be_written_is_a_warning_and_the_data_still_loads(warm, cache, monkeypatch):
    root, expected = warm
    (cache / "MNIST.pt").unlink()
    fill_disk(monkeypatch, lambda path: path.suffix == ".pt")
    with pytest.warns(UserWarning) as record:
        again = load_dataset("mnist", root)
    message = _one_warning(record)
    assert "No space left on device" in message and str(cache / "MNIST.pt") in message
    assert _same(again, expected)
    assert sorted(p.name for p in cache.iterdir()) == ["MNIST"]  # no half-written file left behind


def test_mnist_explore_cache_moves_every_derived_file(tmp_path, cache, monkeypatch):
    # Were the variable ignored anywhere, files would land in the checkout's data/cache or the per-user cache.
    monkeypatch.setattr(paths, "checkout_root", lambda: tmp_path / "checkout")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    monkeypatch.delenv("MNIST_EXPLORE_DATA", raising=False)
    assert paths.cache_dir() == cache
    assert len(load_dataset("mnist").train) == 60000
    written = sorted(p.relative_to(tmp_path).as_posix() for p in tmp_path.rglob("*") if p.is_file())
    assert written == sorted(["cache/MNIST.pt"] + [f"cache/MNIST/raw/{name}" for name in CANONICAL])


def test_cache_files_get_the_mode_that_open_gives(tmp_path, cache, monkeypatch):
    # A cache shared read-only with other users must stay readable: not the 0o600 of a temporary file.
    copy_raw(tmp_path / "root")
    monkeypatch.setattr(data, "_OPEN_MODE", [])  # found afresh, under the umask set here
    umask = os.umask(0o022)
    try:
        load_dataset("mnist", tmp_path / "root")
    finally:
        os.umask(umask)
    files = [cache / "MNIST.pt", *(cache / "MNIST" / "raw").iterdir()]
    assert {p.name: oct(p.stat().st_mode & 0o777) for p in files} == {p.name: oct(0o644) for p in files}
