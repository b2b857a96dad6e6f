"""Ideal maps of known people: the training targets, optionally blurred like a network's.

A parser's ceiling is what it makes of perfect maps. :func:`ideal_maps` renders the
targets a network is trained on (:mod:`posekit.targets`: stride 8, Gaussian sigma 7 image
pixels, PAF half-width 8 image pixels) with either PAF region:

- ``"rect"``: the paper's region (eq. 12-16), the rectangle between the two joints, which
  OpenPose trains on: the field stops at the joints, so the first and last samples of a
  limb's line integral sit on its edge;
- ``"capsule"``: posekit's targets, the rectangle plus round caps over the joints.

``smooth`` (map pixels) blurs both maps with a Gaussian, as a network's outputs are
smooth where targets have edges; the background channel is recomputed from the blurred
parts. Rendering is deterministic: the same people give the same maps.
"""

from __future__ import annotations

import math

import numpy as np

from posekit.errors import PosekitError
from posekit.skeleton import Skeleton

__all__ = ["ideal_maps", "smooth_maps", "STRIDE", "SIGMA", "HALF_WIDTH"]

STRIDE = 8
SIGMA = 7.0  # image pixels
HALF_WIDTH = 8.0  # image pixels, PAF half-width


def smooth_maps(heatmaps: np.ndarray, pafs: np.ndarray, sigma: float
                ) -> tuple[np.ndarray, np.ndarray]:
    """Maps blurred by a Gaussian of ``sigma`` map pixels (0: unchanged), background redone."""
    if not (math.isfinite(sigma) and sigma >= 0):
        raise PosekitError(f"smoothing must be a number of map pixels >= 0, got {sigma!r}")
    if sigma == 0:
        return heatmaps, pafs
    from scipy.ndimage import gaussian_filter

    parts = gaussian_filter(np.asarray(heatmaps[..., :-1], dtype=np.float32),
                            sigma=(sigma, sigma, 0), mode="constant")
    paf = gaussian_filter(np.asarray(pafs, dtype=np.float32), sigma=(sigma, sigma, 0),
                          mode="constant")
    heat = np.empty(heatmaps.shape, dtype=np.float32)
    heat[..., :-1] = parts
    heat[..., -1] = np.clip(1.0 - parts.max(axis=-1, initial=0.0), 0.0, 1.0)
    return heat, paf.astype(np.float32)


def ideal_maps(skeleton: Skeleton, keypoints: np.ndarray, image_size: tuple[int, int], *,
               field: str = "rect", smooth: float = 0.0, stride: int = STRIDE,
               sigma: float = SIGMA, half_width: float = HALF_WIDTH
               ) -> tuple[np.ndarray, np.ndarray]:
    """(heatmaps (h, w, K+1), PAFs (h, w, 2L)) float32 of people (P, K, 3) (module docstring).

    ``half_width`` is in image pixels (the targets take map pixels: ``half_width / stride``).
    """
    from posekit.targets import confidence_maps, part_affinity_fields

    heat = confidence_maps(keypoints, skeleton, image_size, stride=stride, sigma=sigma)
    paf = part_affinity_fields(keypoints, skeleton, image_size, stride=stride,
                               width=half_width / stride, field=field)
    return smooth_maps(heat, paf, smooth)
