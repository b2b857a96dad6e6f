"""``ap10k``: the AP-10K quadruped skeleton (17 keypoints), as a posekit plugin.

README: ``pip install posekit-ap10k`` adds the ``ap10k`` skeleton (17 keypoints, 16 tree +
3 redundant limbs, 38 PAF channels) to ``posekit skeletons``.

Keypoint order and names are those of AP-10K's annotation files (Yu et al., "AP-10K: A
Benchmark for Animal Pose Estimation in the Wild", NeurIPS 2021 Datasets and Benchmarks).
Its skeleton has 17 edges with one cycle (left eye - right eye - nose); the eye-eye edge is
a redundant limb and the other 16 form the tree, listed in AP-10K's order and oriented away
from the neck. That tree hangs everything on two small parts, the neck and the root of the
tail (OKS sigma 0.035, often hidden): without the neck an animal falls into its hind half,
its head and each front leg; without the tail root, into its front half and each hind leg.
So posekit adds two redundant limbs of its own, shoulder-hip along each flank (a rigid side
of the torso): with them the halves and legs stay joined for ``full-ilp`` and the fragment
stage every parser runs (``posekit.testing.fragile_parts`` finds nothing left).

Sigmas: COCO's values by body-part analogy, the first five as AP-10K's evaluation has them
(eyes 0.025, nose 0.026, neck and tail root 0.035), then shoulders 0.079, elbows 0.072,
front paws 0.062 (wrists), hips 0.107, knees 0.087, back paws 0.089 (ankles). AP-10K's
evaluation code takes COCO's 17 sigmas in COCO's order, which gives left and right
counterparts different sigmas (left elbow 0.079, right elbow 0.062, ...) so that a horizontal
flip would change how strictly a keypoint is scored; posekit does not copy that, so its OKS
AP on AP-10K can differ slightly from published numbers.
Rest pose: a standing animal seen from its right side, facing the image right, the far
(left) legs drawn a little behind and above the near ones.
"""

from posekit import Skeleton

__all__ = ["AP10K"]

AP10K = Skeleton(
    name="ap10k",
    keypoints=(
        "left_eye", "right_eye", "nose", "neck", "root_of_tail", "left_shoulder",
        "left_elbow", "left_front_paw", "right_shoulder", "right_elbow", "right_front_paw",
        "left_hip", "left_knee", "left_back_paw", "right_hip", "right_knee", "right_back_paw",
    ),
    limbs=(
        ("nose", "left_eye"), ("nose", "right_eye"), ("neck", "nose"),
        ("neck", "root_of_tail"), ("neck", "left_shoulder"), ("left_shoulder", "left_elbow"),
        ("left_elbow", "left_front_paw"), ("neck", "right_shoulder"),
        ("right_shoulder", "right_elbow"), ("right_elbow", "right_front_paw"),
        ("root_of_tail", "left_hip"), ("left_hip", "left_knee"),
        ("left_knee", "left_back_paw"), ("root_of_tail", "right_hip"),
        ("right_hip", "right_knee"), ("right_knee", "right_back_paw"),
    ),
    redundant_limbs=(
        ("left_eye", "right_eye"), ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip"),
    ),
    flip_pairs=(
        ("left_eye", "right_eye"), ("left_shoulder", "right_shoulder"),
        ("left_elbow", "right_elbow"), ("left_front_paw", "right_front_paw"),
        ("left_hip", "right_hip"), ("left_knee", "right_knee"),
        ("left_back_paw", "right_back_paw"),
    ),
    sigmas=(
        0.025, 0.025, 0.026, 0.035, 0.035, 0.079, 0.072, 0.062, 0.079, 0.072, 0.062,
        0.107, 0.087, 0.089, 0.107, 0.087, 0.089,
    ),
    rest_pose=(
        (0.805, 0.235), (0.820, 0.250), (0.900, 0.320), (0.720, 0.340), (0.240, 0.370),
        (0.650, 0.430), (0.640, 0.600), (0.650, 0.830), (0.680, 0.450), (0.670, 0.620),
        (0.680, 0.850), (0.250, 0.450), (0.290, 0.620), (0.250, 0.830), (0.280, 0.470),
        (0.320, 0.640), (0.280, 0.850),
    ),
)
