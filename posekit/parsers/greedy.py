"""Parser stage, ``greedy``: OpenPose's own greedy assembly (CandidateGraph -> (P, K)).

Limb by limb in the skeleton's order (tree limbs, then redundant limbs):

1. the limb's accepted pairs are sorted by PAF score (best first, ties by pair index) and
   taken greedily, each candidate of either part at most once for this limb;
2. a taken tree connection ``(a, b)``
   - starts a new person when neither candidate belongs to anyone yet,
   - fills the other slot of the person that holds one of them, when that slot is empty,
   - merges the two people holding ``a`` and ``b`` when they share no part,
   and is dropped when it conflicts (the slot is taken, or the two people overlap);
3. a taken redundant connection only fills an empty slot of the person holding one of its
   candidates: it never creates a person, never merges, never overwrites.

The (P, K) assignment holds, per person, the candidate index of each part or -1.
"""

from __future__ import annotations

import numpy as np

from posekit.decode.graph import CandidateGraph
from posekit.parsers.base import BaseParser, SolveStatus
from posekit.skeleton import Skeleton

__all__ = ["GreedyParser", "greedy_assignment"]


class GreedyParser(BaseParser):
    """OpenPose's parser: best PAF connections first, people grown and merged limb by limb."""

    name = "greedy"

    def assign(self, candidates: CandidateGraph,
               skeleton: Skeleton) -> tuple[np.ndarray, SolveStatus, dict]:
        return greedy_assignment(candidates, skeleton), "heuristic", {}


def greedy_assignment(candidates: CandidateGraph, skeleton: Skeleton) -> np.ndarray:
    """OpenPose's greedy assembly as a (P, K) assignment (module docstring)."""
    K = skeleton.num_keypoints
    owner = [[-1] * len(p) for p in candidates.peaks]  # owner[k][i]: person of candidate i
    people: list[list[int]] = []  # emptied once merged into another person
    counts = [len(p) for p in candidates.pairs]
    if not sum(counts):
        return np.zeros((0, K), dtype=np.intp)
    # every limb's pairs, limb by limb, each limb's best score first (ties by index)
    limb = np.repeat(np.arange(len(counts)), counts)
    order = np.lexsort((-np.concatenate(candidates.scores), limb))
    ranked = np.concatenate(candidates.pairs)[order].tolist()
    stops = np.cumsum(counts).tolist()

    for l, (a, b) in enumerate(skeleton.limb_index.tolist()):
        if not counts[l]:
            continue
        redundant = l >= skeleton.num_tree_limbs
        own_a, own_b = owner[a], owner[b]
        used_a: set[int] = set()  # candidates this limb has connected
        used_b: set[int] = set()
        for i, j in ranked[stops[l] - counts[l]:stops[l]]:
            if i in used_a or j in used_b:
                continue
            used_a.add(i)
            used_b.add(j)
            pa, pb = own_a[i], own_b[j]
            if pa < 0 and pb < 0:
                if redundant:
                    continue
                slots = [-1] * K
                slots[a], slots[b] = i, j
                own_a[i] = own_b[j] = len(people)
                people.append(slots)
            elif pb < 0:
                person = people[pa]
                if person[b] < 0:
                    person[b] = j
                    own_b[j] = pa
            elif pa < 0:
                person = people[pb]
                if person[a] < 0:
                    person[a] = i
                    own_a[i] = pb
            elif pa != pb and not redundant:
                _merge(people, owner, min(pa, pb), max(pa, pb))
    rows = [p for p in people if p]
    return np.array(rows, dtype=np.intp).reshape(-1, K)


def _merge(people: list[list[int]], owner: list[list[int]], keep: int, drop: int) -> None:
    """Merge person ``drop`` into ``keep`` if they share no part."""
    kept, dropped = people[keep], people[drop]
    if any(x >= 0 and y >= 0 for x, y in zip(kept, dropped, strict=True)):
        return
    for k, idx in enumerate(dropped):
        if idx >= 0:
            kept[k] = idx
            owner[k][idx] = keep
    people[drop] = []
