"""How a scene's maps fail: the statistics that calibrate the noise model.

Every comparison measures, on the very maps the parsers see (rendered or a network's),
how they differ from the ground truth, so that rendered noise can be checked against a
network's (``posekit compare-parsers --weights W --data DIR`` against the same command
without ``--weights``). Each labelled part of each ground-truth person is matched to one
candidate of its part (one-to-one per part, nearest first, within a quarter of the person's
size ``s`` or 1.5 map pixels, whichever is larger); then:

=======================  ==================================================================
``miss_visible``         fraction of visible (v = 2) parts with no candidate
``miss_occluded``        ... of parts labelled occluded (v = 1)
``jitter``               robust std (1.4826 x median absolute value) of the matched
                         candidates' offsets, in units of ``s`` (per coordinate)
``peak_height``          mean score of matched candidates
``false_peaks``          unmatched candidates per person; ``strong_false_peaks``: of score
                         at least 0.15
``limb_failure_visible`` fraction of tree limbs, both ends visible and matched, whose pair
                         was not accepted by decoding
``limb_failure_occluded`` ... with an end labelled occluded
``clustered_failures``   fraction of failed tree limbs that share a keypoint with another
                         failed limb (tree or redundant) of the same person
``paf_angle``            robust std of the angle (radians) between the mean PAF along a
                         ground-truth limb (its middle 60%) and the limb's direction
=======================  ==================================================================
"""

from __future__ import annotations

from dataclasses import dataclass, field, fields
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from posekit.decode.graph import CandidateGraph
from posekit.skeleton import Skeleton

__all__ = ["MapStats", "measure_maps", "STRONG_FALSE"]

STRONG_FALSE = 0.15
_ROBUST = 1.4826  # median absolute deviation -> std for a Gaussian


@dataclass
class MapStats:
    """Counts and samples from one or more scenes (add them with ``+``)."""

    people: int = 0
    visible: int = 0
    visible_missed: int = 0
    occluded: int = 0
    occluded_missed: int = 0
    false: int = 0
    strong_false: int = 0
    limbs_visible: int = 0
    limbs_visible_failed: int = 0
    limbs_occluded: int = 0
    limbs_occluded_failed: int = 0
    failed: int = 0
    failed_clustered: int = 0
    offsets: list[float] = field(default_factory=list)
    heights: list[float] = field(default_factory=list)
    angles: list[float] = field(default_factory=list)

    def __add__(self, other: MapStats) -> MapStats:
        return MapStats(**{f.name: getattr(self, f.name) + getattr(other, f.name)
                           for f in fields(self)})

    def summary(self) -> dict[str, Any]:
        """The module docstring's numbers (None where nothing was counted)."""

        def frac(a: int, b: int) -> float | None:
            return round(a / b, 5) if b else None

        def robust(x: list[float]) -> float | None:
            return round(float(_ROBUST * np.median(np.abs(x))), 5) if x else None

        return {
            "people": self.people,
            "miss_visible": frac(self.visible_missed, self.visible),
            "miss_occluded": frac(self.occluded_missed, self.occluded),
            "jitter": robust(self.offsets),
            "peak_height": round(float(np.mean(self.heights)), 4) if self.heights else None,
            "false_peaks": frac(self.false, self.people),
            "strong_false_peaks": frac(self.strong_false, self.people),
            "limb_failure_visible": frac(self.limbs_visible_failed, self.limbs_visible),
            "limb_failure_occluded": frac(self.limbs_occluded_failed, self.limbs_occluded),
            "clustered_failures": frac(self.failed_clustered, self.failed),
            "paf_angle": robust(self.angles),
        }


def _match(gt: np.ndarray, xy: np.ndarray, radius: np.ndarray) -> np.ndarray:
    """(G,) index into ``xy`` (N, 2) matched to each ground-truth point (G, 2), or -1."""
    out = np.full(len(gt), -1, dtype=np.intp)
    if not len(gt) or not len(xy):
        return out
    d = np.linalg.norm(gt[:, None] - xy[None], axis=2)
    cost = np.where(d <= radius[:, None], d, 1e9)
    rows, cols = linear_sum_assignment(cost)
    ok = cost[rows, cols] < 1e9
    out[rows[ok]] = cols[ok]
    return out


