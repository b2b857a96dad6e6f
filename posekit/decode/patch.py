"""Decode stage, the ``"patch"`` way to peaks (see :mod:`posekit.decode.peaks`): heatmaps
(h, w, C) at network resolution -> peaks of their upsample to the image, computed only on
patches around seeds.

Seeds are map pixels above threshold / OVERSHOOT that are at least as high as both their
neighbours along SEED_DIRECTIONS of the four directions (across, down, two diagonals),
and border pixels that are as high as both their neighbours along the border (cubic
upsampling with repeated borders can peak on the image's edge there). Around each seed
the image pixels within PATCH_HALF map pixels (the core: with 0.5, the pixels nearest to
the seed) plus the refinement's margin are upsampled, and the core pixels that are local
maxima of the upsampled map, above the threshold, are refined. A peak is therefore found
when the map pixel nearest to it is a seed. Patch geometry and weights are computed once
per axis and map size; at an integer stride every patch has the same weights. Seeds run
in blocks whose patches take about BLOCK_BYTES.
"""

from __future__ import annotations

import functools
import math
from dataclasses import dataclass

import numpy as np

from posekit.decode.nms import AFTER, BEFORE, Refinement
from posekit.decode.resize import Kernel, taps_first, to_image, to_map

__all__ = ["patch_peaks"]

# a seed is >= both its neighbours along at least this many of the 4 directions
SEED_DIRECTIONS = 2
# the maxima of the upsampled map are searched within this many map pixels of a seed
PATCH_HALF = 0.5
# seeds are handled in blocks whose patches take about this many bytes
BLOCK_BYTES = 1 << 22

# cubic convolution (a = -0.75) can overshoot the largest sample by up to ~19 % per axis:
# maxima of the small maps down to threshold / OVERSHOOT may still cross the threshold
OVERSHOOT = 1.5


