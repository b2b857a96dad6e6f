"""Network stage: the refinement stages of OpenPose's BODY_25 model (PAMI 2019 layout).

OpenPose's ``models/pose/body_25/pose_deploy.prototxt``, as built here (F = conv4_4_CPM
features (N, 128, h, w), P = PAFs (N, 2L, h, w), S = heatmaps (N, K+1, h, w)):

- PAF stages ``stage0..3`` (OpenPose's branch ``L2``): stage 0 sees F, stage t sees
  ``cat(F, P_{t-1})``;
- heatmap stages ``stage0..1`` (branch ``L1``): stage 0 sees ``cat(F, P_3)``, stage 1 sees
  ``cat(F, S_0, P_3)``;
- every stage: five blocks of three chained 3x3 convs + PReLU whose outputs are
  concatenated (``Mconv{i}_stage{t}_L{b}_{0,1,2}``), then a 1x1 conv + PReLU
  (``Mconv6``) and a 1x1 head (``Mconv7``, no activation). The first stage of each
  branch is narrower: 96 channels per conv and a 256-channel ``Mconv6``; later stages
  use 128 and 512.

The network's output (OpenPose's ``net_output``) is the last heatmap stage and the last PAF
stage. Layer names are OpenPose's so its Caffe weights map one to one.
"""

from __future__ import annotations

import torch
from torch import nn

__all__ = ["Body25Stage", "stage_widths", "BLOCKS_PER_STAGE", "PAF_BRANCH", "HEATMAP_BRANCH"]

BLOCKS_PER_STAGE = 5
PAF_BRANCH, HEATMAP_BRANCH = 2, 1   # OpenPose's L2 / L1 suffixes
_FIRST = (96, 256)    # conv width, Mconv6 width of each branch's first stage
_LATER = (128, 512)   # ... of the later stages


def stage_widths(stage: int) -> tuple[int, int]:
    """(conv width, Mconv6 width) of 0-based ``stage``."""
    return _FIRST if stage == 0 else _LATER


class Body25Stage(nn.Module):
    """One BODY_25 stage: (N, cin, h, w) -> (N, cout, h, w), modules named as OpenPose's.

    ``blocks`` holds, per block, the ``(conv, prelu)`` module names of its three convs;
    ``hidden`` and ``head`` name the 1x1 layers.
    """

    def __init__(self, stage: int, branch: int, cin: int, cout: int) -> None:
        super().__init__()
        width, hidden = stage_widths(stage)
        tag = f"stage{stage}_L{branch}"
        self.blocks: list[list[tuple[str, str]]] = []
        c = cin
        for i in range(1, BLOCKS_PER_STAGE + 1):
            names = []
            for j in range(3):
                conv, act = f"Mconv{i}_{tag}_{j}", f"Mprelu{i}_{tag}_{j}"
                self.add_module(conv, nn.Conv2d(c, width, 3, padding=1))
                self.add_module(act, nn.PReLU(width))
                names.append((conv, act))
                c = width
            self.blocks.append(names)
            c = 3 * width
        self.hidden = (f"Mconv6_{tag}", f"Mprelu6_{tag}")
        self.add_module(self.hidden[0], nn.Conv2d(c, hidden, 1))
        self.add_module(self.hidden[1], nn.PReLU(hidden))
        self.head_name = f"Mconv7_{tag}"
        self.add_module(self.head_name, nn.Conv2d(hidden, cout, 1))

    @property
    def head(self) -> nn.Conv2d:
        return getattr(self, self.head_name)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        for names in self.blocks:
            outs = []
            for conv, act in names:
                x = getattr(self, act)(getattr(self, conv)(x))
                outs.append(x)
            x = torch.cat(outs, 1)
        conv, act = self.hidden
        return self.head(getattr(self, act)(getattr(self, conv)(x)))
