"""Network stage: the staged PAF network, built from a skeleton and a :class:`NetworkConfig`.

``net(x)`` maps normalised images (N, 3, H, W) to the last stage's PAFs (N, 2L, h, w) and
heatmaps (N, K+1, h, w), h = ceil(H/8), w = ceil(W/8), in the skeleton's channel layout
(PAF channels as ``skeleton.paf_layout``, heatmap channel K = background).

Layout ``"pami"`` (PAMI 2019): backbone features F, then T_P PAF stages and T_C
confidence-map stages. With ``order="paf-first"`` PAF stage 1 sees F, PAF stage t sees
``cat(F, P_{t-1})``, CM stage 1 sees ``cat(F, P_{T_P})`` and CM stage t sees
``cat(F, P_{T_P}, S_{t-1})``; ``"cm-first"`` swaps the roles. Layout ``"cvpr2017"``: the
two-branch six-stage network of OpenPose's COCO and MPI models (see
:mod:`posekit.network.cvpr2017`). Layout ``"body25"``: OpenPose's BODY_25 network (see
:mod:`posekit.network.body25`; CM stage t > 1 sees ``cat(F, S_{t-1}, P_{T_P})``).
"""

from __future__ import annotations

import torch
from torch import nn

from posekit.errors import PosekitError
from posekit.network.blocks import Stage, init_weights
from posekit.network.body25 import HEATMAP_BRANCH, PAF_BRANCH, Body25Stage
from posekit.network.config import NetworkConfig, Preprocess
from posekit.network.cvpr2017 import TwoBranchStage
from posekit.network.light import LightFront
from posekit.network.vgg import VGGFront
from posekit.skeleton import Skeleton, load_skeleton

__all__ = ["PoseNetwork", "build_network", "count_parameters", "empty_network"]


