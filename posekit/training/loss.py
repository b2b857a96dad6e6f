"""Training: the staged, masked L2 loss of the PAF network (PAMI 2019, eq. 22-24).

For every PAF stage t and every confidence-map stage t the loss adds
``sum_p W(p) * ||pred_t(p) - target(p)||^2`` over map pixels p and channels, where the
mask W (N, 1, h, w) is 0 on people without keypoints and crowd regions. PAF predictions are
(N, 2L, h, w) and heatmap predictions (N, K+1, h, w), like their targets. The sum is
divided by the batch size N, so the value is the loss per image.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import torch

__all__ = ["StagedLoss", "staged_loss", "masked_l2"]


@dataclass(frozen=True)
class StagedLoss:
    """The total loss (for backward) and its parts (detached, for logging)."""

    total: torch.Tensor  # scalar: sum over all stages of the PAF and heatmap losses
    paf: torch.Tensor  # scalar: sum over PAF stages
    heatmap: torch.Tensor  # scalar: sum over confidence-map stages
    last_paf: torch.Tensor  # scalar: last PAF stage only
    last_heatmap: torch.Tensor  # scalar: last confidence-map stage only


def masked_l2(pred: torch.Tensor, target: torch.Tensor, mask: torch.Tensor) -> torch.Tensor:
    """``sum W * (pred - target)^2 / N`` for (N, C, h, w) maps and a (N, 1, h, w) mask."""
    if pred.shape != target.shape:
        raise ValueError(f"prediction {tuple(pred.shape)} and target {tuple(target.shape)} "
                         "differ in shape")
    diff = pred.float() - target.float()
    return (diff * diff * mask.float()).sum() / max(pred.shape[0], 1)


def staged_loss(paf_stages: Sequence[torch.Tensor], heatmap_stages: Sequence[torch.Tensor],
                paf_target: torch.Tensor, heatmap_target: torch.Tensor,
                mask: torch.Tensor) -> StagedLoss:
    """Sum of :func:`masked_l2` over every stage of both kinds (eq. 22-24).

    ``mask`` may be (N, h, w) or (N, 1, h, w); it applies to every channel.
    """
    if not paf_stages or not heatmap_stages:
        raise ValueError("staged_loss needs at least one PAF stage and one heatmap stage")
    if mask.ndim == 3:
        mask = mask.unsqueeze(1)
    paf_terms = [masked_l2(p, paf_target, mask) for p in paf_stages]
    heat_terms = [masked_l2(h, heatmap_target, mask) for h in heatmap_stages]
    paf = torch.stack(paf_terms).sum()
    heat = torch.stack(heat_terms).sum()
    return StagedLoss(total=paf + heat, paf=paf.detach(), heatmap=heat.detach(),
                      last_paf=paf_terms[-1].detach(), last_heatmap=heat_terms[-1].detach())
