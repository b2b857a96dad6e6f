"""Shared fixtures for inference tests: tiny random networks saved as checkpoints."""

from __future__ import annotations

import pytest

from posekit import Skeleton

# small and fast: the light backbone, one stage each, few channels, 64-pixel input height
TINY = {"paf_stages": 1, "cm_stages": 1, "width": 16, "stage_blocks": 1}
TINY_HEIGHT = 64

OTHER_SKELETON = Skeleton(
    name="tri3", keypoints=("a", "b", "c"), limbs=(("a", "b"), ("b", "c")),
)


def save_tiny(path, skeleton="coco18", seed=0, input_height=TINY_HEIGHT):
    import torch

    from posekit.network import NetworkConfig, Preprocess, build_network, save_checkpoint

    torch.manual_seed(seed)
    net = build_network(skeleton, NetworkConfig.light(**TINY))
    save_checkpoint(path, net, skeleton, Preprocess(input_height=input_height))
    return path


@pytest.fixture(scope="session")
def tiny_weights(tmp_path_factory):
    """A random-init coco18 checkpoint (light backbone, 64-pixel input)."""
    return save_tiny(tmp_path_factory.mktemp("weights") / "tiny-coco18.pt")


@pytest.fixture(scope="session")
def other_weights(tmp_path_factory):
    """A checkpoint for a 3-keypoint skeleton that is not coco18."""
    return save_tiny(tmp_path_factory.mktemp("weights") / "tiny-tri3.pt", OTHER_SKELETON)
