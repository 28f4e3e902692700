import pytest
import torch
from torch import nn

from mnist_explore.errors import UserError
from mnist_explore.models import (MODELS, MNIST_MEAN, MNIST_STD, Classifier, Standardize, build_model,
                                  count_parameters, deep_mlp, init_model)

# Worked out layer by layer (weights + biases; BN adds 2 per channel; biases dropped before BN).
EXPECTED_PARAMETERS = {
    "linear": 784 * 10 + 10,
    "mlp": 784 * 512 + 512 + 512 * 10 + 10,
    "first_cnn": 32 * 9 + 32 + 32 * 13 * 13 * 10 + 10,
    "second_cnn": 10 * 25 + 10 + 20 * 10 * 25 + 20 + 320 * 50 + 50 + 50 * 10 + 10,
    "vgg": (32 * 9 + 32) + (32 * 32 * 9 + 32) + (64 * 32 * 9 + 64) + (64 * 64 * 9 + 64) + 1024 * 512 + 512 + 5130,
    "vgg_dropout": (32 * 9 + 32) + (32 * 32 * 9 + 32) + (64 * 32 * 9 + 64) + (64 * 64 * 9 + 64) + 1024 * 512 + 512 + 5130,
    "vgg_bn_dropout": (32 * 9 + 64) + (32 * 32 * 9 + 64) + (64 * 32 * 9 + 128) + (64 * 64 * 9 + 128) + 1024 * 512 + 1024 + 5130,
    "fast_cnn": 24 * 25 + 48 + 48 * 24 * 9 + 96 + 1200 * 256 + 512 + 256 * 10 + 10,
}


def _simple_cnn_parameters(kernel: int, channels: list[int], side: int) -> int:
    """Convolutions without bias plus BN (2 per channel), then FC without bias plus BN on 10 outputs."""
    c_in = [1, *channels[:-1]]
    convs = sum(i * o * kernel * kernel + 2 * o for i, o in zip(c_in, channels))
    return convs + channels[-1] * side * side * 10 + 2 * 10


EXPECTED_PARAMETERS |= {
    "simple_cnn3": _simple_cnn_parameters(3, list(range(32, 177, 16)), 8),  # 28 - 10 * 2 = 8
    "simple_cnn5": _simple_cnn_parameters(5, [32, 64, 96, 128, 160], 8),  # 28 - 5 * 4 = 8
    "simple_cnn7": _simple_cnn_parameters(7, [48, 96, 144, 192], 4),  # 28 - 4 * 6 = 4
}


@pytest.mark.parametrize("name", list(MODELS))
def test_output_shape_and_parameter_count(name):
    model = build_model(name).eval()
    assert model(torch.rand(3, 1, 28, 28)).shape == (3, 10)
    assert count_parameters(model) == EXPECTED_PARAMETERS[name]


def test_registry_is_what_the_tests_expect():
    assert set(MODELS) == set(EXPECTED_PARAMETERS)


def test_unknown_model_lists_the_registry():
    with pytest.raises(UserError, match="Unknown model 'resnet': choose one of linear, mlp, first_cnn"):
        build_model("resnet")


def test_first_layer_standardises_with_buffers(mnist):
    model = build_model("linear")
    assert isinstance(model.standardize, Standardize) and "standardize.mean" in model.state_dict()
    x = mnist.train.X[:10000].float().unsqueeze(1) / 255
    z = model.standardize(x)
    assert abs(z.mean().item()) < 0.02 and abs(z.std().item() - 1) < 0.02
    assert (MNIST_MEAN, MNIST_STD) == (0.1307, 0.3081)


def test_same_seed_same_weights():
    torch.manual_seed(5)
    a = build_model("vgg_bn_dropout")
    torch.manual_seed(5)
    b = build_model("vgg_bn_dropout")
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))


def test_build_model_passes_its_standardisation_on():
    model = build_model("linear", mean=0.5, std=0.25)
    assert (model.standardize.mean.item(), model.standardize.std.item()) == (0.5, 0.25)


# --- named parts ---------------------------------------------------------------------------------------------

@pytest.mark.parametrize("name", list(MODELS))
def test_every_model_is_standardize_features_head(name):
    torch.manual_seed(0)
    model = build_model(name).eval()
    assert isinstance(model, Classifier)
    assert [n for n, _ in model.named_children()] == ["standardize", "features", "head"]
    x = torch.rand(4, 1, 28, 28)
    with torch.no_grad():
        penultimate = model.feature_extractor()(x)
        torch.testing.assert_close(model.head(penultimate), model(x), rtol=0, atol=0)
    # The head is the last layer(s) only: it starts with the Linear that produces the logits.
    first = model.head if isinstance(model.head, nn.Linear) else model.head[0]
    assert isinstance(first, nn.Linear) and first.out_features == 10 and penultimate.shape == (4, first.in_features)
    assert set(dict(model.features.named_children())) <= {"conv", "flatten", "fc"}


