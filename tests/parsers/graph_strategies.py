"""Candidate graphs for parser tests: random ones, noisy crowds, and hypothesis strategies."""

from __future__ import annotations

import numpy as np
from hypothesis import strategies as st

from posekit.decode.graph import CandidateGraph
from posekit.skeleton import Skeleton, load_skeleton
from posekit.synth.poses import sample_poses

COCO18 = load_skeleton("coco18")

# a small body whose redundant limbs close two cycles (a-b-c and c-d-e)
TOY = Skeleton(
    name="toy5",
    keypoints=("a", "b", "c", "d", "e"),
    limbs=(("a", "b"), ("b", "c"), ("c", "d"), ("d", "e")),
    redundant_limbs=(("a", "c"), ("c", "e")),
)


def empty_graph(skeleton: Skeleton) -> CandidateGraph:
    K, L = skeleton.num_keypoints, skeleton.num_limbs
    return CandidateGraph(tuple(np.zeros((0, 3)) for _ in range(K)),
                          tuple(np.zeros((0, 2), dtype=np.intp) for _ in range(L)),
                          tuple(np.zeros(0) for _ in range(L)))


def random_graph(skeleton: Skeleton, rng: np.random.Generator, max_per_part: int,
                 density: float) -> CandidateGraph:
    """Random peaks per part, each possible pair accepted with probability ``density``."""
    counts = rng.integers(0, max_per_part + 1, size=skeleton.num_keypoints)
    peaks = tuple(np.column_stack([rng.uniform(0, 200, (n, 2)), rng.uniform(0.05, 1.0, n)])
                  for n in counts)
    pairs, scores = [], []
    for a, b in skeleton.limb_index:
        ii, jj = np.meshgrid(np.arange(counts[a]), np.arange(counts[b]), indexing="ij")
        keep = rng.random(ii.shape) < density
        pairs.append(np.column_stack([ii[keep], jj[keep]]))
        scores.append(rng.uniform(0.05, 1.0, int(keep.sum())))
    return CandidateGraph(peaks, tuple(pairs), tuple(scores), (200, 200))


def crowd_graph(skeleton: Skeleton, rng: np.random.Generator, num_people: int, *,
                image_size: tuple[int, int] = (656, 368), false_positives: float = 0.1,
                missed: float = 0.1, missed_limbs: float = 0.05,
                spurious: float = 0.5) -> CandidateGraph:
    """A noisy candidate graph of a synthetic crowd, as a decoder would see it.

    True parts (missing with probability ``missed``) with high peak scores, plus
    ``false_positives`` spurious peaks per person and part with low scores; true limbs
    accepted with high PAF scores (``missed_limbs`` of them missed), and pairs between candidates of
    different people (or false positives) accepted with low scores with probability
    ``spurious`` when they are closer than 1.5 limb lengths.
    """
    poses = sample_poses(skeleton, rng, image_size, num_people, scale_range=(0.25, 0.6))
    K = skeleton.num_keypoints
    W, H = image_size
    xy, score, who, parts = [], [], [], []
    for p, person in enumerate(poses):
        seen = (person[:, 2] > 0) & (rng.random(K) >= missed)
        for k in np.flatnonzero(seen):
            xy.append(person[k, :2] + rng.normal(0, 1.0, 2))
            score.append(rng.uniform(0.5, 1.0))
            who.append(p)
            parts.append(k)
    for _ in range(rng.poisson(false_positives * K * max(num_people, 1))):
        xy.append(rng.uniform((0, 0), (W, H)))
        score.append(rng.uniform(0.05, 0.5))
        who.append(-1)
        parts.append(int(rng.integers(K)))
    xy_a, score_a = np.array(xy).reshape(-1, 2), np.array(score)
    who_a, parts_a = np.array(who, dtype=np.intp), np.array(parts, dtype=np.intp)
    members = [np.flatnonzero(parts_a == k) for k in range(K)]
    peaks = tuple(np.column_stack([xy_a[m], score_a[m]]) for m in members)
    pairs, scores = [], []
    for a, b in skeleton.limb_index:
        ma, mb = members[a], members[b]
        same = (who_a[ma][:, None] == who_a[mb][None, :]) & (who_a[ma][:, None] >= 0)
        dist = np.linalg.norm(xy_a[ma][:, None] - xy_a[mb][None, :], axis=-1)
        true_len = np.median(dist[same]) if same.any() else 30.0
        near = ~same & (dist < 1.5 * true_len) & (rng.random(same.shape) < spurious)
        keep = (same & (rng.random(same.shape) >= missed_limbs)) | near
        ii, jj = np.nonzero(keep)
        pairs.append(np.column_stack([ii, jj]))
        scores.append(np.where(same[ii, jj], rng.uniform(0.5, 1.0, len(ii)),
                               rng.uniform(0.05, 0.45, len(ii))))
    return CandidateGraph(peaks, tuple(pairs), tuple(scores), image_size)


def random_graphs(skeleton: Skeleton, max_per_part: int = 3) -> st.SearchStrategy:
    """Random graphs; sizes and density come from the seed, so examples stay varied."""

    def build(seed: int) -> CandidateGraph:
        rng = np.random.default_rng(seed)
        return random_graph(skeleton, rng, max_per_part, rng.uniform(0.2, 0.9))

    return st.builds(build, st.integers(0, 2**32 - 1))


def crowd_graphs(skeleton: Skeleton, max_people: int = 4) -> st.SearchStrategy:
    def build(seed: int) -> CandidateGraph:
        rng = np.random.default_rng(seed)
        return crowd_graph(skeleton, rng, int(rng.integers(0, max_people + 1)))

    return st.builds(build, st.integers(0, 2**32 - 1))
