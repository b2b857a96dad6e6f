"""Decode stage, candidates of each part: heatmaps (h, w, C) -> peaks per channel.

``find_peaks`` returns one (n_c, 3) float64 array ``[x, y, score]`` per heatmap channel, in
image pixels, best score first. Maps at network resolution are mapped to the image as in
:mod:`posekit.decode.resize`. Three ways to get there (``upsample``):

- ``"full"``: OpenPose's way and the reference. Upsample every channel to the image
  (cubic convolution), keep each pixel that is a local maximum of its 3x3 neighbourhood
  and above ``threshold``, and refine it (``refine``): ``"quadratic"`` (default) takes
  the vertex of the parabola through the maximum and its two neighbours along each
  axis; ``"centroid"`` (OpenPose's) the score-weighted centroid of the ``(2 r + 1)^2``
  window around it (``r = refine_radius``, positive values only). The score is the
  upsampled value at the maximum. On Gaussians rendered at stride 8 (sigma 7 px) the
  quadratic vertex lies within 0.6 px of the keypoint, the centroid within 1.1 px.
- ``"patch"`` (default, :mod:`posekit.decode.patch`): the same peaks at a fraction of
  the cost. Seeds are map pixels at least as high as both their neighbours along two of
  the four directions (plus maxima along the border, where cubic upsampling can peak on
  the image's edge); the full upsample is then computed only on the image pixels nearest
  to each seed (plus the refinement window), where the same local-maximum test and
  refinement run. Every peak found is a peak of ``"full"``, with the same position and
  score (to rounding). It misses a peak whose nearest map pixel is not a seed: a weak
  maximum on the flank of a stronger one (two people's parts almost on top of each
  other). Against ``"full"`` (peaks matched within half a pixel, ``separation=1``) on the
  noisy crowds of ``benchmarks/test_parse.py`` (656x368 at stride 8, 8 scenes each of 1
  to 64 people) it found every peak up to 10 people, 99.94 % with 20 and 99.86 % with 64
  (99.91 % of 21617 in all; at 64 people one weaker peak stays, as the stronger one
  beside it that ``separation`` would drop it for was missed), and
  99.97 % on the training targets of the same crowds (``python
  benchmarks/peak_recall_report.py --targets``); ``tests/decode/test_peaks.py`` holds it
  above 99.7 % on noisy crowds of 20 and 64.
- ``"none"``: local maxima of the small map, refined by a parabola through the logarithm
  of the 3x3 neighbourhood (exact for a sampled Gaussian); the score is the map value.

Plateaus: a pixel is a local maximum when it is >= its neighbours that follow it in raster
order and > those that precede it, so a flat top gives one peak (:mod:`posekit.decode.nms`).

With upsampling, three clean-ups follow, each measured on ideal maps of real poses (where
people touch the image's edges and stand close): an edge maximum that only echoes a
stronger peak nearby is dropped; a peak whose nearest map pixel is an outermost one is
placed from the maps themselves (a one-sided log-parabola), since past the outermost
map-pixel centres the upsampled maps only repeat the border; and with ``separation``, a
peak within that many map pixels of a stronger one of its part is dropped.
"""

from __future__ import annotations

from typing import Literal

import numpy as np

from posekit.decode.nms import Refine, Refinement, local_maxima, where
from posekit.decode.patch import patch_peaks
from posekit.decode.resize import Kernel, resolve_geometry, to_image, to_map, upsample_maps
from posekit.errors import PosekitError

__all__ = ["Upsample", "Refine", "find_peaks", "local_maxima"]

Upsample = Literal["patch", "full", "none"]


