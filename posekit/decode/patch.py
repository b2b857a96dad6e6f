"""Decode stage, the ``"patch"`` way to peaks (see :mod:`posekit.decode.peaks`): heatmaps
(C, h, w) at network resolution -> peaks of their upsample to the image, computed only on
patches around seeds.

Seeds are the local maxima of the maps upsampled SEED_GRID times (and maxima along the
border), above threshold / OVERSHOOT; around each, the image pixels within PATCH_HALF map
pixels (the core) plus the refinement's margin are upsampled (one small matrix product
per seed), and the core pixels that are local maxima of the upsampled map, above the
threshold, are refined. Both steps run in blocks (of channels, then of seeds) whose
arrays take about BLOCK_BYTES: small temporaries are much faster.
"""

from __future__ import annotations

import functools
import math

import numpy as np

from posekit.decode.nms import AFTER, BEFORE, Refinement
from posekit.decode.resize import Kernel, resample_axis, taps_first, to_image, to_map

__all__ = ["patch_peaks"]

# seeds are found on maps upsampled this many times (at most)
SEED_GRID = 2
# ... and the maxima of the upsampled map are searched within this many map pixels of them
PATCH_HALF = 1.0
# both run in blocks (of channels, then of seeds) whose arrays take about this many bytes
BLOCK_BYTES = 1 << 19

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
    values = np.ascontiguousarray(np.moveaxis(heat, -1, 0))  # (C, h, w)
    C, h, w = values.shape
    fy, fx = (min(float(SEED_GRID), max(s, 1.0)) for s in scale[::-1])
    gh, gw = round(h * fy), round(w * fx)
    step = max(BLOCK_BYTES // (4 * gh * gw), 1)  # channels per block (float32 grid)
    seeds = [_seed_pixels(values[c:c + step], threshold, (fy, fx), (gh, gw), kernel, c)
             for c in range(0, C, step)]
    c, gi, gj = (np.concatenate(parts) for parts in zip(*seeds, strict=True))
    side = math.floor(2 * PATCH_HALF * max(scale)) + 2 * refine.margin + 1
    step = max(BLOCK_BYTES // (8 * side * side), 1)  # seeds per block (float64 patches)
    found = [_patch_peaks(values, c[k:k + step], to_map(gi[k:k + step], fy),
                          to_map(gj[k:k + step], fx), threshold, size, scale, kernel, refine)
             for k in range(0, len(c), step)]
    if not found:
        return c, np.zeros((0, 3))
    channel, pixel, xys = (np.concatenate(parts) for parts in zip(*found, strict=True))
    # patches overlap: keep each (channel, pixel) once (the first, as seeds come in order)
    _, first = np.unique(channel * (H * W) + pixel, return_index=True)
    return channel[first], xys[first]


def _seed_pixels(values: np.ndarray, threshold: float, factor: tuple[float, float],
                 grid: tuple[int, int], kernel: Kernel, offset: int) -> tuple[np.ndarray, ...]:
    """(channel + offset, row, column) of the seeds of maps (c, h, w) upsampled ``factor``
    (y, x) times to a ``grid`` of (gh, gw) pixels."""
    if factor[1] != 1.0:  # columns first: the second pass runs along whole rows
        values = resample_axis(values, 2, grid[1], factor[1], kernel)
    if factor[0] != 1.0:
        values = resample_axis(values, 1, grid[0], factor[0], kernel)
    c, i, j = _seeds(values, threshold / OVERSHOOT)
    return c + offset, i, j


def _patch_peaks(values: np.ndarray, c: np.ndarray, v: np.ndarray, u: np.ndarray,
                 threshold: float, size: tuple[int, int], scale: tuple[float, float],
                 kernel: Kernel, refine: Refinement) -> tuple[np.ndarray, ...]:
    """Peaks of the upsampled maps (C, h, w) on the patches around seeds of channels ``c``
    at map coordinates (v, u): channel (n,), image pixel (n,) (y * W + x) and
    [x, y, score] (n, 3) (the pixel plus the refinement's offset)."""
    W, H = size
    _, h, w = values.shape
    ext = refine.margin
    ys, ycore, yin, y0, wy = _axis_patches(v, PATCH_HALF, scale[1], H, kernel, ext)
    xs, xcore, xin, x0, wx = _axis_patches(u, PATCH_HALF, scale[0], W, kernel, ext)
    rows = np.clip(y0[:, None] + np.arange(wy.shape[2]), 0, h - 1)
    cols = np.clip(x0[:, None] + np.arange(wx.shape[2]), 0, w - 1)
    window = values[c[:, None, None], rows[:, :, None], cols[:, None, :]].astype(np.float64)
    patch = wy @ window @ wx.transpose(0, 2, 1)  # (N, Py, Px)
    patch[~yin] = -np.inf  # rows, then columns, outside the image
    patch.transpose(0, 2, 1)[~xin] = -np.inf
    n, a, b = _patch_maxima(patch, ycore, xcore, threshold)
    px, py = xs[n, b], ys[n, a]
    dy, dx = refine(patch, n, a, b)
    return c[n], py * W + px, np.column_stack([px + dx, py + dy, patch[n, a, b]])


def _axis_patches(centre: np.ndarray, half: float, scale: float, n_image: int,
                  kernel: Kernel, ext: int) -> tuple[np.ndarray, ...]:
    """One axis of the patches around map coordinates ``centre`` (N,).

    The core of a patch is the image pixels within ``half`` map pixels of its centre;
    ``ext`` more pixels each side hold the neighbours of the NMS test and the centroid
    window. Returns the image coordinates (N, P) of the patch pixels, whether each is in
    the core (and the image), whether it is inside the image, the first map pixel of the
    window of map pixels each patch needs (N,), and the (N, P, Q) weights that resample
    that window onto the patch.
    """
    core_len = math.floor(2 * half * scale + 1e-9) + 1
    length = core_len + 2 * ext
    start = np.ceil(to_image(centre - half, scale) - 1e-9).astype(np.intp) - ext
    pix = start[:, None] + np.arange(length)
    inside = (pix >= 0) & (pix < n_image)
    u = to_map(pix, scale)
    core = inside & (np.abs(u - centre[:, None]) <= half + 1e-9)
    if scale == int(scale):  # the weights repeat with the patch's start modulo the stride
        shift, phase = np.divmod(start, int(scale))
        first, mats = _phase_weights(int(scale), length, kernel)
        return pix, core, inside, shift + first[phase], mats[phase]
    first, mats = _resampling(u, kernel)
    return pix, core, inside, first, mats


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


@functools.lru_cache(maxsize=32)
def _phase_weights(stride: int, length: int, kernel: Kernel) -> tuple[np.ndarray, np.ndarray]:
    """:func:`_resampling` of the ``length`` image pixels from ``r`` (row r, for each
    phase r < stride) at an integer stride; pixels from ``m * stride + r`` read the
    window ``m`` map pixels further on with the same weights."""
    first, mats = _resampling(to_map(np.arange(stride)[:, None] + np.arange(length), stride),
                              kernel)
    first.flags.writeable = mats.flags.writeable = False
    return first, mats


def _seeds(values: np.ndarray, floor: float) -> tuple[np.ndarray, ...]:
    """(c, i, j) of the seed pixels of maps (C, y, x) near which the upsampled map may
    peak: those above ``floor`` that are 3x3 maxima (plateaus kept whole), or on the
    border and maxima along it (cubic upsampling with repeated borders can peak on the
    image's edge there).

    Candidates are the pixels above ``floor`` that are maxima along their row (two
    contiguous passes over the flat maps, wrong only at the ends of rows, so the first
    and last columns are candidates too); they are tested against their neighbours' flat
    indices, clipped to the maps: that makes an outside neighbour the pixel itself or one
    of its neighbours along the border, which leaves the test unchanged.
    """
    _, ny, nx = values.shape
    flat = np.ascontiguousarray(values).reshape(-1)
    candidate = flat > floor
    candidate[1:] &= flat[1:] >= flat[:-1]
    candidate[:-1] &= flat[:-1] >= flat[1:]
    candidate.reshape(-1, nx)[:, [0, -1]] |= flat.reshape(-1, nx)[:, [0, -1]] > floor
    q = np.flatnonzero(candidate)
    centre = flat[q]
    line, j = np.divmod(q, nx)  # line = c * ny + i
    i = line % ny
    cols = [np.clip(j + dx, 0, nx - 1) for dx in (-1, 0, 1)]
    ge = {}
    for dy in (-1, 0, 1):
        row = (line + (np.clip(i + dy, 0, ny - 1) - i)) * nx
        for dx in (-1, 0, 1):
            if dy or dx:
                ge[dy, dx] = centre >= flat[row + cols[dx + 1]]
    seeds = np.logical_and.reduce(list(ge.values()))
    seeds |= ge[0, -1] & ge[0, 1] & ((i == 0) | (i == ny - 1))
    seeds |= ge[-1, 0] & ge[1, 0] & ((j == 0) | (j == nx - 1))
    return np.unravel_index(q[seeds], values.shape)


def _patch_maxima(patch: np.ndarray, ycore: np.ndarray, xcore: np.ndarray,
                  threshold: float) -> tuple[np.ndarray, ...]:
    """(n, a, b) of the core pixels (rows ``ycore`` (N, Py), columns ``xcore`` (N, Px)) of
    patches (N, Py, Px) that are above ``threshold`` and local maxima (plateau rule of
    :func:`~posekit.decode.nms.local_maxima`).

    The maxima along rows are found in two contiguous passes over the flat patches
    (wrong only at the ends of rows, which are not core); only those in the core are
    compared with their six other neighbours, which are in their patch.
    """
    flat, width = patch.reshape(-1), patch.shape[2]
    centre = flat[1:-1]
    along = (centre > flat[:-2]) & (centre >= flat[2:])
    at = np.flatnonzero(along) + 1
    n, a, b = np.unravel_index(at, patch.shape)
    at = at[ycore[n, a] & xcore[n, b] & (flat[at] > threshold)]
    value = flat[at]
    keep = np.ones(len(at), dtype=bool)
    for dy, dx in BEFORE + AFTER:
        if dy:
            other = flat[at + (dy * width + dx)]
            keep &= (value > other) if (dy, dx) in BEFORE else (value >= other)
    return np.unravel_index(at[keep], patch.shape)
