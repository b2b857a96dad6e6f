"""The hand21 plugin: valid, discoverable, OpenPose's hand order and finger chains."""

from posekit_hand21 import HAND21

import posekit
from posekit.testing import check_entry_point, check_skeleton

# OpenPose's hand pairs (keypoint indices): wrist to each finger, then along it.
OPENPOSE_HAND_PAIRS = [
    (0, 1), (1, 2), (2, 3), (3, 4), (0, 5), (5, 6), (6, 7), (7, 8), (0, 9), (9, 10),
    (10, 11), (11, 12), (0, 13), (13, 14), (14, 15), (15, 16), (0, 17), (17, 18), (18, 19),
    (19, 20),
]


def test_passes_check_skeleton():
    check_skeleton(HAND21)


def test_entry_point_serves_this_object():
    assert check_entry_point("hand21") == HAND21
    assert "hand21" in posekit.list_skeletons()


def test_keypoint_order_is_openposes():
    assert HAND21.num_keypoints == 21 and HAND21.keypoints[0] == "Wrist"
    assert HAND21.keypoints[1:5] == ("Thumb1CMC", "Thumb2Knuckles", "Thumb3IP",
                                     "Thumb4FingerTip")
    assert [HAND21.keypoints[i] for i in (5, 9, 13, 17)] == [
        "Index1Knuckles", "Middle1Knuckles", "Ring1Knuckles", "Pinky1Knuckles"]
    assert all(HAND21.keypoints[4 * f].endswith("FingerTip") for f in range(1, 6))


def test_tree_is_openposes_finger_chains_and_pafs_sequential():
    assert [tuple(p) for p in HAND21.limb_index[:20].tolist()] == OPENPOSE_HAND_PAIRS
    assert HAND21.num_limbs == 23 and HAND21.num_paf_channels == 46
    assert HAND21.paf_channels.tolist() == [[2 * l, 2 * l + 1] for l in range(23)]


def test_redundant_limbs_join_neighbouring_knuckles():
    assert [tuple(p) for p in HAND21.limb_index[20:].tolist()] == [(5, 9), (9, 13), (13, 17)]
    assert HAND21.flip_permutation.tolist() == list(range(21))
