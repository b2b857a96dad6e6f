"""Network stage: facts about OpenPose's three body models, and their posekit skeletons.

OpenPose (CMU) ships BODY_25, COCO and MPI body models as Caffe files in its
``models/pose/{body_25,coco,mpi}/`` folders (``models/getModels.sh`` downloads the
``.caffemodel`` files). For each, this module records the network layout, OpenPose's
keypoint order, its limb pairs (``POSE_BODY_PART_PAIRS``) and the PAF channels of each pair
(``POSE_MAP_INDEX``, the x channel first), and checks that an installed posekit skeleton
reads the network's maps the same way: :func:`network_skeleton` returns the skeleton the
network predicts maps for (restricted to the limbs OpenPose's model has, see
:mod:`posekit.network.limbs`) or raises a one-line error naming the first difference.
"""

from __future__ import annotations

from dataclasses import dataclass

from posekit.errors import PosekitError
from posekit.network.limbs import restrict_skeleton
from posekit.skeleton import Skeleton

__all__ = ["OpenPoseModel", "OPENPOSE_MODELS", "openpose_model", "network_skeleton",
           "LICENSE_NOTE"]

LICENSE_NOTE = ("OpenPose models: CMU's non-commercial license (academic or non-profit "
                "research use only; commercial use needs a license from CMU)")


@dataclass(frozen=True)
class OpenPoseModel:
    """One OpenPose body model: where its files live and how its maps are laid out."""

    name: str                                   # OpenPose's name, e.g. "BODY_25"
    skeleton: str                               # the posekit skeleton, e.g. "body25"
    layout: str                                 # posekit network layout
    folder: str                                 # in OpenPose's source tree
    prototxt: str
    caffemodel: str
    keypoints: tuple[str, ...]
    pairs: tuple[tuple[int, int], ...]          # limb (from, to) keypoint indices
    map_index: tuple[tuple[int, int], ...]      # PAF (x, y) channels of each pair

    @property
    def num_heatmaps(self) -> int:
        return len(self.keypoints) + 1

    @property
    def num_pafs(self) -> int:
        return 2 * len(self.pairs)


_BODY25_KP = (
    "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
    "MidHip", "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar",
    "LEar", "LBigToe", "LSmallToe", "LHeel", "RBigToe", "RSmallToe", "RHeel",
)
_COCO_KP = (
    "Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
    "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar",
)
_MPI_KP = (
    "Head", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
    "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "Chest",
)


def _pairs(flat: tuple[int, ...]) -> tuple[tuple[int, int], ...]:
    return tuple((flat[i], flat[i + 1]) for i in range(0, len(flat), 2))


OPENPOSE_MODELS: dict[str, OpenPoseModel] = {
    model.skeleton: model for model in (
        OpenPoseModel(
            name="BODY_25", skeleton="body25", layout="body25", folder="models/pose/body_25",
            prototxt="pose_deploy.prototxt", caffemodel="pose_iter_584000.caffemodel",
            keypoints=_BODY25_KP,
            pairs=_pairs((1, 8, 1, 2, 1, 5, 2, 3, 3, 4, 5, 6, 6, 7, 8, 9, 9, 10, 10, 11, 8, 12,
                          12, 13, 13, 14, 1, 0, 0, 15, 15, 17, 0, 16, 16, 18, 2, 17, 5, 18,
                          14, 19, 19, 20, 14, 21, 11, 22, 22, 23, 11, 24)),
            map_index=_pairs((0, 1, 14, 15, 22, 23, 16, 17, 18, 19, 24, 25, 26, 27, 6, 7, 2, 3,
                              4, 5, 8, 9, 10, 11, 12, 13, 30, 31, 32, 33, 36, 37, 34, 35, 38,
                              39, 20, 21, 28, 29, 40, 41, 42, 43, 44, 45, 46, 47, 48, 49, 50,
                              51)),
        ),
        OpenPoseModel(
            name="COCO", skeleton="coco18", layout="cvpr2017", folder="models/pose/coco",
            prototxt="pose_deploy_linevec.prototxt", caffemodel="pose_iter_440000.caffemodel",
            keypoints=_COCO_KP,
            pairs=_pairs((1, 2, 1, 5, 2, 3, 3, 4, 5, 6, 6, 7, 1, 8, 8, 9, 9, 10, 1, 11, 11, 12,
                          12, 13, 1, 0, 0, 14, 14, 16, 0, 15, 15, 17, 2, 16, 5, 17)),
            map_index=_pairs((12, 13, 20, 21, 14, 15, 16, 17, 22, 23, 24, 25, 0, 1, 2, 3, 4, 5,
                              6, 7, 8, 9, 10, 11, 28, 29, 30, 31, 34, 35, 32, 33, 36, 37, 18,
                              19, 26, 27)),
        ),
        OpenPoseModel(
            name="MPI", skeleton="mpi15", layout="cvpr2017", folder="models/pose/mpi",
            prototxt="pose_deploy_linevec.prototxt", caffemodel="pose_iter_160000.caffemodel",
            keypoints=_MPI_KP,
            pairs=_pairs((0, 1, 1, 2, 2, 3, 3, 4, 1, 5, 5, 6, 6, 7, 1, 14, 14, 8, 8, 9, 9, 10,
                          14, 11, 11, 12, 12, 13)),
            map_index=tuple((2 * i, 2 * i + 1) for i in range(14)),
        ),
    )
}


def openpose_model(skeleton: str) -> OpenPoseModel:
    """The OpenPose model whose maps posekit's ``skeleton`` reads (by skeleton name)."""
    try:
        return OPENPOSE_MODELS[skeleton]
    except KeyError:
        raise PosekitError(
            f"OpenPose has no body model for skeleton {skeleton!r}; its models are "
            + ", ".join(f"{m.name} (--skeleton {m.skeleton})" for m in OPENPOSE_MODELS.values())
        ) from None


def network_skeleton(model: OpenPoseModel, skeleton: Skeleton) -> Skeleton:
    """``skeleton`` restricted to ``model``'s limbs, checked to read its maps correctly.

    The keypoints must be OpenPose's, in its order; every OpenPose limb must be a limb of
    the skeleton in the same direction (a PAF points from the first keypoint to the second)
    and, in the restricted skeleton, sit in OpenPose's PAF channels.
    """
    where = (f"skeleton {skeleton.name!r} does not match OpenPose's {model.name} model")
    if skeleton.keypoints != model.keypoints:
        diff = next((i for i, (a, b) in enumerate(zip(skeleton.keypoints, model.keypoints,
                                                      strict=False)) if a != b),
                    min(len(skeleton.keypoints), len(model.keypoints)))
        raise PosekitError(
            f"{where}: keypoint {diff} is "
            f"{skeleton.keypoints[diff] if diff < len(skeleton.keypoints) else 'missing'!s}, "
            f"OpenPose's is {model.keypoints[diff] if diff < len(model.keypoints) else 'none'}"
        )
    names = [(model.keypoints[a], model.keypoints[b]) for a, b in model.pairs]
    try:
        restricted = restrict_skeleton(skeleton, names)
    except PosekitError as exc:
        raise PosekitError(f"{where}: {exc}") from None
    channels = dict(zip(restricted.all_limbs, restricted.paf_layout, strict=True))  # type: ignore[arg-type]
    for (a, b), expected in zip(names, model.map_index, strict=True):
        if tuple(channels[(a, b)]) != expected:
            raise PosekitError(
                f"{where}: limb {a}-{b} reads PAF channels {tuple(channels[(a, b)])}, "
                f"OpenPose writes it to {expected}"
            )
    return restricted
