"""Augmentation moves image, keypoints and masks together; flips rename left and right."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posekit.training.augment import (
    AugmentConfig,
    Sample,
    fit_matrix,
    sample_matrix,
    warp_image,
    warp_keypoints,
    warp_mask,
    warp_sample,
)


def _blob_image(x, y, size=(80, 60), sigma=2.5):
    W, H = size
    ys, xs = np.mgrid[0:H, 0:W]
    g = np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * sigma ** 2))
    img = np.zeros((H, W, 3), np.uint8)
    img[..., 1] = (255 * g).astype(np.uint8)
    return img


def _centroid(channel):
    w = channel.astype(np.float64) ** 2
    ys, xs = np.mgrid[0:channel.shape[0], 0:channel.shape[1]]
    return (w * xs).sum() / w.sum(), (w * ys).sum() / w.sum()


@settings(max_examples=25, deadline=None)
@given(seed=st.integers(0, 2**31 - 1))
def test_keypoints_follow_the_pixels(toy, seed):
    """Wherever the warp puts a marked pixel, the keypoint on it goes there too."""
    rng = np.random.default_rng(seed)
    x, y = rng.uniform(25, 55), rng.uniform(20, 40)
    kp = np.zeros((1, 4, 3))
    kp[0, 1] = x, y, 2  # the neck, which no flip renames
    config = AugmentConfig(scale=(0.8, 1.6), rotation=40, shift=0.1, colour=0.0)
    out, _ = warp_sample(Sample(_blob_image(x, y), kp), toy, rng, (64, 64), config, fill=0)
    cx, cy = _centroid(out.image[..., 1])
    assert out.keypoints[0, 1, :2] == pytest.approx((cx, cy), abs=0.35)


def test_a_flip_renames_left_and_right(toy):
    kp = np.zeros((1, 4, 3))
    kp[0, 2] = 10, 30, 2  # lhand on the image's left
    kp[0, 3] = 50, 30, 2  # rhand on the right
    matrix = np.array([[-1.0, 0.0, 63.0], [0.0, 1.0, 0.0]])  # mirror of a 64-wide image
    out = warp_keypoints(kp, matrix, True, toy)
    # the mirrored left-hand point is now the right hand, and the other way round
    assert out[0, 3, :2] == pytest.approx((53, 30))
    assert out[0, 2, :2] == pytest.approx((13, 30))


def test_sampled_flips_use_the_flip_pairs(toy):
    kp = np.zeros((1, 4, 3))
    kp[0] = [[30, 10, 2], [30, 20, 2], [10, 30, 2], [50, 30, 2]]
    config = AugmentConfig(scale=(1, 1), rotation=0, shift=0, flip=1.0, colour=0)
    out, matrix = warp_sample(Sample(np.zeros((64, 64, 3), np.uint8), kp), toy,
                              np.random.default_rng(1), (64, 64), config)
    assert matrix[0, 0] < 0  # mirrored
    # the new left hand is the mirrored right hand, and the other way round
    assert out.keypoints[0, 2, :2] == pytest.approx((63 - 50, 30))
    assert out.keypoints[0, 3, :2] == pytest.approx((63 - 10, 30))


def test_unlabelled_keypoints_stay_unlabelled(toy):
    kp = np.zeros((1, 4, 3))
    kp[0, 0] = 20, 20, 2
    rng = np.random.default_rng(0)
    matrix, flip = sample_matrix(rng, (64, 64), (32, 32), AugmentConfig())
    out = warp_keypoints(kp, matrix, flip, toy)
    assert (out[0, 1:] == 0).all()


def test_mask_moves_with_the_image():
    mask = np.zeros((60, 80), bool)
    mask[10:30, 40:70] = True
    img = np.where(mask[..., None], 255, 0).astype(np.uint8).repeat(3, axis=2)
    matrix, _ = sample_matrix(np.random.default_rng(5), (80, 60), (64, 64),
                              AugmentConfig(colour=0))
    warped = warp_mask(mask, matrix, (64, 64))
    pixels = warp_image(img, matrix, (64, 64), fill=0)[..., 0] >= 128
    assert warped.sum() > 100
    assert (warped == pixels).mean() > 0.99


def test_fit_keeps_aspect_and_pads_right_or_bottom():
    matrix = fit_matrix((200, 100), (64, 64))
    corners = np.array([[-0.5, -0.5], [199.5, 99.5]]) @ matrix[:, :2].T + matrix[:, 2]
    assert corners == pytest.approx(np.array([[-0.5, -0.5], [63.5, 31.5]]))


def test_bad_ranges_are_refused():
    from posekit.errors import PosekitError

    with pytest.raises(PosekitError, match="scale"):
        AugmentConfig(scale=(2.0, 1.0))
    with pytest.raises(PosekitError, match="flip"):
        AugmentConfig(flip=1.5)
