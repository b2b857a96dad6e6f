"""Rendered scenes: shaded people of any skeleton, visibility from what was drawn."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posekit import Skeleton, list_skeletons, load_skeleton
from posekit.errors import PosekitError
from posekit.synth.render import person_scale, render_scene, synth_scene

COCO18 = load_skeleton("coco18")
TOY = Skeleton(name="toy4", keypoints=("head", "neck", "lhand", "rhand"),
               limbs=(("head", "neck"), ("neck", "lhand"), ("neck", "rhand")),
               flip_pairs=(("lhand", "rhand"),))


@pytest.mark.parametrize("name", list_skeletons())
def test_every_installed_skeleton_renders(name):
    sk = load_skeleton(name)
    scene = synth_scene(sk, np.random.default_rng(1), (96, 80), 3)
    assert scene.image.shape == (80, 96, 3) and scene.image.dtype == np.uint8
    assert scene.keypoints.shape == (3, sk.num_keypoints, 3)
    assert scene.masks.shape == (3, 80, 96)


def test_a_skeleton_without_a_rest_pose_renders():
    scene = synth_scene(TOY, np.random.default_rng(0), (64, 64), 2)
    assert scene.masks.any(axis=(1, 2)).all()


@settings(max_examples=15, deadline=None)
@given(seed=st.integers(0, 2**31 - 1), people=st.integers(1, 5))
def test_visibility_says_whose_pixel_the_keypoint_is_on(seed, people):
    scene = synth_scene(COCO18, np.random.default_rng(seed), (128, 96), people,
                        occluders=1.0)
    kp = scene.keypoints
    for p in range(people):
        for k in np.flatnonzero(kp[p, :, 2] > 0):
            x, y = np.clip(np.rint(kp[p, k, :2]).astype(int), 0, [127, 95])
            assert scene.masks[p, y, x] == (kp[p, k, 2] == 2)
    # masks never overlap: each pixel belongs to at most one person
    assert scene.masks.sum(axis=0).max() <= 1
    assert (scene.areas == scene.masks.reshape(people, -1).sum(axis=1)).all()


def test_people_are_solid_shaded_bodies_not_lines():
    rng = np.random.default_rng(2)
    kp = np.zeros((1, 18, 3))
    rest = COCO18.rest_pose_array
    kp[0, :, :2] = rest * 160 + 20
    kp[0, :, 2] = 2
    scene = render_scene(COCO18, kp, (200, 200), rng, occluders=0, noise=0)
    limbs = COCO18.limb_index[: COCO18.num_tree_limbs]
    length = np.linalg.norm(kp[0, limbs[:, 0], :2] - kp[0, limbs[:, 1], :2], axis=1).sum()
    assert scene.areas[0] > 5 * length  # parts several pixels thick
    body = scene.image[scene.masks[0]].astype(float)
    assert body.std(axis=0).max() > 10  # shading, not flat colour
    assert person_scale(COCO18, kp)[0] == pytest.approx(160, rel=0.01)
    x, y, w, h = scene.boxes[0]
    assert w > 0.3 * 160 and h > 0.8 * 160


def test_a_later_person_covers_an_earlier_one():
    kp = np.zeros((2, 18, 3))
    kp[:, :, :2] = COCO18.rest_pose_array * 100 + 10
    kp[:, :, 2] = 2
    scene = render_scene(COCO18, kp, (120, 120), np.random.default_rng(0), occluders=0)
    # identical places: whoever is drawn last owns every keypoint, the other none
    owners = (scene.keypoints[:, :, 2] == 2).all(axis=1)
    assert owners.sum() == 1
    assert (scene.keypoints[~owners][0, :, 2] == 1).all()
    assert scene.areas[~owners][0] == 0


def test_unlabelled_keypoints_stay_unlabelled_and_seeds_repeat():
    a = synth_scene(COCO18, np.random.default_rng(5), (64, 64), 4)
    b = synth_scene(COCO18, np.random.default_rng(5), (64, 64), 4)
    assert np.array_equal(a.image, b.image) and np.array_equal(a.keypoints, b.keypoints)
    c = synth_scene(COCO18, np.random.default_rng(6), (64, 64), 4)
    assert not np.array_equal(a.image, c.image)
    kp = np.zeros((1, 18, 3))
    kp[0, :5] = [[10, 10, 2], [10, 20, 2], [5, 20, 2], [3, 30, 2], [2, 40, 2]]
    scene = render_scene(COCO18, kp, (64, 64), np.random.default_rng(0))
    assert (scene.keypoints[0, 5:] == 0).all()


def test_bad_keypoints_are_refused():
    with pytest.raises(PosekitError, match=r"\(P, 18, 3\)"):
        render_scene(COCO18, np.zeros((1, 17, 3)), (64, 64), np.random.default_rng(0))


def test_plain_backgrounds_are_calmer_than_varied_ones():
    def roughness(background):
        values = []
        for seed in range(6):
            scene = synth_scene(COCO18, np.random.default_rng(seed), (96, 96), 0,
                                background=background)
            values.append(np.abs(np.diff(scene.image.astype(float), axis=1)).mean())
        return np.mean(values)

    assert roughness("plain") < roughness("varied")
    with pytest.raises(PosekitError, match="background"):
        synth_scene(COCO18, np.random.default_rng(0), (64, 64), 1, background="sky")
