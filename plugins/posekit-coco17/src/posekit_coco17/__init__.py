"""``coco17``: the COCO person keypoints in COCO's own order, as a posekit plugin.

README: ``pip install posekit-coco17`` adds the ``coco17`` skeleton (17 keypoints, 16 tree +
5 redundant limbs, 42 PAF channels) to ``posekit skeletons``. Unlike the built-in
``coco18`` (OpenPose's order plus a Neck), it reads COCO annotations as they are.

Keypoint names, order and OKS sigmas are COCO's. Every edge of COCO's 19-edge skeleton has
its own PAF, plus nose-shoulder on both sides (COCO has no edge from the face to the body
but through the ears).

The tree is chosen for real poses, where a part is often unlabelled or unseen (ears and
eyes most of all: of the 126 people of posekit's bundled real set, from COCO val2017, 64
lack the left ear and 56 the right) and a tree parser cuts a person wherever a tree part is
missing. So the hub is the shoulders, the most often labelled parts: shoulder-shoulder
joins the two halves of the body, each shoulder carries its arm, its hip (then the leg) and
its ear, and the nose hangs from the left shoulder with the eyes from the nose. Ears and
eyes are leaves, so losing one loses only itself. COCO's only symmetric spanning tree (the
older choice) joined the halves through nose-eye-ear chains: of those 126 people it cut 101
into pieces, this tree 13. The tree is not left/right symmetric (no tree can be without a
keypoint on the body's midline besides the nose): the mirror of nose-left shoulder, nose-
right shoulder, is a redundant limb. Redundant limbs: hip-hip, eye-eye, both eye-ear and
nose-right shoulder; parsers that use them, and the fragment stage every parser runs, re-
attach what a missing tree part cut off.

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
        ("left_shoulder", "right_shoulder"), ("nose", "left_eye"), ("nose", "right_eye"),
        ("left_shoulder", "left_ear"), ("right_shoulder", "right_ear"),
        ("left_shoulder", "nose"),
    ),
    redundant_limbs=(
        ("left_hip", "right_hip"), ("left_eye", "right_eye"), ("left_eye", "left_ear"),
        ("right_eye", "right_ear"), ("right_shoulder", "nose"),
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