def measure_maps(skeleton: Skeleton, candidates: CandidateGraph, pafs: np.ndarray,
                 people: np.ndarray, working_size: tuple[int, int],
                 scale: tuple[float, float] = (1.0, 1.0)) -> MapStats:
    """Statistics of one scene: its candidates and PAFs (h, w, 2L) against ``people``
    (P, K, 3) in original pixels; ``scale`` maps working pixels to original ones."""
    from posekit.compare.noise import person_scale

    K, T = skeleton.num_keypoints, skeleton.num_tree_limbs
    gt = np.asarray(people, dtype=np.float64).reshape(-1, K, 3)
    gt = gt[(gt[..., 2] > 0).any(axis=1)]
    stats = MapStats(people=len(gt))
    if not len(gt):
        return stats
    sx, sy = scale
    size = person_scale(gt)
    h, w = pafs.shape[:2]
    rx, ry = w / working_size[0], h / working_size[1]  # working pixels -> map pixels
    radius = np.maximum(0.25 * size, 1.5 * max(sx / rx, sy / ry))
    match = np.full((len(gt), K), -1, dtype=np.intp)
    for k in range(K):
        peaks = candidates.peaks[k]
        xy = np.stack([(peaks[:, 0] + 0.5) * sx - 0.5, (peaks[:, 1] + 0.5) * sy - 0.5], 1)
        on = np.flatnonzero(gt[:, k, 2] > 0)
        m = _match(gt[on, k, :2], xy, radius[on])
        match[on, k] = m
        hit = m >= 0
        stats.offsets.extend(((xy[m[hit]] - gt[on[hit], k, :2]) / size[on[hit], None]).ravel())
        stats.heights.extend(peaks[m[hit], 2])
        vis = gt[on, k, 2] == 2
        stats.visible += int(vis.sum())
        stats.visible_missed += int((vis & ~hit).sum())
        stats.occluded += int((~vis).sum())
        stats.occluded_missed += int((~vis & ~hit).sum())
        unmatched = np.setdiff1d(np.arange(len(peaks)), m[hit])
        stats.false += len(unmatched)
        stats.strong_false += int((peaks[unmatched, 2] >= STRONG_FALSE).sum())

    failed = np.zeros((len(gt), skeleton.num_limbs), dtype=bool)
    for l, (a, b) in enumerate(skeleton.limb_index.tolist()):
        both = np.flatnonzero((match[:, a] >= 0) & (match[:, b] >= 0))
        if not len(both):
            continue
        accepted = {(int(i), int(j)) for i, j in candidates.pairs[l]}
        failed[both, l] = [(int(match[p, a]), int(match[p, b])) not in accepted for p in both]
        if l >= T:
            continue
        occluded = (gt[both, a, 2] == 1) | (gt[both, b, 2] == 1)
        stats.limbs_visible += int((~occluded).sum())
        stats.limbs_visible_failed += int((failed[both, l] & ~occluded).sum())
        stats.limbs_occluded += int(occluded.sum())
        stats.limbs_occluded_failed += int((failed[both, l] & occluded).sum())
        cx, cy = skeleton.paf_channels[l]
        for p in both:
            angle = _paf_angle(pafs[..., cx], pafs[..., cy], gt[p, a, :2], gt[p, b, :2],
                               (rx / sx, ry / sy))
            if angle is not None:
                stats.angles.append(angle)
    limbs = skeleton.limb_index
    adjacent = (limbs[:, None, :, None] == limbs[None, :, None, :]).any(axis=(2, 3))
    np.fill_diagonal(adjacent, False)  # (L, L): limbs that share a keypoint
    tree_failed = failed[:, :T]
    stats.failed = int(tree_failed.sum())
    stats.failed_clustered = int((tree_failed & (failed @ adjacent[:, :T])).sum())
    return stats


def _paf_angle(fx: np.ndarray, fy: np.ndarray, a: np.ndarray, b: np.ndarray,
               to_map: tuple[float, float]) -> float | None:
    """Angle between the mean PAF on the middle 60% of segment a-b and its direction."""
    h, w = fx.shape
    ua = (a + 0.5) * np.asarray(to_map) - 0.5
    ub = (b + 0.5) * np.asarray(to_map) - 0.5
    length = float(np.linalg.norm(ub - ua))
    if length < 2:
        return None
    t = np.linspace(0.2, 0.8, max(int(length) + 1, 3))
    pts = np.rint(ua + t[:, None] * (ub - ua)).astype(np.intp)
    pts = pts[(pts[:, 0] >= 0) & (pts[:, 0] < w) & (pts[:, 1] >= 0) & (pts[:, 1] < h)]
    if len(pts) < 2:
        return None
    mx = float(fx[pts[:, 1], pts[:, 0]].mean())
    my = float(fy[pts[:, 1], pts[:, 0]].mean())
    gx, gy = (ub - ua) / length
    return float(np.arctan2(gx * my - gy * mx, gx * mx + gy * my))
