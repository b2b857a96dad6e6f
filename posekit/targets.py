"""Targets stage: the ground-truth maps a network learns (paper eq. 10-16), any skeleton.

From people's keypoints (P, K, 3) ``[x, y, v]`` in image pixels (v = 0: not labelled,
ignored) and an image of (W, H) pixels, at stride s the maps have (h, w) = (ceil(H/s),
ceil(W/s)) pixels, map pixel (i, j) centred at image point ((j + 0.5) s - 0.5,
(i + 0.5) s - 0.5):

- :func:`confidence_maps` (h, w, K+1) float32: per person and part a Gaussian
  ``exp(-d^2 / (2 sigma^2))`` (d and sigma in image pixels; the 2 sigma^2 of OpenPose's
  training code, where the paper writes sigma^2), maximum over persons (eq. 10-11); the
  last channel is the background, 1 - maximum over parts.
- :func:`part_affinity_fields` (h, w, 2L) float32: for each limb, the unit vector from
  its first to its second keypoint on the map pixels whose centre lies within ``width``
  map pixels of the limb segment (eq. 12-14), averaged over the persons covering the
  pixel (eq. 15-16); limb l's x and y go to channels ``skeleton.paf_channels[l]``. Limbs
  with an unlabelled end or of zero length contribute nothing. The paper's region is the
  rectangle between the endpoints (``field="rect"``, OpenPose's training targets); by
  default (``field="capsule"``) it also takes the round caps within ``width`` of each
  endpoint, so the field covers the joints, where the line integral of decoding takes
  its first and last samples: on maps rendered from known people (stride 8) the
  rectangle lets about 5 % of the true limbs fail decoding's "95 % of the samples" rule,
  the capsule none. (``end_caps=False`` is the older spelling of ``field="rect"``.)
- :func:`loss_mask` (h, w) float32: 1, and 0 where an ignore mask (unannotated people,
  crowd regions) touches the map pixel's s x s cell.

Keypoints outside the image still contribute the part of their Gaussian or limb that falls
inside it, so the maps of a crop are the crop of the maps. Everything is vectorised over
people and pixels; limbs are one pass each.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

from posekit.errors import PosekitError
from posekit.skeleton import Skeleton

__all__ = ["Targets", "map_size", "confidence_maps", "part_affinity_fields", "loss_mask",
           "render_targets", "PAF_FIELDS"]

# the PAF region of a limb: the paper's rectangle (eq. 12-14) or the capsule around it
PAF_FIELDS = ("capsule", "rect")

# elements per vectorised block (people x pixels): bounds the memory of one step
_BLOCK = 1 << 21


@dataclass(frozen=True, eq=False)
class Targets:
    """The maps of one image: heatmaps (h, w, K+1), pafs (h, w, 2L), mask (h, w)."""

    heatmaps: np.ndarray
    pafs: np.ndarray
    mask: np.ndarray


def map_size(image_size: tuple[int, int], stride: int = 8) -> tuple[int, int]:
    """``(w, h)`` of the maps of an image of ``image_size = (W, H)`` at ``stride``."""
    W, H, s = _geometry(image_size, stride)
    return -(-W // s), -(-H // s)


def _geometry(image_size: tuple[int, int], stride: int) -> tuple[int, int, int]:
    try:
        W, H = (int(v) for v in image_size)
        ok = W >= 1 and H >= 1 and all(float(v) == int(v) for v in image_size)
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise PosekitError(f"image_size must be (width, height), two positive integers, "
                           f"got {image_size!r}")
    try:
        ok = not isinstance(stride, bool) and float(stride).is_integer() and stride >= 1
    except (TypeError, ValueError):
        ok = False
    if not ok:
        raise PosekitError(f"stride must be a positive integer, got {stride!r}")
    return W, H, int(stride)


def _people(keypoints: object, skeleton: Skeleton) -> tuple[np.ndarray, np.ndarray]:
    """(P, K, 2) float64 coordinates and (P, K) bool: labelled with finite coordinates."""
    K = skeleton.num_keypoints
    kp = np.asarray(keypoints, dtype=np.float64)
    if kp.size == 0:
        kp = kp.reshape(0, K, 3)
    if kp.ndim != 3 or kp.shape[1:] != (K, 3):
        raise PosekitError(f"keypoints must be (people, {K}, 3) [x, y, v] for skeleton "
                           f"{skeleton.name!r}, got shape {kp.shape}")
    valid = (kp[..., 2] > 0) & np.isfinite(kp[..., :2]).all(axis=-1)
    return np.where(valid[..., None], kp[..., :2], 0.0), valid


def _centres(n: int, stride: int) -> np.ndarray:
    return (np.arange(n) + 0.5) * stride - 0.5


def _chunks(n: int, per_item: int) -> list[slice]:
    step = max(1, _BLOCK // max(per_item, 1))
    return [slice(i, min(i + step, n)) for i in range(0, n, step)]


def confidence_maps(keypoints: np.ndarray, skeleton: Skeleton, image_size: tuple[int, int],
                    stride: int = 8, sigma: float = 7.0) -> np.ndarray:
    """Heatmaps (h, w, K+1) float32: Gaussians, maximum over persons, then background."""
    W, H, s = _geometry(image_size, stride)
    if not (math.isfinite(sigma) and sigma > 0):
        raise PosekitError(f"sigma must be a positive number of image pixels, got {sigma!r}")
    w, h = map_size((W, H), s)
    xy, valid = _people(keypoints, skeleton)
    K = skeleton.num_keypoints
    # separable: exp(-(dx^2 + dy^2) / 2 sigma^2) = gx * gy, per person and part
    gx = np.exp(-((_centres(w, s) - xy[..., 0:1]) ** 2) / (2.0 * sigma ** 2))  # (P, K, w)
    gy = np.exp(-((_centres(h, s) - xy[..., 1:2]) ** 2) / (2.0 * sigma ** 2))  # (P, K, h)
    gx = np.where(valid[..., None], gx, 0.0)
    parts = np.zeros((K, h, w))
    for block in _chunks(len(xy), K * h * w):
        peak = (gy[block, :, :, None] * gx[block, :, None, :]).max(axis=0)
        np.maximum(parts, peak, out=parts)
    out = np.empty((h, w, K + 1), dtype=np.float32)
    out[..., :K] = np.moveaxis(parts, 0, -1)
    out[..., K] = np.clip(1.0 - parts.max(axis=0, initial=0.0), 0.0, 1.0)
    return out


def _end_caps(field: str | None, end_caps: bool) -> bool:
    if field is None:
        return bool(end_caps)
    if field not in PAF_FIELDS:
        raise PosekitError(f"PAF field must be one of {', '.join(PAF_FIELDS)} (capsule: the "
                           f"limb's rectangle and round caps; rect: the paper's rectangle), "
                           f"got {field!r}")
    return field == "capsule"


def part_affinity_fields(keypoints: np.ndarray, skeleton: Skeleton,
                         image_size: tuple[int, int], stride: int = 8, width: float = 1.0,
                         *, end_caps: bool = True, field: str | None = None) -> np.ndarray:
    """PAFs (h, w, 2L) float32: unit limb vectors, averaged over the persons covering a pixel.

    ``width``: how far from the limb segment a pixel centre may be, in map pixels.
    ``field``: ``"capsule"`` (default) or ``"rect"``, the paper's rectangle (module
    docstring); ``end_caps=False`` means ``"rect"`` when ``field`` is not given.
    """
    end_caps = _end_caps(field, end_caps)
    W, H, s = _geometry(image_size, stride)
    if not (math.isfinite(width) and width >= 0):
        raise PosekitError(f"width must be a number of map pixels >= 0, got {width!r}")
    w, h = map_size((W, H), s)
    xy, valid = _people(keypoints, skeleton)
    uv = (xy + 0.5) / s - 0.5  # keypoints in map coordinates: map pixel (i, j) at (j, i)
    cols, rows = np.arange(w, dtype=np.float64), np.arange(h, dtype=np.float64)
    out = np.zeros((h, w, skeleton.num_paf_channels), dtype=np.float32)
    for (ka, kb), (cx, cy) in zip(skeleton.limb_index.tolist(),
                                  skeleton.paf_channels.tolist(), strict=True):
        start, vec = uv[:, ka], uv[:, kb] - uv[:, ka]
        length = np.hypot(vec[:, 0], vec[:, 1])
        use = valid[:, ka] & valid[:, kb] & (length > 1e-9)
        if not use.any():
            continue
        start, length = start[use], length[use]
        unit = vec[use] / length[:, None]
        total = np.zeros((h * w, 2))
        count = np.zeros(h * w)
        for block in _chunks(len(start), h * w):
            ux, uy = unit[block, 0, None, None], unit[block, 1, None, None]
            rx = cols[None, None, :] - start[block, 0, None, None]  # (p, 1, w)
            ry = rows[None, :, None] - start[block, 1, None, None]  # (p, h, 1)
            along = ux * rx + uy * ry
            across = np.abs(ux * ry - uy * rx)
            if end_caps:  # distance to the segment <= width
                beyond = np.maximum(np.maximum(-along, along - length[block, None, None]), 0.0)
                on = beyond ** 2 + across ** 2 <= width ** 2
            else:  # the paper's rectangle: between the endpoints, within width across
                on = (along >= 0) & (along <= length[block, None, None]) & (across <= width)
            on = on.reshape(len(ux), h * w).astype(np.float64)
            total += on.T @ unit[block]
            count += on.sum(axis=0)
        mean = total / np.maximum(count, 1.0)[:, None]
        out[..., cx] = mean[:, 0].reshape(h, w)
        out[..., cy] = mean[:, 1].reshape(h, w)
    return out


def loss_mask(image_size: tuple[int, int], stride: int = 8,
              ignore: np.ndarray | None = None) -> np.ndarray:
    """Loss weights (h, w) float32: 1, or 0 where ``ignore`` (H, W) bool touches the cell."""
    W, H, s = _geometry(image_size, stride)
    w, h = map_size((W, H), s)
    if ignore is None:
        return np.ones((h, w), dtype=np.float32)
    ign = np.asarray(ignore)
    if ign.shape != (H, W):
        raise PosekitError(f"ignore mask must have the image's shape (H, W) = ({H}, {W}), "
                           f"got {ign.shape}")
    padded = np.zeros((h * s, w * s), dtype=bool)
    padded[:H, :W] = ign.astype(bool)
    touched = padded.reshape(h, s, w, s).any(axis=(1, 3))
    return (~touched).astype(np.float32)


def render_targets(keypoints: np.ndarray, skeleton: Skeleton, image_size: tuple[int, int],
                   stride: int = 8, sigma: float = 7.0, width: float = 1.0,
                   ignore: np.ndarray | None = None, *, end_caps: bool = True,
                   field: str | None = None) -> Targets:
    """All three maps of one image (see the module docstring)."""
    return Targets(
        heatmaps=confidence_maps(keypoints, skeleton, image_size, stride, sigma),
        pafs=part_affinity_fields(keypoints, skeleton, image_size, stride, width,
                                  end_caps=end_caps, field=field),
        mask=loss_mask(image_size, stride, ignore),
    )
