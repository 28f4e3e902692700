import pytest
import torch

from mnist_explore.errors import UserError
from mnist_explore.models import MODELS, MNIST_MEAN, MNIST_STD, Standardize, build_model, count_parameters

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
    assert isinstance(model[0], Standardize) and "0.mean" in model.state_dict()
    x = mnist.train.X[:10000].float().unsqueeze(1) / 255
    z = model[0](x)
    assert abs(z.mean().item()) < 0.02 and abs(z.std().item() - 1) < 0.02
    assert (MNIST_MEAN, MNIST_STD) == (0.1307, 0.3081)


def test_same_seed_same_weights():
    torch.manual_seed(5)
    a = build_model("vgg_bn_dropout")
    torch.manual_seed(5)
    b = build_model("vgg_bn_dropout")
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
