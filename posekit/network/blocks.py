"""Network stage: the building blocks of the backbones and of the refinement stages.

All blocks map (N, C_in, h, w) to (N, C_out, h, w) at the same resolution (stride 1).
A stage ends in a 1x1 head with no activation, producing the stage's maps
(N, 2L, h, w) for PAFs or (N, K+1, h, w) for heatmaps.
"""

from __future__ import annotations

from collections.abc import Iterable

import torch
from torch import nn

__all__ = ["conv_act", "SeparableConv", "ChainedConvs", "Stage", "init_weights"]


def conv_act(cin: int, cout: int, kernel: int, act: str | None = "prelu",
             dilation: int = 1) -> nn.Sequential:
    """A same-size conv followed by PReLU (per channel), ReLU or nothing."""
    pad = dilation * (kernel - 1) // 2
    layers: list[nn.Module] = [nn.Conv2d(cin, cout, kernel, padding=pad, dilation=dilation)]
    if act == "prelu":
        layers.append(nn.PReLU(cout))
    elif act == "relu":
        layers.append(nn.ReLU(inplace=True))
    return nn.Sequential(*layers)


class SeparableConv(nn.Module):
    """Depthwise 3x3 (with batch norm) then pointwise 1x1, each followed by an activation."""

    def __init__(self, cin: int, cout: int, stride: int = 1, dilation: int = 1,
                 act: str = "relu", norm: bool = True) -> None:
        super().__init__()
        self.depthwise = nn.Conv2d(cin, cin, 3, stride=stride, padding=dilation,
                                   dilation=dilation, groups=cin, bias=not norm)
        self.bn1 = nn.BatchNorm2d(cin) if norm else nn.Identity()
        self.pointwise = nn.Conv2d(cin, cout, 1, bias=not norm)
        self.bn2 = nn.BatchNorm2d(cout) if norm else nn.Identity()
        if act == "prelu":
            self.act1: nn.Module = nn.PReLU(cin)
            self.act2: nn.Module = nn.PReLU(cout)
        else:
            self.act1 = nn.ReLU(inplace=True)
            self.act2 = nn.ReLU(inplace=True)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = self.act1(self.bn1(self.depthwise(x)))
        return self.act2(self.bn2(self.pointwise(x)))


class ChainedConvs(nn.Module):
    """PAMI 2019's replacement of a 7x7 conv: three chained 3x3 convs, outputs concatenated.

    (N, cin, h, w) -> (N, 3 * width, h, w). With ``separable`` each 3x3 is depthwise +
    pointwise (the light backbone's stages).
    """

    def __init__(self, cin: int, width: int, separable: bool = False) -> None:
        super().__init__()
        convs = []
        for i in range(3):
            c = cin if i == 0 else width
            if separable:
                convs.append(SeparableConv(c, width, act="prelu", norm=False))
            else:
                convs.append(conv_act(c, width, 3))
        self.convs = nn.ModuleList(convs)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        outs = []
        for conv in self.convs:
            x = conv(x)
            outs.append(x)
        return torch.cat(outs, 1)


class Stage(nn.Module):
    """One refinement stage: ``blocks`` conv blocks, a 1x1 conv + PReLU, a 1x1 head.

    ``block`` is ``"3x3"`` (:class:`ChainedConvs`) or ``"7x7"`` (one 7x7 conv + PReLU).
    (N, cin, h, w) -> (N, cout, h, w); the head has no activation.
    """

    def __init__(self, cin: int, cout: int, width: int, blocks: int, block: str,
                 separable: bool = False) -> None:
        super().__init__()
        layers: list[nn.Module] = []
        c = cin
        for _ in range(blocks):
            if block == "3x3":
                layers.append(ChainedConvs(c, width, separable=separable))
                c = 3 * width
            else:
                layers.append(conv_act(c, width, 7))
                c = width
        self.blocks = nn.Sequential(*layers)
        hidden = 4 * width
        self.hidden = conv_act(c, hidden, 1)
        self.head = nn.Conv2d(hidden, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.head(self.hidden(self.blocks(x)))


def init_weights(module: nn.Module, heads: Iterable[nn.Module], head_std: float = 1e-3) -> None:
    """He-normal convs, zero biases, unit batch norms; the output ``heads`` drawn small.

    Heads start near zero so that early stages' outputs do not swamp the later stages'
    inputs at the start of training.
    """
    head_ids = {id(h) for h in heads}
    for m in module.modules():
        if isinstance(m, nn.Conv2d):
            if id(m) in head_ids:
                nn.init.normal_(m.weight, std=head_std)
            else:
                nn.init.kaiming_normal_(m.weight, mode="fan_in", nonlinearity="relu")
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm2d):
            nn.init.ones_(m.weight)
            nn.init.zeros_(m.bias)