def find_peaks(heatmaps: np.ndarray, threshold: float = 0.05, *,
               image_size: tuple[int, int] | None = None,
               stride: float | tuple[float, float] | None = None,
               upsample: Upsample = "patch", kernel: Kernel = "cubic",
               refine: Refine = "quadratic", refine_radius: int = 3,
               max_peaks: int | None = None, separation: float = 0.0) -> list[np.ndarray]:
    """Peaks of every channel of ``heatmaps`` (h, w, C): C arrays (n_c, 3) [x, y, score].

    Args:
        threshold: a peak's score must exceed it (OpenPose's NMS threshold).
        image_size: ``(W, H)`` of the image the maps cover; ``None``: the maps are at image
            resolution. See :func:`~posekit.decode.resize.resolve_geometry` for ``stride``.
        upsample: ``"patch"``, ``"full"`` (reference) or ``"none"`` (module docstring).
        kernel: upsampling kernel, ``"cubic"`` (OpenPose) or ``"linear"``.
        refine: sub-pixel refinement at image resolution (module docstring).
        refine_radius: half-size of the ``"centroid"`` window, in image pixels.
        max_peaks: keep at most this many peaks per channel (the best).
        separation: a peak closer than this many map pixels to a stronger peak of its
            channel is dropped (0: none; a peak near a dropped one still counts). Maps
            at stride s cannot hold two maxima of one part much closer than a map pixel
            apart: such a pair is one blob whose upsampled top rings (smoothed maps,
            cubic undershoot), and the weaker peak would be a duplicate candidate that
            splits a person.

    Pass ``heatmaps[..., :K]`` to leave out the background channel.
    """
    heat = np.asarray(heatmaps)
    if heat.ndim != 3:
        raise PosekitError(f"heatmaps must be (h, w, C), got shape {heat.shape}")
    if upsample not in ("patch", "full", "none"):
        raise PosekitError(f"unknown upsample mode {upsample!r}; use 'patch', 'full' or 'none'")
    if refine not in ("quadratic", "centroid", "none"):
        raise PosekitError(f"unknown refine mode {refine!r}; use 'quadratic', 'centroid' "
                           "or 'none'")
    if int(refine_radius) != refine_radius or refine_radius < 0:
        raise PosekitError(f"refine_radius must be an integer >= 0, got {refine_radius!r}")
    how = Refinement(refine, int(refine_radius))
    size, scale = resolve_geometry(heat.shape[:2], image_size, stride)
    heat = heat.astype(np.float32, copy=False)
    if upsample == "none":
        found = _coarse(heat, threshold, scale)
    elif scale == (1.0, 1.0) and size == (heat.shape[1], heat.shape[0]):
        found = _dense(heat, threshold, how)
    elif upsample == "full":
        found = _dense(upsample_maps(heat, size, scale, kernel), threshold, how)
    else:
        found = patch_peaks(heat, threshold, size, scale, kernel, how)
    if upsample != "none" and max(scale) > 1:
        found = _drop_border_echoes(*found, heat.shape[:2], scale)
        found = _border_refine(*found, heat, scale)
    if separation > 0:
        found = _drop_close(*found, separation * max(scale))
    return _split(*found, heat.shape[2], max_peaks)


def _drop_close(channel: np.ndarray, xys: np.ndarray,
                reach: float) -> tuple[np.ndarray, np.ndarray]:
    """Drop every peak within ``reach`` image pixels of a stronger peak of its channel
    (of two equal ones, the later in raster order goes).

    Sorted by channel, then x, the pairs closer than ``reach`` along x are the peaks
    ``k`` places apart for k = 1, 2, ... while any pair that far apart still is; only
    those pairs are followed to the next k.
    """
    if len(xys) < 2:
        return channel, xys
    order = np.lexsort((xys[:, 0], channel))  # near peaks are near in this order
    c, (xs, ys, score) = channel[order], xys[order].T
    strength = (-score, ys, xs, order)  # the weaker of two comes later in this order
    drop = np.zeros(len(xys), dtype=bool)
    first = np.arange(len(xys) - 1)  # pairs (first, first + k) still within reach in x
    for k in range(1, len(xys)):
        first = first[first < len(xys) - k]
        second = first + k
        dx = xs[second] - xs[first]
        same = (c[second] == c[first]) & (dx < reach)
        first, second, dx = first[same], second[same], dx[same]
        if not len(first):
            break
        near = dx * dx + (ys[second] - ys[first]) ** 2 < reach * reach
        if near.any():
            a, b = first[near], second[near]
            drop[np.where(_later(a, b, strength), a, b)] = True
    keep = np.ones(len(xys), dtype=bool)
    keep[order[drop]] = False
    return channel[keep], xys[keep]


