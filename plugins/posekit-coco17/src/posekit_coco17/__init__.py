"""``coco17``: the COCO person keypoints in COCO's own order, as a posekit plugin.

README: ``pip install posekit-coco17`` adds the ``coco17`` skeleton (17 keypoints, 16 tree +
3 redundant limbs, 38 PAF channels) to ``posekit skeletons``. Unlike the built-in
``coco18`` (OpenPose's order plus a Neck), it reads COCO annotations as they are.

Keypoint names, order and OKS sigmas are COCO's. COCO's skeleton has 19 edges and three
independent cycles (eye-nose-eye, shoulders-hips, and the head-shoulders loop through the
ears). Of its spanning trees exactly one is left/right symmetric: leave out the three edges
that a horizontal flip maps onto themselves (eye-eye, shoulder-shoulder, hip-hip). That
tree gives the tree limbs, listed in the order COCO's skeleton lists them and oriented away
from the nose; the three left-out edges are the redundant limbs, so every COCO skeleton edge
has its own PAF. A consequence worth knowing: in the tree the head reaches the body only
through the ears, so tree-only parsers lean on ear detections; the shoulder-shoulder and
hip-hip PAFs help the parsers that use redundant limbs.

Rest pose: a person facing the camera (their right side on the image left), as coco18's.
"""

from posekit import Skeleton

__all__ = ["COCO17"]

COCO17 = Skeleton(
    name="coco17",
    keypoints=(
        "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
        "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist",
        "left_hip", "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
    ),
    limbs=(
        ("left_knee", "left_ankle"), ("left_hip", "left_knee"),
        ("right_knee", "right_ankle"), ("right_hip", "right_knee"),
        ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip"),
        ("left_shoulder", "left_elbow"), ("right_shoulder", "right_elbow"),
        ("left_elbow", "left_wrist"), ("right_elbow", "right_wrist"),
        ("nose", "left_eye"), ("nose", "right_eye"), ("left_eye", "left_ear"),
        ("right_eye", "right_ear"), ("left_ear", "left_shoulder"),
        ("right_ear", "right_shoulder"),
    ),
    redundant_limbs=(
        ("left_hip", "right_hip"), ("left_shoulder", "right_shoulder"),
        ("left_eye", "right_eye"),
    ),
    flip_pairs=(
        ("left_eye", "right_eye"), ("left_ear", "right_ear"),
        ("left_shoulder", "right_shoulder"), ("left_elbow", "right_elbow"),
        ("left_wrist", "right_wrist"), ("left_hip", "right_hip"),
        ("left_knee", "right_knee"), ("left_ankle", "right_ankle"),
    ),
    sigmas=(
        0.026, 0.025, 0.025, 0.035, 0.035, 0.079, 0.079, 0.072, 0.072, 0.062, 0.062,
        0.107, 0.107, 0.087, 0.087, 0.089, 0.089,
    ),
    rest_pose=(
        (0.50, 0.12), (0.53, 0.10), (0.47, 0.10), (0.56, 0.11), (0.44, 0.11), (0.62, 0.26),
        (0.38, 0.26), (0.66, 0.42), (0.34, 0.42), (0.68, 0.56), (0.32, 0.56), (0.56, 0.55),
        (0.44, 0.55), (0.57, 0.74), (0.43, 0.74), (0.57, 0.93), (0.43, 0.93),
    ),
)
