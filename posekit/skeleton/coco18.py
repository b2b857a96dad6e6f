"""``coco18``: the 18-keypoint body of CMU OpenPose's COCO model.

Keypoint order, limb order and PAF channel layout are OpenPose's, so maps from an
OpenPose-compatible COCO network parse directly. The last two limbs (ear-shoulder) are
the redundant ones. Neck is not a COCO keypoint: COCO-17 annotations get it as the
midpoint of the two shoulders. OKS sigmas are COCO's; Neck borrows the shoulders' sigma.
"""

from posekit.skeleton.model import Skeleton

__all__ = ["COCO18"]

COCO18 = Skeleton(
    name="coco18",
    keypoints=(
        "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
        "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar",
    ),
    limbs=(
        ("Neck", "RShoulder"), ("Neck", "LShoulder"), ("RShoulder", "RElbow"),
        ("RElbow", "RWrist"), ("LShoulder", "LElbow"), ("LElbow", "LWrist"),
        ("Neck", "RHip"), ("RHip", "RKnee"), ("RKnee", "RAnkle"), ("Neck", "LHip"),
        ("LHip", "LKnee"), ("LKnee", "LAnkle"), ("Neck", "Nose"), ("Nose", "REye"),
        ("REye", "REar"), ("Nose", "LEye"), ("LEye", "LEar"),
    ),
    redundant_limbs=(("RShoulder", "REar"), ("LShoulder", "LEar")),
    flip_pairs=(
        ("RShoulder", "LShoulder"), ("RElbow", "LElbow"), ("RWrist", "LWrist"),
        ("RHip", "LHip"), ("RKnee", "LKnee"), ("RAnkle", "LAnkle"), ("REye", "LEye"),
        ("REar", "LEar"),
    ),
    sigmas=(
        0.026, 0.079, 0.079, 0.072, 0.062, 0.079, 0.072, 0.062, 0.107, 0.087, 0.089,
        0.107, 0.087, 0.089, 0.025, 0.025, 0.035, 0.035,
    ),
    rest_pose=(
        (0.50, 0.12), (0.50, 0.25), (0.38, 0.26), (0.34, 0.42), (0.32, 0.56), (0.62, 0.26),
        (0.66, 0.42), (0.68, 0.56), (0.44, 0.55), (0.43, 0.74), (0.43, 0.93), (0.56, 0.55),
        (0.57, 0.74), (0.57, 0.93), (0.47, 0.10), (0.53, 0.10), (0.44, 0.11), (0.56, 0.11),
    ),
    paf_layout=(
        (12, 13), (20, 21), (14, 15), (16, 17), (22, 23), (24, 25), (0, 1), (2, 3), (4, 5),
        (6, 7), (8, 9), (10, 11), (28, 29), (30, 31), (34, 35), (32, 33), (36, 37),
        (18, 19), (26, 27),
    ),
)