def _later(a: np.ndarray, b: np.ndarray, keys: tuple[np.ndarray, ...]) -> np.ndarray:
    """Whether item ``a`` comes after item ``b`` (pairwise) in the order of ``keys``
    (the first key first)."""
    later = np.zeros(len(a), dtype=bool)
    tied = np.ones(len(a), dtype=bool)
    for key in keys:
        ka, kb = key[a], key[b]
        later |= tied & (ka > kb)
        tied &= ka == kb
    return later


# how far (map pixels) a stronger peak may lie from a border peak it makes an echo of
ECHO_REACH = 2.5


def _border_refine(channel: np.ndarray, xys: np.ndarray, heat: np.ndarray,
                   scale: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Place peaks near the outermost map pixels from the maps themselves.

    Beyond the outermost map-pixel centres the upsampled maps hold no data of their own
    (the border is replicated, and the cubic kernel reads it two pixels in), so a peak
    near the edge lands a pixel or several off, up to half a map pixel: enough to put a
    limb's end sample off its field. Along each axis where a peak's nearest map pixel is
    one of the two outermost, its coordinate is the vertex of the parabola through the
    logarithms of the three map values from the border inwards (exact for a sampled
    Gaussian, as in ``upsample="none"``), kept when the parabola opens downwards and its
    vertex lies within two map pixels of the border (on an axis of three map pixels the
    middle one is next to both borders: the far border's vertex wins when it is kept).
    """
    h, w = heat.shape[:2]
    if not len(xys):
        return channel, xys
    u, v = to_map(xys[:, 0], scale[0]), to_map(xys[:, 1], scale[1])
    col = np.clip(np.floor(u + 0.5), 0, w - 1).astype(np.intp)
    row = np.clip(np.floor(v + 0.5), 0, h - 1).astype(np.intp)
    # (peaks, axis, border pixel, step inwards) of each border with peaks next to it
    lines = [(hit, axis, edge, step)
             for axis, n, at in ((0, w, col), (1, h, row)) if n >= 3
             for edge, step, hit in ((0, 1, np.flatnonzero(at <= 1)),
                                     (n - 1, -1, np.flatnonzero(at >= n - 2))) if len(hit)]
    if not lines:
        return channel, xys
    sizes = [len(hit) for hit, *_ in lines]
    peak = np.concatenate([hit for hit, *_ in lines])
    axis, edge, step = (np.repeat([line[k] for line in lines], sizes) for k in (1, 2, 3))
    taps = edge[:, None] + step[:, None] * np.arange(3)  # (M, 3), from the border inwards
    across = axis[:, None] == 0
    values = heat[np.where(across, row[peak, None], taps),
                  np.where(across, taps, col[peak, None]), channel[peak, None]]
    l0, l1, l2 = np.log(np.maximum(values.astype(np.float64), 1e-12)).T
    curve = l0 - 2.0 * l1 + l2
    with np.errstate(divide="ignore", invalid="ignore"):
        vertex = (3.0 * l0 - 4.0 * l1 + l2) / (2.0 * curve)  # steps from the edge
    ok = np.flatnonzero((curve < 0) & (vertex > -1.0) & (vertex < 2.0))
    if not len(ok):
        return channel, xys
    # one value per (peak, axis): the last of the borders in the order above
    slot = peak[ok] * 3 + axis[ok]
    _, last = np.unique(slot[::-1], return_index=True)
    ok = ok[len(ok) - 1 - last]
    where = edge[ok] + step[ok] * vertex[ok]
    xys = xys.copy()
    xys.reshape(-1)[peak[ok] * 3 + axis[ok]] = to_image(where, np.array(scale)[axis[ok]])
    return channel, xys


def _drop_border_echoes(channel: np.ndarray, xys: np.ndarray, map_shape: tuple[int, int],
                        scale: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """Drop edge maxima that only echo a stronger peak of the same channel nearby.

    Between the outermost map-pixel centres and the image edge the upsampled maps hold no
    data of their own (the border is replicated), so a Gaussian just inside the last
    pixel centre leaves a flat shoulder that reads as a second maximum on the edge. Such
    a border peak is dropped when a stronger peak of its channel lies within
    ``ECHO_REACH`` map pixels: the cubic kernel's undershoot reaches two map pixels in,
    so a peak up to about 2.5 map pixels from the edge can leave an echo on it.
    """
    h, w = map_shape
    sx, sy = scale
    x, y = xys[:, 0], xys[:, 1]
    reach = ECHO_REACH * max(sx, sy)

    def within(margin: float) -> np.ndarray:  # peaks within ``margin`` of the border band
        return ((x < 0.5 * sx - 0.5 + margin) | (x > (w - 0.5) * sx - 0.5 - margin)
                | (y < 0.5 * sy - 0.5 + margin) | (y > (h - 0.5) * sy - 0.5 - margin))

    border = within(0.0)
    if not border.any():
        return channel, xys
    edge, near = np.flatnonzero(border), np.flatnonzero(within(reach))  # (B,) against (M,)
    echo = ((channel[edge, None] == channel[None, near])
            & (np.hypot(x[None, near] - x[edge, None], y[None, near] - y[edge, None]) <= reach)
            & (xys[None, near, 2] > xys[edge, None, 2])).any(axis=1)
    keep = np.ones(len(xys), dtype=bool)
    keep[edge[echo]] = False
    return channel[keep], xys[keep]


def _split(channel: np.ndarray, xys: np.ndarray, num_channels: int,
           max_peaks: int | None) -> list[np.ndarray]:
    """Per-channel arrays, best score first (ties: top to bottom, left to right)."""
    order = np.lexsort((xys[:, 0], xys[:, 1], -xys[:, 2], channel))
    xys = np.ascontiguousarray(xys[order], dtype=np.float64)
    bounds = np.searchsorted(channel[order], np.arange(num_channels + 1))
    ends = bounds[1:] if max_peaks is None else np.minimum(bounds[1:],
                                                           bounds[:-1] + max(int(max_peaks), 0))
    return [xys[a:b] for a, b in zip(bounds[:-1].tolist(), ends.tolist(), strict=True)]


def _dense(heat: np.ndarray, threshold: float,
           refine: Refinement) -> tuple[np.ndarray, np.ndarray]:
    """NMS + refinement on maps already at image resolution (H, W, C)."""
    values = np.moveaxis(heat, -1, 0)  # (C, H, W)
    mask = local_maxima(values) & (values > threshold)
    c, y, x = where(mask)
    score = values[c, y, x].astype(np.float64)
    m = refine.margin
    dy, dx = refine(np.pad(values, ((0, 0), (m, m), (m, m)), constant_values=-np.inf),
                    c, y + m, x + m)
    return c, np.column_stack([x + dx, y + dy, score])


def _coarse(heat: np.ndarray, threshold: float,
            scale: tuple[float, float]) -> tuple[np.ndarray, np.ndarray]:
    """NMS on the small maps, log-parabola refinement, then to image coordinates."""
    values = np.moveaxis(heat, -1, 0).astype(np.float64)
    mask = local_maxima(values) & (values > threshold)
    c, i, j = where(mask)
    logs = np.log(np.maximum(np.pad(values, ((0, 0), (1, 1), (1, 1)), mode="edge"), 1e-12))
    centre = logs[c, i + 1, j + 1]

    def offset(before: np.ndarray, after: np.ndarray) -> np.ndarray:
        curve = before - 2.0 * centre + after
        with np.errstate(divide="ignore", invalid="ignore"):
            d = np.where(curve < 0, 0.5 * (before - after) / curve, 0.0)
        return np.clip(d, -0.5, 0.5)

    du = offset(logs[c, i + 1, j], logs[c, i + 1, j + 2])
    dv = offset(logs[c, i, j + 1], logs[c, i + 2, j + 1])
    x = to_image(j + du, scale[0])
    y = to_image(i + dv, scale[1])
    return c, np.column_stack([x, y, values[c, i, j]])


