"""Shared scenes for decoding tests: people of a skeleton placed by hand, no randomness
from other modules, so the expected peaks and limbs are known."""

from __future__ import annotations

import numpy as np
import pytest

from posekit.skeleton import Skeleton, load_skeleton


def place(skeleton: Skeleton, centres: list[tuple[float, float]], size: float) -> np.ndarray:
    """(P, K, 3) people: the skeleton's rest pose, ``size`` pixels tall, centred at each
    of ``centres``, every keypoint visible."""
    rest = skeleton.rest_pose_array - 0.5
    out = np.zeros((len(centres), skeleton.num_keypoints, 3))
    for p, (cx, cy) in enumerate(centres):
        out[p, :, 0] = cx + rest[:, 0] * size
        out[p, :, 1] = cy + rest[:, 1] * size
        out[p, :, 2] = 2
    return out


@pytest.fixture
def coco18() -> Skeleton:
    return load_skeleton("coco18")


@pytest.fixture
def three_people(coco18):
    """Three separated coco18 people in a 656 x 368 image."""
    return place(coco18, [(120.3, 180.6), (330.8, 190.2), (530.1, 175.9)], 300.0)


@pytest.fixture
def place_people():
    return place
