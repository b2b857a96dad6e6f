"""Decode stage, scored limb connections: PAFs (h, w, 2L) + peaks -> accepted pairs per limb.

The PAF line integral of paper eq. 17-18, sampled as OpenPose does. For candidates
``a`` of a limb's first part and ``b`` of its second (image pixels), with ``d = b - a``:

- ``n = clamp(round(sqrt(density * max(|dx|, |dy|))), min_samples, max_samples)`` samples,
  evenly spaced from ``a`` to ``b`` (both included). ``dx, dy`` are in image pixels, the
  coordinates OpenPose samples its upsampled PAFs in;
- each sample is the PAF at that point dotted with the unit vector ``d / |d|``. The PAF
  is read between map pixels with the kernel maps are upsampled with (``"cubic"``, as
  OpenPose upsamples, or ``"bilinear"``), so reading the small maps gives what reading
  the upsampled maps would; maps already upsampled to the image are read at the nearest
  pixel (``"nearest"``, OpenPose's way);
- score = mean of the samples + ``min(prior * image_height / |d| - 1, 0)`` (the distance
  prior of OpenPose's demo, penalising limbs longer than half the image; ``prior=None``
  drops it);
- a pair is accepted when more than ``min_above`` of its samples exceed
  ``sample_threshold`` and its score exceeds ``min_score``. Pairs of coinciding candidates
  (|d| < 1e-6) are never accepted.

That is the rule with :class:`~posekit.decode.rule.LimbScoring`'s defaults (OpenPose's
demo). Its variants: ``ends="skip"`` tests only the n - 2 samples between the candidates
(posekit's default through ``DecodeConfig``: an end sample sits on the joint, where a
field drawn between the joints ends and a peak found a pixel or two beyond it reads
nothing); ``spacing="openpose"`` puts the samples at ``a + k d / n``, k < n (OpenPose C++,
which never reads ``b``); ``score="mean-above"`` averages only the samples above the
threshold (OpenPose C++).

All limbs are scored at once: the candidate pairs of every limb are one set of arrays
(N pairs, each with its limb; built and read in blocks, as small temporaries
are much faster). Most wrong pairs are rejected before all their samples are read,
exactly (the result is the same as reading them all): a pair may fail only
``n - floor(min_above * n) - 1`` samples (none for n <= 20), so it is rejected as soon
as more of its samples are known to fail. Known first are its tested end samples, read
once per candidate and limb (a pair's end samples sit on its candidates); then a few
interior probes, first from their map cell alone (a table per limb of the cells where
the PAF is too short for any sample to pass), then read exactly.
"""

from __future__ import annotations

import functools
from functools import cached_property
from typing import Literal

import numpy as np

from posekit.decode.resize import taps_first, to_map
from posekit.decode.rule import Ends, LimbScoring, ScoreMode, Spacing, sample_counts
from posekit.errors import PosekitError
from posekit.skeleton import Skeleton

__all__ = ["LimbScoring", "sample_counts", "score_limb", "score_limbs", "Ends", "Spacing",
           "ScoreMode"]

Interpolation = Literal["bilinear", "cubic", "nearest"]
OPENPOSE_RULE = LimbScoring()  # the default: OpenPose's thresholds, every sample tested

# shortcuts (exact): the end samples, then passes of interior probes judged by their map
# cell, then read exactly; a cell pass runs while at least PROBE_MIN_PAIRS pairs are left,
# an exact one (which costs about what reading all samples does) while EXACT_MIN_PAIRS are
END_SAMPLES = True
BOUND_PROBES = (3, 12)  # probes per pass
EXACT_PROBES = (6,)
PROBE_MIN_PAIRS = 32
EXACT_MIN_PAIRS = 1024
# pairs (or probes of pairs) handled at once, and samples read at once (the reads make
# (T, T, READ_BLOCK) temporaries): small temporaries are much faster
BLOCK = 8192
READ_BLOCK = 2048

# largest sum of |weights| of the cubic kernel (a = -0.75) along one axis, at t = 0.5
_CUBIC_GAIN = 1.375
# the last sample, a + (b - a), can differ from b by rounding: an end sample read at b
# counts as failed only when this far below the threshold
_END_MARGIN = 1e-9
# the cell table is computed in the maps' precision (float32): bounds widened by this
_BOUND_MARGIN = 1.0 + 1e-5


