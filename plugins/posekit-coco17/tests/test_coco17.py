"""The coco17 plugin: valid, discoverable, COCO's order, sigmas and skeleton edges."""

import networkx as nx
from posekit_coco17 import COCO17

import posekit
from posekit.testing import check_entry_point, check_skeleton

# COCO's person category: skeleton as 1-based keypoint pairs, and the OKS sigmas.
COCO_SKELETON = [
    [16, 14], [14, 12], [17, 15], [15, 13], [12, 13], [6, 12], [7, 13], [6, 7], [6, 8],
    [7, 9], [8, 10], [9, 11], [2, 3], [1, 2], [1, 3], [2, 4], [3, 5], [4, 6], [5, 7],
]
COCO_SIGMAS = [.26, .25, .25, .35, .35, .79, .79, .72, .72, .62, .62, 1.07, 1.07, .87, .87,
               .89, .89]


def test_passes_check_skeleton():
    check_skeleton(COCO17)


def test_entry_point_serves_this_object():
    assert check_entry_point("coco17") == COCO17
    assert "coco17" in posekit.list_skeletons()


def test_keypoints_and_sigmas_are_cocos():
    assert COCO17.keypoints == (
        "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
        "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
        "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    )
    assert [round(s * 10, 3) for s in COCO17.sigmas] == COCO_SIGMAS


def test_every_coco_edge_is_a_limb_plus_nose_shoulder():
    ours = {frozenset(p) for p in COCO17.limb_index.tolist()}
    coco = {frozenset((a - 1, b - 1)) for a, b in COCO_SKELETON}
    nose_shoulders = {frozenset((0, 5)), frozenset((0, 6))}
    assert ours == coco | nose_shoulders and COCO17.num_limbs == 21
    assert COCO17.num_paf_channels == 42


def test_tree_keeps_real_people_whole_without_ears_or_eyes():
    """Losing any face part (often unlabelled on real people) never cuts the body: the
    shoulders are the hub, ears and eyes are leaves or hang from the nose."""
    tree = nx.Graph([tuple(p) for p in COCO17.limb_index[:COCO17.num_tree_limbs].tolist()])
    assert nx.is_tree(tree) and tree.number_of_nodes() == 17
    body = {COCO17.index(k) for k in COCO17.keypoints[5:]}
    for part in ("left_ear", "right_ear", "left_eye", "right_eye", "nose"):
        rest = tree.copy()
        rest.remove_node(COCO17.index(part))
        assert any(body <= c for c in nx.connected_components(rest)), part
    assert check_skeleton(COCO17) is COCO17  # and posekit.testing finds it not fragile


def test_the_mirror_of_each_tree_limb_is_a_limb():
    flip = COCO17.flip_permutation
    limbs = {frozenset(p) for p in COCO17.limb_index.tolist()}
    assert {frozenset((flip[a], flip[b])) for a, b in COCO17.limb_index.tolist()} == limbs