def patch_peaks(heat: np.ndarray, threshold: float, size: tuple[int, int],
                scale: tuple[float, float], kernel: Kernel,
                refine: Refinement) -> tuple[np.ndarray, np.ndarray]:
    """Peaks of maps ``heat`` (h, w, C) covering an image of ``size`` (W, H) at ``scale``
    image pixels per map pixel: channel (n,) and [x, y, score] (n, 3) of each, in image
    pixels (module docstring)."""
    W, H = size
    h, w = heat.shape[:2]
    rows = _axis(PATCH_HALF, scale[1], H, h, kernel, refine.margin)
    cols = _axis(PATCH_HALF, scale[0], W, w, kernel, refine.margin)
    pad = max(1, rows.reach, cols.reach)
    maps = _padded(heat, pad)
    c, i, j = _seeds(maps, pad, threshold / OVERSHOOT)
    step = max(BLOCK_BYTES // (8 * rows.pix.shape[1] * cols.pix.shape[1]), 1)
    found = [_patch_peaks(maps, pad, c[k:k + step], i[k:k + step], j[k:k + step], rows,
                          cols, threshold, W, refine)
             for k in range(0, len(c), step)]
    if not found:
        return c, np.zeros((0, 3))
    if len(found) == 1:
        channel, pixel, xys = found[0]
    else:
        channel, pixel, xys = (np.concatenate(parts) for parts in zip(*found, strict=True))
    # cores may share a pixel (half a map pixel from two seeds at an odd stride): keep
    # each (channel, pixel) once, the first (seeds come in order)
    _, first = np.unique(channel * (H * W) + pixel, return_index=True)
    return channel[first], xys[first]


@dataclass(frozen=True)
class _Axis:
    """One axis of the patches around a seed at each map pixel ``s`` of that axis.

    ``pix`` (n, P): the patch's image pixels; ``core`` (n, P): those within the half-size
    of the seed; ``outside`` (n, P): those outside the image, and ``clipped`` the seeds
    with any; ``first`` (n,): the first of the Q map pixels the patch reads (``reach``:
    how far past the map they go); ``weights`` resample them onto the patch: (P, Q),
    shared by every seed, or (n, P, Q); ``weights_t``: the same transposed, contiguous.
    """

    pix: np.ndarray
    core: np.ndarray
    outside: np.ndarray
    clipped: np.ndarray
    first: np.ndarray
    weights: np.ndarray
    weights_t: np.ndarray
    reach: int


@functools.lru_cache(maxsize=32)
def _axis(half: float, scale: float, n_image: int, n_map: int, kernel: Kernel,
          ext: int) -> _Axis:
    """:class:`_Axis` of patches whose core is the image pixels within ``half`` map pixels
    of the seed, with ``ext`` more pixels each side for the NMS test and the centroid
    window, on an axis of ``n_map`` map pixels covering ``n_image`` image pixels.

    Patches end ``ext`` pixels after the last core pixel of any seed. At an integer
    scale every seed (a whole map pixel) starts its patch at the same phase of the
    stride, so every patch has the same weights, those of the phase.
    """
    seed = np.arange(n_map)

    def layout(length: int) -> tuple[np.ndarray, ...]:
        if scale == int(scale):
            start = math.ceil(to_image(-half, scale) - 1e-9) - ext  # of the patch around 0
            shift, phase = divmod(start, int(scale))
            first, weights = _resampling(to_map(phase + np.arange(length)[None], scale),
                                         kernel)
            pix = (seed * int(scale) + start)[:, None] + np.arange(length)
            return pix, seed + (shift + first[0]), weights[0]
        start = np.ceil(to_image(seed - half, scale) - 1e-9).astype(np.intp) - ext
        pix = start[:, None] + np.arange(length)
        return pix, *_resampling(to_map(pix, scale), kernel)

    pix, _, _ = layout(math.floor(2 * half * scale + 1e-9) + 1 + 2 * ext)
    core = np.abs(to_map(pix, scale) - seed[:, None]) <= half + 1e-9
    ends = np.flatnonzero(core.any(axis=0))
    pix, first, weights = layout((int(ends[-1]) + 1 if len(ends) else 1) + ext)
    core = core[:, :pix.shape[1]]
    outside = (pix < 0) | (pix >= n_image)
    last = first + weights.shape[-1] - 1
    axis = _Axis(pix, core, outside, outside.any(axis=1), first, weights,
                 np.ascontiguousarray(np.swapaxes(weights, -1, -2)),
                 max(0, -int(first.min()), int(last.max()) - (n_map - 1)))
    for array in (pix, core, outside, axis.clipped, first, weights, axis.weights_t):
        array.flags.writeable = False
    return axis


def _resampling(u: np.ndarray, kernel: Kernel) -> tuple[np.ndarray, np.ndarray]:
    """For map coordinates ``u`` (N, P): the first map pixel (N,) of the window each row
    reads and the (N, P, Q) weights that resample the window onto the row's points."""
    idx, weight = taps_first(u, kernel)  # (T, N, P)
    first = idx[0, :, 0]
    rel = idx - first[:, None]
    size = int(rel[-1, :, -1].max()) + 1
    # scatter the taps: point p of row n gets weight[t, n, p] in column rel[t, n, p]
    row = np.arange(u.size).reshape(u.shape)
    mats = np.zeros((*u.shape, size))
    mats.reshape(-1)[(row * size + rel).reshape(-1)] = weight.reshape(-1)
    return first, mats


def _padded(heat: np.ndarray, pad: int) -> np.ndarray:
    """Maps (h, w, C) as float32 (h + 2 pad, w + 2 pad, C), border pixels repeated."""
    h, w, n = heat.shape
    out = np.empty((h + 2 * pad, w + 2 * pad, n), dtype=np.float32)
    out[pad:pad + h, pad:pad + w] = heat
    out[pad:pad + h, :pad] = out[pad:pad + h, pad:pad + 1]
    out[pad:pad + h, pad + w:] = out[pad:pad + h, pad + w - 1:pad + w]
    out[:pad] = out[pad:pad + 1]
    out[pad + h:] = out[pad + h - 1:pad + h]
    return out


def _seeds(maps: np.ndarray, pad: int, floor: float) -> tuple[np.ndarray, ...]:
    """(c, i, j) of the seeds (module docstring) of padded maps (h + 2 pad, w + 2 pad, C):
    the pixels above ``floor`` whose two neighbours along SEED_DIRECTIONS of the four
    directions are not higher, or on the border and maxima along it. The repeated border
    makes a neighbour outside the maps equal to the pixel or a neighbour along the border,
    which leaves the test unchanged."""
    hp, wp, n = maps.shape
    above = maps > floor
    above[:pad] = above[hp - pad:] = above[:, :pad] = above[:, wp - pad:] = False
    at = np.flatnonzero(above)
    flat = maps.reshape(-1)
    centre = flat[at]

    def top(step: int) -> np.ndarray:
        return (centre >= flat[at - step * n]) & (centre >= flat[at + step * n])

    across, down = top(1), top(wp)
    count = across.view(np.int8) + down.view(np.int8)
    count += top(wp + 1).view(np.int8)
    count += top(wp - 1).view(np.int8)
    seed = count >= SEED_DIRECTIONS
    maybe = np.flatnonzero(~seed & (across | down))  # a border pixel may be a seed yet
    row, col = np.divmod(at[maybe] // n, wp)
    seed[maybe[(across[maybe] & ((row == pad) | (row == hp - pad - 1)))
               | (down[maybe] & ((col == pad) | (col == wp - pad - 1)))]] = True
    spot, c = np.divmod(at[seed], n)
    i, j = np.divmod(spot, wp)
    return c, i - pad, j - pad


def _patch_peaks(maps: np.ndarray, pad: int, c: np.ndarray, i: np.ndarray, j: np.ndarray,
                 rows: _Axis, cols: _Axis, threshold: float, width: int,
                 refine: Refinement) -> tuple[np.ndarray, ...]:
    """Peaks of the upsampled maps on the patches around the seeds (c, i, j) (channel, map
    row, map column) of padded maps (h + 2 pad, w + 2 pad, C): channel (n,), image pixel
    (n,) (y * width + x) and [x, y, score] (n, 3) (the pixel plus the refinement's
    offset)."""
    _, wp, n_maps = maps.shape
    wy = rows.weights if rows.weights.ndim == 2 else rows.weights[i]
    wx = cols.weights_t if cols.weights.ndim == 2 else cols.weights_t[j]
    offset = (np.arange(wy.shape[-1])[:, None] * wp + np.arange(wx.shape[-2])) * n_maps
    base = ((rows.first[i] + pad) * wp + (cols.first[j] + pad)) * n_maps + c
    window = maps.reshape(-1)[base[:, None, None] + offset].astype(np.float64)  # (N, Qy, Qx)
    patch = wy @ window @ wx  # (N, Py, Px)
    for clipped, seed, outside, axis in ((rows.clipped, i, rows.outside, 1),
                                         (cols.clipped, j, cols.outside, 2)):
        at = np.flatnonzero(clipped[seed])  # patches reaching outside the image
        if len(at):
            part = np.moveaxis(patch[at], axis, 1)
            part[outside[seed[at]]] = -np.inf
            patch[at] = np.moveaxis(part, 1, axis)
    n, a, b = _patch_maxima(patch, threshold)
    keep = rows.core[i[n], a] & cols.core[j[n], b]
    n, a, b = n[keep], a[keep], b[keep]
    x, y = cols.pix[j[n], b], rows.pix[i[n], a]
    dy, dx = refine(patch, n, a, b)
    return c[n], y * width + x, np.column_stack([x + dx, y + dy, patch[n, a, b]])


def _patch_maxima(patch: np.ndarray, threshold: float) -> tuple[np.ndarray, ...]:
    """(n, a, b) of the pixels of patches (N, Py, Px), not in their first or last row or
    column, that are above ``threshold`` and local maxima (plateau rule of
    :func:`~posekit.decode.nms.local_maxima`).

    The maxima along rows and columns are found in contiguous passes over the flat
    patches (wrong only in the first and last row and column of a patch); the few that
    are maxima both ways are compared with their diagonal neighbours.
    """
    flat, py, px = patch.reshape(-1), patch.shape[1], patch.shape[2]
    reach = px + 1  # flat offset of the farthest neighbour
    centre = flat[reach:-reach]
    hit = centre > flat[reach - 1:-reach - 1]  # left
    hit &= centre >= flat[reach + 1:len(flat) - reach + 1]  # right
    hit &= centre > flat[1:-2 * reach + 1]  # up
    hit &= centre >= flat[2 * reach - 1:-1]  # down
    at = np.flatnonzero(hit) + reach
    value = flat[at]
    keep = value > threshold
    for dy, dx in BEFORE + AFTER:
        if dy and dx:
            other = flat[at + (dy * px + dx)]
            keep &= (value > other) if (dy, dx) in BEFORE else (value >= other)
    line, b = np.divmod(at[keep], px)  # line = n * py + a
    n, a = np.divmod(line, py)
    inner = (a > 0) & (a < py - 1) & (b > 0) & (b < px - 1)
    return n[inner], a[inner], b[inner]