def score_limb(pafs: np.ndarray, channels: tuple[int, int], a: np.ndarray, b: np.ndarray, *,
               image_height: float, scale: tuple[float, float] = (1.0, 1.0),
               rule: LimbScoring = OPENPOSE_RULE,
               interpolation: Interpolation = "bilinear") -> tuple[np.ndarray, np.ndarray]:
    """Accepted pairs between candidates ``a`` (n_a, 2+) and ``b`` (n_b, 2+) of one limb.

    Args:
        pafs: (h, w, 2L) maps; ``channels``: this limb's (x, y) channels.
        a, b: candidates ``[x, y, ...]`` in image pixels.
        image_height: for the distance prior, in image pixels.
        scale: image pixels per map pixel (``(1, 1)`` for maps at image resolution).
        interpolation: how the PAF is read between map pixels (module docstring).

    Returns:
        pairs (m, 2) intp ``[i, j]`` and scores (m,) float64, in row-major (i, j) order.
    """
    pairs, scores = _score(pafs, [_points(a), _points(b)], np.array([[0, 1]]),
                           np.array([channels]), image_height, scale, rule, interpolation)
    return pairs[0], scores[0]


def _score(pafs: np.ndarray, points: list[np.ndarray], limb_index: np.ndarray,
           channels: np.ndarray, image_height: float, scale: tuple[float, float],
           rule: LimbScoring, interpolation: Interpolation,
           ) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """Accepted pairs and scores of limbs ``limb_index`` (L, 2) between candidates
    ``points[k]`` (n_k, 2), limb l's field in ``channels[l]`` (module docstring)."""
    limb_index = np.asarray(limb_index, dtype=np.intp).reshape(-1, 2)
    threshold = rule.sample_threshold
    field = _Field(np.asarray(pafs), np.asarray(channels, dtype=np.intp).reshape(-1, 2),
                   scale, interpolation, threshold)
    counts = np.array([len(p) for p in points], dtype=np.intp)
    xy = np.concatenate([np.zeros((0, 2)), *points])
    # per limb and side: the row of its first candidate in ``xy``, and how many
    sides = [((np.cumsum(counts) - counts)[k], counts[k]) for k in limb_index.T]
    sizes = sides[0][1] * sides[1][1]  # pairs per limb
    ends = None
    if END_SAMPLES and rule.ends == "count" and sizes.sum() >= PROBE_MIN_PAIRS:
        ends = _end_reads(field, xy, sides)
    pairs = _Pairs.concatenate([_candidate_pairs(xy, sides, lo, hi, rule, ends)
                                for lo, hi in _runs(sizes, BLOCK)])
    stages = [(count, field.fail, EXACT_MIN_PAIRS) for count in EXACT_PROBES]
    if interpolation != "nearest":  # (reading the nearest pixel costs what a cell does)
        stages[:0] = [(count, field.surely_fail, PROBE_MIN_PAIRS) for count in BOUND_PROBES]
    for count, fail, enough in stages:
        if len(pairs) < enough:  # too few to pay for a pass
            continue
        index = _probe_index(count, rule.max_samples)[:, pairs.n]  # (count, N); 0: unused
        step = max(BLOCK // count, 1)
        fails = np.concatenate([(fail(pairs.part(k, k + step), index[:, k:k + step])
                                 & (index[:, k:k + step] > 0)).sum(axis=0)
                                for k in range(0, len(pairs), step)])
        pairs = pairs.take(pairs.failed + fails <= pairs.allowed)
    pid = np.repeat(np.arange(len(pairs)), pairs.n)
    index = np.arange(len(pid)) - (np.cumsum(pairs.n) - pairs.n)[pid]
    dots = field.along(pairs, index, pid)
    passing = dots > threshold
    tested = passing
    if rule.ends == "skip":
        tested = passing & (index > 0) & (index < pairs.n[pid] - 1)
    above = np.bincount(pid, weights=tested, minlength=len(pairs))
    if rule.score == "mean":
        score = np.bincount(pid, weights=dots, minlength=len(pairs)) / np.maximum(pairs.n, 1)
    else:  # the mean of the passing samples (OpenPose C++)
        score = (np.bincount(pid, weights=np.where(passing, dots, 0.0), minlength=len(pairs))
                 / np.maximum(np.bincount(pid, weights=passing, minlength=len(pairs)), 1))
    if rule.prior is not None:
        score += np.minimum(rule.prior * image_height / pairs.geo[6] - 1.0, 0.0)
    ok = (above >= rule.tested(pairs.n) - pairs.allowed) & (score > rule.min_score)
    score, (limb, i, j) = score[ok], pairs.num[[0, 4, 5]][:, ok]
    bounds = np.searchsorted(limb, np.arange(len(limb_index) + 1))
    found = np.column_stack([i, j])
    return (tuple(found[bounds[l]:bounds[l + 1]] for l in range(len(limb_index))),
            tuple(score[bounds[l]:bounds[l + 1]] for l in range(len(limb_index))))


def _candidate_pairs(xy: np.ndarray, sides: list[tuple[np.ndarray, np.ndarray]], lo: int,
                     hi: int, rule: LimbScoring,
                     ends: tuple[np.ndarray, ...] | None) -> _Pairs:
    """Every pair of candidates of limbs ``lo`` to ``hi`` (excluded) that may be accepted
    as far as its sample count and its end samples (``ends``, see :func:`_end_reads`)
    tell."""
    (first_a, count_a), (first_b, count_b) = sides
    limb, r = _ranges(count_a[lo:hi] * count_b[lo:hi])
    limb += lo
    i, j = np.divmod(r, count_b[limb])
    start = xy[first_a[limb] + i]
    dx, dy = (xy[first_b[limb] + j] - start).T
    norm = np.hypot(dx, dy)
    n = sample_counts(dx, dy, rule)
    allowed = rule.allowed(n)  # failures of tested samples a pair may have
    with np.errstate(divide="ignore", invalid="ignore"):  # (coinciding candidates)
        ux, uy = dx / norm, dy / norm
    failed = np.zeros(len(limb), dtype=np.intp)
    if ends is not None and rule.ends == "count":
        vx, vy, offset = ends
        # each end sample that fails (OpenPose C++'s spacing never reads b)
        sides = ((0, i), (1, j)) if rule.spacing == "both-ends" else ((0, i),)
        for side, index in sides:
            at = offset[side * len(count_a) + limb] + index
            failed += vx[at] * ux + vy[at] * uy <= rule.sample_threshold - _END_MARGIN
    w = np.flatnonzero((norm > 1e-6) & (failed <= allowed))
    steps = n[w] - 1 if rule.spacing == "both-ends" else n[w]  # sample k at a + k d / steps
    return _Pairs(np.stack([start[w, 0], start[w, 1], dx[w] / steps, dy[w] / steps, ux[w],
                            uy[w], norm[w]]),
                  np.stack([limb[w], n[w], allowed[w], failed[w], i[w], j[w]]))


def _end_reads(field: _Field, xy: np.ndarray,
               sides: list[tuple[np.ndarray, np.ndarray]]) -> tuple[np.ndarray, ...]:
    """The field of each limb at every candidate of each of its sides, all in one read:
    (vx, vy) and where the rows of limb l's side s start (at ``s * L + l``)."""
    counts = np.concatenate([sides[0][1], sides[1][1]])  # limb by limb, first side first
    owner, k = _ranges(counts)
    rows = np.concatenate([sides[0][0], sides[1][0]])[owner] + k
    vx, vy = field.read(xy[rows, 0], xy[rows, 1], owner % len(sides[0][1]))
    return vx, vy, np.cumsum(counts) - counts


def _ranges(sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner, k) for every k in range(sizes[owner]), owner by owner."""
    owner = np.repeat(np.arange(len(sizes)), sizes)
    return owner, np.arange(len(owner)) - (np.cumsum(sizes) - sizes)[owner]


def _runs(sizes: np.ndarray, block: int) -> list[tuple[int, int]]:
    """Consecutive runs (lo, hi) of items of ``sizes`` adding up to about ``block``."""
    bounds, total = [0], 0
    for k, size in enumerate(sizes.tolist()):
        if total and total + size > block:
            bounds.append(k)
            total = 0
        total += size
    bounds.append(len(sizes))
    return list(zip(bounds[:-1], bounds[1:], strict=True))


@functools.lru_cache(maxsize=64)
def _probe_index(count: int, max_samples: int) -> np.ndarray:
    """(count, max_samples + 1) indices of ``count`` probes evenly spread over the
    interior samples of a pair of n samples (column n), 0 where there are fewer."""
    n = np.arange(max_samples + 1)[None, :]
    used = np.clip(n - 2, 0, count)
    k = np.arange(1, count + 1)[:, None]
    index = np.floor(k * (n - 1) / (used + 1) + 0.5).astype(np.intp)
    out = np.where(k <= used, index, 0)
    out.flags.writeable = False
    return out


def _points(candidates: np.ndarray) -> np.ndarray:
    """(n, 2) float64 ``[x, y]`` of candidates given as (n, 2+) (n may be 0)."""
    arr = np.asarray(candidates, dtype=np.float64)
    if arr.size == 0:
        return np.zeros((0, 2))
    return arr.reshape(len(arr), -1)[:, :2]


class _Pairs:
    """Candidate pairs still in play, of any limbs, as two tables (one gather keeps a
    subset): ``geo`` (7, N) float64 start x, y, step between samples x, y, unit vector
    x, y and length; ``num`` (6, N) intp limb, samples, failures allowed, failures known, and
    the two candidates."""

    def __init__(self, geo: np.ndarray, num: np.ndarray) -> None:
        self.geo, self.num = geo, num

    def __len__(self) -> int:
        return self.num.shape[1]

    limb = property(lambda self: self.num[0])
    n = property(lambda self: self.num[1])
    allowed = property(lambda self: self.num[2])
    failed = property(lambda self: self.num[3])

    @staticmethod
    def concatenate(parts: list[_Pairs]) -> _Pairs:
        return _Pairs(np.concatenate([np.zeros((7, 0))] + [p.geo for p in parts], axis=1),
                      np.concatenate([np.zeros((6, 0), dtype=np.intp)]
                                     + [p.num for p in parts], axis=1))

    def take(self, keep: np.ndarray) -> _Pairs:
        return _Pairs(self.geo[:, keep], self.num[:, keep])

    def part(self, start: int, stop: int) -> _Pairs:
        return _Pairs(self.geo[:, start:stop], self.num[:, start:stop])

    def samples(self, index: np.ndarray, pid: np.ndarray | None = None,
                ) -> tuple[np.ndarray, np.ndarray, np.ndarray, np.ndarray]:
        """Samples ``index`` of pairs ``pid`` (the same shape), or of every pair (``index``
        (S, N)): image coordinates x and y, limbs, and (2, ...) unit vectors."""
        geo, limb = (self.geo, self.limb) if pid is None else (self.geo[:, pid], self.limb[pid])
        return geo[0] + index * geo[2], geo[1] + index * geo[3], limb, geo[4:6]


class _Field:
    """The PAFs (h, w, 2L) of limbs with (x, y) channels ``channels`` (L, 2), read at image
    points, and the rule's sample threshold."""

    def __init__(self, pafs: np.ndarray, channels: np.ndarray, scale: tuple[float, float],
                 interpolation: Interpolation, threshold: float) -> None:
        if interpolation not in ("bilinear", "cubic", "nearest"):
            raise PosekitError(f"unknown PAF interpolation {interpolation!r}; "
                               "use 'bilinear', 'cubic' or 'nearest'")
        self.h, self.w, self.depth = pafs.shape
        self.pafs, self.flat = pafs, pafs.reshape(-1)
        self.cx, self.cy = channels[:, 0], channels[:, 1]
        self.scale, self.interpolation, self.threshold = scale, interpolation, threshold

    @cached_property
    def passable(self) -> np.ndarray:
        """(h * w * L,) bool, cell by cell: may a sample of the limb in this map cell read
        (PAF . unit vector) > threshold? (Cubic and bilinear reading.)"""
        if self.threshold < 0:
            return np.ones(self.h * self.w * len(self.cx), dtype=bool)
        # |interpolated vector| <= gain * the longest vector among the taps (widened for
        # the float32 rounding)
        gain = _CUBIC_GAIN ** 2 if self.interpolation == "cubic" else 1.0
        fx, fy = self.pafs[..., self.cx], self.pafs[..., self.cy]
        hot = fx * fx + fy * fy > (self.threshold / (gain * _BOUND_MARGIN)) ** 2  # (h, w, L)
        # the taps of a sample in cell i are i - 1 .. i + 2 along each axis (at most;
        # borders repeated): rows, then columns
        near = hot.copy()
        near[1:] |= hot[:-1]
        near[:-1] |= hot[1:]
        near[:-2] |= hot[2:]
        hot = near.copy()
        hot[:, 1:] |= near[:, :-1]
        hot[:, :-1] |= near[:, 1:]
        hot[:, :-2] |= near[:, 2:]
        return hot.reshape(-1)

    def _cells(self, x: np.ndarray, y: np.ndarray, offset: float) -> np.ndarray:
        """Flat map pixel of points ``x, y``: the nearest (offset 0.5) or below (0)."""
        col = np.clip(np.floor(to_map(x, self.scale[0]) + offset), 0, self.w - 1)
        row = np.clip(np.floor(to_map(y, self.scale[1]) + offset), 0, self.h - 1)
        return row.astype(np.intp) * self.w + col.astype(np.intp)

    def surely_fail(self, pairs: _Pairs, index: np.ndarray) -> np.ndarray:
        """Whether the samples ``index`` (S, N) of each pair surely read (PAF . unit
        vector) <= threshold, from their map cells alone."""
        x, y, limb, _ = pairs.samples(index)
        return ~self.passable[self._cells(x, y, 0.0) * len(self.cx) + limb]

    def fail(self, pairs: _Pairs, index: np.ndarray) -> np.ndarray:
        """Whether the samples ``index`` (S, N) of each pair read <= threshold."""
        return self.along(pairs, index) <= self.threshold

    def along(self, pairs: _Pairs, index: np.ndarray, pid: np.ndarray | None = None,
              ) -> np.ndarray:
        """PAF . unit vector at samples ``index`` of the pairs ``pid`` (default: all)."""
        x, y, limb, unit = pairs.samples(index, pid)
        vx, vy = self.read(x, y, limb)
        return vx * unit[0] + vy * unit[1]

    def read(self, x: np.ndarray, y: np.ndarray,
             limb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The PAF (vx, vy) of limbs ``limb`` at image points ``x, y`` (broadcast together).

        Read in blocks of READ_BLOCK points (module docstring).
        """
        x, y, limb = np.broadcast_arrays(x, y, limb)
        shape = x.shape
        x, y, limb = x.reshape(-1), y.reshape(-1), limb.reshape(-1)
        vx, vy = np.empty(len(x)), np.empty(len(x))
        for start in range(0, len(x), READ_BLOCK):
            part = slice(start, start + READ_BLOCK)
            vx[part], vy[part] = self._read(x[part], y[part], limb[part])
        return vx.reshape(shape), vy.reshape(shape)

    def _read(self, x: np.ndarray, y: np.ndarray,
              limb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """:meth:`read` of (S,) points."""
        if self.interpolation == "nearest":
            at = self._cells(x, y, 0.5) * self.depth
            return self.flat[at + self.cx[limb]], self.flat[at + self.cy[limb]]
        kernel = "cubic" if self.interpolation == "cubic" else "linear"
        ix, wx = taps_first(to_map(x, self.scale[0]), kernel)  # (T, S)
        iy, wy = taps_first(to_map(y, self.scale[1]), kernel)
        row = np.clip(iy, 0, self.h - 1) * (self.w * self.depth)
        col = np.clip(ix, 0, self.w - 1) * self.depth + self.cx[limb]
        at = row[:, None, :] + col[None, :, :]  # (T, T, S) flat index of channel x
        vx = np.einsum("ijs,is,js->s", self.flat[at], wy, wx)
        at += (self.cy - self.cx)[limb]
        return vx, np.einsum("ijs,is,js->s", self.flat[at], wy, wx)


def score_limbs(pafs: np.ndarray, peaks: list[np.ndarray] | tuple[np.ndarray, ...],
                skeleton: Skeleton, *, image_height: float,
                scale: tuple[float, float] = (1.0, 1.0), rule: LimbScoring = OPENPOSE_RULE,
                interpolation: Interpolation = "bilinear",
                ) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """:func:`score_limb` for every limb of ``skeleton`` (tree limbs, then redundant), all
    at once.

    ``peaks[k]`` holds the candidates of keypoint k; ``pafs`` is in the skeleton's layout.
    Returns (pairs per limb, scores per limb).
    """
    return _score(pafs, [_points(p) for p in peaks], skeleton.limb_index,
                  skeleton.paf_channels, image_height, scale, rule, interpolation)
