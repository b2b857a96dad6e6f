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
(N pairs, each with its limb). Most wrong pairs are rejected before all their samples are
read, exactly (the result is the same as reading them all): a pair may fail only
``n - floor(min_above * n) - 1`` samples (none for n <= 20), so it is rejected as soon as
more of its samples are known to fail. In turn:

- as the pairs are built, a few interior probes judged from their map cell alone (a table
  per limb of the cells where the PAF is too short for any sample to pass); only the
  pairs left get a length and a unit vector;
- their tested end samples (``ends="count"``), read once per candidate and limb (a pair's
  end samples sit on its candidates);
- more probes judged by their cells;
- the reading itself: a few interior probes of every pair first, then the other samples
  of the pairs these leave (the probes count in the scores).

Samples are placed in the coordinates the field is read in: map pixels for the kernels (a
pair's first candidate and its step between samples converted once), image pixels for
the nearest pixel (whose pixel then depends on rounding exactly as OpenPose's does).
"""

from __future__ import annotations

import functools
from functools import cached_property
from typing import Literal

import numpy as np

from posekit.decode.resize import CUBIC_POLY, to_map
from posekit.decode.rule import Ends, LimbScoring, ScoreMode, Spacing, sample_counts
from posekit.errors import PosekitError
from posekit.skeleton import Skeleton

__all__ = ["LimbScoring", "sample_counts", "score_limb", "score_limbs", "Ends", "Spacing",
           "ScoreMode"]

Interpolation = Literal["bilinear", "cubic", "nearest"]
OPENPOSE_RULE = LimbScoring()  # the default: OpenPose's thresholds, every sample tested

# shortcuts (exact), in the order of the module docstring: passes of that many probes
# judged by their cells (each while at least PROBE_MIN_PAIRS pairs are in play), the end
# samples, and READ_FIRST probes read first (while READ_FIRST_MIN_PAIRS pairs are)
BOUND_PROBES = (3, 8)
END_SAMPLES = True
READ_FIRST = 3
PROBE_MIN_PAIRS = 256
READ_FIRST_MIN_PAIRS = 128
# pairs (or probes of pairs) handled at once, and samples read at once (bounds on the
# temporaries: the reads make (T, T, READ_BLOCK) ones)
BLOCK = 32768
READ_BLOCK = 8192

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
    field = _Field(np.asarray(pafs), np.asarray(channels, dtype=np.intp).reshape(-1, 2),
                   scale, interpolation, rule.sample_threshold)
    counts = np.array([len(p) for p in points], dtype=np.intp)
    xy = np.concatenate([np.zeros((0, 2)), *points]).T  # (2, M) image pixels
    cands = _Candidates(xy, field.coords(xy), counts, limb_index)
    sizes = cands.counts[0] * cands.counts[1]  # pairs per limb
    shortcuts = int(sizes.sum()) >= PROBE_MIN_PAIRS
    cells = list(BOUND_PROBES) if shortcuts and field.bounded else []
    pairs = _Pairs.concatenate([_candidate_pairs(cands, lo, hi, rule, field,
                                                 cells[0] if cells else 0)
                                for lo, hi in _runs(sizes, BLOCK)])
    if END_SAMPLES and rule.ends == "count" and shortcuts:
        pairs.num[3] = _end_failures(cands, pairs, field, rule)
        pairs = pairs.take(pairs.failed <= pairs.allowed)
    for count in cells[1:]:
        if len(pairs) >= PROBE_MIN_PAIRS:  # (too few do not pay for a pass)
            fails = _probe_failures(count, pairs.n, rule, field.surely_fail, pairs.geo[0:2],
                                    pairs.geo[2:4], pairs.limb)
            pairs = pairs.take(pairs.failed + fails <= pairs.allowed)
    first = READ_FIRST if len(pairs) >= READ_FIRST_MIN_PAIRS else 0
    pairs, score, ok = _final_scores(pairs, field, rule, image_height, first)
    limb, i, j = pairs.num[[0, 4, 5]].compress(ok, axis=1)
    found = np.column_stack([i - cands.first[0].take(limb), j - cands.first[1].take(limb)])
    score = score.compress(ok)
    at = np.searchsorted(limb, np.arange(len(limb_index) + 1)).tolist()
    return (tuple(found[at[l]:at[l + 1]] for l in range(len(limb_index))),
            tuple(score[at[l]:at[l + 1]] for l in range(len(limb_index))))


class _Candidates:
    """Every candidate, all parts together: ``xy`` (2, M) image pixels and ``uv`` (2, M)
    the same points in the field's coordinates (:meth:`_Field.coords`); for each limb's
    first and second part, the column of the part's first candidate and how many it has."""

    def __init__(self, xy: np.ndarray, uv: np.ndarray, counts: np.ndarray,
                 limb_index: np.ndarray) -> None:
        first = np.cumsum(counts) - counts
        self.xy, self.uv = xy, uv
        self.first = (first.take(limb_index[:, 0]), first.take(limb_index[:, 1]))
        self.counts = (counts.take(limb_index[:, 0]), counts.take(limb_index[:, 1]))


def _candidate_pairs(cands: _Candidates, lo: int, hi: int, rule: LimbScoring, field: _Field,
                     probes: int) -> _Pairs:
    """Every pair of candidates of limbs ``lo`` to ``hi`` (excluded) that may be accepted
    as far as its sample count and a pass of ``probes`` probes judged by their cells (if
    any) tell: built as plain arrays, and only the pairs left made :class:`_Pairs`."""
    (first_a, first_b), (count_a, count_b) = cands.first, cands.counts
    owner, k = _ranges(count_a[lo:hi])  # one row per candidate a of these limbs
    limb = owner + lo
    rep = count_b.take(limb)
    # per pair: its limb, its a, and the number to subtract from the pair's position to
    # get its b (every b of the limb follows each a)
    limb, ia, shift = np.repeat(np.stack([limb, first_a.take(limb) + k,
                                          np.cumsum(rep) - rep - first_b.take(limb)]),
                                rep, axis=1)
    ib = np.arange(len(limb)) - shift
    d = cands.xy.take(ib, axis=1)
    d -= cands.xy.take(ia, axis=1)  # image pixels
    n = sample_counts(d[0], d[1], rule)
    start = cands.uv.take(ia, axis=1)
    step = d / ((n - 1 if rule.spacing == "both-ends" else n) * field.unit)
    allowed = _counts(rule)[0].take(n)
    keep = (np.flatnonzero(_probe_failures(probes, n, rule, field.surely_fail, start, step,
                                           limb) <= allowed)
            if probes else np.arange(len(n)))
    d = d.take(keep, axis=1)
    norm = np.hypot(d[0], d[1])
    apart = norm > 1e-6
    if not apart.all():  # coinciding candidates (never accepted)
        keep, d, norm = keep[apart], d[:, apart], norm[apart]
    limb, n, allowed, ia, ib = (a.take(keep) for a in (limb, n, allowed, ia, ib))
    start, step = start.take(keep, axis=1), step.take(keep, axis=1)
    d /= norm
    return _Pairs(np.concatenate([start, step, d, norm[None]]),
                  np.stack([limb, n, allowed, np.zeros_like(n), ia, ib]))


def _probe_failures(count: int, n: np.ndarray, rule: LimbScoring, fail, *columns: np.ndarray,
                    ) -> np.ndarray:
    """How many of ``count`` interior probes of each of N pairs of ``n`` samples ``fail``:
    ``fail(index, *columns)`` tells which samples ``index`` (count, N') of the pairs whose
    ``columns`` (..., N') are given fail (the cells test, or the exact one), in blocks of
    BLOCK probes."""
    index = _probe_index(count, rule.max_samples)
    used = index[:, rule.min_samples:].all()  # every pair has ``count`` interior samples
    index = index.take(n, axis=1)  # (count, N); 0: unused
    step = max(BLOCK // count, 1)
    out = []
    for k in range(0, len(n), step):
        part = index[:, k:k + step]
        failed = fail(part, *(c[..., k:k + step] for c in columns))
        out.append((failed if used else failed & (part > 0)).sum(axis=0))
    return out[0] if len(out) == 1 else np.concatenate([np.zeros(0, dtype=np.intp), *out])


def _end_failures(cands: _Candidates, pairs: _Pairs, field: _Field,
                  rule: LimbScoring) -> np.ndarray:
    """How many of each pair's tested end samples fail, from the field of each limb read
    once at every candidate of each of its parts (a pair's end samples sit on its
    candidates; OpenPose C++'s spacing never reads b)."""
    sides = (0, 1) if rule.spacing == "both-ends" else (0,)
    failed = np.zeros(len(pairs), dtype=np.intp)
    for side in sides:
        first, count = cands.first[side], cands.counts[side]
        owner, k = _ranges(count)
        rows = first.take(owner) + k
        vx, vy = field.read(cands.uv.take(rows, axis=1), owner)
        # the pair's candidate (a column of cands) -> its row in (vx, vy)
        at = (np.cumsum(count) - count - first).take(pairs.limb) + pairs.num[4 + side]
        failed += (vx.take(at) * pairs.geo[4] + vy.take(at) * pairs.geo[5]
                   <= rule.sample_threshold - _END_MARGIN)
    return failed


def _final_scores(pairs: _Pairs, field: _Field, rule: LimbScoring, image_height: float,
                  first: int) -> tuple[_Pairs, np.ndarray, np.ndarray]:
    """Every sample of every pair read, ``first`` interior probes of each first (a pair
    that fails them is dropped before the rest of its samples are read): the pairs left,
    their scores, and which are accepted."""
    if not len(pairs):
        return pairs, np.zeros(0), np.zeros(0, dtype=bool)
    # per pair, of the samples read: sum, how many pass, and their sum
    total = passed = kept = 0
    if first:
        index = _probe_index(first, rule.max_samples)
        used = index[:, rule.min_samples:].all()  # every pair has ``first`` probes
        index = index.take(pairs.n, axis=1)  # (first, N); 0: unused
        dots = field.dots(index, pairs.geo[0:2], pairs.geo[2:4], pairs.limb, pairs.geo[4:6])
        passing = dots > rule.sample_threshold
        failing = ~passing
        if not used:  # (an unused probe, sample 0, is not one of the samples read first)
            read = index > 0
            dots *= read
            passing &= read
            failing &= read
        keep = pairs.failed + failing.sum(axis=0) <= pairs.allowed
        pairs, dots, passing = (pairs.take(keep), dots.compress(keep, axis=1),
                                passing.compress(keep, axis=1))
        total = dots.sum(axis=0)
        passed = passing.sum(axis=0)
        kept = np.where(passing, dots, 0.0).sum(axis=0) if rule.score != "mean" else 0
    n = pairs.n
    rest, left = _rest_index(first, rule.max_samples)  # the samples not read yet
    left = left.take(n)
    start = np.cumsum(left) - left
    index = np.arange(left.sum()) - np.repeat(start, left)  # the j-th sample left of its pair
    if first:  # (else the j-th sample)
        index = rest.take(index + np.repeat(n * rest.shape[1], left))
    dots = field.along(pairs, index, left)
    passing = dots > rule.sample_threshold
    total = total + np.add.reduceat(dots, start)
    passed = passed + np.add.reduceat(passing, start, dtype=np.intp)
    above = passed  # tested samples that pass
    if rule.ends == "skip":  # not the end samples (each pair's first and last left)
        above = above - passing.take(start) - passing.take(start + left - 1)
    if rule.score == "mean":
        score = total / n
    else:  # the mean of the passing samples (OpenPose C++)
        kept = kept + np.add.reduceat(np.where(passing, dots, 0.0), start)
        score = kept / np.maximum(passed, 1)
    if rule.prior is not None:
        score += np.minimum(rule.prior * image_height / pairs.geo[6] - 1.0, 0.0)
    ok = (above >= _counts(rule)[1].take(n)) & (score > rule.min_score)
    return pairs, score, ok


def _ranges(sizes: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """(owner, k) for every k in range(sizes[owner]), owner by owner."""
    owner = np.repeat(np.arange(len(sizes)), sizes)
    return owner, np.arange(len(owner)) - (np.cumsum(sizes) - sizes).take(owner)


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
def _counts(rule: LimbScoring) -> tuple[np.ndarray, np.ndarray]:
    """For a pair of n samples (index n, up to max_samples): how many of its tested
    samples may fail, and how many must pass."""
    n = np.arange(rule.max_samples + 1)
    allowed, needed = rule.allowed(n), rule.tested(n) - rule.allowed(n)
    allowed.flags.writeable = needed.flags.writeable = False
    return allowed, needed


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


@functools.lru_cache(maxsize=64)
def _rest_index(count: int, max_samples: int) -> tuple[np.ndarray, np.ndarray]:
    """The samples of a pair of n samples that :func:`_probe_index` (``count``) leaves:
    (max_samples + 1, max_samples + 1), row n listing them in order, and how many (one
    per n)."""
    size = max_samples + 1
    probed = np.zeros((size, size), dtype=bool)
    probed[np.arange(size), _probe_index(count, max_samples)] = True
    probed[:, 0] = False  # (0: an unused probe)
    rest = np.zeros((size, size), dtype=np.intp)
    left = np.zeros(size, dtype=np.intp)
    for n in range(size):
        index = np.flatnonzero(~probed[n, :n])
        rest[n, :len(index)], left[n] = index, len(index)
    rest.flags.writeable = left.flags.writeable = False
    return rest, left


def _points(candidates: np.ndarray) -> np.ndarray:
    """(n, 2) float64 ``[x, y]`` of candidates given as (n, 2+) (n may be 0)."""
    arr = np.asarray(candidates, dtype=np.float64)
    if arr.ndim == 2 and arr.shape[1] >= 2:
        return arr[:, :2]
    if arr.size == 0:
        return np.zeros((0, 2))
    return arr.reshape(len(arr), -1)[:, :2]


class _Pairs:
    """Candidate pairs still in play, of any limbs, as two tables (one gather keeps a
    subset): ``geo`` (7, N) float64 start u, v and step between samples u, v (the field's
    coordinates), unit vector x, y and length; ``num`` (6, N) intp limb, samples, failures
    allowed, failures known, and the two candidates (columns of :class:`_Candidates`)."""

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
        if len(parts) == 1:
            return parts[0]
        return _Pairs(np.concatenate([np.zeros((7, 0))] + [p.geo for p in parts], axis=1),
                      np.concatenate([np.zeros((6, 0), dtype=np.intp)]
                                     + [p.num for p in parts], axis=1))

    def take(self, keep: np.ndarray) -> _Pairs:
        """The pairs where ``keep`` (N,) bool is true."""
        return _Pairs(self.geo.compress(keep, axis=1), self.num.compress(keep, axis=1))


class _Field:
    """The PAFs (h, w, 2L) of limbs with (x, y) channels ``channels`` (L, 2), read at
    points ``uv`` (2, ...) in its coordinates (:meth:`coords`), and the rule's sample
    threshold.

    Read with a kernel, a limb's (x, y) is one complex value x + iy (``vectors`` (h, w,
    lz), ``z`` flat, limb l's at ``zc[l]``): a view of the maps when each limb's channels
    are an even channel and the next one, else a copy.
    """

    def __init__(self, pafs: np.ndarray, channels: np.ndarray, scale: tuple[float, float],
                 interpolation: Interpolation, threshold: float) -> None:
        if interpolation not in ("bilinear", "cubic", "nearest"):
            raise PosekitError(f"unknown PAF interpolation {interpolation!r}; "
                               "use 'bilinear', 'cubic' or 'nearest'")
        self.h, self.w, self.depth = pafs.shape
        self.cx, self.cy = channels[:, 0], channels[:, 1]
        self.interpolation, self.threshold = interpolation, threshold
        self.scale = np.array([[scale[0]], [scale[1]]])  # image pixels per map pixel
        self.bounded = interpolation != "nearest" and threshold >= 0  # cell tests apply
        self.clip = True  # (see coords)
        self.last = np.array([[self.w - 1], [self.h - 1]])
        if interpolation == "nearest":
            self.flat = pafs.reshape(-1)
            self.unit = np.ones((2, 1))  # image pixels per field unit
            return
        self.unit = self.scale
        if pafs.dtype not in (np.float32, np.float64):
            pafs = pafs.astype(np.float64)
        pafs = np.ascontiguousarray(pafs)
        if self.depth % 2 == 0 and (self.cx % 2 == 0).all() and (self.cy == self.cx + 1).all():
            self.vectors = pafs.view(np.complex64 if pafs.dtype == np.float32
                                     else np.complex128)
            self.zc = self.cx // 2
        else:
            self.vectors = pafs[..., self.cx] + 1j * pafs[..., self.cy]
            self.zc = np.arange(len(self.cx))
        self.lz = self.vectors.shape[2]
        self.z = self.vectors.reshape(-1)
        self.taps = 4 if interpolation == "cubic" else 2
        self.table, self.first, self.bound = _tap_table(self.w, self.h, self.taps, self.lz)

    def coords(self, xy: np.ndarray) -> np.ndarray:
        """(2, M) candidates in the field's coordinates: map pixels when read with a
        kernel, image pixels (unchanged) when read at the nearest pixel. Notes whether
        they all lie in the area the map covers (samples between them then need no
        clipping to the map: ``clip``)."""
        if self.interpolation == "nearest":
            return xy
        uv = to_map(xy, self.scale)
        self.clip = not (np.abs(uv - self.last / 2) <= self.last / 2 + 0.5).all()
        return uv

    @cached_property
    def passable(self) -> np.ndarray:
        """(h * w * lz,) bool, cell by cell: may a sample of the limb in this map cell read
        (PAF . unit vector) > threshold? (Cubic and bilinear reading.)"""
        # |interpolated vector| <= gain * the longest vector among the taps (widened for
        # the float32 rounding)
        gain = _CUBIC_GAIN ** 2 if self.interpolation == "cubic" else 1.0
        hot = np.abs(self.vectors) > self.threshold / (gain * _BOUND_MARGIN)  # (h, w, lz)
        # the taps of a sample in cell i are i - 1 .. i + 2 along each axis (at most;
        # borders repeated): rows, then columns
        rows = _spread(hot.reshape(1, -1), self.w * self.lz)
        return _spread(rows.reshape(self.h, -1), self.lz).reshape(-1)

    def surely_fail(self, index: np.ndarray, start: np.ndarray, step: np.ndarray,
                    limb: np.ndarray) -> np.ndarray:
        """Whether the interior samples ``index`` (S, N) of N pairs (``start``, ``step``
        (2, N) in map pixels, ``limb`` (N,)) surely read (PAF . unit vector) <= threshold,
        from their map cells alone."""
        cell = _samples(index, start, step).astype(np.intp)  # (2, S, N)
        if self.clip:  # (truncating, then clipping, is clipping the floor)
            np.maximum(cell, 0, out=cell)
            np.minimum(cell, self.last[:, :, None], out=cell)
        at = cell[1]
        at *= self.w
        at += cell[0]
        at *= self.lz
        at += self.zc.take(limb)
        return ~self.passable.take(at)

    def dots(self, index: np.ndarray, start: np.ndarray, step: np.ndarray, limb: np.ndarray,
             unit: np.ndarray) -> np.ndarray:
        """PAF . unit vector at the samples ``index`` (S, N) of N pairs (as
        :meth:`surely_fail`, and their unit vectors (2, N)), in blocks of about READ_BLOCK
        samples."""
        width = max(READ_BLOCK // max(len(index), 1), 1)  # pairs per block
        parts = [self._dot(_samples(index[:, k:k + width], start[:, k:k + width],
                                    step[:, k:k + width]), limb[k:k + width],
                           unit[:, k:k + width])
                 for k in range(0, index.shape[1], width)]
        return parts[0] if len(parts) == 1 else np.concatenate([np.zeros(index.shape)[:, :0],
                                                                 *parts], axis=1)

    def along(self, pairs: _Pairs, index: np.ndarray, count: np.ndarray) -> np.ndarray:
        """PAF . unit vector at samples ``index`` (S,) of the pairs, ``count`` (N,) of each
        pair's in a row."""
        geo = np.repeat(pairs.geo[:6], count, axis=1)
        uv = geo[2:4] * index
        uv += geo[0:2]
        return self._along(uv, np.repeat(pairs.limb, count), geo[4:6])

    def _along(self, uv: np.ndarray, limb: np.ndarray, unit: np.ndarray) -> np.ndarray:
        """PAF . ``unit`` (2, S) of limbs ``limb`` (S,) at points ``uv`` (2, S), in blocks
        of READ_BLOCK points."""
        if len(limb) <= READ_BLOCK:
            return self._dot(uv, limb, unit)
        return np.concatenate([self._dot(uv[:, k:k + READ_BLOCK], limb[k:k + READ_BLOCK],
                                         unit[:, k:k + READ_BLOCK])
                               for k in range(0, len(limb), READ_BLOCK)])

    def _dot(self, uv: np.ndarray, limb: np.ndarray, unit: np.ndarray) -> np.ndarray:
        """:meth:`_along` of one block; ``uv`` (2, ..., S) and ``limb`` and ``unit`` (2, S)
        broadcast."""
        if self.interpolation == "nearest":
            vx, vy = self.read(uv, limb)
            return vx * unit[0] + vy * unit[1]
        at, wx, wy = self._taps(uv, limb)
        # the unit vector as a factor of the column weights: Re(PAF * conj(ux + i uy))
        rows = (self.z.take(at) * (wx * (unit[0] - 1j * unit[1]))).sum(axis=1)  # (T, S)
        return (rows.real * wy).sum(axis=0)

    def read(self, uv: np.ndarray, limb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The PAF (vx, vy) of limbs ``limb`` (S,) at points ``uv`` (2, S)."""
        if self.interpolation == "nearest":  # uv: image pixels
            per_axis = (2,) + (1,) * (uv.ndim - 1)
            cell = np.floor(to_map(uv, self.scale.reshape(per_axis)) + 0.5)
            np.maximum(cell, 0, out=cell)
            np.minimum(cell, self.last.reshape(per_axis), out=cell)
            at = (cell[1] * self.w + cell[0]).astype(np.intp) * self.depth
            return (self.flat.take(at + self.cx.take(limb)),
                    self.flat.take(at + self.cy.take(limb)))
        at, wx, wy = self._taps(uv, limb)
        value = ((self.z.take(at) * wx).sum(axis=1) * wy).sum(axis=0)
        return value.real, value.imag

    def _taps(self, uv: np.ndarray,
              limb: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Flat indices in ``z`` (T, T, S) of the taps (row, column) of points ``uv``
        (2, S) (map pixels) of limbs ``limb``, and their weights along u and v (T, S), those
        of :func:`~posekit.decode.resize.taps_first`."""
        base = np.floor(uv)
        t = uv - base
        per_axis = (2,) + (1,) * (uv.ndim - 1)  # (u and v, then the points' dimensions)
        if self.taps == 4:  # the cubic kernel's polynomials in t, in place
            poly = CUBIC_POLY.reshape(4, 4, *(1,) * uv.ndim)  # (power, tap, ...)
            weight = poly[3] * t
            weight += poly[2]
            weight *= t
            weight += poly[1]
            weight *= t
            weight += poly[0]
        else:
            weight = np.stack([1.0 - t, t])
        base += self.first.reshape(per_axis)  # columns then rows of the table
        if self.clip:
            np.maximum(base, self.bound[0].reshape(per_axis), out=base)
            np.minimum(base, self.bound[1].reshape(per_axis), out=base)
        offset = self.table.take(base.astype(np.intp), axis=1)  # (T, 2, S)
        col = offset[:, 0] + self.zc.take(limb)
        return offset[:, 1][:, None] + col[None], weight[:, 0], weight[:, 1]


def _samples(index: np.ndarray, start: np.ndarray, step: np.ndarray) -> np.ndarray:
    """(2, S, N) coordinates of samples ``index`` (S, N) of N pairs: start + index * step
    (each (2, N))."""
    out = step[:, None, :] * index
    out += start[:, None, :]
    return out


@functools.lru_cache(maxsize=64)
def _tap_table(w: int, h: int, taps: int, lz: int,
               ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Offsets in a flat (h, w, lz) map of the taps along each axis, clipped to it (the
    border repeats): a table (taps, w + h + 2 (taps - 1)), the columns' (index times
    ``lz``) then the rows' (index times ``w * lz``); and, per axis, what to add to a
    point's floor to get its table column (2,), and the bounds (2, 2) to clip that column
    to (a floor below or above them has the taps of the first or last)."""
    half = taps // 2
    out, first, bound = [], [], []
    start = 0
    for size, stride in ((w, lz), (h, w * lz)):
        floor = np.arange(size + taps - 1) - half  # the floors whose taps are not all alike
        index = floor[:, None] + np.arange(1 - half, half + 1)
        out.append(np.clip(index.T, 0, size - 1) * stride)
        first.append(start + half)
        bound.append((start, start + len(floor) - 1))
        start += len(floor)
    table = np.concatenate(out, axis=1)
    first_ = np.array(first, dtype=np.float64)
    bound_ = np.array(bound, dtype=np.float64).T
    for a in (table, first_, bound_):
        a.flags.writeable = False
    return table, first_, bound_


def _spread(hot: np.ndarray, stride: int) -> np.ndarray:
    """``hot`` (rows, k * stride) OR-ed, at every position, over the positions -1 .. +2
    strides away along each row (clipped to the row)."""
    k = hot.shape[1] // stride
    if k <= 2:  # each position's window holds every position
        pair = hot[:, :stride] | hot[:, stride:] if k == 2 else hot
        return np.concatenate([pair] * k, axis=1)
    pair = hot[:, :-stride] | hot[:, stride:]  # positions i and i + 1
    out = np.empty_like(hot)
    out[:, stride:-2 * stride] = pair[:, :-2 * stride] | pair[:, 2 * stride:]
    out[:, :stride] = pair[:, :stride] | pair[:, stride:2 * stride]
    out[:, -2 * stride:-stride] = pair[:, -2 * stride:-stride] | pair[:, -stride:]
    out[:, -stride:] = pair[:, -stride:]
    return out


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
