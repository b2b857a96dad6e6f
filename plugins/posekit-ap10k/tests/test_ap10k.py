"""The ap10k plugin: valid, discoverable, AP-10K's keypoints, skeleton and sigmas."""

import numpy as np
from posekit_ap10k import AP10K

import posekit
from posekit.testing import check_entry_point, check_skeleton

# AP-10K's skeleton as 1-based keypoint pairs.
AP10K_SKELETON = [
    [1, 2], [1, 3], [2, 3], [3, 4], [4, 5], [4, 6], [6, 7], [7, 8], [4, 9], [9, 10],
    [10, 11], [5, 12], [12, 13], [13, 14], [5, 15], [15, 16], [16, 17],
]
# COCO's sigmas by body part: eyes, nose, ears (for neck and tail root), shoulders, elbows,
# wrists (front paws), hips, knees, ankles (back paws).
COCO = {"eye": 0.025, "nose": 0.026, "ear": 0.035, "shoulder": 0.079, "elbow": 0.072,
        "wrist": 0.062, "hip": 0.107, "knee": 0.087, "ankle": 0.089}
ANALOGY = ["eye", "eye", "nose", "ear", "ear", "shoulder", "elbow", "wrist", "shoulder",
           "elbow", "wrist", "hip", "knee", "ankle", "hip", "knee", "ankle"]


def test_passes_check_skeleton():
    check_skeleton(AP10K)


def test_entry_point_serves_this_object():
    assert check_entry_point("ap10k") == AP10K
    assert "ap10k" in posekit.list_skeletons()


def test_keypoints_are_ap10ks_and_sigmas_cocos_by_analogy():
    assert AP10K.keypoints[:5] == ("left_eye", "right_eye", "nose", "neck", "root_of_tail")
    assert AP10K.keypoints[5:11] == ("left_shoulder", "left_elbow", "left_front_paw",
                                     "right_shoulder", "right_elbow", "right_front_paw")
    assert AP10K.keypoints[11:] == ("left_hip", "left_knee", "left_back_paw", "right_hip",
                                    "right_knee", "right_back_paw")
    assert list(AP10K.sigmas) == [COCO[part] for part in ANALOGY]


def test_limbs_are_ap10ks_skeleton_plus_the_flanks():
    ours = {frozenset(p) for p in AP10K.limb_index.tolist()}
    flanks = {frozenset((AP10K.index(f"{side}_shoulder"), AP10K.index(f"{side}_hip")))
              for side in ("left", "right")}
    assert ours == {frozenset((a - 1, b - 1)) for a, b in AP10K_SKELETON} | flanks
    assert AP10K.redundant_limbs == (("left_eye", "right_eye"), ("left_shoulder", "left_hip"),
                                     ("right_shoulder", "right_hip"))


def test_losing_the_neck_or_tail_root_leaves_the_body_joined():
    """The tree hangs on the neck and the tail root (small, often hidden); the flank limbs
    keep the legs and halves of an animal that lacks one of them together."""
    import networkx as nx

    graph = nx.Graph(list(AP10K.all_limbs))
    for part in ("neck", "root_of_tail"):
        rest = graph.copy()
        rest.remove_node(part)
        biggest = max(nx.connected_components(rest), key=len)
        assert len(biggest) >= AP10K.num_keypoints - 1 - 3, part  # at most the head apart
    from posekit.testing import fragile_parts

    assert fragile_parts(AP10K) == []


def test_rest_pose_is_a_side_view_facing_right():
    pose = AP10K.rest_pose_array
    nose, tail = pose[AP10K.index("nose")], pose[AP10K.index("root_of_tail")]
    assert nose[0] > tail[0]
    paws = [AP10K.index(k) for k in AP10K.keypoints if k.endswith("_paw")]
    assert np.all(pose[paws, 1] > 0.8)  # paws on the ground, at the bottom
