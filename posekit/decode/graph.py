"""The candidate graph: what every parser consumes.

For a skeleton with K keypoints and L limbs (tree limbs first, then redundant):

- ``peaks[k]``: (n_k, 3) float64 ``[x, y, score]`` in image pixels, the candidates of part k.
- ``pairs[l]``: (m_l, 2) intp ``[i, j]``: candidate ``i`` of limb l's first keypoint and
  candidate ``j`` of its second keypoint, for every pair the PAF accepted.
- ``scores[l]``: (m_l,) float64 PAF line-integral score of each accepted pair (> 0).

Candidates also have global ids ``offsets[k] + i`` (``offsets`` has K + 1 entries), used by
the ILP parsers.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from posekit.skeleton import Skeleton

__all__ = ["CandidateGraph"]


@dataclass(frozen=True, eq=False)
class CandidateGraph:
    peaks: tuple[np.ndarray, ...]
    pairs: tuple[np.ndarray, ...]
    scores: tuple[np.ndarray, ...]
    image_size: tuple[int, int] = (0, 0)  # (width, height)
    offsets: np.ndarray = field(init=False, repr=False)

    def __post_init__(self) -> None:
        peaks = tuple(np.asarray(p, dtype=np.float64).reshape(-1, 3) for p in self.peaks)
        pairs = tuple(np.asarray(p, dtype=np.intp).reshape(-1, 2) for p in self.pairs)
        scores = tuple(np.asarray(s, dtype=np.float64).reshape(-1) for s in self.scores)
        if len(pairs) != len(scores):
            raise ValueError(f"{len(pairs)} limb pair arrays but {len(scores)} score arrays")
        for l, (p, s) in enumerate(zip(pairs, scores, strict=True)):
            if len(p) != len(s):
                raise ValueError(f"limb {l}: {len(p)} pairs but {len(s)} scores")
        object.__setattr__(self, "peaks", peaks)
        object.__setattr__(self, "pairs", pairs)
        object.__setattr__(self, "scores", scores)
        counts = [len(p) for p in peaks]
        offsets = np.concatenate([[0], np.cumsum(counts)]).astype(np.intp)
        object.__setattr__(self, "offsets", offsets)

    @property
    def num_candidates(self) -> int:
        return int(self.offsets[-1])

    def check(self, skeleton: Skeleton) -> None:
        """Raise ``ValueError`` if this graph does not fit ``skeleton``."""
        if len(self.peaks) != skeleton.num_keypoints:
            raise ValueError(
                f"candidate graph has {len(self.peaks)} parts, skeleton {skeleton.name!r} "
                f"has {skeleton.num_keypoints} keypoints"
            )
        if len(self.pairs) != skeleton.num_limbs:
            raise ValueError(
                f"candidate graph has {len(self.pairs)} limbs, skeleton {skeleton.name!r} "
                f"has {skeleton.num_limbs}"
            )
        for l, (a, b) in enumerate(skeleton.limb_index):
            p = self.pairs[l]
            if len(p) and (p[:, 0].max() >= len(self.peaks[a])
                           or p[:, 1].max() >= len(self.peaks[b]) or p.min() < 0):
                raise ValueError(f"limb {l}: pair index out of range")