def test_deep_mlp_has_named_parts_too():
    model = deep_mlp(depth=3, width=16, batch_norm=True)
    assert [n for n, _ in model.named_children()] == ["standardize", "features", "head"]
    assert sum(isinstance(m, nn.Linear) for m in model.features.fc) == 3 and model.head.in_features == 16


def test_slicing_a_classifier_gives_a_plain_sequential():
    model = build_model("mlp").eval()
    trunk = model[:2]
    assert type(trunk) is nn.Sequential and list(trunk) == [model.standardize, model.features]


# --- the old construction, kept here as the reference: the same modules built in the same order -----------

def _old_vgg(dropout, batch_norm):
    def conv(c_in, c_out):
        return [nn.Conv2d(c_in, c_out, 3, bias=not batch_norm), *([nn.BatchNorm2d(c_out)] if batch_norm else []),
                nn.ReLU()]

    def pool():
        return [nn.MaxPool2d(2), *([nn.Dropout(0.25)] if dropout else [])]

    head = [nn.Linear(64 * 4 * 4, 512, bias=not batch_norm), *([nn.BatchNorm1d(512)] if batch_norm else []),
            nn.ReLU(), *([nn.Dropout(0.5)] if dropout else []), nn.Linear(512, 10)]
    return [*conv(1, 32), *conv(32, 32), *pool(), *conv(32, 64), *conv(64, 64), *pool(), nn.Flatten(), *head]


def _old_simple_cnn(kernel, channels):
    layers, side, c_in = [], 28, 1
    for c_out in channels:
        layers += [nn.Conv2d(c_in, c_out, kernel, bias=False), nn.BatchNorm2d(c_out), nn.ReLU()]
        side, c_in = side - kernel + 1, c_out
    return [*layers, nn.Flatten(), nn.Linear(c_in * side * side, 10, bias=False), nn.BatchNorm1d(10)]


_OLD_ZOO = {
    "linear": lambda: [nn.Flatten(), nn.Linear(784, 10)],
    "mlp": lambda: [nn.Flatten(), nn.Linear(784, 512), nn.ReLU(), nn.Linear(512, 10)],
    "first_cnn": lambda: [nn.Conv2d(1, 32, 3), nn.MaxPool2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(32 * 13 * 13, 10)],
    "second_cnn": lambda: [nn.Conv2d(1, 10, 5), nn.MaxPool2d(2), nn.ReLU(), nn.Conv2d(10, 20, 5), nn.Dropout2d(0.5),
                           nn.MaxPool2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(320, 50), nn.ReLU(), nn.Dropout(0.5),
                           nn.Linear(50, 10)],
    "vgg": lambda: _old_vgg(False, False),
    "vgg_dropout": lambda: _old_vgg(True, False),
    "vgg_bn_dropout": lambda: _old_vgg(True, True),
    "fast_cnn": lambda: [nn.Conv2d(1, 24, 5, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(24), nn.ReLU(),
                         nn.Conv2d(24, 48, 3, bias=False), nn.MaxPool2d(2), nn.BatchNorm2d(48), nn.ReLU(),
                         nn.Flatten(), nn.Linear(48 * 5 * 5, 256, bias=False), nn.BatchNorm1d(256), nn.ReLU(),
                         nn.Linear(256, 10)],
    "simple_cnn3": lambda: _old_simple_cnn(3, tuple(range(32, 177, 16))),
    "simple_cnn5": lambda: _old_simple_cnn(5, (32, 64, 96, 128, 160)),
    "simple_cnn7": lambda: _old_simple_cnn(7, (48, 96, 144, 192)),
}


def _old_model(name: str, seed: int) -> nn.Sequential:
    torch.manual_seed(seed)
    return nn.Sequential(Standardize(), *_OLD_ZOO[name]())


def test_the_reference_covers_the_zoo():
    assert set(_OLD_ZOO) == set(MODELS)


@pytest.mark.parametrize("name", list(MODELS))
def test_named_parts_keep_the_old_initial_weights_and_outputs(name):
    old = _old_model(name, 0)
    new = init_model(name, 0, "cpu")
    old_tensors = [*old.parameters(), *old.buffers()]
    new_tensors = [*new.parameters(), *new.buffers()]
    assert [t.shape for t in new_tensors] == [t.shape for t in old_tensors]
    for a, b in zip(new_tensors, old_tensors, strict=True):
        torch.testing.assert_close(a, b, rtol=0, atol=0)
    x = torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    with torch.no_grad():
        torch.testing.assert_close(new.eval()(x), old.eval()(x), rtol=0, atol=0)
        torch.manual_seed(2)  # dropout masks in training mode
        a = new.train()(x)
        torch.manual_seed(2)
        torch.testing.assert_close(a, old.train()(x), rtol=0, atol=0)
