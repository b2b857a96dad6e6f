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

All limbs are scored at once: the candidate pairs of every limb are one set of arrays
(N pairs, each with its limb). Most wrong pairs are rejected before all their samples
are read, exactly (the result is the same as reading them all): a pair may fail only
``n - floor(min_above * n) - 1`` samples (none for n <= 20), so it is rejected as soon
as more of its samples are known to fail. Known first are its two end samples, read
once per candidate and limb (a pair's end samples sit on its candidates); then a few
interior probes, read as an upper bound of the PAF's length around them (a table per
limb, one lookup each), then exactly.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np

from posekit.decode.resize import taps_first, to_map
from posekit.errors import PosekitError
from posekit.skeleton import Skeleton

__all__ = ["LimbScoring", "sample_counts", "score_limb", "score_limbs"]

Interpolation = Literal["bilinear", "cubic", "nearest"]

# shortcuts (exact): the end samples, then passes of interior probes read as upper bounds,
# then exactly; a pass runs while at least PROBE_MIN_PAIRS pairs are left
END_SAMPLES = True
BOUND_PROBES = (3, 12)  # probes per pass
EXACT_PROBES = (6,)
PROBE_MIN_PAIRS = 32
# samples read at once (bounds the (T, T, READ_BLOCK) temporaries)
READ_BLOCK = 8192

# largest sum of |weights| of the cubic kernel (a = -0.75) along one axis, at t = 0.5
_CUBIC_GAIN = 1.375
# the last sample, a + (b - a), can differ from b by rounding: an end sample read at b
# counts as failed only when this far below the threshold
_END_MARGIN = 1e-9
# the bound table is computed in the maps' precision (float32): widened by this factor
_BOUND_MARGIN = 1.0 + 1e-5


@dataclass(frozen=True)
class LimbScoring:
    """How candidate pairs are scored (OpenPose's defaults)."""

    sample_threshold: float = 0.05
    min_above: float = 0.95
    min_samples: int = 5
    max_samples: int = 25
    density: float = 5.0
    prior: float | None = 0.5
    min_score: float = 0.0

    def __post_init__(self) -> None:
        if not 1 < int(self.min_samples) <= int(self.max_samples):
            raise PosekitError(
                f"need 2 <= min_samples <= max_samples, got {self.min_samples} and "
                f"{self.max_samples}")
        if not 0.0 <= self.min_above <= 1.0:
            raise PosekitError(f"min_above is a fraction in [0, 1], got {self.min_above}")
        if not self.density > 0:
            raise PosekitError(f"sample density must be positive, got {self.density}")


def sample_counts(dx: np.ndarray, dy: np.ndarray, rule: LimbScoring = LimbScoring()) -> np.ndarray:
    """Number of samples for limbs spanning ``(dx, dy)`` image pixels (module docstring)."""
    span = np.maximum(np.abs(dx), np.abs(dy))
    n = np.floor(np.sqrt(rule.density * span) + 0.5)
    return np.clip(n, rule.min_samples, rule.max_samples).astype(np.intp)


