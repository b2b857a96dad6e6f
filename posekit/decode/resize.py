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
    "Kernel", "CUBIC_A", "CUBIC_POLY", "resolve_geometry", "to_map", "to_image", "kernel_taps",
    "taps_first", "axis_taps", "upsample_maps", "resample_axis", "check_image_size",
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


# cubic convolution weights of the taps floor(u) - 1 .. floor(u) + 2 as polynomials in
# t = u - floor(u): row k holds the coefficients of t^k (the taps sit at distances
# 1 + t, t, 1 - t, 2 - t, where the kernel is ((a + 2) d - (a + 3)) d^2 + 1 within 1 and
# ((d - 5) d + 8) a d - 4 a within 2)
_A = CUBIC_A
CUBIC_POLY = np.array([
    [0.0, 1.0, 0.0, 0.0],
    [_A, 0.0, -_A, 0.0],
    [-2.0 * _A, -(_A + 3.0), 2.0 * _A + 3.0, _A],
    [_A, _A + 2.0, -(_A + 2.0), -_A],
])


def kernel_taps(u: np.ndarray, kernel: Kernel = "cubic") -> tuple[np.ndarray, np.ndarray]:
    """Interpolation taps at map coordinates ``u``: (indices (..., T), weights (..., T)).

    Indices are not clipped to the map; clip them to repeat the border.
    """
    index, weight = taps_first(u, kernel)
    return np.moveaxis(index, 0, -1), np.moveaxis(weight, 0, -1)


def taps_first(u: np.ndarray, kernel: Kernel = "cubic") -> tuple[np.ndarray, np.ndarray]:
    """:func:`kernel_taps` with the taps first: (indices (T, ...), weights (T, ...)); the
    faster layout (every operation runs along the points, not along T)."""
    u = np.asarray(u, dtype=np.float64)
    base = np.floor(u)
    t = u - base
    base = base.astype(np.intp)
    if kernel == "cubic":
        c = CUBIC_POLY.reshape(4, 4, *([1] * u.ndim))
        return (np.stack([base - 1, base, base + 1, base + 2]),
                ((c[3] * t + c[2]) * t + c[1]) * t + c[0])
    if kernel == "linear":
        return np.stack([base, base + 1]), np.stack([1.0 - t, t])
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
    W, H = image_size
    rows = resample_axis(maps.astype(np.float32, copy=False), 0, H, scale[1], kernel)
    return resample_axis(rows, 1, W, scale[0], kernel)


def resample_axis(src: np.ndarray, axis: int, n_out: int, scale: float,
                   kernel: Kernel) -> np.ndarray:
    """``src`` (float32) resampled along ``axis`` to ``n_out`` pixels at ``scale``: float32.

    An integer scale with ``n_out <= scale * n_in`` (maps at a whole stride) takes one
    shifted slice per phase and tap instead of gathering taps per output pixel.
    """
    n_in = src.shape[axis]
    f = int(scale)
    if f != scale or n_out > f * n_in:  # any scale: gather the taps of every output pixel
        idx, weight = axis_taps(n_out, n_in, scale, kernel)
        shape = [1] * src.ndim
        shape[axis] = n_out
        out = weight[:, 0].reshape(shape) * np.take(src, idx[:, 0], axis=axis)
        for t in range(1, idx.shape[1]):
            out += weight[:, t].reshape(shape) * np.take(src, idx[:, t], axis=axis)
        return out
    # integer scale: output pixel i * f + p reads the taps of phase p shifted by i, so each
    # phase and tap is one shifted slice of the input (border repeated)
    idx, weight = kernel_taps(to_map(np.arange(f), f), kernel)
    before = max(-int(idx.min()), 0)
    pad = [(0, 0)] * src.ndim
    pad[axis] = (before, max(int(idx.max()), 0))
    padded = np.pad(src, pad, mode="edge")
    weight = weight.astype(np.float32)

    def tap(k: int) -> np.ndarray:  # input pixels i + k for i = 0 .. n_in - 1
        index = [slice(None)] * src.ndim
        index[axis] = slice(before + k, before + k + n_in)
        return padded[tuple(index)]

    shape = list(src.shape)
    shape.insert(axis + 1, f)
    out = np.empty(shape, dtype=np.float32)  # axis split into (n_in, f)
    acc, term = np.empty(src.shape, dtype=np.float32), np.empty(src.shape, dtype=np.float32)
    for p in range(f):
        np.multiply(weight[p, 0], tap(idx[p, 0]), out=acc)
        for t in range(1, idx.shape[1]):
            acc += np.multiply(weight[p, t], tap(idx[p, t]), out=term)
        out[(slice(None),) * (axis + 1) + (p,)] = acc
    out = out.reshape(src.shape[:axis] + (f * n_in,) + src.shape[axis + 1:])
    return out[(slice(None),) * axis + (slice(0, n_out),)]
