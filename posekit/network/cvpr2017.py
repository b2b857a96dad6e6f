"""Network stage: the CVPR 2017 two-branch stages of OpenPose's COCO model.

Stage 1 takes the features F (N, width, h, w); stage t > 1 takes ``cat(P_{t-1}, S_{t-1},
F)`` (N, 2L + K+1 + width, h, w). Each stage has a PAF branch (OpenPose's ``L1``,
(N, 2L, h, w)) and a heatmap branch (``L2``, (N, K+1, h, w)). Layer names are OpenPose's:
``conv5_{1..5}_CPM_L{b}`` in stage 1 and ``Mconv{1..7}_stage{t}_L{b}`` in stages 2..6, ReLU
after every conv but the last of each branch.
"""

from __future__ import annotations

from collections import OrderedDict

import torch
from torch import nn

__all__ = ["TwoBranchStage", "branch_layers"]


def branch_layers(stage: int, branch: int, cin: int, cout: int,
                  width: int) -> list[tuple[str, int, int, int]]:
    """``(name, in, out, kernel)`` of one branch of one stage (1-based stage, branch 1 or 2)."""
    if stage == 1:
        names = [f"conv5_{i}_CPM_L{branch}" for i in range(1, 6)]
        specs = [(cin, width, 3), (width, width, 3), (width, width, 3), (width, 4 * width, 1),
                 (4 * width, cout, 1)]
    else:
        names = [f"Mconv{i}_stage{stage}_L{branch}" for i in range(1, 8)]
        specs = [(cin, width, 7)] + [(width, width, 7)] * 4 + [(width, width, 1),
                                                              (width, cout, 1)]
    return [(name, *spec) for name, spec in zip(names, specs, strict=True)]


def _branch(layers: list[tuple[str, int, int, int]]) -> nn.Sequential:
    mods: list[tuple[str, nn.Module]] = []
    for i, (name, cin, cout, kernel) in enumerate(layers):
        mods.append((name, nn.Conv2d(cin, cout, kernel, padding=kernel // 2)))
        if i < len(layers) - 1:
            mods.append((f"relu_{name}", nn.ReLU(inplace=True)))
    return nn.Sequential(OrderedDict(mods))


class TwoBranchStage(nn.Module):
    """One CVPR 2017 stage: ``paf`` branch (L1) and ``heatmap`` branch (L2)."""

    def __init__(self, stage: int, cin: int, n_paf: int, n_heat: int, width: int) -> None:
        super().__init__()
        self.paf = _branch(branch_layers(stage, 1, cin, n_paf, width))
        self.heatmap = _branch(branch_layers(stage, 2, cin, n_heat, width))

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        return self.paf(x), self.heatmap(x)
