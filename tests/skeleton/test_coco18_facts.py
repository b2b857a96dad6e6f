"""coco18 is OpenPose's COCO model exactly: keypoint order, limbs, PAF channels (DESIGN.md)."""

import posekit

KEYPOINTS = [
    "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist", "RHip",
    "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar",
]
LIMBS = [
    (1, 2), (1, 5), (2, 3), (3, 4), (5, 6), (6, 7), (1, 8), (8, 9), (9, 10), (1, 11), (11, 12),
    (12, 13), (1, 0), (0, 14), (14, 16), (0, 15), (15, 17), (2, 16), (5, 17),
]
PAF_CHANNELS = [
    (12, 13), (20, 21), (14, 15), (16, 17), (22, 23), (24, 25), (0, 1), (2, 3), (4, 5), (6, 7),
    (8, 9), (10, 11), (28, 29), (30, 31), (34, 35), (32, 33), (36, 37), (18, 19), (26, 27),
]


def test_keypoint_order():
    sk = posekit.load_skeleton("coco18")
    assert list(sk.keypoints) == KEYPOINTS
    assert sk.num_heatmap_channels == 19  # channel 18 is the background


def test_limbs_in_openposes_order_with_ear_shoulder_redundant():
    sk = posekit.load_skeleton("coco18")
    assert sk.num_limbs == 19 and sk.num_tree_limbs == 17
    assert [tuple(p) for p in sk.limb_index.tolist()] == LIMBS
    assert sk.redundant_limbs == (("RShoulder", "REar"), ("LShoulder", "LEar"))


def test_paf_channels_are_openposes():
    sk = posekit.load_skeleton("coco18")
    assert sk.num_paf_channels == 38
    assert [tuple(c) for c in sk.paf_channels.tolist()] == PAF_CHANNELS


def test_coco_sigmas_and_flip():
    sk = posekit.load_skeleton("coco18")
    assert sk.sigmas[sk.index("Nose")] == 0.026 and sk.sigmas[sk.index("LHip")] == 0.107
    flip = sk.flip_permutation
    assert sk.keypoints[flip[sk.index("RWrist")]] == "LWrist"
    assert flip[sk.index("Neck")] == sk.index("Neck")
