"""The mpi15 plugin: valid, discoverable, and OpenPose's MPI layout for its tree limbs."""

from posekit_mpi15 import MPI15

import posekit
from posekit.testing import check_entry_point, check_skeleton

# OpenPose MPI_15: limbs as keypoint indices, in OpenPose's order; PAF channels 2l, 2l + 1.
OPENPOSE_PAIRS = [
    (0, 1), (1, 2), (2, 3), (3, 4), (1, 5), (5, 6), (6, 7), (1, 14), (14, 8), (8, 9),
    (9, 10), (14, 11), (11, 12), (12, 13),
]


def test_passes_check_skeleton():
    check_skeleton(MPI15)


def test_entry_point_serves_this_object():
    assert check_entry_point("mpi15") == MPI15
    assert "mpi15" in posekit.list_skeletons()


def test_keypoint_order_is_openposes():
    assert MPI15.keypoints == (
        "Head", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
        "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "Chest",
    )
    assert MPI15.num_heatmap_channels == 16


def test_tree_limbs_and_channels_are_openposes():
    assert MPI15.num_tree_limbs == 14
    assert [tuple(p) for p in MPI15.limb_index[:14].tolist()] == OPENPOSE_PAIRS
    assert MPI15.paf_channels[:14].tolist() == [[2 * l, 2 * l + 1] for l in range(14)]


def test_redundant_limbs_follow_in_their_own_channels():
    assert MPI15.redundant_limbs == (
        ("RShoulder", "RWrist"), ("LShoulder", "LWrist"), ("RHip", "RAnkle"),
        ("LHip", "LAnkle"),
    )
    assert MPI15.num_paf_channels == 36
    assert MPI15.paf_channels[14:].min() == 28
