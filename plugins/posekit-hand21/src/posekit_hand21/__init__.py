"""``hand21``: a 21-keypoint hand in OpenPose's hand order, as a posekit plugin.

README: ``pip install posekit-hand21`` adds the ``hand21`` skeleton (21 keypoints, 20 tree +
3 redundant limbs, 46 PAF channels) to ``posekit skeletons``.

Keypoints: the wrist, then four per finger from the hand outwards (thumb: CMC, knuckle/MCP,
IP, tip; other fingers: knuckle/MCP, PIP, DIP, tip), thumb to pinky: OpenPose's hand order
and names (its BODY_65 hands without the L/R prefix). Tree limbs: the wrist to each finger's
first keypoint and on along the finger, in OpenPose's hand-pair order; PAFs sequential, as
OpenPose lays out the hand PAFs of its whole-body models.

Choices that are posekit's own:

- redundant limbs: index-middle, middle-ring and ring-pinky knuckles (MCP joints). The
  knuckles lie on one nearly rigid line across the palm, so these PAFs tie the fingers of one
  hand together where the wrist-to-finger limbs are long and two hands' fingers interleave;
- no flip pairs: a hand has no left/right keypoints (a horizontal flip turns a right hand
  into a left hand with the same keypoint names);
- sigmas: COCO-WholeBody's hand values, so OKS follows that benchmark's convention;
- rest pose: an open right hand, palm to the camera, fingers up (thumb on the image left).
"""

from posekit import Skeleton

__all__ = ["HAND21"]

_FINGERS = {
    "Thumb": ("1CMC", "2Knuckles", "3IP", "4FingerTip"),
    "Index": ("1Knuckles", "2PIP", "3DIP", "4FingerTip"),
    "Middle": ("1Knuckles", "2PIP", "3DIP", "4FingerTip"),
    "Ring": ("1Knuckles", "2PIP", "3DIP", "4FingerTip"),
    "Pinky": ("1Knuckles", "2PIP", "3DIP", "4FingerTip"),
}
_KEYPOINTS = ("Wrist", *(f + j for f, joints in _FINGERS.items() for j in joints))


def _finger_chain(finger: str) -> tuple[tuple[str, str], ...]:
    chain = ("Wrist", *(finger + j for j in _FINGERS[finger]))
    return tuple(zip(chain[:-1], chain[1:], strict=True))


HAND21 = Skeleton(
    name="hand21",
    keypoints=_KEYPOINTS,
    limbs=tuple(limb for finger in _FINGERS for limb in _finger_chain(finger)),
    redundant_limbs=(
        ("Index1Knuckles", "Middle1Knuckles"), ("Middle1Knuckles", "Ring1Knuckles"),
        ("Ring1Knuckles", "Pinky1Knuckles"),
    ),
    flip_pairs=(),
    sigmas=(
        0.029, 0.022, 0.035, 0.037, 0.047, 0.026, 0.025, 0.024, 0.035, 0.018, 0.024,
        0.022, 0.026, 0.017, 0.021, 0.021, 0.032, 0.020, 0.019, 0.022, 0.031,
    ),
    rest_pose=(
        (0.50, 0.92),                                             # wrist
        (0.38, 0.82), (0.28, 0.72), (0.22, 0.62), (0.17, 0.53),   # thumb
        (0.37, 0.52), (0.34, 0.36), (0.33, 0.26), (0.32, 0.17),   # index
        (0.48, 0.50), (0.48, 0.32), (0.48, 0.21), (0.48, 0.11),   # middle
        (0.58, 0.52), (0.60, 0.36), (0.61, 0.26), (0.62, 0.18),   # ring
        (0.67, 0.57), (0.71, 0.45), (0.73, 0.37), (0.75, 0.29),   # pinky
    ),
)
