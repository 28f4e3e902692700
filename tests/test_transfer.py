"""Transfer learning: resizing, freezing, every mode, the optional data sets and weights."""
from __future__ import annotations

import pytest
import torch

from mnist_explore import transfer
from mnist_explore.data import DataError, Split, load_dataset, to_float
from mnist_explore.errors import UserError
from mnist_explore.models import build_model
from mnist_explore.studies import transfer as recipes


def test_sklearn_digits_look_like_mnist_and_keep_their_labels():
    from sklearn.datasets import load_digits

    pool, test = transfer.sklearn_digits()
    assert len(pool) + len(test) == 1797 and pool.X.dtype == torch.uint8 and pool.X.shape[1:] == (28, 28)
    assert int(pool.X.max()) == 255 and int(pool.X.min()) == 0
    assert int(pool.X[:, :4].max()) == 0 and int(pool.X[:, :, -4:].max()) == 0  # MNIST's empty border
    all_y = torch.cat([pool.y, test.y]).sort().values
    assert torch.equal(all_y, torch.from_numpy(load_digits().target).long().sort().values)
    # each image is still its digit: the brightest 8x8 cell of the original is bright after resizing
    digits = load_digits()
    first = torch.from_numpy(digits.images[0])
    r, c = divmod(int(first.argmax()), 8)
    X_all, _ = transfer.sklearn_digits(test_fraction=0.0)
    assert int(X_all.X[0, 4 + r * 20 // 8 + 1, 4 + c * 20 // 8 + 1]) > 128


def test_labels_per_class_picks_that_many_of_each():
    split = Split(torch.zeros(100, 28, 28, dtype=torch.uint8), torch.arange(100) % 10)
    few = transfer.labels_per_class(split, 3, seed=1)
    assert torch.equal(torch.bincount(few.y, minlength=10), torch.full((10,), 3))
    assert transfer.labels_per_class(split, None) is split
    with pytest.raises(UserError, match="only 10 examples"):
        transfer.labels_per_class(split, 11)


@pytest.fixture(scope="module")
def source():
    torch.manual_seed(1)  # not prepare's seed 0, so that a source's weights differ from a fresh model's
    model = build_model("fast_cnn")
    model(torch.rand(32, 1, 28, 28))  # give batch norm some running statistics
    return model.eval()


@pytest.mark.parametrize("mode", ["probe", "last_block"])
def test_freezing_really_freezes(source, mode):
    pool = Split(torch.randint(0, 256, (40, 28, 28), dtype=torch.uint8), torch.arange(40) % 10)
    model = transfer.prepare(source, mode)
    in_prefix = tuple(f"{name}." for name in model.frozen)
    frozen = {k: v.clone() for k, v in model.state_dict().items() if k.startswith(in_prefix)}
    assert any(k.startswith("features.conv.") for k in frozen)
    assert all(p.requires_grad == (not n.startswith(in_prefix)) for n, p in model.named_parameters())
    transfer.fit_suffix(model, transfer.prefix_features(model, pool.X), pool.y, steps=5)
    after = model.state_dict()
    assert all(torch.equal(v, after[k]) for k, v in frozen.items())  # weights and BN statistics alike
    assert not torch.equal(model.head.weight, source.head.weight)


def test_each_mode_freezes_the_named_blocks_before_the_first_it_trains(source):
    assert list(transfer.blocks(source)) == ["standardize", "features.conv", "features.flatten", "features.fc", "head"]
    assert {mode: transfer.frozen_blocks(source, mode) for mode in transfer.MODES} == {
        "scratch": ("standardize",), "all": ("standardize",),
        "probe": ("standardize", "features.conv", "features.flatten", "features.fc"),
        "last_block": ("standardize", "features.conv", "features.flatten")}


@pytest.mark.parametrize("mode", transfer.MODES)
def test_prefix_then_suffix_is_the_whole_model(source, mode):
    model = transfer.prepare(source, mode)
    X = torch.randint(0, 256, (7, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(0))
    with torch.no_grad():
        whole = model.eval()(to_float(X))
        torch.testing.assert_close(transfer.suffix(model)(transfer.prefix_features(model, X)), whole, rtol=0, atol=0)


# What each mode trains, by layer type (fast_cnn: two Conv2d, then Linear 1200->256 and the Linear head).
TRAINED = {"scratch": {"conv": True, "hidden": True, "head": True},
           "probe": {"conv": False, "hidden": False, "head": True},
           "last_block": {"conv": False, "hidden": True, "head": True},
           "all": {"conv": True, "hidden": True, "head": True}}


def weight_layers(model):
    """The model's Conv2d and Linear layers, by role: conv1, conv2, hidden (the first Linear), head."""
    convs = [m for m in model.modules() if isinstance(m, torch.nn.Conv2d)]
    linears = [m for m in model.modules() if isinstance(m, torch.nn.Linear)]
    return {"conv1": convs[0], "conv2": convs[1], "hidden": linears[0], "head": linears[1]}


@pytest.mark.parametrize("mode", transfer.MODES)
def test_each_mode_trains_exactly_its_layers_from_the_right_start(source, mode):
    pool, test = transfer.sklearn_digits()
    accuracy, model = transfer.run(source, mode, transfer.labels_per_class(pool, 10), test, steps=40)
    assert 0.2 < accuracy <= 1.0  # chance is 0.1
    # The accuracy from cached prefix features is the full model's accuracy on the test images.
    with torch.no_grad():
        full = (model(to_float(test.X)).argmax(1) == test.y).float().mean().item()
    assert accuracy == pytest.approx(full, abs=1.5 / len(test))  # at most one near-tie may flip
    start = weight_layers(transfer.prepare(source, mode))  # run() trains this very model (same seed)
    src, trained = weight_layers(source), weight_layers(model)
    for name, layer in trained.items():
        role = "conv" if name.startswith("conv") else name
        moved = not torch.equal(layer.weight, start[name].weight)
        assert moved == TRAINED[mode][role], f"{mode}: {name} {'moved' if moved else 'did not move'}"
        assert layer.weight.requires_grad == TRAINED[mode][role]
        # Every mode but scratch starts from the source's weights, except for a fresh head.
        copied = torch.equal(start[name].weight, src[name].weight)
        assert copied == (mode != "scratch" and name != "head"), f"{mode}: {name} copied={copied}"


def test_source_weights_are_not_touched(source):
    before = {k: v.clone() for k, v in source.state_dict().items()}
    pool, test = transfer.sklearn_digits()
    transfer.run(source, "all", transfer.labels_per_class(pool, 5), test, steps=5)
    assert all(torch.equal(v, source.state_dict()[k]) for k, v in before.items())


def test_relative_change_is_zero_for_a_copy_and_positive_after_training(source):
    assert all(v == 0 for v in transfer.relative_change(source, source).values())
    pool, test = transfer.sklearn_digits()
    _, tuned = transfer.run(source, "all", transfer.labels_per_class(pool, 5), test, steps=5)
    change = transfer.relative_change(source, tuned)
    assert change["features.conv.0.weight"] > 0 and "head.weight" in change


def test_layer_changes_are_labelled_by_readable_layer_names(source):
    from mnist_explore.studies.transfer import layer_labels

    assert layer_labels(source) == {"features.conv.0.weight": "conv1 (5×5, 24)",
                                    "features.conv.4.weight": "conv2 (3×3, 48)", "features.fc.0.weight": "fc (1200 → 256)"}


def test_unknown_mode_is_refused(source):
    with pytest.raises(UserError, match="Unknown transfer mode 'freeze_some'.*scratch, probe"):
        transfer.prepare(source, "freeze_some")


def test_missing_fashion_mnist_gives_a_clear_message_and_the_task_is_skipped(tmp_path, monkeypatch):
    import dataclasses

    from mnist_explore import data

    absent = dataclasses.replace(data.SOURCES["fashion"], system_dir=tmp_path / "not-installed")
    monkeypatch.setitem(data.SOURCES, "fashion", absent)
    with pytest.raises(DataError, match="apt-get install dataset-fashion-mnist"):
        load_dataset("fashion", root=tmp_path)
    monkeypatch.setattr(recipes, "load_dataset", lambda name: load_dataset(name, root=tmp_path))
    assert recipes.fashion_or_none() is None


def test_imagenet_weights_are_never_downloaded(tmp_path, monkeypatch):
    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    assert transfer.torch_cache_weights() is None
    with pytest.raises(UserError, match="not in the local torch cache.*skipped offline"):
        transfer.imagenet_resnet18()


def test_imagenet_features_from_weights_in_the_cache(tmp_path, monkeypatch):
    from torchvision.models import resnet18
    from torchvision.transforms.functional import normalize

    monkeypatch.setenv("TORCH_HOME", str(tmp_path))
    path = tmp_path / "hub" / "checkpoints" / transfer.RESNET18_FILE
    path.parent.mkdir(parents=True)
    torch.manual_seed(0)
    reference = resnet18(weights=None)  # stand-in weights: the loading path, offline
    torch.save(reference.state_dict(), path)
    model = transfer.imagenet_resnet18("cpu")
    assert not model.training and isinstance(model.fc, torch.nn.Identity)
    torch.testing.assert_close(model.conv1.weight, reference.conv1.weight, rtol=0, atol=0)  # the cached weights
    X = torch.randint(0, 256, (3, 28, 28), dtype=torch.uint8, generator=torch.Generator().manual_seed(1))
    features = transfer.imagenet_features(model, X, size=32, batch_size=2)
    # The reference: resize to 32 x 32, grey to RGB, ImageNet normalisation, then the network up to its pooling.
    x = torch.nn.functional.interpolate(X[:, None].float() / 255, size=(32, 32), mode="bilinear", align_corners=False)
    x = normalize(x.expand(-1, 3, -1, -1), [0.485, 0.456, 0.406], [0.229, 0.224, 0.225])
    reference.fc = torch.nn.Identity()
    with torch.no_grad():
        expected = reference.eval()(x)
    assert features.shape == (3, 512)
    torch.testing.assert_close(features, expected, rtol=1e-4, atol=1e-5)


def test_linear_probe_separates_separable_features():
    g = torch.Generator().manual_seed(0)
    y = torch.arange(200) % 4
    features = torch.nn.functional.one_hot(y, 4).float() * 3 + torch.randn(200, 4, generator=g) * 0.3
    assert transfer.linear_probe_accuracy(features[:150], y[:150], features[150:], y[150:]) > 0.95
