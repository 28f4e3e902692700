import pytest
import torch

from mnist_explore.augment import AffineRanges, affine_matrices, get_augmentation, random_affine, random_translate
from mnist_explore.errors import UserError


@pytest.fixture(scope="module")
def x(mnist):
    return mnist.train.X[:64].float().unsqueeze(1) / 255


def test_affine_keeps_shape_and_range(x):
    out = random_affine(x, generator=torch.Generator().manual_seed(0))
    assert out.shape == x.shape and out.dtype == x.dtype
    assert out.min() >= -1e-6 and out.max() <= 1 + 1e-6
    assert not torch.allclose(out, x)


def test_zero_transform_is_the_identity(x):
    out = random_affine(x, AffineRanges(rotation=0, shift=0, shear=0, zoom=0), torch.Generator().manual_seed(0))
    torch.testing.assert_close(out, x, atol=1e-5, rtol=0)
    torch.testing.assert_close(random_translate(x, 0), x)


def shifted(images, dy, dx):
    """Images moved dy rows down and dx columns right, filled with 0: the reference."""
    out = torch.zeros_like(images)
    h, w = images.shape[-2:]
    out[..., max(dy, 0):h + min(dy, 0), max(dx, 0):w + min(dx, 0)] = \
        images[..., max(-dy, 0):h + min(-dy, 0), max(-dx, 0):w + min(-dx, 0)]
    return out


@pytest.mark.parametrize("dx,dy", [(2, 0), (0, -3), (1, 2)])
def test_integer_shift_by_affine_equals_the_reference(x, dx, dy):
    theta = torch.tensor([[1.0, 0, -2 * dx / 28], [0, 1.0, -2 * dy / 28]]).expand(len(x), 2, 3)
    torch.testing.assert_close(random_affine(x, theta=theta), shifted(x, dy, dx), atol=1e-5, rtol=0)


def test_translate_moves_each_image_by_whole_pixels(x):
    out = random_translate(x, 2, torch.Generator().manual_seed(1))
    found = []
    for i in range(len(x)):
        matches = [(dy, dx) for dy in range(-2, 3) for dx in range(-2, 3) if torch.equal(out[i], shifted(x[i], dy, dx))]
        assert len(matches) >= 1
        found.append(matches[0])
    assert len(set(found)) > 10  # the shifts vary from image to image


def test_same_generator_seed_same_augmentation(x):
    a = random_affine(x, generator=torch.Generator().manual_seed(3))
    b = random_affine(x, generator=torch.Generator().manual_seed(3))
    assert torch.equal(a, b)


def test_matrices_stay_within_the_ranges():
    theta = affine_matrices(10000, generator=torch.Generator().manual_seed(0)).double()
    assert theta[:, :, 2].abs().max() <= 2 * 0.08 + 1e-6  # shifts of at most 8% of the width
    det = torch.linalg.det(theta[:, :, :2])  # rotation and shear keep area; zoom scales it
    assert det.min() >= 1 / 1.08 ** 2 - 1e-6 and det.max() <= 1 / 0.92 ** 2 + 1e-6


def test_bad_inputs_are_refused(x):
    with pytest.raises(UserError, match="Unknown augmentation 'cutout'"):
        get_augmentation("cutout")
    with pytest.raises(UserError, match="float images"):
        random_affine((x * 255).to(torch.uint8))
    assert get_augmentation("none") is None and get_augmentation("affine") is random_affine
