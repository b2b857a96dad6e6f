"""``body25``: OpenPose's BODY_25 skeleton as a posekit plugin.

README: ``pip install posekit-body25`` adds the ``body25`` skeleton (25 keypoints, 24 tree +
2 redundant limbs, 52 PAF channels) to ``posekit skeletons``.

Facts taken from OpenPose's pose parameters (``POSE_BODY_25_BODY_PARTS``,
``POSE_BODY_PART_PAIRS`` and ``POSE_MAP_INDEX`` for BODY_25):

- keypoints 0..24 in OpenPose's order (heatmap channel 25 is the background);
- OpenPose's 26 PAF limbs. OpenPose lists the two ear-shoulder limbs (2-17, 5-18) in the
  middle of its list; posekit keeps tree limbs first, so here the other 24 limbs (a spanning
  tree) come first in OpenPose's relative order and the ear-shoulder pair follows as
  ``redundant_limbs``. ``paf_layout`` gives every limb the PAF channels OpenPose gives it,
  so the channel layout is OpenPose's exactly (ear-shoulder limbs in channels 20/21, 28/29).

OKS sigmas: COCO's for the 17 COCO keypoints; Neck as coco18 (the shoulders' 0.079);
MidHip the hips' 0.107; feet 0.080, COCO-WholeBody's foot sigmas with left and right averaged
(WholeBody's differ by side, 0.066-0.094, and a horizontal flip would otherwise change a
keypoint's sigma). Rest pose: a person facing the camera (their right side on the image
left), arms slightly away from the body, toes pointing towards the camera.
"""

from posekit import Skeleton

__all__ = ["BODY25"]

BODY25 = Skeleton(
    name="body25",
    keypoints=(
        "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
        "MidHip", "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye",
        "REar", "LEar", "LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel",
    ),
    limbs=(
        ("Neck", "MidHip"), ("Neck", "RShoulder"), ("Neck", "LShoulder"),
        ("RShoulder", "RElbow"), ("RElbow", "RWrist"), ("LShoulder", "LElbow"),
        ("LElbow", "LWrist"), ("MidHip", "RHip"), ("RHip", "RKnee"), ("RKnee", "RAnkle"),
        ("MidHip", "LHip"), ("LHip", "LKnee"), ("LKnee", "LAnkle"), ("Neck", "Nose"),
        ("Nose", "REye"), ("REye", "REar"), ("Nose", "LEye"), ("LEye", "LEar"),
        ("LAnkle", "LBigToe"), ("LBigToe", "LSmallToe"), ("LAnkle", "LHeel"),
        ("RAnkle", "RBigToe"), ("RBigToe", "RSmallToe"), ("RAnkle", "RHeel"),
    ),
    redundant_limbs=(("RShoulder", "REar"), ("LShoulder", "LEar")),
    flip_pairs=(
        ("RShoulder", "LShoulder"), ("RElbow", "LElbow"), ("RWrist", "LWrist"),
        ("RHip", "LHip"), ("RKnee", "LKnee"), ("RAnkle", "LAnkle"), ("REye", "LEye"),
        ("REar", "LEar"), ("RBigToe", "LBigToe"), ("RSmallToe", "LSmallToe"),
        ("RHeel", "LHeel"),
    ),
    sigmas=(
        0.026, 0.079, 0.079, 0.072, 0.062, 0.079, 0.072, 0.062, 0.107, 0.107, 0.087, 0.089,
        0.107, 0.087, 0.089, 0.025, 0.025, 0.035, 0.035, 0.080, 0.080, 0.080, 0.080, 0.080,
        0.080,
    ),
    rest_pose=(
        (0.500, 0.110), (0.500, 0.230), (0.390, 0.240), (0.350, 0.390), (0.330, 0.520),
        (0.610, 0.240), (0.650, 0.390), (0.670, 0.520), (0.500, 0.510), (0.445, 0.510),
        (0.440, 0.690), (0.440, 0.870), (0.555, 0.510), (0.560, 0.690), (0.560, 0.870),
        (0.475, 0.090), (0.525, 0.090), (0.450, 0.100), (0.550, 0.100), (0.545, 0.950),
        (0.585, 0.945), (0.560, 0.905), (0.455, 0.950), (0.415, 0.945), (0.440, 0.905),
    ),
    # OpenPose's POSE_MAP_INDEX for BODY_25, reordered with the limbs (tree first).
    paf_layout=(
        (0, 1), (14, 15), (22, 23), (16, 17), (18, 19), (24, 25), (26, 27), (6, 7),
        (2, 3), (4, 5), (8, 9), (10, 11), (12, 13), (30, 31), (32, 33), (36, 37),
        (34, 35), (38, 39), (40, 41), (42, 43), (44, 45), (46, 47), (48, 49), (50, 51),
        (20, 21), (28, 29),
    ),
)
