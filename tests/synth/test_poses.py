"""Synthetic people: shapes, COCO visibility, seeding and the geometry users rely on."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posekit import Skeleton, list_skeletons, load_skeleton
from posekit.errors import PosekitError
from posekit.synth import person_boxes, sample_poses, tree_walk

COCO18 = load_skeleton("coco18")
STAR = Skeleton(name="star", keypoints=("c", "l", "r", "u"),
                limbs=(("c", "l"), ("c", "r"), ("c", "u")), flip_pairs=(("l", "r"),))


@pytest.mark.parametrize("name", list_skeletons())
def test_every_installed_skeleton_gives_people_in_the_image(name):
    sk = load_skeleton(name)
    kp = sample_poses(sk, np.random.default_rng(0), (320, 240), 5)
    assert kp.shape == (5, sk.num_keypoints, 3)
    v = kp[..., 2]
    assert set(np.unique(v)) <= {0.0, 1.0, 2.0}
    inside = v > 0
    assert inside.mean() > 0.5
    assert (kp[inside, 0] >= 0).all() and (kp[inside, 0] <= 319).all()
    assert (kp[inside, 1] >= 0).all() and (kp[inside, 1] <= 239).all()
    assert (kp[~inside, :2] == 0).all()


def test_same_generator_state_same_people():
    a = sample_poses(COCO18, np.random.default_rng(7), (640, 480), 4)
    b = sample_poses(COCO18, np.random.default_rng(7), (640, 480), 4)
    c = sample_poses(COCO18, np.random.default_rng(8), (640, 480), 4)
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_limbs_keep_their_rest_lengths_up_to_stretch_and_scale():
    kp = sample_poses(COCO18, np.random.default_rng(1), (2000, 2000), 10, truncation=0,
                      occlusion=0)
    assert (kp[..., 2] == 2).all()
    rest = COCO18.rest_pose_array
    tree = COCO18.limb_index[: COCO18.num_tree_limbs]
    rest_len = np.linalg.norm(rest[tree[:, 0]] - rest[tree[:, 1]], axis=1)
    for person in kp:
        length = np.linalg.norm(person[tree[:, 0], :2] - person[tree[:, 1], :2], axis=1)
        ratio = length / rest_len  # one scale per person, times a stretch in [0.9, 1.1]
        assert ratio.max() / ratio.min() <= 1.1 / 0.9 + 1e-9


def test_articulation_bends_limbs():
    kp = sample_poses(COCO18, np.random.default_rng(2), (2000, 2000), 20, truncation=0)
    elbow = COCO18.index("RElbow")
    shoulder, wrist = COCO18.index("RShoulder"), COCO18.index("RWrist")
    upper = kp[:, elbow, :2] - kp[:, shoulder, :2]
    lower = kp[:, wrist, :2] - kp[:, elbow, :2]
    cos = (upper * lower).sum(1) / np.linalg.norm(upper, axis=1) / np.linalg.norm(lower, axis=1)
    assert cos.min() < 0.95  # some elbows bend
    assert cos.min() > np.cos(2 * 0.45 + 0.3)  # ... within the articulation limit


def test_flip_renames_through_flip_pairs():
    # without articulation a mirrored, renamed symmetric body looks like the unmirrored one:
    # the right shoulder stays on the image's left
    opts = dict(articulation=0.0, rotation=0.0, truncation=0.0, occlusion=0.0)
    kp = sample_poses(COCO18, np.random.default_rng(3), (640, 480), 3, flip=1.0, **opts)
    r, l = COCO18.index("RShoulder"), COCO18.index("LShoulder")
    assert (kp[:, r, 0] < kp[:, l, 0]).all()
    star = sample_poses(STAR, np.random.default_rng(3), (640, 480), 3, flip=1.0, **opts)
    assert (star[:, 1, 0] < star[:, 2, 0]).all()


def test_no_overlap_when_there_is_room():
    kp = sample_poses(COCO18, np.random.default_rng(4), (1600, 1200), 4, overlap=0.0,
                      truncation=0.0, scale_range=(0.2, 0.3))
    box = person_boxes(kp)
    for i in range(4):
        for j in range(i + 1, 4):
            ix = min(box[i, 0] + box[i, 2], box[j, 0] + box[j, 2]) - max(box[i, 0], box[j, 0])
            iy = min(box[i, 1] + box[i, 3], box[j, 1] + box[j, 3]) - max(box[i, 1], box[j, 1])
            assert ix <= 1e-6 or iy <= 1e-6


def test_truncation_puts_parts_outside():
    kp = sample_poses(COCO18, np.random.default_rng(5), (320, 240), 30, truncation=1.0)
    assert (kp[..., 2] == 0).any(axis=1).mean() > 0.3


def test_occlusion_marks_parts_v1():
    kp = sample_poses(COCO18, np.random.default_rng(6), (4000, 4000), 10, occlusion=0.5,
                      truncation=0)
    assert 0.3 < (kp[..., 2] == 1).mean() < 0.7


def test_tree_walk_is_rooted_at_the_centre():
    walk = tree_walk(COCO18)
    assert COCO18.keypoints[walk.root] == "Neck"
    seen = {walk.root}
    for k in walk.order:
        assert walk.parent[k] in seen
        seen.add(int(k))
    assert len(seen) == COCO18.num_keypoints


def test_zero_people_and_bad_input():
    assert sample_poses(COCO18, np.random.default_rng(0), (64, 64), 0).shape == (0, 18, 3)
    with pytest.raises(PosekitError, match="image size"):
        sample_poses(COCO18, np.random.default_rng(0), (0, 64), 1)
    with pytest.raises(PosekitError, match="scale range"):
        sample_poses(COCO18, np.random.default_rng(0), (64, 64), 1, scale_range=(0.5, 0.1))


@settings(max_examples=25, deadline=None)
@given(n=st.integers(0, 8), w=st.integers(16, 900), h=st.integers(16, 900),
       seed=st.integers(0, 2**32 - 1))
def test_any_size_any_count_stays_in_bounds(n, w, h, seed):
    kp = sample_poses(STAR, np.random.default_rng(seed), (w, h), n)
    assert kp.shape == (n, 4, 3)
    on = kp[..., 2] > 0
    assert np.isfinite(kp).all()
    assert (kp[on, 0] <= w - 1).all() and (kp[on, 1] <= h - 1).all() and (kp[on, :2] >= 0).all()