class PoseNetwork(nn.Module):
    """A staged PAF network for one skeleton (use :func:`build_network`).

    Attributes: ``skeleton`` (the :class:`Skeleton`), ``skeleton_name``, ``layout_hash``,
    ``config`` (:class:`NetworkConfig`), ``preprocess`` (:class:`Preprocess`), ``stride``.
    """

    def __init__(self, skeleton: Skeleton, config: NetworkConfig,
                 preprocess: Preprocess) -> None:
        super().__init__()
        self.skeleton = skeleton
        self.skeleton_name = skeleton.name
        self.layout_hash = skeleton.layout_hash
        self.config = config
        self.preprocess = preprocess
        self.num_paf_channels = n_paf = skeleton.num_paf_channels
        self.num_heatmap_channels = n_heat = skeleton.num_heatmap_channels
        width = config.width
        cvpr = config.layout == "cvpr2017"
        body25 = config.layout == "body25"
        if config.backbone == "light":
            self.backbone: nn.Module = LightFront(width)
        else:
            self.backbone = VGGFront(width, cpm_act="relu" if cvpr else "prelu",
                                     conv4_2_act="prelu" if body25 else "relu")
        self.stride = self.backbone.stride
        heads: list[nn.Module] = []
        if body25:
            self.paf_stages = nn.ModuleList(
                Body25Stage(t, PAF_BRANCH, width + (n_paf if t else 0), n_paf)
                for t in range(config.paf_stages)
            )
            self.cm_stages = nn.ModuleList(
                Body25Stage(t, HEATMAP_BRANCH, width + n_paf + (n_heat if t else 0), n_heat)
                for t in range(config.cm_stages)
            )
            heads = [s.head for s in (*self.paf_stages, *self.cm_stages)]
        elif cvpr:
            later = n_paf + n_heat + width
            self.stages = nn.ModuleList(
                TwoBranchStage(t, width if t == 1 else later, n_paf, n_heat, width)
                for t in range(1, config.paf_stages + 1)
            )
            for stage in self.stages:
                heads += [stage.paf[-1], stage.heatmap[-1]]
        else:
            paf_first = config.order == "paf-first"
            n_first, n_second = (n_paf, n_heat) if paf_first else (n_heat, n_paf)
            t_first, t_second = ((config.paf_stages, config.cm_stages) if paf_first
                                 else (config.cm_stages, config.paf_stages))

            def stage(cin: int, cout: int) -> Stage:
                return Stage(cin, cout, width, config.num_blocks, config.block,
                             separable=config.backbone == "light")

            first = nn.ModuleList(
                stage(width + (n_first if i else 0), n_first) for i in range(t_first)
            )
            second = nn.ModuleList(
                stage(width + n_first + (n_second if i else 0), n_second)
                for i in range(t_second)
            )
            self.paf_stages, self.cm_stages = (first, second) if paf_first else (second, first)
            heads = [s.head for s in (*first, *second)]
        init_weights(self, heads)

    def forward_stages(self, x: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        """Every stage's output: (PAF maps per PAF stage, heatmaps per CM stage)."""
        if x.ndim != 4 or x.shape[1] != 3:
            raise PosekitError(
                f"network input must be normalised images (N, 3, H, W), got {tuple(x.shape)}"
            )
        feats = self.backbone(x)
        pafs: list[torch.Tensor] = []
        heats: list[torch.Tensor] = []
        if self.config.layout == "cvpr2017":
            inp = feats
            for stage in self.stages:
                paf, heat = stage(inp)
                pafs.append(paf)
                heats.append(heat)
                inp = torch.cat([paf, heat, feats], 1)
            return pafs, heats
        if self.config.layout == "body25":
            for i, stage in enumerate(self.paf_stages):
                pafs.append(stage(feats if i == 0 else torch.cat([feats, pafs[-1]], 1)))
            for i, stage in enumerate(self.cm_stages):
                parts = [feats] + ([heats[-1]] if i else []) + [pafs[-1]]
                heats.append(stage(torch.cat(parts, 1)))
            return pafs, heats
        if self.config.order == "paf-first":
            first_stages, first_out, second_stages, second_out = (
                self.paf_stages, pafs, self.cm_stages, heats)
        else:
            first_stages, first_out, second_stages, second_out = (
                self.cm_stages, heats, self.paf_stages, pafs)
        for i, stage in enumerate(first_stages):
            first_out.append(stage(feats if i == 0 else torch.cat([feats, first_out[-1]], 1)))
        for i, stage in enumerate(second_stages):
            parts = [feats, first_out[-1]] + ([second_out[-1]] if i else [])
            second_out.append(stage(torch.cat(parts, 1)))
        return pafs, heats

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        """Last stage's (PAFs (N, 2L, h, w), heatmaps (N, K+1, h, w))."""
        pafs, heats = self.forward_stages(x)
        return pafs[-1], heats[-1]

    def extra_repr(self) -> str:
        c = self.config
        return (f"skeleton={self.skeleton_name!r}, layout={c.layout!r}, backbone={c.backbone!r}, "
                f"paf_stages={c.paf_stages}, cm_stages={c.cm_stages}, block={c.block!r}, "
                f"order={c.order!r}, width={c.width}")


def build_network(skeleton: Skeleton | str, config: NetworkConfig | None = None, *,
                  preprocess: Preprocess | None = None) -> PoseNetwork:
    """A freshly initialised network whose heads are sized from ``skeleton``.

    ``preprocess`` defaults to OpenPose's for its layouts (cvpr2017, body25) and to ImageNet-style
    RGB normalisation otherwise.
    """
    sk = load_skeleton(skeleton)
    config = config if config is not None else NetworkConfig()
    if not isinstance(config, NetworkConfig):
        raise PosekitError(f"expected a NetworkConfig, got {type(config).__name__}")
    if preprocess is None:
        preprocess = (Preprocess.openpose() if config.layout in ("cvpr2017", "body25")
                      else Preprocess())
    return PoseNetwork(sk, config, preprocess)


def empty_network(skeleton: Skeleton, config: NetworkConfig,
                  preprocess: Preprocess) -> PoseNetwork:
    """A network with uninitialised CPU weights, for callers that overwrite every tensor.

    Built on torch's meta device, so the random initialisation (about a second for the
    52 M parameters of OpenPose's COCO network) is skipped.
    """
    with torch.device("meta"):
        net = PoseNetwork(skeleton, config, preprocess)
    return net.to_empty(device="cpu")


def count_parameters(net: nn.Module) -> int:
    """Number of trainable parameters."""
    return sum(p.numel() for p in net.parameters() if p.requires_grad)
