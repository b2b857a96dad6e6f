"""``mpi15``: OpenPose's MPI (MPII Human Pose) 15-keypoint skeleton as a posekit plugin.

README: ``pip install posekit-mpi15`` adds the ``mpi15`` skeleton (15 keypoints, 14 tree +
4 redundant limbs, 36 PAF channels) to ``posekit skeletons``.

From OpenPose's pose parameters (``POSE_MPI_BODY_PARTS``, the MPI pairs and map index):
keypoints 0..14 in OpenPose's order (0 is the top of the head, 14 the chest; heatmap
channel 15 is the background) and its 14 limbs, all tree limbs, whose PAFs sit in channels
0..27 in limb order.

The redundant limbs are posekit's addition (OpenPose's MPI model has none): shoulder-wrist
and hip-ankle on each side, appended after the tree limbs in channels 28..35, so the first
28 PAF channels stay OpenPose's. They bridge the elbows and knees, the joints most often
occluded or confused between nearby people; the PAMI paper adds redundant PAFs for the
same reason (BODY_25's ear-shoulder limbs).

OKS sigmas: COCO's for shoulders, elbows, wrists, hips, knees and ankles; Head (top) and
Neck 0.079, CrowdPose's values for its head and neck; Chest 0.107, the hips' value, since a
torso-centre point is as loosely defined as a hip. Rest pose: a person facing the camera
(their right side on the image left).
"""

from posekit import Skeleton

__all__ = ["MPI15"]

MPI15 = Skeleton(
    name="mpi15",
    keypoints=(
        "Head", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
        "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "Chest",
    ),
    limbs=(
        ("Head", "Neck"), ("Neck", "RShoulder"), ("RShoulder", "RElbow"),
        ("RElbow", "RWrist"), ("Neck", "LShoulder"), ("LShoulder", "LElbow"),
        ("LElbow", "LWrist"), ("Neck", "Chest"), ("Chest", "RHip"), ("RHip", "RKnee"),
        ("RKnee", "RAnkle"), ("Chest", "LHip"), ("LHip", "LKnee"), ("LKnee", "LAnkle"),
    ),
    redundant_limbs=(
        ("RShoulder", "RWrist"), ("LShoulder", "LWrist"), ("RHip", "RAnkle"),
        ("LHip", "LAnkle"),
    ),
    flip_pairs=(
        ("RShoulder", "LShoulder"), ("RElbow", "LElbow"), ("RWrist", "LWrist"),
        ("RHip", "LHip"), ("RKnee", "LKnee"), ("RAnkle", "LAnkle"),
    ),
    sigmas=(
        0.079, 0.079, 0.079, 0.072, 0.062, 0.079, 0.072, 0.062, 0.107, 0.087, 0.089,
        0.107, 0.087, 0.089, 0.107,
    ),
    rest_pose=(
        (0.500, 0.060), (0.500, 0.200), (0.390, 0.220), (0.350, 0.380), (0.330, 0.520),
        (0.610, 0.220), (0.650, 0.380), (0.670, 0.520), (0.445, 0.530), (0.440, 0.720),
        (0.440, 0.910), (0.555, 0.530), (0.560, 0.720), (0.560, 0.910), (0.500, 0.370),
    ),
    # OpenPose's MPI map index is sequential (0/1, 2/3, ... 26/27); the redundant limbs follow.
    paf_layout=tuple((2 * i, 2 * i + 1) for i in range(18)),
)
