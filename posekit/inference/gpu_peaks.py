"""Decode stage on the network's device: heatmaps (K, h, w) tensor -> peaks per part.

On CUDA the heatmaps need not cross to the CPU: they are upsampled to the working image
there, non-maximum suppressed and refined, and only the candidates, a few hundred
``[x, y, score]`` rows, are copied back. The rules are those of
:func:`posekit.decode.find_peaks` with ``upsample="full"`` (its reference path): cubic
convolution with a = -0.75 (``torch``'s bicubic, the same kernel and pixel-centre
geometry as OpenCV's ``INTER_CUBIC``), a 3x3 local maximum with the
raster-order plateau rule, a score above the threshold, and the quadratic (or no)
sub-pixel refinement. The candidates then go through ``find_peaks``'s own clean-ups
(border echoes, border refinement from the small maps, separation) and ordering, run on
the host with its functions, so the two paths cannot drift apart; for that the small
maps (1/64 of the upsampled ones) are copied too. The same code runs on the CPU, where
tests compare it with the numpy path. Bilinear upsampling is left
to the CPU: its flat ridges make plateau ties depend on float rounding.
"""

from __future__ import annotations

import numpy as np
import torch
import torch.nn.functional as F

from posekit.errors import PosekitError

__all__ = ["device_peaks", "supports"]

# neighbours that precede a pixel in raster order must be strictly lower (plateau rule)
_BEFORE = ((-1, -1), (-1, 0), (-1, 1), (0, -1))
_AFTER = ((0, 1), (1, -1), (1, 0), (1, 1))


def supports(config: object) -> bool:
    """Whether peaks for this :class:`~posekit.decode.DecodeConfig` can be found here."""
    return (getattr(config, "upsample", None) in ("patch", "full")
            and getattr(config, "kernel", None) == "cubic"
            and getattr(config, "refine", None) in ("quadratic", "none"))


def device_peaks(heatmaps: torch.Tensor, threshold: float, image_size: tuple[int, int], *,
                 kernel: str = "cubic", refine: str = "quadratic",
                 max_peaks: int | None = None, separation: float = 0.0) -> list[np.ndarray]:
    """Peaks of heatmaps (K, h, w) (background channel left out) covering an image of
    ``image_size`` (W, H): K arrays (n_k, 3) float64 ``[x, y, score]``, best first, as
    ``find_peaks(..., upsample="full", separation=separation)`` gives them."""

    if heatmaps.ndim != 3:
        raise PosekitError(f"heatmaps must be (K, h, w), got {tuple(heatmaps.shape)}")
    if refine not in ("quadratic", "none") or kernel not in ("cubic", "linear"):
        raise PosekitError(f"device peaks support kernel cubic/linear and refine "
                           f"quadratic/none, got {kernel!r}/{refine!r}")
    K, h, w = heatmaps.shape
    W, H = int(image_size[0]), int(image_size[1])
    values = heatmaps.float()
    if (h, w) != (H, W):
        mode = "bicubic" if kernel == "cubic" else "bilinear"
        values = F.interpolate(values[None], size=(H, W), mode=mode, align_corners=False)[0]
    padded = F.pad(values, (1, 1, 1, 1), value=float("-inf"))
    centre = padded[:, 1:-1, 1:-1]
    keep = centre > threshold
    for dy, dx in _BEFORE + _AFTER:
        other = padded[:, 1 + dy:1 + dy + H, 1 + dx:1 + dx + W]
        keep &= (centre > other) if (dy, dx) in _BEFORE else (centre >= other)
    c, y, x = keep.nonzero(as_tuple=True)
    score = centre[c, y, x]
    if refine == "quadratic" and len(c):
        dy_, dx_ = _quadratic(padded, c, y + 1, x + 1, score)
    else:
        dy_ = dx_ = torch.zeros_like(score)
    xys = torch.stack([x.double() + dx_.double(), y.double() + dy_.double(), score.double()],
                      dim=1).cpu().numpy()
    channel = c.cpu().numpy()
    small = heatmaps.detach().float().permute(1, 2, 0).cpu().numpy()
    return _finish(channel, xys, small, (W / w, H / h), max_peaks, separation)


def _finish(channel: np.ndarray, xys: np.ndarray, small: np.ndarray,
            scale: tuple[float, float], max_peaks: int | None,
            separation: float) -> list[np.ndarray]:
    """``find_peaks``'s steps after the maxima are found (same order, its functions)."""
    from posekit.decode import peaks as numpy_peaks

    found = (channel, xys)
    if max(scale) > 1:
        found = numpy_peaks._drop_border_echoes(*found, small.shape[:2], scale)
        found = numpy_peaks._border_refine(*found, small, scale)
    if separation > 0:
        found = numpy_peaks._drop_close(*found, separation * max(scale))
    return numpy_peaks._split(*found, small.shape[2], max_peaks)


def _quadratic(padded: torch.Tensor, c: torch.Tensor, a: torch.Tensor, b: torch.Tensor,
               centre: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
    """Vertex of the parabola through each maximum and its two neighbours, per axis
    (float64, as the numpy path; 0 where a neighbour is outside the image)."""
    centre = centre.double()
    out = []
    for (pa, pb), (qa, qb) in (((a - 1, b), (a + 1, b)), ((a, b - 1), (a, b + 1))):
        before = padded[c, pa, pb].double()
        after = padded[c, qa, qb].double()
        curve = before - 2.0 * centre + after
        ok = torch.isfinite(before) & torch.isfinite(after) & (curve < 0)
        d = torch.where(ok, 0.5 * (before - after) / torch.where(ok, curve, -1.0),
                        torch.zeros_like(curve))
        out.append(d.clamp(-0.5, 0.5))
    return out[0], out[1]
