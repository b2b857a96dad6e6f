"""What every parser shares: the protocol, the objective, and the post-rules.

A parser turns a :class:`~posekit.decode.CandidateGraph` into people. Internally a parser
produces an **assignment**: a (P, K) intp array, row p holding for each part the index of
the candidate (into ``candidates.peaks[k]``) that person p uses, or -1. All parsers are
scored on their raw assignment by one objective (:func:`objective`), so they can be
compared; then the shared post-rules (OpenPose's minimum parts and minimum mean score)
turn the assignment into the people users see.

The objective of an assignment (``ObjectiveWeights`` w):

    sum over persons of
        sum of scores[l][pair] for every limb l (tree and redundant) whose two candidates
            are both in the person and form an accepted pair
      + w.node_weight * sum over the person's *joined* candidates of (peak score - w.node_bias)

A candidate is joined when at least one accepted pair links it to another candidate of the
same person. So a lone candidate is no person (it contributes nothing), and a person cannot
gain by collecting candidates that no limb links to it; a person with two linked parts and
a stray third gets the node terms of the first two only. ``objective(..., tree_only=True)``
is the same with tree limbs only (what ``tree-ilp`` maximises).

This is the Fig. 6b correlation-clustering objective (weights = PAF scores of accepted
pairs, 0 for every other pair of candidates) with node terms from the peak confidence: the
full-graph ILP maximises it over all assignments, and every parser is scored by it.
"""

from __future__ import annotations

import time
import weakref
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from posekit.decode.graph import CandidateGraph
from posekit.parsers.fragments import FragmentRules, refine_fragments
from posekit.people import Person
from posekit.skeleton import Skeleton

__all__ = [
    "Parser", "BaseParser", "ParseResult", "PostRules", "ObjectiveWeights", "SolveStatus",
    "objective", "assignment_to_people", "validate_assignment", "pair_lookup",
    "Edges", "accepted_edges", "candidate_parts", "node_terms", "edges_to_assignment",
    "consistent_labels",
]

SolveStatus = Literal["optimal", "time_limit", "heuristic"]


@runtime_checkable
class Parser(Protocol):
    """Anything that turns candidates into people."""

    def __call__(self, candidates: CandidateGraph, skeleton: Skeleton) -> list[Person]: ...


@dataclass(frozen=True)
class PostRules:
    """What turns a parser's assignment into people: first the fragment stage
    (:mod:`posekit.parsers.fragments`; ``fragments=None`` skips it, as OpenPose does),
    then OpenPose's filters (C++ defaults): at least ``min_parts`` keypoints and a mean
    score of at least ``min_score`` (see :func:`assignment_to_people`)."""

    min_parts: int = 3
    min_score: float = 0.4
    fragments: FragmentRules | None = FragmentRules()


@dataclass(frozen=True)
class ObjectiveWeights:
    """Node terms of the shared objective (see the module docstring)."""

    node_weight: float = 1.0
    node_bias: float = 0.2


@dataclass
class ParseResult:
    people: list[Person]
    assignment: np.ndarray  # (P, K) intp, before post-rules
    objective: float
    status: SolveStatus
    seconds: float
    info: dict = field(default_factory=dict)  # parser-specific (bound, iterations, ...)


def pair_lookup(candidates: CandidateGraph, limb: int) -> dict[tuple[int, int], float]:
    """Accepted pairs of one limb as ``{(i, j): score}``."""
    p, s = candidates.pairs[limb], candidates.scores[limb]
    return {(int(i), int(j)): float(v) for (i, j), v in zip(p, s, strict=True)}


def validate_assignment(assignment: np.ndarray, candidates: CandidateGraph) -> None:
    """Raise ``ValueError`` if a candidate is used twice or an index is out of range."""
    a = np.asarray(assignment)
    if a.ndim != 2 or a.shape[1] != len(candidates.peaks):
        raise ValueError(f"assignment must be (P, {len(candidates.peaks)}), got {a.shape}")
    for k, peaks in enumerate(candidates.peaks):
        used = a[:, k][a[:, k] >= 0]
        if len(used) and used.max() >= len(peaks):
            raise ValueError(f"part {k}: candidate index out of range")
        if len(np.unique(used)) != len(used):
            raise ValueError(f"part {k}: a candidate is used by two people")


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


def _limb_hits(assignment: np.ndarray, candidates: CandidateGraph,
               skeleton: Skeleton) -> tuple[np.ndarray, np.ndarray]:
    """(P, L) score of each limb inside each person, and (P, L) bool: is it an accepted pair.

    A pair listed twice counts with its best score.
    """
    P, L = len(assignment), skeleton.num_limbs
    out = np.zeros((P, L))
    found = np.zeros((P, L), dtype=bool)
    total = sum(len(p) for p in candidates.pairs)
    if P == 0 or total == 0:
        return out, found
    N, off = candidates.num_candidates, candidates.offsets
    first, second = skeleton.limb_index[:, 0], skeleton.limb_index[:, 1]
    keys, scores = _pair_keys(candidates, skeleton)
    ia, ib = assignment[:, first], assignment[:, second]  # (P, L)
    want = np.where((ia >= 0) & (ib >= 0), (off[first] + ia) * N + off[second] + ib, -1)
    pos = np.minimum(np.searchsorted(keys, want), len(keys) - 1)
    found = (want >= 0) & (keys[pos] == want)
    out[found] = scores[pos[found]]
    return out, found