def score_limb(pafs: np.ndarray, channels: tuple[int, int], a: np.ndarray, b: np.ndarray, *,
               image_height: float, scale: tuple[float, float] = (1.0, 1.0),
               rule: LimbScoring = LimbScoring(),
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
    field = _Field(np.asarray(pafs), np.asarray(channels, dtype=np.intp).reshape(-1, 2),
                   scale, interpolation)
    counts = np.array([len(p) for p in points], dtype=np.intp)
    xy = np.concatenate([np.zeros((0, 2)), *points])
    # per limb and side: the row of its first candidate in ``xy``, and how many
    sides = [((np.cumsum(counts) - counts)[k], counts[k]) for k in limb_index.T]
    limb, ii, jj = _all_pairs(sides[0][1], sides[1][1])
    start = xy[sides[0][0][limb] + ii]
    vec = xy[sides[1][0][limb] + jj] - start
    norm = np.hypot(vec[:, 0], vec[:, 1])
    n = sample_counts(vec[:, 0], vec[:, 1], rule)
    # accepted needs more than min_above * n samples above the threshold: at most
    # ``allowed`` = n - floor(min_above * n) - 1 of them may fail
    allowed = n - np.floor(rule.min_above * n).astype(np.intp) - 1
    where = np.flatnonzero((norm > 1e-6) & (allowed >= 0))
    pairs = _Pairs.of(limb, start, vec, norm, n, allowed, where)
    threshold = rule.sample_threshold
    if END_SAMPLES and len(pairs) >= PROBE_MIN_PAIRS:
        pairs.num[:, 3] = _end_fails(field, xy, sides, pairs, ii, jj, threshold - _END_MARGIN)
        pairs = pairs.take(pairs.failed <= pairs.allowed)
    stages = [(count, field.along) for count in EXACT_PROBES]
    if interpolation != "nearest":  # (reading the nearest pixel costs what a bound does)
        stages[:0] = [(count, field.bound) for count in BOUND_PROBES]
    for count, read in stages:
        if len(pairs) < PROBE_MIN_PAIRS:  # too few to pay for a pass
            break
        index = _probe_index(count, rule.max_samples)[pairs.n]  # (N, count); 0: unused
        fails = ((read(pairs, index) <= threshold) & (index > 0)).sum(axis=1)
        pairs = pairs.take(pairs.failed + fails <= pairs.allowed)
    pid = np.repeat(np.arange(len(pairs)), pairs.n)
    index = np.arange(len(pid)) - (np.cumsum(pairs.n) - pairs.n)[pid]
    dots = field.along(pairs, index, pid)
    total = np.bincount(pid, weights=dots, minlength=len(pairs))
    above = np.bincount(pid, weights=dots > threshold, minlength=len(pairs))
    score = total / np.maximum(pairs.n, 1)
    if rule.prior is not None:
        score += np.minimum(rule.prior * image_height / norm[pairs.where] - 1.0, 0.0)
    ok = (above >= pairs.n - pairs.allowed) & (score > rule.min_score)
    where, score = pairs.where[ok], score[ok]
    bounds = np.searchsorted(limb[where], np.arange(len(limb_index) + 1))
    found = np.column_stack([ii[where], jj[where]]).astype(np.intp)
    return (tuple(found[bounds[l]:bounds[l + 1]] for l in range(len(limb_index))),
            tuple(score[bounds[l]:bounds[l + 1]] for l in range(len(limb_index))))


def _all_pairs(na: np.ndarray, nb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(limb, i, j) of every pair of candidates of every limb, limb by limb, i then j."""
    limb, r = _ranges(na * nb)
    i, j = np.divmod(r, nb[limb])
    return limb, i, j


def _ranges(sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner, k) for every k in range(sizes[owner]), owner by owner."""
    owner = np.repeat(np.arange(len(sizes)), sizes)
    return owner, np.arange(len(owner)) - (np.cumsum(sizes) - sizes)[owner]


def _end_fails(field: _Field, xy: np.ndarray, sides: list[tuple[np.ndarray, np.ndarray]],
               pairs: _Pairs, ii: np.ndarray, jj: np.ndarray, below: float) -> np.ndarray:
    """How many of each pair's two end samples read at most ``below``: the field of the
    pair's limb is read once at every candidate of each limb and side (one read for all).
    """
    (first_a, count_a), (first_b, count_b) = sides
    limb, k = _ranges(np.concatenate([count_a, count_b]))
    rows = np.concatenate([first_a, first_b])[limb] + k
    L = len(count_a)
    vx, vy = field.read(xy[rows, 0], xy[rows, 1], limb % L)
    # where each limb's and side's candidates start among the rows read
    offset = np.cumsum(np.concatenate([count_a, count_b])) - np.concatenate([count_a, count_b])
    fails = np.zeros(len(pairs), dtype=np.intp)
    for side, index in enumerate((ii, jj)):
        at = offset[side * L + pairs.limb] + index[pairs.where]
        fails += vx[at] * pairs.geo[:, 4] + vy[at] * pairs.geo[:, 5] <= below
    return fails


@functools.lru_cache(maxsize=64)
def _probe_index(count: int, max_samples: int) -> np.ndarray:
    """(max_samples + 1, count) indices of ``count`` probes evenly spread over the
    interior samples of a pair of n samples (row n), 0 where there are fewer."""
    n = np.arange(max_samples + 1)[:, None]
    used = np.clip(n - 2, 0, count)
    k = np.arange(1, count + 1)[None, :]
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
    subset): ``geo`` (N, 6) float64 start x, y, vector x, y and unit vector x, y;
    ``num`` (N, 5) intp limb, samples, failures allowed, failures known, and index among
    all pairs."""

    def __init__(self, geo: np.ndarray, num: np.ndarray) -> None:
        self.geo, self.num = geo, num

    @classmethod
    def of(cls, limb: np.ndarray, start: np.ndarray, vec: np.ndarray, norm: np.ndarray,
           n: np.ndarray, allowed: np.ndarray, where: np.ndarray) -> _Pairs:
        geo = np.empty((len(where), 6))
        geo[:, :2], geo[:, 2:4] = start[where], vec[where]
        geo[:, 4:] = geo[:, 2:4] / norm[where, None]
        num = np.zeros((len(where), 5), dtype=np.intp)
        num[:, 0], num[:, 1], num[:, 2], num[:, 4] = limb[where], n[where], allowed[where], where
        return cls(geo, num)

    def __len__(self) -> int:
        return len(self.num)

    limb = property(lambda self: self.num[:, 0])
    n = property(lambda self: self.num[:, 1])
    allowed = property(lambda self: self.num[:, 2])
    failed = property(lambda self: self.num[:, 3])
    where = property(lambda self: self.num[:, 4])

    def take(self, keep: np.ndarray) -> _Pairs:
        return _Pairs(self.geo[keep], self.num[keep])

    def points(self, index: np.ndarray,
               pid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Image coordinates of samples ``index`` of pairs ``pid`` (the same shape), or
        of every pair (``index`` (N, S)); and the limbs."""
        if pid is None:
            geo, n, limb = self.geo.T[:, :, None], self.n[:, None], self.limb[:, None]
        else:
            geo, n, limb = self.geo[pid].T, self.n[pid], self.limb[pid]
        t = index / (n - 1)
        return geo[0] + t * geo[2], geo[1] + t * geo[3], limb


class _Field:
    """The PAFs (h, w, 2L) of limbs with (x, y) channels ``channels`` (L, 2), read at image
    points."""

    def __init__(self, pafs: np.ndarray, channels: np.ndarray, scale: tuple[float, float],
                 interpolation: Interpolation) -> None:
        if interpolation not in ("bilinear", "cubic", "nearest"):
            raise PosekitError(f"unknown PAF interpolation {interpolation!r}; "
                               "use 'bilinear', 'cubic' or 'nearest'")
        self.h, self.w, self.depth = pafs.shape
        self.pafs, self.flat = pafs, pafs.reshape(-1)
        self.cx, self.cy = channels[:, 0], channels[:, 1]
        self.scale, self.interpolation = scale, interpolation

    @cached_property
    def table(self) -> np.ndarray:
        """(h * w * L,) upper bound of each limb's PAF length wherever a sample in a map
        cell can read (cubic and bilinear reading), cell by cell."""
        fx, fy = self.pafs[..., self.cx], self.pafs[..., self.cy]
        # the taps of a sample in cell floor(u) are floor(u) - 1 .. floor(u) + 2 (at most;
        # borders repeated)
        h, w = self.h, self.w
        wide = np.pad(np.sqrt(fx * fx + fy * fy), ((1, 2), (1, 2), (0, 0)), mode="edge")
        rows = np.maximum(np.maximum(wide[:h], wide[1:h + 1]), np.maximum(wide[2:h + 2],
                                                                          wide[3:h + 3]))
        length = np.maximum(np.maximum(rows[:, :w], rows[:, 1:w + 1]),
                            np.maximum(rows[:, 2:w + 2], rows[:, 3:w + 3]))
        # |interpolated vector| <= gain * the longest vector among the taps (widened for
        # the float32 rounding)
        gain = _CUBIC_GAIN ** 2 if self.interpolation == "cubic" else 1.0
        length *= gain * _BOUND_MARGIN
        return length.reshape(-1)

    def _cells(self, x: np.ndarray, y: np.ndarray, offset: float) -> np.ndarray:
        """Flat map pixel of points ``x, y``: the nearest (offset 0.5) or below (0)."""
        col = np.clip(np.floor(to_map(x, self.scale[0]) + offset), 0, self.w - 1)
        row = np.clip(np.floor(to_map(y, self.scale[1]) + offset), 0, self.h - 1)
        return row.astype(np.intp) * self.w + col.astype(np.intp)

    def bound(self, pairs: _Pairs, index: np.ndarray) -> np.ndarray:
        """Upper bound of (PAF . unit vector) at samples ``index`` (N, S) of each pair."""
        x, y, limb = pairs.points(index)
        return self.table[self._cells(x, y, 0.0) * len(self.cx) + limb]

    def along(self, pairs: _Pairs, index: np.ndarray, pid: np.ndarray | None = None,
              ) -> np.ndarray:
        """PAF . unit vector at samples ``index`` of the pairs ``pid`` (default: all)."""
        x, y, limb = pairs.points(index, pid)
        vx, vy = self.read(x, y, limb)
        unit = pairs.geo[:, 4:].T[:, :, None] if pid is None else pairs.geo[pid, 4:].T
        return vx * unit[0] + vy * unit[1]

    def read(self, x: np.ndarray, y: np.ndarray,
             limb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The PAF (vx, vy) of limbs ``limb`` at image points ``x, y`` (broadcast together).

        Read in blocks of READ_BLOCK points (small temporaries are much faster here).
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
                scale: tuple[float, float] = (1.0, 1.0), rule: LimbScoring = LimbScoring(),
                interpolation: Interpolation = "bilinear",
                ) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """:func:`score_limb` for every limb of ``skeleton`` (tree limbs, then redundant), all
    at once.

    ``peaks[k]`` holds the candidates of keypoint k; ``pafs`` is in the skeleton's layout.
    Returns (pairs per limb, scores per limb).
    """
    return _score(pafs, [_points(p) for p in peaks], skeleton.limb_index,
                  skeleton.paf_channels, image_height, scale, rule, interpolation)
