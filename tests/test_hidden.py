import pytest
import torch
from torch import nn

from mnist_explore import hidden
from mnist_explore.errors import UserError
from mnist_explore.models import build_model


@pytest.fixture(scope="module")
def cnn():
    torch.manual_seed(0)
    return build_model("fast_cnn").eval()


def no_hooks(model):
    return all(not m._forward_hooks for m in model.modules())


def test_feature_maps_are_the_conv_outputs(cnn):
    x = torch.rand(3, 1, 28, 28)
    maps = hidden.feature_maps(cnn, x)
    assert {k: tuple(v.shape) for k, v in maps.items()} == {"conv1": (3, 24, 24, 24), "conv2": (3, 48, 10, 10)}
    conv1 = hidden.conv_layers(cnn)["conv1"]
    torch.testing.assert_close(maps["conv1"], conv1(cnn[0](x)))  # Standardize, then conv1
    assert no_hooks(cnn)


def test_penultimate_features_are_the_last_linear_input(cnn, mnist):
    split = mnist.test.subset(torch.arange(50))
    features = hidden.penultimate_features(cnn, split, batch_size=20)
    assert features.shape == (50, 256) and no_hooks(cnn)
    last = cnn[-1]
    with torch.no_grad():
        logits = cnn(split.X.float().unsqueeze(1) / 255)
    torch.testing.assert_close(last(features), logits, atol=1e-5, rtol=1e-5)


def test_saliency_is_the_input_gradient(cnn):
    x = torch.rand(2, 1, 28, 28)
    target = torch.tensor([3, 7])
    sal = hidden.saliency(cnn, x, target)
    xr = x.clone().requires_grad_(True)
    cnn(xr)[[0, 1], target].sum().backward()
    torch.testing.assert_close(sal, xr.grad.abs()[:, 0])


def test_class_maximising_inputs_raise_their_logits(cnn):
    images = hidden.class_maximising_inputs(cnn, steps=30)
    assert images.shape == (10, 28, 28) and images.min() >= 0 and images.max() <= 1
    with torch.no_grad():
        logits = cnn(images.unsqueeze(1))
        start = cnn(0.1 * torch.rand(10, 1, 28, 28, generator=torch.Generator().manual_seed(0)))
    gain = (logits - start).diagonal()
    assert (gain > 0).all()
    with pytest.raises(UserError, match="steps must be at least 1"):
        hidden.class_maximising_inputs(cnn, steps=0)


def test_models_without_convolutions_are_refused():
    with pytest.raises(UserError, match="no convolutional layers"):
        hidden.conv_layers(nn.Sequential(nn.Flatten(), nn.Linear(784, 10)))
