import pytest
import torch

from mnist_explore.augment import AffineRanges, affine_matrices, get_augmentation, random_affine, random_translate
from mnist_explore.errors import UserError


@pytest.fixture(scope="module")
def x(mnist):
    return mnist.train.X[:64].float().unsqueeze(1) / 255


BLACK = -0.4242  # a black pixel after MNIST standardisation: the corner value the affine must fill with


def blob_images(n, cy=12.0, cx=16.0, radius=4.0):
    """n copies of one smooth round blob of ink centred at row cy, column cx, on a standardised black background."""
    rows, cols = torch.meshgrid(torch.arange(28.0), torch.arange(28.0), indexing="ij")
    r = torch.hypot(rows - cy, cols - cx).clamp(max=radius)
    blob = 1 + torch.cos(torch.pi * r / radius)  # 2 at the centre, 0 from radius on
    return (BLACK + blob).expand(n, 1, 28, 28).contiguous(), rows, cols


def test_affine_moves_each_image_by_its_own_matrix_and_fills_with_the_corner_value():
    X, rows, cols = blob_images(64)
    out = random_affine(X, generator=torch.Generator().manual_seed(0))
    assert out.shape == X.shape and out.dtype == X.dtype
    # Filled with the corner value: the outer ring (which samples outside the image) is exactly black,
    # and no pixel is darker than black or brighter than the ink.
    ring = torch.ones(28, 28, dtype=torch.bool)
    ring[2:-2, 2:-2] = False
    torch.testing.assert_close(out[:, 0, ring], torch.full_like(out[:, 0, ring], BLACK), atol=1e-6, rtol=0)
    assert out.min() >= BLACK - 1e-6 and out.max() <= X.max() + 1e-6
    # The geometry, from the matrices drawn with the same seed: affine_grid maps output coordinates p
    # (normalised to [-1, 1], pixel centres at (2j + 1) / 28 - 1) to input ones A p + t, so a blob centred
    # at q lands at A^-1 (q - t), and its ink is multiplied by 1 / det A (the zoom's change of area).
    theta = affine_matrices(64, generator=torch.Generator().manual_seed(0)).double()
    A, t = theta[:, :, :2], theta[:, :, 2]
    q = (2 * torch.tensor([16.0, 12.0], dtype=torch.float64) + 1) / 28 - 1  # (x, y) of the blob
    expected = (torch.linalg.solve(A, q - t) * 28 + 27) / 2  # back to (column, row) in pixels
    ink = (out[:, 0] - BLACK).double()
    mass = ink.sum(dim=(1, 2))
    centroid = torch.stack([(ink * cols).sum(dim=(1, 2)), (ink * rows).sum(dim=(1, 2))], dim=1) / mass[:, None]
    torch.testing.assert_close(centroid, expected, atol=0.1, rtol=0)  # pixels
    assert (expected - torch.tensor([16.0, 12.0], dtype=torch.float64)).norm(dim=1).max() > 2  # they did move
    # (bilinear sampling loses up to ~1.5% of the ink when it shrinks; the zoom changes the area by up to 17%)
    torch.testing.assert_close(mass * torch.linalg.det(A), (X[0, 0] - BLACK).double().sum().expand(64), rtol=0.03, atol=0)


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


def sampled_parameters(theta):
    """Rotation (degrees), shear (radians), zoom and shifts (fractions) recovered from matrices (n, 2, 3).

    Each matrix is R(angle) @ [[1, tan(shear)], [0, 1]] / scale with an unscaled shift of 2 * shift:
    the first column gives the angle and 1 / scale, its dot product with the second gives tan(shear).
    """
    a0, a1, t = theta[:, :, 0], theta[:, :, 1], theta[:, :, 2]
    return {"rotation": torch.rad2deg(torch.atan2(a0[:, 1], a0[:, 0])),
            "shear": torch.atan((a0 * a1).sum(1) / (a0 * a0).sum(1)),
            "zoom": 1 / a0.norm(dim=1) - 1,
            "shift_x": t[:, 0] / 2, "shift_y": t[:, 1] / 2}


@pytest.mark.parametrize("ranges", [AffineRanges(), AffineRanges(rotation=20, shift=0.05, shear=0.1, zoom=0.2)],
                         ids=["keras", "distinct"])
def test_matrices_draw_each_parameter_uniformly_over_its_range(ranges):
    from scipy import stats

    theta = affine_matrices(10000, ranges, generator=torch.Generator().manual_seed(0)).double()
    params = sampled_parameters(theta)
    for name, values in params.items():
        r = getattr(ranges, name.split("_")[0])
        # Uniform on [-r, r]: never outside, and close to that distribution (Kolmogorov-Smirnov distance;
        # 0.02 is the 0.1% critical value at n = 10000, and a range 10% off gives about 0.05).
        assert values.abs().max() <= r * (1 + 1e-5), name
        assert stats.kstest(values.numpy(), "uniform", args=(-r, 2 * r)).statistic < 0.02, name
    correlation = torch.corrcoef(torch.stack(list(params.values())))
    assert (correlation - torch.eye(5, dtype=correlation.dtype)).abs().max() < 0.05  # drawn independently


def test_bad_inputs_are_refused(x):
    with pytest.raises(UserError, match="Unknown augmentation 'cutout'"):
        get_augmentation("cutout")
    with pytest.raises(UserError, match="float images"):
        random_affine((x * 255).to(torch.uint8))
    assert get_augmentation("none") is None and get_augmentation("affine") is random_affine
