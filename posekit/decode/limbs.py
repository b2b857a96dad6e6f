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

Everything is vectorised over all candidate pairs of all limbs at once (arrays of N
pairs, each with its limb). Most wrong pairs are rejected before all their samples are
read, exactly (the result is the same as reading them all). Pairs whose score could not
exceed ``min_score`` even if every sample read the longest vector the field can give are
dropped first. Then, since a pair may fail only ``n - floor(min_above * n) - 1`` samples
(none for n <= 20), it is rejected as soon as more of its samples are known to fail:
its two end samples, read once per candidate and limb (a pair's are at its candidates),
then a few interior probes, read first as an upper bound of the PAF's length around them
(a table per limb, one lookup each), then exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np

from posekit.decode.resize import kernel_taps, to_map
from posekit.errors import PosekitError
from posekit.skeleton import Skeleton

__all__ = ["LimbScoring", "sample_counts", "score_limb", "score_limbs"]

Interpolation = Literal["bilinear", "cubic", "nearest"]

# samples read first (as upper bounds, then exactly) to reject most pairs cheaply
BOUND_PROBES = (3, 12)  # successive passes, each with this many probes
EXACT_PROBES = (6,)
PROBE_MIN_PAIRS = 32
# read every pair's two end samples first (once per candidate and limb)
END_SAMPLES = True
# the last sample, a + (b - a), can differ from b by rounding: an end sample read at b
# counts as failed only when this far below the threshold
_END_MARGIN = 1e-9
# the bound table is computed in the maps' precision (float32): widened by this factor
_BOUND_MARGIN = 1.0 + 1e-5

# largest sum of |weights| of the cubic kernel (a = -0.75) along one axis, at t = 0.5
_CUBIC_GAIN = 1.375


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
    first = np.cumsum(counts) - counts  # row of each part's first candidate in ``xy``
    xy = np.concatenate([np.zeros((0, 2)), *points])
    sides = [(first[k], counts[k]) for k in limb_index.T]  # per limb: (first row, count)
    limb, ii, jj = _all_pairs(sides[0][1], sides[1][1])
    start = xy[sides[0][0][limb] + ii]
    d = xy[sides[1][0][limb] + jj] - start
    norm = np.hypot(d[:, 0], d[:, 1])
    with np.errstate(divide="ignore"):
        prior = (np.zeros(len(norm)) if rule.prior is None
                 else np.minimum(rule.prior * image_height / norm - 1.0, 0.0))
    keep = norm > 1e-6
    n = sample_counts(d[:, 0], d[:, 1], rule)
    # accepted needs more than min_above * n samples above the threshold: at most
    # ``allowed`` = n - floor(min_above * n) - 1 of them may fail
    allowed = n - np.floor(rule.min_above * n).astype(np.intp) - 1
    where = np.flatnonzero(keep & (allowed >= 0))
    pairs = _Pairs(limb[where], start[where], d[where], n[where], allowed[where], where)
    if END_SAMPLES and len(pairs) >= PROBE_MIN_PAIRS:
        # the end samples are read at the candidates, once per candidate and limb
        ends = [field.along_candidates(xy, row, count) for row, count in sides]
        pairs.failed = sum(_fails(e, pairs, idx[pairs.where], rule.sample_threshold)
                           for e, idx in zip(ends, (ii, jj), strict=True))
        pairs = pairs.take(pairs.failed <= pairs.allowed)
    # interior probes: a sample whose upper bound is at most the threshold fails; pairs
    # with too many failures are rejected before reading the field (a few probes, then
    # more), then a few exact probes reject most of the rest
    stages = [(count, field.along) for count in EXACT_PROBES]
    if interpolation != "nearest":  # (reading the nearest pixel costs what a bound does)
        stages[:0] = [(count, field.bound) for count in BOUND_PROBES]
    for count, read in stages:
        if len(pairs) < PROBE_MIN_PAIRS:  # too few to pay for a pass
            break
        index, valid = pairs.probes(count)
        fails = ((read(pairs, index) <= rule.sample_threshold) & valid).sum(axis=1)
        pairs = pairs.take(pairs.failed + fails <= pairs.allowed)
    pid = np.repeat(np.arange(len(pairs)), pairs.n)
    index = np.arange(len(pid)) - (np.cumsum(pairs.n) - pairs.n)[pid]
    dots = field.along(pairs, index, pid)
    total = np.bincount(pid, weights=dots, minlength=len(pairs))
    above = np.bincount(pid, weights=dots > rule.sample_threshold, minlength=len(pairs))
    score = total / np.maximum(pairs.n, 1) + prior[pairs.where]
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


def _fails(ends: tuple[np.ndarray, np.ndarray], pairs: _Pairs, index: np.ndarray,
           threshold: float) -> np.ndarray:
    """1 where the end sample of each pair, read at its candidate (``ends`` (vx, vy) per
    candidate row of the pair's limb, ``index`` the candidate), surely fails, else 0."""
    at = ends[2][pairs.limb] + index
    dot = ends[0][at] * pairs.unit[:, 0] + ends[1][at] * pairs.unit[:, 1]
    return (dot <= threshold - _END_MARGIN).astype(np.intp)


def _points(candidates: np.ndarray) -> np.ndarray:
    """(n, 2) float64 ``[x, y]`` of candidates given as (n, 2+) (n may be 0)."""
    arr = np.asarray(candidates, dtype=np.float64)
    if arr.size == 0:
        return np.zeros((0, 2))
    return arr.reshape(len(arr), -1)[:, :2]


class _Pairs:
    """Candidate pairs still in play, of any limbs: limb (N,), start (N, 2), vector (N, 2),
    unit vector (N, 2), sample counts (N,), failures allowed (N,) and known (N,), and
    index among all pairs (N,)."""

    def __init__(self, limb: np.ndarray, start: np.ndarray, vec: np.ndarray, n: np.ndarray,
                 allowed: np.ndarray, where: np.ndarray, unit: np.ndarray | None = None,
                 failed: np.ndarray | None = None) -> None:
        self.limb, self.start, self.vec, self.n, self.allowed, self.where = (
            limb, start, vec, n, allowed, where)
        self.unit = vec / np.hypot(vec[:, 0], vec[:, 1])[:, None] if unit is None else unit
        self.failed = np.zeros(len(n), dtype=np.intp) if failed is None else failed

    def __len__(self) -> int:
        return len(self.n)

    def take(self, keep: np.ndarray) -> _Pairs:
        return _Pairs(**{name: value[keep] for name, value in vars(self).items()})

    def probes(self, count: int) -> tuple[np.ndarray, np.ndarray]:
        """(N, count) sample indices, evenly spread over each pair's interior samples, and
        whether each is used (a pair of n samples has only n - 2 interior ones)."""
        used = np.minimum(count, self.n - 2)[:, None]
        k = np.arange(1, count + 1)[None, :]
        index = np.floor(k * (self.n[:, None] - 1) / (used + 1) + 0.5).astype(np.intp)
        valid = k <= used
        return np.where(valid, index, 0), valid

    def points(self, index: np.ndarray,
               pid: np.ndarray | None = None) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Image coordinates of samples ``index`` (of pairs ``pid``, or one row per pair)."""
        if pid is None:
            pid = np.arange(len(self))[:, None]
        t = index / (self.n[pid] - 1)
        x = self.start[pid, 0] + t * self.vec[pid, 0]
        y = self.start[pid, 1] + t * self.vec[pid, 1]
        return x, y, pid


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
        # |interpolated vector| <= gain * the longest vector among the taps
        self.gain = _CUBIC_GAIN ** 2 if interpolation == "cubic" else 1.0

    @cached_property
    def table(self) -> np.ndarray:
        """(h * w, L) upper bound of each limb's PAF length wherever a sample in a map cell
        can read (cubic and bilinear reading)."""
        fx, fy = self.pafs[..., self.cx], self.pafs[..., self.cy]
        # the taps of a sample in cell floor(u) are floor(u) - 1 .. floor(u) + 2 (at most;
        # borders repeated)
        h, w = self.h, self.w
        wide = np.pad(np.sqrt(fx * fx + fy * fy), ((1, 2), (1, 2), (0, 0)), mode="edge")
        rows = np.maximum(np.maximum(wide[:h], wide[1:h + 1]), np.maximum(wide[2:h + 2],
                                                                          wide[3:h + 3]))
        length = np.maximum(np.maximum(rows[:, :w], rows[:, 1:w + 1]),
                            np.maximum(rows[:, 2:w + 2], rows[:, 3:w + 3]))
        length *= self.gain * _BOUND_MARGIN  # (float32 rounding)
        return length.reshape(self.h * self.w, -1)

    def _cells(self, x: np.ndarray, y: np.ndarray, offset: float) -> np.ndarray:
        """Flat map pixel of points ``x, y``: the nearest (offset 0.5) or below (0)."""
        col = np.clip(np.floor(to_map(x, self.scale[0]) + offset), 0, self.w - 1)
        row = np.clip(np.floor(to_map(y, self.scale[1]) + offset), 0, self.h - 1)
        return row.astype(np.intp) * self.w + col.astype(np.intp)

    def bound(self, pairs: _Pairs, index: np.ndarray) -> np.ndarray:
        """Upper bound of (PAF . unit vector) at samples ``index`` (N, S) of each pair."""
        x, y, pid = pairs.points(index)
        return self.table[self._cells(x, y, 0.0), pairs.limb[pid]]

    def along(self, pairs: _Pairs, index: np.ndarray, pid: np.ndarray | None = None,
              ) -> np.ndarray:
        """PAF . unit vector at samples ``index`` of the pairs ``pid`` (default: all)."""
        x, y, pid = pairs.points(index, pid)
        vx, vy = self.read(x, y, pairs.limb[pid])
        return vx * pairs.unit[pid, 0] + vy * pairs.unit[pid, 1]

    def along_candidates(self, xy: np.ndarray, first: np.ndarray,
                         count: np.ndarray) -> tuple[np.ndarray, ...]:
        """The field of each limb l at its candidates ``xy[first[l]:first[l] + count[l]]``:
        (vx, vy) concatenated limb by limb, and where each limb's rows start (L,)."""
        limb, k = _ranges(count)
        at = xy[first[limb] + k]
        return (*self.read(at[:, 0], at[:, 1], limb), np.cumsum(count) - count)

    def read(self, x: np.ndarray, y: np.ndarray,
             limb: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """The PAF (vx, vy) of limbs ``limb`` at image points ``x, y`` (same shapes)."""
        if self.interpolation == "nearest":
            at = self._cells(x, y, 0.5) * self.depth
            return self.flat[at + self.cx[limb]], self.flat[at + self.cy[limb]]
        kernel = "cubic" if self.interpolation == "cubic" else "linear"
        ix, wx = kernel_taps(to_map(x, self.scale[0]), kernel)
        iy, wy = kernel_taps(to_map(y, self.scale[1]), kernel)
        at = (np.clip(iy, 0, self.h - 1)[..., :, None] * self.w
              + np.clip(ix, 0, self.w - 1)[..., None, :]) * self.depth
        weight = wy[..., :, None] * wx[..., None, :]
        return (np.einsum("...ij,...ij->...", self.flat[at + self.cx[limb][..., None, None]],
                          weight),
                np.einsum("...ij,...ij->...", self.flat[at + self.cy[limb][..., None, None]],
                          weight))


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
