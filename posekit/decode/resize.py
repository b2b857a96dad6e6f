"""Decode stage, map geometry and resampling: maps (h, w, C) at network resolution <-> image.

Geometry (shared by the whole project): maps of (h, w) pixels covering an image of (W, H)
pixels at scale ``(sx, sy)`` (image pixels per map pixel, the stride) have map pixel
(i, j) centred at image point ``x = (j + 0.5) sx - 0.5``, ``y = (i + 0.5) sy - 0.5``; an
image point ``x`` sits at map coordinate ``u = (x + 0.5) / sx - 0.5``. This is the
pixel-centre (``align_corners=False``) convention of OpenCV's ``resize``.

Kernels: ``"cubic"`` is cubic convolution with a = -0.75 (OpenCV's ``INTER_CUBIC``, which
OpenPose uses to upsample its maps), ``"linear"`` is bilinear. Taps outside the map repeat
the border pixel.
"""

from __future__ import annotations

import math
from typing import Literal

import numpy as np

from posekit.errors import PosekitError

__all__ = [
    "Kernel", "CUBIC_A", "resolve_geometry", "to_map", "to_image", "kernel_taps",
    "axis_taps", "upsample_maps", "check_image_size",
]

Kernel = Literal["cubic", "linear"]
CUBIC_A = -0.75


def to_map(x: np.ndarray | float, scale: float) -> np.ndarray:
    """Image coordinate -> map coordinate along one axis."""
    return (np.asarray(x, dtype=np.float64) + 0.5) / scale - 0.5


def to_image(u: np.ndarray | float, scale: float) -> np.ndarray:
    """Map coordinate -> image coordinate along one axis."""
    return (np.asarray(u, dtype=np.float64) + 0.5) * scale - 0.5


def resolve_geometry(map_hw: tuple[int, int], image_size: tuple[float, float] | None = None,
                     stride: float | tuple[float, float] | None = None,
                     ) -> tuple[tuple[int, int], tuple[float, float]]:
    """``(image_size (W, H), scale (sx, sy))`` for maps of ``map_hw = (h, w)`` pixels.

    ``image_size`` given: the maps cover that image, scale = image size / map size (per
    axis) unless ``stride`` fixes it. Neither given: the maps are at image resolution.
    ``stride`` alone: the image is the map size times the stride.
    """
    h, w = map_hw
    if stride is not None:
        sx, sy = (stride, stride) if np.isscalar(stride) else tuple(stride)  # type: ignore[misc]
        sx, sy = float(sx), float(sy)
        if not (math.isfinite(sx) and math.isfinite(sy) and sx > 0 and sy > 0):
            raise PosekitError(f"stride must be a positive number, got {stride!r}")
    if image_size is None:
        if stride is None:
            return (w, h), (1.0, 1.0)
        return (round(w * sx), round(h * sy)), (sx, sy)
    W, H = check_image_size(image_size)
    if stride is None:
        sx, sy = W / w, H / h
    return (W, H), (sx, sy)


def check_image_size(image_size: object) -> tuple[int, int]:
    """``(W, H)`` as two positive ints, or a :class:`PosekitError` naming the fix."""
    try:
        values = [float(v) for v in image_size]  # type: ignore[union-attr]
    except (TypeError, ValueError):
        values = []
    if (len(values) != 2 or not all(math.isfinite(v) and v >= 1 and v == int(v)
                                    for v in values)):
        raise PosekitError(f"image_size must be (width, height), two positive integers, "
                           f"got {image_size!r}")
    return int(values[0]), int(values[1])


def _cubic(d: np.ndarray) -> np.ndarray:
    a = CUBIC_A
    near = ((a + 2.0) * d - (a + 3.0)) * d * d + 1.0
    far = ((a * d - 5.0 * a) * d + 8.0 * a) * d - 4.0 * a
    return np.where(d <= 1.0, near, np.where(d < 2.0, far, 0.0))


def kernel_taps(u: np.ndarray, kernel: Kernel = "cubic") -> tuple[np.ndarray, np.ndarray]:
    """Interpolation taps at map coordinates ``u``: (indices (..., T), weights (..., T)).

    Indices are not clipped to the map; clip them to repeat the border.
    """
    u = np.asarray(u, dtype=np.float64)
    base = np.floor(u)
    t = (u - base)[..., None]
    base = base.astype(np.intp)[..., None]
    if kernel == "cubic":
        offsets = np.arange(-1, 3)
        return base + offsets, _cubic(np.abs(t - offsets))
    if kernel == "linear":
        return base + np.arange(2), np.concatenate([1.0 - t, t], axis=-1)
    raise PosekitError(f"unknown interpolation kernel {kernel!r}; use 'cubic' or 'linear'")


def axis_taps(n_out: int, n_in: int, scale: float,
              kernel: Kernel = "cubic") -> tuple[np.ndarray, np.ndarray]:
    """Taps resampling one axis of ``n_in`` map pixels to ``n_out`` image pixels at
    ``scale`` image pixels per map pixel: indices (n_out, T), clipped to the map (the
    border repeats), and float32 weights (n_out, T)."""
    idx, weight = kernel_taps(to_map(np.arange(n_out), scale), kernel)
    return np.clip(idx, 0, n_in - 1), weight.astype(np.float32)


def upsample_maps(maps: np.ndarray, image_size: tuple[int, int], scale: tuple[float, float],
                  kernel: Kernel = "cubic") -> np.ndarray:
    """Maps (h, w, C) resampled to the whole image: (H, W, C) float32.

    Separable, as ``cv2.resize`` computes it: rows first, then columns, each output pixel
    a weighted sum of its T taps (T = 4 for cubic, 2 for linear).
    """
    h, w, _ = maps.shape
    W, H = image_size
    src = maps.astype(np.float32, copy=False)
    iy, wy = axis_taps(H, h, scale[1], kernel)
    rows = wy[:, 0, None, None] * src[iy[:, 0]]
    for t in range(1, iy.shape[1]):
        rows += wy[:, t, None, None] * src[iy[:, t]]  # (H, w, C)
    ix, wx = axis_taps(W, w, scale[0], kernel)
    out = wx[None, :, 0, None] * rows[:, ix[:, 0]]
    for t in range(1, ix.shape[1]):
        out += wx[None, :, t, None] * rows[:, ix[:, t]]  # (H, W, C)
    return out
