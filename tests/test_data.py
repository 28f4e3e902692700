import gzip
import hashlib
import shutil
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


def test_corrupted_cache_is_rebuilt(tmp_path, cache):
    copy_raw(tmp_path)
    load_dataset("mnist", tmp_path)
    (cache / "MNIST.pt").write_bytes(b"not a torch file")
    with pytest.warns(UserWarning, match="rebuilding"):
        again = load_dataset("mnist", tmp_path)
    assert len(again.train) == 60000


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
