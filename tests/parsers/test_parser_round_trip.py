"""Clean maps round trip, every installed skeleton and parser.

People placed apart -> training targets (``posekit.targets``) -> ``build_candidates`` ->
parser -> exactly those people, every keypoint within 1 px.
"""

from __future__ import annotations

import functools

import numpy as np
import pytest

import posekit
from posekit.decode import build_candidates
from posekit.parsers import get_parser
from posekit.targets import render_targets

SIZE = 360  # a person's rest-pose box side in pixels: the shortest limbs stay >= 7 px
MARGIN = 40


def _people(skeleton):
    """Three people side by side, apart, the middle one smaller: (P, K, 3) with v = 2."""
    rest = skeleton.rest_pose_array
    people = []
    for p, scale in enumerate((1.0, 0.8, 1.0)):
        xy = (rest - rest.min(axis=0)) * SIZE * scale + [MARGIN + p * (SIZE + MARGIN), MARGIN]
        people.append(np.column_stack([xy, np.full(len(rest), 2.0)]))
    return np.stack(people)


@functools.cache
def _scene(name):
    skeleton = posekit.load_skeleton(name)
    people = _people(skeleton)
    image_size = (3 * (SIZE + MARGIN) + MARGIN, SIZE + 2 * MARGIN)
    targets = render_targets(people, skeleton, image_size)
    candidates = build_candidates(targets.heatmaps, targets.pafs, skeleton,
                                  image_size=image_size)
    return skeleton, people, candidates


@pytest.mark.parametrize("parser", posekit.list_parsers())
@pytest.mark.parametrize("skeleton_name", posekit.list_skeletons())
def test_clean_maps_give_back_the_people(skeleton_name, parser):
    skeleton, truth, candidates = _scene(skeleton_name)
    found = get_parser(parser)(candidates, skeleton)
    assert len(found) == len(truth)
    for person in truth:
        nearest = min(found, key=lambda q: np.abs(q.keypoints[:, :2] - person[:, :2]).max())
        assert nearest.visible.all()
        assert np.abs(nearest.keypoints[:, :2] - person[:, :2]).max() <= 1.0
