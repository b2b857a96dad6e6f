"""Overlays: limbs coloured per limb, people told apart by their own colour."""

from __future__ import annotations

import numpy as np

from posekit import load_skeleton
from posekit.inference.render import limb_colors, person_color, render_people
from posekit.people import Person


def _person(sk, dx=0.0):
    kp = np.zeros((sk.num_keypoints, 3))
    rest = sk.rest_pose_array
    kp[:, 0] = 40 + rest[:, 0] * 120 + dx
    kp[:, 1] = 20 + rest[:, 1] * 160
    kp[:, 2] = 0.9
    return Person(kp, 0.9)


def test_limbs_have_their_own_colours_and_people_their_own_halo():
    sk = load_skeleton("coco18")
    colors = limb_colors(sk.num_limbs)
    assert len(set(colors)) == sk.num_limbs
    assert person_color(0) != person_color(1)
    image = np.full((200, 420, 3), 60, np.uint8)
    a, b = _person(sk), _person(sk, dx=200)
    out = np.asarray(render_people(image, [a, b], sk))
    assert out.shape == image.shape
    # the centre of each limb carries that limb's colour
    for l, (i, j) in enumerate(sk.limb_index):
        x, y = (a.keypoints[i, :2] + a.keypoints[j, :2]) / 2
        if np.hypot(*(a.keypoints[i, :2] - a.keypoints[j, :2])) < 12:
            continue  # too short to have a clear middle
        patch = out[round(y) - 2: round(y) + 3, round(x) - 2: round(x) + 3].reshape(-1, 3)
        distance = np.abs(patch.astype(int) - colors[l]).max(axis=1)
        assert distance.min() <= 40, (l, colors[l])
    # the keypoints of the two people are filled with two different person colours
    ka = a.keypoints[1, :2].round().astype(int)
    kb = b.keypoints[1, :2].round().astype(int)
    assert tuple(out[ka[1], ka[0]]) == person_color(0)
    assert tuple(out[kb[1], kb[0]]) == person_color(1)


def test_missing_keypoints_are_not_drawn_and_image_is_kept():
    sk = load_skeleton("coco18")
    p = _person(sk)
    p.keypoints[:, 2] = 0  # nobody found
    image = np.full((100, 100, 3), 200, np.uint8)
    out = np.asarray(render_people(image, [p], sk))
    assert len(np.unique(out.reshape(-1, 3), axis=0)) == 1  # dimmed but untouched