def _peaks_of(assignment: np.ndarray, candidates: CandidateGraph) -> np.ndarray:
    """(P, K, 3) ``[x, y, score]`` of each assigned candidate (0, 0, 0 where missing)."""
    K = assignment.shape[1]
    if candidates.num_candidates == 0:
        return np.zeros((*assignment.shape, 3))
    table = np.concatenate([*candidates.peaks, np.zeros((1, 3))])  # last row: "missing"
    gid = np.where(assignment >= 0, candidates.offsets[:K] + assignment, len(table) - 1)
    return table[gid]


def objective(assignment: np.ndarray, candidates: CandidateGraph, skeleton: Skeleton,
              weights: ObjectiveWeights = ObjectiveWeights(), *, tree_only: bool = False) -> float:
    """The shared objective of a raw assignment (module docstring)."""
    a = np.asarray(assignment, dtype=np.intp).reshape(-1, skeleton.num_keypoints)
    if len(a) == 0:
        return 0.0
    num_limbs = skeleton.num_tree_limbs if tree_only else skeleton.num_limbs
    hits, found = _limb_hits(a, candidates, skeleton)
    hits, found = hits[:, :num_limbs], found[:, :num_limbs]
    joined = np.zeros(a.shape, dtype=bool)
    for side in (0, 1):
        np.logical_or.at(joined.T, skeleton.limb_index[:num_limbs, side], found.T)
    peaks = _peaks_of(a, candidates)[..., 2]
    nodes = np.where(joined, peaks - weights.node_bias, 0.0).sum()
    return float(hits.sum() + weights.node_weight * nodes)


def assignment_to_people(assignment: np.ndarray, candidates: CandidateGraph,
                         skeleton: Skeleton, rules: PostRules = PostRules()) -> list[Person]:
    """Apply the post-rules (fragments, then OpenPose's filters) and build people, best
    score first.

    A person's score is OpenPose's: (sum of its peak scores + sum of its tree-limb PAF
    scores) / number of its parts. People with fewer than ``rules.min_parts`` parts or a
    score below ``rules.min_score`` are dropped.
    """
    a = np.asarray(assignment, dtype=np.intp).reshape(-1, skeleton.num_keypoints)
    if rules.fragments is not None and len(a):
        a = refine_fragments(a, candidates, skeleton, rules.fragments)
    if len(a) == 0:
        return []
    counts = (a >= 0).sum(axis=1)
    tree = _limb_hits(a, candidates, skeleton)[0][:, : skeleton.num_tree_limbs].sum(axis=1)
    keypoints = _peaks_of(a, candidates)
    score = (keypoints[..., 2].sum(axis=1) + tree) / np.maximum(counts, 1)
    keep = np.flatnonzero((counts >= max(rules.min_parts, 1)) & (score >= rules.min_score))
    # deterministic order: score descending, then leftmost
    left = np.where(keypoints[keep, :, 2] > 0, keypoints[keep, :, 0], np.inf).min(axis=1)
    keep = keep[np.lexsort((left, -score[keep]))]
    return [Person(keypoints[p], float(score[p])) for p in keep]


@dataclass(frozen=True)
class Edges:
    """Accepted pairs as one flat list over global candidate ids (``offsets[k] + i``)."""

    u: np.ndarray  # (E,) intp: global id of the candidate of the limb's first keypoint
    v: np.ndarray  # (E,) intp: ... of its second keypoint
    score: np.ndarray  # (E,) float64 PAF score
    limb: np.ndarray  # (E,) intp limb index

    def __len__(self) -> int:
        return len(self.u)


def accepted_edges(candidates: CandidateGraph, skeleton: Skeleton, *,
                   tree_only: bool = False) -> Edges:
    """Every accepted pair (tree limbs only if ``tree_only``), ordered by limb then ids.

    A pair listed twice is kept once, with its best score.
    """
    num_limbs = skeleton.num_tree_limbs if tree_only else skeleton.num_limbs
    off = candidates.offsets
    parts = [(l, off[a] + candidates.pairs[l][:, 0], off[b] + candidates.pairs[l][:, 1],
              candidates.scores[l]) for l, (a, b) in enumerate(skeleton.limb_index[:num_limbs])]
    if not parts:
        empty = np.zeros(0, dtype=np.intp)
        return Edges(empty, empty, np.zeros(0), empty)
    limb = np.concatenate([np.full(len(u), l, dtype=np.intp) for l, u, _, _ in parts])
    u = np.concatenate([p[1] for p in parts]).astype(np.intp)
    v = np.concatenate([p[2] for p in parts]).astype(np.intp)
    score = np.concatenate([p[3] for p in parts]).astype(np.float64)
    order = np.lexsort((-score, v, u, limb))
    limb, u, v, score = limb[order], u[order], v[order], score[order]
    keep = np.ones(len(u), dtype=bool)
    keep[1:] = (limb[1:] != limb[:-1]) | (u[1:] != u[:-1]) | (v[1:] != v[:-1])
    return Edges(u[keep], v[keep], score[keep], limb[keep])


