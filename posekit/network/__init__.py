"""Network stage: image (N, 3, H, W) -> PAFs (N, 2L, H/8, W/8) + heatmaps (N, K+1, H/8, W/8).

The staged PAF network (PAMI 2019, with the CVPR 2017 two-branch layout, OpenPose's
BODY_25 layout and a light backbone as variants of one builder), its configuration,
checkpoints (networks may cover only some of a skeleton's limbs), OpenPose weight import
(its Caffe models or pytorch-openpose's file), and the one function that turns its output
into numpy maps. torch is imported
here and below only.
"""

from posekit.network.checkpoint import (
    Checkpoint,
    load_checkpoint,
    load_network,
    save_checkpoint,
)
from posekit.network.config import NetworkConfig, Preprocess
from posekit.network.limbs import restrict_skeleton
from posekit.network.model import PoseNetwork, build_network, count_parameters
from posekit.network.openpose_import import import_openpose_weights
from posekit.network.runtime import autocast, maps_to_numpy, prepare_network, resolve_device

__all__ = [
    "NetworkConfig", "Preprocess",
    "PoseNetwork", "build_network", "count_parameters",
    "Checkpoint", "save_checkpoint", "load_checkpoint", "load_network",
    "maps_to_numpy", "resolve_device", "autocast", "prepare_network",
    "import_openpose_weights", "restrict_skeleton",
]
