"""What every parser shares: the protocol and the post-rules.

A parser turns a :class:`~posekit.decode.CandidateGraph` into people. Internally a parser
produces an **assignment**: a (P, K) intp array, row p holding for each part the index of the
candidate (into ``candidates.peaks[k]``) that person p uses, or -1. All parsers are
scored on their raw assignment by one objective (:mod:`posekit.parsers.objective`), so
they can be compared; then the shared post-rules (the fragment stage, OpenPose's minimum
parts and minimum mean score) turn the assignment into the people users see.
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import numpy as np
import scipy.sparse as sp
from scipy.sparse import csgraph

from posekit.decode.graph import CandidateGraph
from posekit.parsers.fragments import FragmentRules, refine_fragments
from posekit.parsers.objective import ObjectiveWeights, assigned_peaks, limb_hits, objective
from posekit.people import Person
from posekit.skeleton import Skeleton

__all__ = [
    "Parser", "BaseParser", "ParseResult", "PostRules", "ObjectiveWeights", "SolveStatus",
    "objective", "assignment_to_people", "validate_assignment", "pair_lookup",
    "Edges", "accepted_edges", "candidate_parts", "node_terms", "edges_to_assignment",
    "component_labels", "consistent_labels",
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


def assignment_to_people(assignment: np.ndarray, candidates: CandidateGraph,
                         skeleton: Skeleton, rules: PostRules = PostRules(),
                         weights: ObjectiveWeights | None = None) -> list[Person]:
    """Apply the post-rules (fragments, then OpenPose's filters) and build people, best
    score first. ``weights``: the objective's node terms, which the fragment stage's exchanges
    raise (default :class:`ObjectiveWeights`).

    A person's score is OpenPose's: (sum of its peak scores + sum of its tree-limb PAF
    scores) / number of its parts. People with fewer than ``rules.min_parts`` parts or a
    score below ``rules.min_score`` are dropped.
    """
    a = np.asarray(assignment, dtype=np.intp).reshape(-1, skeleton.num_keypoints)
    if rules.fragments is not None and len(a):
        a = refine_fragments(a, candidates, skeleton, rules.fragments, weights)
    if len(a) == 0:
        return []
    counts = (a >= 0).sum(axis=1)
    tree = limb_hits(a, candidates, skeleton)[0][:, : skeleton.num_tree_limbs].sum(axis=1)
    keypoints = assigned_peaks(a, candidates)
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
    counts = [len(p) for p in candidates.pairs[:num_limbs]]
    if not sum(counts):
        empty = np.zeros(0, dtype=np.intp)
        return Edges(empty, empty, np.zeros(0), empty)
    limb = np.repeat(np.arange(num_limbs, dtype=np.intp), counts)
    pairs = np.concatenate(candidates.pairs[:num_limbs])
    ends = candidates.offsets[skeleton.limb_index[limb]]  # (E, 2) first id of each part
    u = (ends[:, 0] + pairs[:, 0]).astype(np.intp)
    v = (ends[:, 1] + pairs[:, 1]).astype(np.intp)
    score = np.concatenate(candidates.scores[:num_limbs]).astype(np.float64)
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
    labels = component_labels(N, u, v)
    touched = np.zeros(N, dtype=bool)
    touched[u] = touched[v] = True
    nodes = np.flatnonzero(touched)
    keys = np.sort(labels[nodes] * K + part[nodes])
    if (keys[1:] == keys[:-1]).any():  # a component holds two candidates of one part
        labels = consistent_labels(N, part, u, v, edges.score[sel])
    _, first, row, size = np.unique(labels[nodes], return_index=True, return_inverse=True,
                                    return_counts=True)
    rank = np.empty(len(first), dtype=np.intp)
    rank[np.argsort(first, kind="stable")] = np.arange(len(first))
    out = np.full((len(first), K), -1, dtype=np.intp)
    out[rank[row], part[nodes]] = nodes - candidates.offsets[part[nodes]]
    return out[np.sort(rank[size >= 2])]  # a lone candidate is no person


def component_labels(num: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """(num,) connected-component label of each node of the undirected graph whose edges
    are ``(u[i], v[i])`` (scipy's labels: components in order of their smallest node)."""
    indptr = np.zeros(num + 1, dtype=np.int32)
    np.cumsum(np.bincount(u, minlength=num), out=indptr[1:])
    indices = v[np.argsort(u, kind="stable")].astype(np.int32)
    graph = sp.csr_matrix((np.ones(len(u)), indices, indptr), shape=(num, num))
    return csgraph.connected_components(graph, directed=False)[1]


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
        people = assignment_to_people(assignment, candidates, skeleton, self.rules,
                                      self.weights)
        value = objective(assignment, candidates, skeleton, self.weights)
        return ParseResult(people, assignment, value, status, seconds, info)

    def __call__(self, candidates: CandidateGraph, skeleton: Skeleton) -> list[Person]:
        """People only (the objective is not computed)."""
        assignment, _, _ = self._checked_assign(candidates, skeleton)
        return assignment_to_people(assignment, candidates, skeleton, self.rules, self.weights)

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