def candidate_parts(candidates: CandidateGraph) -> np.ndarray:
    """(N,) intp: the part of each global candidate id."""
    return np.repeat(np.arange(len(candidates.peaks), dtype=np.intp), np.diff(candidates.offsets))


def node_terms(candidates: CandidateGraph, weights: ObjectiveWeights) -> np.ndarray:
    """(N,) node term of each global candidate id: ``node_weight * (peak - node_bias)``."""
    if candidates.num_candidates == 0:
        return np.zeros(0)
    peaks = np.concatenate([p[:, 2] for p in candidates.peaks])
    return weights.node_weight * (peaks - weights.node_bias)


def edges_to_assignment(candidates: CandidateGraph, edges: Edges,
                        chosen: np.ndarray) -> np.ndarray:
    """People from chosen edges: each connected component of them is one person.

    A component that would hold two candidates of one part is split deterministically:
    its edges are joined best score first (ties by index), skipping every edge that would
    put two candidates of one part together (a candidate left alone is dropped). Rows are
    ordered by their smallest global id.
    """
    K = len(candidates.peaks)
    sel = np.flatnonzero(np.asarray(chosen, dtype=bool))
    if len(sel) == 0:
        return np.zeros((0, K), dtype=np.intp)
    N = candidates.num_candidates
    part = candidate_parts(candidates)
    u, v = edges.u[sel], edges.v[sel]
    graph = sp.coo_matrix((np.ones(len(sel)), (u, v)), shape=(N, N)).tocsr()
    _, labels = csgraph.connected_components(graph, directed=False)
    nodes = np.unique(np.concatenate([u, v]))
    keys = labels[nodes] * K + part[nodes]
    if len(np.unique(keys)) != len(keys):
        labels = consistent_labels(N, part, u, v, edges.score[sel])
    _, first, row, size = np.unique(labels[nodes], return_index=True, return_inverse=True,
                                    return_counts=True)
    rank = np.empty(len(first), dtype=np.intp)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    out = np.full((len(first), K), -1, dtype=np.intp)
    out[rank[row], part[nodes]] = nodes - candidates.offsets[part[nodes]]
    return out[np.sort(rank[size >= 2])]  # a lone candidate is no person


def consistent_labels(num: int, part: np.ndarray, u: np.ndarray, v: np.ndarray,
                      score: np.ndarray) -> np.ndarray:
    """(num,) cluster label per node id: join edges ``(u, v)`` best score first (ties by
    index), skipping every edge that would put two candidates of one part together."""
    parent = list(range(num))
    mask = {int(i): 1 << int(part[i]) for i in np.unique(np.concatenate([u, v]))}

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for e in np.argsort(-score, kind="stable"):
        ra, rb = find(int(u[e])), find(int(v[e]))
        if ra != rb and not mask[ra] & mask[rb]:
            ra, rb = min(ra, rb), max(ra, rb)
            parent[rb] = ra
            mask[ra] |= mask[rb]
    return np.array([find(i) for i in range(num)], dtype=np.intp)


class BaseParser(ABC):
    """Convenience base: subclasses implement :meth:`assign`.

    Args:
        rules: post-rules applied to the assignment.
        weights: node terms of the shared objective.
    """

    name: str = "base"

    def __init__(self, *, rules: PostRules | None = None,
                 weights: ObjectiveWeights | None = None) -> None:
        self.rules = rules or PostRules()
        self.weights = weights or ObjectiveWeights()

    @abstractmethod
    def assign(self, candidates: CandidateGraph,
               skeleton: Skeleton) -> tuple[np.ndarray, SolveStatus, dict]:
        """Return (assignment (P, K) intp, status, info)."""

    def _checked_assign(self, candidates: CandidateGraph,
                        skeleton: Skeleton) -> tuple[np.ndarray, SolveStatus, dict]:
        candidates.check(skeleton)
        assignment, status, info = self.assign(candidates, skeleton)
        assignment = np.asarray(assignment, dtype=np.intp).reshape(-1, skeleton.num_keypoints)
        return assignment, status, info

    def solve(self, candidates: CandidateGraph, skeleton: Skeleton) -> ParseResult:
        """People plus the raw assignment, its objective, the status and the parse time."""
        start = time.perf_counter()
        assignment, status, info = self._checked_assign(candidates, skeleton)
        seconds = time.perf_counter() - start
        people = assignment_to_people(assignment, candidates, skeleton, self.rules)
        value = objective(assignment, candidates, skeleton, self.weights)
        return ParseResult(people, assignment, value, status, seconds, info)

    def __call__(self, candidates: CandidateGraph, skeleton: Skeleton) -> list[Person]:
        """People only (the objective is not computed)."""
        assignment, _, _ = self._checked_assign(candidates, skeleton)
        return assignment_to_people(assignment, candidates, skeleton, self.rules)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
