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

Everything is vectorised over all candidate pairs of a limb. Most wrong pairs are rejected
before all their samples are read, exactly (the result is the same as reading them all).
Pairs whose score could not exceed ``min_score`` even if every sample read the longest
vector the field can give are dropped first. Then, since a pair may fail only
``n - floor(min_above * n) - 1`` samples, it is rejected as soon as more of a few probe
samples fail: probes are read first as an upper bound of the PAF's length around them (a
table per limb, one lookup each), then exactly.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cached_property
from typing import Literal

import numpy as np
from scipy.ndimage import maximum_filter

from posekit.decode.resize import kernel_taps, to_map
from posekit.errors import PosekitError
from posekit.skeleton import Skeleton

__all__ = ["LimbScoring", "sample_counts", "score_limb", "score_limbs"]

Interpolation = Literal["bilinear", "cubic", "nearest"]

# samples read first (as upper bounds, then exactly) to reject most pairs cheaply
BOUND_PROBES = 12
EXACT_PROBES = 6
PROBE_MIN_PAIRS = 32

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
    a, b = _points(a), _points(b)
    empty = np.zeros((0, 2), dtype=np.intp), np.zeros(0)
    if len(a) == 0 or len(b) == 0:
        return empty
    field = _Field(pafs, channels, scale, interpolation)
    if field.reach <= rule.sample_threshold:
        return empty
    ii, jj = np.divmod(np.arange(len(a) * len(b)), len(b))
    d = b[jj] - a[ii]
    norm = np.hypot(d[:, 0], d[:, 1])
    with np.errstate(divide="ignore"):
        prior = (np.zeros(len(norm)) if rule.prior is None
                 else np.minimum(rule.prior * image_height / norm - 1.0, 0.0))
    # the mean of the samples cannot exceed the largest PAF the samples can read
    keep = (norm > 1e-6) & (field.reach + prior > rule.min_score)
    n = sample_counts(d[:, 0], d[:, 1], rule)
    # accepted needs more than min_above * n samples above the threshold: at most
    # ``allowed`` = n - floor(min_above * n) - 1 of them may fail
    allowed = n - np.floor(rule.min_above * n).astype(np.intp) - 1
    keep &= allowed >= 0
    pairs = _Pairs(a[ii[keep]], d[keep], n[keep], allowed[keep], np.flatnonzero(keep))
    # exact shortcuts: a sample whose upper bound is at most the threshold fails, so
    # pairs with too many such samples among a few probes are rejected before reading
    # the field; then a few exact probes reject most of the rest
    for count, read in ((BOUND_PROBES, field.bound), (EXACT_PROBES, field.along)):
        if len(pairs) < PROBE_MIN_PAIRS:  # too few to pay for the extra passes
            break
        index, valid = pairs.probes(count)
        fails = ((read(pairs, index) <= rule.sample_threshold) & valid).sum(axis=1)
        pairs = pairs.take(fails <= pairs.allowed)
    if len(pairs) == 0:
        return empty
    pid = np.repeat(np.arange(len(pairs)), pairs.n)
    index = np.arange(len(pid)) - (np.cumsum(pairs.n) - pairs.n)[pid]
    dots = field.along(pairs, index, pid)
    total = np.bincount(pid, weights=dots, minlength=len(pairs))
    above = np.bincount(pid, weights=dots > rule.sample_threshold, minlength=len(pairs))
    score = total / pairs.n + prior[pairs.where]
    ok = (above >= pairs.n - pairs.allowed) & (score > rule.min_score)
    where = pairs.where[ok]
    return np.column_stack([ii[where], jj[where]]).astype(np.intp), score[ok]


def _points(candidates: np.ndarray) -> np.ndarray:
    """(n, 2) float64 ``[x, y]`` of candidates given as (n, 2+) (n may be 0)."""
    arr = np.asarray(candidates, dtype=np.float64)
    if arr.size == 0:
        return np.zeros((0, 2))
    return arr.reshape(len(arr), -1)[:, :2]


