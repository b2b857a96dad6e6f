"""Network stage: the VGG-19 front, (N, 3, H, W) -> features (N, width, H/8, W/8).

The first ten 3x3 conv layers of VGG-19 (conv1_1 .. conv4_2, ReLU) with three 2x2 max-pools
(stride 8), then conv4_3_CPM (256 channels) and conv4_4_CPM (``width`` channels). The
layer names are OpenPose's (pools ``pool{1,2,3}_stage1`` as in its prototxt files), so its
weights map one to one. OpenPose's BODY_25 model follows conv4_2 with a PReLU instead of a
ReLU (``conv4_2_act="prelu"``). Pooling rounds up, as Caffe's does, so an input of H x W
gives ceil(H/8) x ceil(W/8) maps.
"""

from __future__ import annotations

from collections import OrderedDict

from torch import nn

__all__ = ["VGGFront", "VGG_LAYERS"]

# (name, in, out) of the VGG-19 convs, "pool" between blocks
VGG_LAYERS: tuple[tuple[str, int, int] | str, ...] = (
    ("conv1_1", 3, 64), ("conv1_2", 64, 64), "pool1_stage1",
    ("conv2_1", 64, 128), ("conv2_2", 128, 128), "pool2_stage1",
    ("conv3_1", 128, 256), ("conv3_2", 256, 256), ("conv3_3", 256, 256), ("conv3_4", 256, 256),
    "pool3_stage1",
    ("conv4_1", 256, 512), ("conv4_2", 512, 512),
)
CPM_CHANNELS = 256


class VGGFront(nn.Sequential):
    """VGG-19 front + CPM convs; ``cpm_act`` is ``"prelu"`` (PAMI) or ``"relu"`` (CVPR 2017).

    ``conv4_2_act`` is the activation after conv4_2: ``"relu"`` (VGG's, and OpenPose's COCO
    and MPI models) or ``"prelu"`` (OpenPose's BODY_25 model).
    """

    stride = 8

    def __init__(self, width: int = 128, cpm_act: str = "prelu",
                 conv4_2_act: str = "relu") -> None:
        layers: list[tuple[str, nn.Module]] = []
        for spec in VGG_LAYERS:
            if isinstance(spec, str):
                layers.append((spec, nn.MaxPool2d(2, 2, ceil_mode=True)))
                continue
            name, cin, cout = spec
            layers.append((name, nn.Conv2d(cin, cout, 3, padding=1)))
            if name == "conv4_2" and conv4_2_act == "prelu":
                layers.append(("prelu4_2", nn.PReLU(cout)))
            else:
                layers.append((f"relu{name[4:]}", nn.ReLU(inplace=True)))
        for name, cin, cout in (("conv4_3_CPM", 512, CPM_CHANNELS),
                                ("conv4_4_CPM", CPM_CHANNELS, width)):
            layers.append((name, nn.Conv2d(cin, cout, 3, padding=1)))
            act: nn.Module = nn.PReLU(cout) if cpm_act == "prelu" else nn.ReLU(inplace=True)
            layers.append((f"{cpm_act}{name[4:]}", act))
        super().__init__(OrderedDict(layers))
        self.out_channels = width
