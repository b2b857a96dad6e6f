"""The staged masked L2 loss (paper eq. 22-24)."""

import pytest
import torch

from posekit.training.loss import masked_l2, staged_loss


def _maps(n=2, c=3, h=4, w=5, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, c, h, w, generator=g)


def test_masked_pixels_do_not_count():
    target = _maps()
    pred = target.clone()
    pred[:, :, 0, 0] += 5.0  # wrong only where the mask is 0
    mask = torch.ones(2, 1, 4, 5)
    mask[:, :, 0, 0] = 0
    assert masked_l2(pred, target, mask).item() == 0.0
    mask[:, :, 0, 0] = 1
    # 2 images x 3 channels x one pixel x 5^2, per image
    assert masked_l2(pred, target, mask).item() == pytest.approx(2 * 3 * 25 / 2)


def test_every_stage_of_both_kinds_is_summed():
    paf_t, heat_t = _maps(c=4), _maps(c=3)
    mask = torch.ones(2, 4, 5)  # (N, h, w) is accepted too
    pafs = [_maps(c=4, seed=1), _maps(c=4, seed=2)]
    heats = [_maps(c=3, seed=3)]
    loss = staged_loss(pafs, heats, paf_t, heat_t, mask)
    m = mask[:, None]
    expected = sum(masked_l2(p, paf_t, m) for p in pafs) + masked_l2(heats[0], heat_t, m)
    assert loss.total.item() == pytest.approx(expected.item())
    assert loss.last_paf.item() == pytest.approx(masked_l2(pafs[-1], paf_t, m).item())
    assert loss.paf.item() + loss.heatmap.item() == pytest.approx(loss.total.item())


def test_loss_gradient_reaches_every_stage():
    paf_t, heat_t, mask = _maps(c=4), _maps(c=3), torch.ones(2, 1, 4, 5)
    stages = [torch.zeros(2, 4, 4, 5, requires_grad=True) for _ in range(2)]
    heat = torch.zeros(2, 3, 4, 5, requires_grad=True)
    staged_loss(stages, [heat], paf_t, heat_t, mask).total.backward()
    assert all(s.grad is not None and s.grad.abs().sum() > 0 for s in stages + [heat])


def test_shape_mismatch_is_refused():
    with pytest.raises(ValueError, match="differ in shape"):
        masked_l2(_maps(c=3), _maps(c=4), torch.ones(2, 1, 4, 5))
