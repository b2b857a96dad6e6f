"""The body25 plugin: valid, discoverable, and OpenPose's BODY_25 layout exactly."""

from posekit_body25 import BODY25

import posekit
from posekit.testing import check_entry_point, check_skeleton

# OpenPose BODY_25: the 26 PAF limbs (keypoint indices) and their PAF channels, in
# OpenPose's own order.
OPENPOSE_PAIRS = [
    (1, 8), (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (8, 9), (9, 10), (10, 11),
    (8, 12), (12, 13), (13, 14), (1, 0), (0, 15), (15, 17), (0, 16), (16, 18), (2, 17),
    (5, 18), (14, 19), (19, 20), (14, 21), (11, 22), (22, 23), (11, 24),
]
OPENPOSE_MAP_INDEX = [
    (0, 1), (14, 15), (22, 23), (16, 17), (18, 19), (24, 25), (26, 27), (6, 7), (2, 3),
    (4, 5), (8, 9), (10, 11), (12, 13), (30, 31), (32, 33), (36, 37), (34, 35), (38, 39),
    (20, 21), (28, 29), (40, 41), (42, 43), (44, 45), (46, 47), (48, 49), (50, 51),
]


def test_passes_check_skeleton():
    check_skeleton(BODY25)


def test_entry_point_serves_this_object():
    assert check_entry_point("body25") == BODY25
    assert "body25" in posekit.list_skeletons()


def test_keypoint_order_is_openposes():
    assert BODY25.keypoints[:9] == ("Nose", "Neck", "RShoulder", "RElbow", "RWrist",
                                    "LShoulder", "LElbow", "LWrist", "MidHip")
    assert BODY25.keypoints[15:19] == ("REye", "LEye", "REar", "LEar")
    assert BODY25.keypoints[19:] == ("LBigToe", "LSmallToe", "LHeel", "RBigToe",
                                     "RSmallToe", "RHeel")
    assert BODY25.num_heatmap_channels == 26


def test_limbs_and_paf_channels_are_openposes():
    assert BODY25.num_limbs == 26 and BODY25.num_tree_limbs == 24
    assert BODY25.num_paf_channels == 52
    ours = {tuple(pair): tuple(ch)
            for pair, ch in zip(BODY25.limb_index.tolist(), BODY25.paf_channels.tolist(),
                                strict=True)}
    assert ours == dict(zip(OPENPOSE_PAIRS, OPENPOSE_MAP_INDEX, strict=True))
    # tree limbs keep OpenPose's relative order; the ear-shoulder limbs are the redundant ones
    tree = [p for p in OPENPOSE_PAIRS if p not in ((2, 17), (5, 18))]
    assert [tuple(p) for p in BODY25.limb_index[:24].tolist()] == tree
    assert [tuple(p) for p in BODY25.limb_index[24:].tolist()] == [(2, 17), (5, 18)]


def test_flip_swaps_every_left_right_pair():
    names = BODY25.keypoints
    for i, j in enumerate(BODY25.flip_permutation):
        a, b = names[i], names[j]
        if a[0] in "LR" and a[1].isupper():
            assert b == {"L": "R", "R": "L"}[a[0]] + a[1:]
        else:
            assert a == b
