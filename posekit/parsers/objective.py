"""Parser stage, shared: the objective every parser's assignment is scored by.

An **assignment** is a (P, K) intp array, row p holding for each part the index of the
candidate (into ``candidates.peaks[k]``) that person p uses, or -1. Its objective
(``ObjectiveWeights`` w) is

    sum over persons of
        sum of scores[l][pair] for every limb l (tree and redundant) whose two candidates
            are both in the person and form an accepted pair
      + w.node_weight * sum over the person's *joined* candidates of (peak score - w.node_bias)

A candidate is joined when at least one accepted pair links it to another candidate of the
same person. So a lone candidate is no person (it contributes nothing), and a person cannot
gain by collecting candidates that no limb links to it; a person with two linked parts and
a stray third gets the node terms of the first two only. ``tree_only=True`` gives the same
with tree limbs only (what ``tree-ilp`` maximises).

This is the Fig. 6b correlation-clustering objective (weights = PAF scores of accepted
pairs, 0 for every other pair of candidates) with node terms from the peak confidence: the
full-graph ILP maximises it over all assignments, and every parser is scored by it. It is
a sum over persons (:func:`person_values`), so a change to a few persons changes it by the
change of their values alone.
"""

from __future__ import annotations

import weakref
from dataclasses import dataclass

import numpy as np

from posekit.decode.graph import CandidateGraph
from posekit.skeleton import Skeleton

__all__ = ["ObjectiveWeights", "objective", "person_values", "limb_hits", "assigned_peaks",
           "peak_table"]


@dataclass(frozen=True)
class ObjectiveWeights:
    """Node terms of the shared objective (see the module docstring)."""

    node_weight: float = 1.0
    node_bias: float = 0.2


# candidates -> (limb layout, sorted pair keys, their scores): a parser and the post-rules
# look pairs up more than once per graph
_PAIR_KEYS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def _pair_keys(candidates: CandidateGraph,
               skeleton: Skeleton) -> tuple[np.ndarray, np.ndarray]:
    """One sorted key per accepted pair, (global id of its first candidate) * N + the
    second's, best score first among equal keys; and the scores in that order."""
    layout = skeleton.limb_index.tobytes()
    cached = _PAIR_KEYS.get(candidates)
    if cached is not None and cached[0] == layout:
        return cached[1], cached[2]
    N, off = candidates.num_candidates, candidates.offsets
    keys = np.concatenate([(off[a] + p[:, 0]) * N + off[b] + p[:, 1]
                           for (a, b), p in zip(skeleton.limb_index, candidates.pairs,
                                                strict=True)])
    scores = np.concatenate(candidates.scores)
    order = np.lexsort((-scores, keys))
    keys, scores = keys[order], scores[order]
    _PAIR_KEYS[candidates] = (layout, keys, scores)
    return keys, scores


def limb_hits(assignment: np.ndarray, candidates: CandidateGraph,
              skeleton: Skeleton) -> tuple[np.ndarray, np.ndarray]:
    """(P, L) score of each limb inside each person, and (P, L) bool: is it an accepted pair.

    A pair listed twice counts with its best score.
    """
    P, L = len(assignment), skeleton.num_limbs
    out = np.zeros((P, L))
    total = sum(len(p) for p in candidates.pairs)
    if P == 0 or total == 0:
        return out, np.zeros((P, L), dtype=bool)
    N, off = candidates.num_candidates, candidates.offsets
    first, second = skeleton.limb_index[:, 0], skeleton.limb_index[:, 1]
    keys, scores = _pair_keys(candidates, skeleton)
    ia, ib = assignment[:, first], assignment[:, second]  # (P, L)
    want = np.where((ia >= 0) & (ib >= 0), (off[first] + ia) * N + off[second] + ib, -1)
    pos = np.minimum(np.searchsorted(keys, want), len(keys) - 1)
    found = (want >= 0) & (keys[pos] == want)
    out[found] = scores[pos[found]]
    return out, found


# candidates -> (N + 1, 3) table of every candidate's [x, y, score], then a row of zeros
_PEAKS: weakref.WeakKeyDictionary = weakref.WeakKeyDictionary()


def peak_table(candidates: CandidateGraph) -> np.ndarray:
    """(N + 1, 3) ``[x, y, score]`` of each global candidate id, then a row of zeros (the
    row of "missing"). The graph's own copy: do not write to it."""
    table = _PEAKS.get(candidates)
    if table is None:
        table = np.concatenate([*candidates.peaks, np.zeros((1, 3))])
        _PEAKS[candidates] = table
    return table


def assigned_peaks(assignment: np.ndarray, candidates: CandidateGraph) -> np.ndarray:
    """(P, K, 3) ``[x, y, score]`` of each assigned candidate (0, 0, 0 where missing)."""
    K = assignment.shape[1]
    if candidates.num_candidates == 0:
        return np.zeros((*assignment.shape, 3))
    table = peak_table(candidates)
    gid = np.where(assignment >= 0, candidates.offsets[:K] + assignment, len(table) - 1)
    return table[gid]


def _terms(a: np.ndarray, candidates: CandidateGraph, skeleton: Skeleton,
           weights: ObjectiveWeights, tree_only: bool) -> tuple[np.ndarray, np.ndarray]:
    """(P, L') limb terms and (P, K) node terms of each person (L' = the limbs counted)."""
    num_limbs = skeleton.num_tree_limbs if tree_only else skeleton.num_limbs
    hits, found = limb_hits(a, candidates, skeleton)
    hits, found = hits[:, :num_limbs], found[:, :num_limbs]
    ends = np.zeros((num_limbs, a.shape[1]))  # (L', K): the two parts of each limb
    rows = np.arange(num_limbs)
    ends[rows, skeleton.limb_index[:num_limbs, 0]] = 1.0
    ends[rows, skeleton.limb_index[:num_limbs, 1]] = 1.0
    joined = found.astype(np.float64) @ ends > 0
    peaks = assigned_peaks(a, candidates)[..., 2]
    return hits, np.where(joined, weights.node_weight * (peaks - weights.node_bias), 0.0)


def person_values(assignment: np.ndarray, candidates: CandidateGraph, skeleton: Skeleton,
                  weights: ObjectiveWeights = ObjectiveWeights(), *,
                  tree_only: bool = False) -> np.ndarray:
    """(P,) each person's share of the objective; they add up to :func:`objective`."""
    a = np.asarray(assignment, dtype=np.intp).reshape(-1, skeleton.num_keypoints)
    if len(a) == 0:
        return np.zeros(0)
    hits, nodes = _terms(a, candidates, skeleton, weights, tree_only)
    return hits.sum(axis=1) + nodes.sum(axis=1)


def objective(assignment: np.ndarray, candidates: CandidateGraph, skeleton: Skeleton,
              weights: ObjectiveWeights = ObjectiveWeights(), *, tree_only: bool = False) -> float:
    """The shared objective of a raw assignment (module docstring)."""
    a = np.asarray(assignment, dtype=np.intp).reshape(-1, skeleton.num_keypoints)
    if len(a) == 0:
        return 0.0
    hits, nodes = _terms(a, candidates, skeleton, weights, tree_only)
    return float(hits.sum() + nodes.sum())
