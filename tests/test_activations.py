import copy

import pytest
import torch
from torch import nn

from mnist_explore import activations as hidden
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


def test_saliency_is_the_size_of_each_pixels_effect_on_the_target_logit(cnn):
    model = copy.deepcopy(cnn).double()
    x = torch.rand(3, 1, 28, 28, generator=torch.Generator().manual_seed(0), dtype=torch.float64)
    with torch.no_grad():
        predicted = model(x).argmax(1)
    target = (predicted + torch.tensor([1, 4, 7])) % 10  # never the predicted class
    sal = hidden.saliency(model.train(), x, target)  # in eval mode, whatever mode the model was left in
    assert sal.shape == (3, 28, 28) and not model.training and no_hooks(model)
    # The reference: central finite differences in float64, one pixel of one image at a time (so the
    # other images in the batch cannot matter), at a few random pixels and the most salient one.
    pixels = torch.randint(0, 28, (3, 6, 2), generator=torch.Generator().manual_seed(1)).tolist()
    h = 1e-6
    for i in range(3):
        for r, c in pixels[i] + [divmod(int(sal[i].argmax()), 28)]:
            step = torch.zeros_like(x[i:i + 1])
            step[0, 0, r, c] = h
            with torch.no_grad():
                d = (model(x[i:i + 1] + step)[0, target[i]] - model(x[i:i + 1] - step)[0, target[i]]) / (2 * h)
            assert float(sal[i, r, c]) == pytest.approx(abs(float(d)), rel=1e-5, abs=1e-9), (i, r, c)
    assert (sal.flatten(1).amax(1) > 0).all()
    # Without a target, the gradient of the predicted class's logit.
    torch.testing.assert_close(hidden.saliency(model, x), hidden.saliency(model, x, predicted), rtol=0, atol=0)


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