class _Pairs:
    """Candidate pairs still in play: start (N, 2), vector (N, 2), sample counts (N,)."""

    def __init__(self, start: np.ndarray, vec: np.ndarray, n: np.ndarray, allowed: np.ndarray,
                 where: np.ndarray) -> None:
        self.start, self.vec, self.n, self.allowed, self.where = start, vec, n, allowed, where
        self.unit = vec / np.hypot(vec[:, 0], vec[:, 1])[:, None] if len(vec) else vec

    def __len__(self) -> int:
        return len(self.n)

    def take(self, keep: np.ndarray) -> _Pairs:
        return _Pairs(self.start[keep], self.vec[keep], self.n[keep], self.allowed[keep],
                      self.where[keep])

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
    """One limb's PAF (x, y) channels, read at image points."""

    def __init__(self, pafs: np.ndarray, channels: tuple[int, int], scale: tuple[float, float],
                 interpolation: Interpolation) -> None:
        if interpolation not in ("bilinear", "cubic", "nearest"):
            raise PosekitError(f"unknown PAF interpolation {interpolation!r}; "
                               "use 'bilinear', 'cubic' or 'nearest'")
        self.h, self.w = pafs.shape[:2]
        self.scale, self.interpolation = scale, interpolation
        fx, fy = pafs[..., channels[0]], pafs[..., channels[1]]
        self.fx, self.fy = fx.ravel(), fy.ravel()
        self.magnitude = np.hypot(fx, fy, dtype=np.float64)
        # |interpolated vector| <= gain * the longest vector among the taps
        self.gain = _CUBIC_GAIN ** 2 if interpolation == "cubic" else 1.0
        self.reach = self.gain * float(self.magnitude.max(initial=0.0))  # longest readable

    @cached_property
    def table(self) -> np.ndarray:
        """(h, w) upper bound of the PAF's length wherever a sample in a cell can read."""
        if self.interpolation == "nearest":
            return self.magnitude
        # the taps of a sample in cell floor(u) are floor(u) - 1 .. floor(u) + 2 (at most;
        # borders repeated)
        return self.gain * maximum_filter(self.magnitude, size=4, origin=-1, mode="nearest")

    def _cells(self, x: np.ndarray, y: np.ndarray, offset: float) -> tuple[np.ndarray, ...]:
        col = np.clip(np.floor(to_map(x, self.scale[0]) + offset), 0, self.w - 1)
        row = np.clip(np.floor(to_map(y, self.scale[1]) + offset), 0, self.h - 1)
        return row.astype(np.intp), col.astype(np.intp)

    def bound(self, pairs: _Pairs, index: np.ndarray) -> np.ndarray:
        """Upper bound of (PAF . unit vector) at samples ``index`` (N, S) of each pair."""
        x, y, _ = pairs.points(index)
        return self.table[self._cells(x, y, 0.5 if self.interpolation == "nearest" else 0.0)]

    def along(self, pairs: _Pairs, index: np.ndarray, pid: np.ndarray | None = None,
              ) -> np.ndarray:
        """PAF . unit vector at samples ``index`` of the pairs ``pid`` (default: all)."""
        x, y, pid = pairs.points(index, pid)
        vx, vy = self._read(x, y)
        return vx * pairs.unit[pid, 0] + vy * pairs.unit[pid, 1]

    def _read(self, x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        h, w = self.h, self.w
        if self.interpolation == "nearest":
            row, col = self._cells(x, y, 0.5)
            at = row * w + col
            return self.fx[at], self.fy[at]
        kernel = "cubic" if self.interpolation == "cubic" else "linear"
        ix, wx = kernel_taps(to_map(x, self.scale[0]), kernel)
        iy, wy = kernel_taps(to_map(y, self.scale[1]), kernel)
        at = np.clip(iy, 0, h - 1)[..., :, None] * w + np.clip(ix, 0, w - 1)[..., None, :]
        weight = wy[..., :, None] * wx[..., None, :]
        return (np.einsum("...ij,...ij->...", self.fx[at], weight),
                np.einsum("...ij,...ij->...", self.fy[at], weight))


def score_limbs(pafs: np.ndarray, peaks: list[np.ndarray] | tuple[np.ndarray, ...],
                skeleton: Skeleton, *, image_height: float,
                scale: tuple[float, float] = (1.0, 1.0), rule: LimbScoring = LimbScoring(),
                interpolation: Interpolation = "bilinear",
                ) -> tuple[tuple[np.ndarray, ...], tuple[np.ndarray, ...]]:
    """:func:`score_limb` for every limb of ``skeleton`` (tree limbs, then redundant).

    ``peaks[k]`` holds the candidates of keypoint k; ``pafs`` is in the skeleton's layout.
    Returns (pairs per limb, scores per limb).
    """
    pairs, scores = [], []
    for (ka, kb), channels in zip(skeleton.limb_index.tolist(), skeleton.paf_channels.tolist(),
                                  strict=True):
        p, s = score_limb(pafs, (channels[0], channels[1]), peaks[ka], peaks[kb],
                          image_height=image_height, scale=scale, rule=rule,
                          interpolation=interpolation)
        pairs.append(p)
        scores.append(s)
    return tuple(pairs), tuple(scores)

