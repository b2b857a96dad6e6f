"""Network stage: the light backbone, (N, 3, H, W) -> features (N, width, H/8, W/8).

A MobileNet-like front of depthwise-separable convs with batch norm (three stride-2 steps,
so stride 8, then two dilated convs to widen the receptive field), followed by a small CPM
(1x1 projection to ``width`` channels and a residual of separable convs), in the spirit of
Lightweight OpenPose. Meant for CPU training and inference; an H x W input gives
ceil(H/8) x ceil(W/8) maps.
"""

from __future__ import annotations

import torch
from torch import nn

from posekit.network.blocks import SeparableConv

__all__ = ["LightFront"]

# (out channels, stride, dilation) of the separable convs after the stem
_FRONT = ((48, 1, 1), (96, 2, 1), (96, 1, 1), (192, 2, 1), (192, 1, 1), (192, 1, 2),
          (192, 1, 2))
_STEM = 24


class LightFront(nn.Module):
    """Depthwise-separable front at stride 8 plus a residual CPM of ``width`` channels."""

    stride = 8

    def __init__(self, width: int = 64) -> None:
        super().__init__()
        self.stem = nn.Sequential(
            nn.Conv2d(3, _STEM, 3, stride=2, padding=1, bias=False),
            nn.BatchNorm2d(_STEM),
            nn.ReLU(inplace=True),
        )
        layers = []
        c = _STEM
        for cout, stride, dilation in _FRONT:
            layers.append(SeparableConv(c, cout, stride=stride, dilation=dilation))
            c = cout
        self.front = nn.Sequential(*layers)
        self.project = nn.Sequential(nn.Conv2d(c, width, 1), nn.PReLU(width))
        self.refine = nn.Sequential(*(SeparableConv(width, width, act="prelu")
                                      for _ in range(3)))
        self.out_channels = width

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.project(self.front(self.stem(x)))
        return x + self.refine(x)
