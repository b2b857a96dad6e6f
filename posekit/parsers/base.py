"""What every parser shares: the protocol, the objective, and the post-rules.

A parser turns a :class:`~posekit.decode.CandidateGraph` into people. Internally a parser
produces an **assignment**: a (P, K) intp array, row p holding for each part the index of
the candidate (into ``candidates.peaks[k]``) that person p uses, or -1. All parsers are
scored on their raw assignment by one objective (:func:`objective`), so they can be
compared; then the shared post-rules (OpenPose's minimum parts and minimum mean score)
turn the assignment into the people users see.

The objective of an assignment (``ObjectiveWeights`` w):

    sum over persons with >= 2 parts of
        sum of scores[l][pair] for every limb l (tree and redundant) whose two candidates
            are both in the person and form an accepted pair
      + w.node_weight * sum over the person's candidates of (peak score - w.node_bias)

Persons with fewer than two parts contribute nothing (a lone candidate is no person).
"""

from __future__ import annotations

import time
from abc import ABC, abstractmethod
from dataclasses import dataclass, field
from typing import Literal, Protocol, runtime_checkable

import numpy as np

from posekit.decode.graph import CandidateGraph
from posekit.people import Person
from posekit.skeleton import Skeleton

__all__ = [
    "Parser", "BaseParser", "ParseResult", "PostRules", "ObjectiveWeights", "SolveStatus",
    "objective", "assignment_to_people", "validate_assignment", "pair_lookup",
]

SolveStatus = Literal["optimal", "time_limit", "heuristic"]


@runtime_checkable
class Parser(Protocol):
    """Anything that turns candidates into people."""

    def __call__(self, candidates: CandidateGraph, skeleton: Skeleton) -> list[Person]: ...


@dataclass(frozen=True)
class PostRules:
    """OpenPose's filters on assembled people (C++ defaults)."""

    min_parts: int = 3  # a person needs at least this many keypoints
    min_score: float = 0.4  # ... and at least this mean score (see assignment_to_people)


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
    return {(int(i), int(j)): float(v) for (i, j), v in zip(p, s)}


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


def _limb_hits(assignment: np.ndarray, candidates: CandidateGraph,
               skeleton: Skeleton) -> np.ndarray:
    """(P, L) score of each limb inside each person (0 where not an accepted pair)."""
    P = len(assignment)
    out = np.zeros((P, skeleton.num_limbs))
    if P == 0:
        return out
    for l, (a, b) in enumerate(skeleton.limb_index):
        pairs, scores = candidates.pairs[l], candidates.scores[l]
        if not len(pairs):
            continue
        ia, ib = assignment[:, a], assignment[:, b]
        nb = max(len(candidates.peaks[b]), 1)
        keys = pairs[:, 0] * nb + pairs[:, 1]
        order = np.argsort(keys)
        keys, scores = keys[order], scores[order]
        want = np.where((ia >= 0) & (ib >= 0), ia * nb + ib, -1)
        pos = np.searchsorted(keys, want)
        pos = np.minimum(pos, len(keys) - 1)
        hit = (want >= 0) & (keys[pos] == want)
        out[hit, l] = scores[pos[hit]]
    return out


def _peak_scores(assignment: np.ndarray, candidates: CandidateGraph) -> np.ndarray:
    """(P, K) peak score of each assigned candidate (0 where missing)."""
    out = np.zeros(assignment.shape)
    for k, peaks in enumerate(candidates.peaks):
        idx = assignment[:, k]
        ok = idx >= 0
        out[ok, k] = peaks[idx[ok], 2]
    return out


def objective(assignment: np.ndarray, candidates: CandidateGraph, skeleton: Skeleton,
              weights: ObjectiveWeights = ObjectiveWeights()) -> float:
    """The shared objective of a raw assignment (module docstring)."""
    a = np.asarray(assignment, dtype=np.intp).reshape(-1, skeleton.num_keypoints)
    if len(a) == 0:
        return 0.0
    counts = (a >= 0).sum(axis=1)
    real = counts >= 2
    limbs = _limb_hits(a, candidates, skeleton).sum(axis=1)
    peaks = _peak_scores(a, candidates)
    nodes = np.where(a >= 0, peaks - weights.node_bias, 0.0).sum(axis=1)
    return float((limbs + weights.node_weight * nodes)[real].sum())


def assignment_to_people(assignment: np.ndarray, candidates: CandidateGraph,
                         skeleton: Skeleton, rules: PostRules = PostRules()) -> list[Person]:
    """Apply the post-rules and build people, best score first.

    A person's score is OpenPose's: (sum of its peak scores + sum of its tree-limb PAF
    scores) / number of its parts. People with fewer than ``rules.min_parts`` parts or a
    score below ``rules.min_score`` are dropped.
    """
    a = np.asarray(assignment, dtype=np.intp).reshape(-1, skeleton.num_keypoints)
    if len(a) == 0:
        return []
    counts = (a >= 0).sum(axis=1)
    tree = _limb_hits(a, candidates, skeleton)[:, : skeleton.num_tree_limbs].sum(axis=1)
    peaks = _peak_scores(a, candidates)
    score = (peaks.sum(axis=1) + tree) / np.maximum(counts, 1)
    keep = (counts >= max(rules.min_parts, 1)) & (score >= rules.min_score)
    people = []
    for p in np.flatnonzero(keep):
        kp = np.zeros((skeleton.num_keypoints, 3))
        for k in np.flatnonzero(a[p] >= 0):
            kp[k] = candidates.peaks[k][a[p, k]]
        people.append(Person(kp, float(score[p])))
    # deterministic order: score descending, then leftmost
    people.sort(key=lambda q: (-q.score, float(q.keypoints[q.visible, 0].min())))
    return people


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

    def solve(self, candidates: CandidateGraph, skeleton: Skeleton) -> ParseResult:
        candidates.check(skeleton)
        start = time.perf_counter()
        assignment, status, info = self.assign(candidates, skeleton)
        seconds = time.perf_counter() - start
        assignment = np.asarray(assignment, dtype=np.intp).reshape(-1, skeleton.num_keypoints)
        people = assignment_to_people(assignment, candidates, skeleton, self.rules)
        value = objective(assignment, candidates, skeleton, self.weights)
        return ParseResult(people, assignment, value, status, seconds, info)

    def __call__(self, candidates: CandidateGraph, skeleton: Skeleton) -> list[Person]:
        return self.solve(candidates, skeleton).people

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"
