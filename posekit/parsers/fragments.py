"""Parser stage, after any parser: fragments re-attached or suppressed ((P, K) -> (P', K)).

A parser can leave a person in pieces: a limb it did not choose (a matching took another
pair; a tree parser never looks at redundant limbs) or a limb the PAF rejected cuts off an
arm, a leg or the head. This stage treats the pieces the same way whatever parser made
them, using only the candidate graph (the evidence the maps give):

1. **Re-attach.** Every accepted pair (tree or redundant limb) whose two candidates lie in
   two different people, or in a person and a candidate no one took, is a remaining link.
   Links are taken best score first; each joins the smaller of its two people (or its
   lone candidate) to the other, when that one has free slots for all its parts (never two
   candidates of one part); a grown person can take more. Each join adds at least the
   linking pair's score to the shared objective
   (:func:`~posekit.parsers.base.objective`): it is a step towards the full-graph optimum,
   so ``full-ilp``'s answer has none left to make, while the other parsers' often do.
2. **Suppress.** A fragment (at most ``max_parts`` parts) that stays apart is dropped when
   a bigger person explains it: that person has free slots for all its parts and the
   fragment lies within the person's box widened by ``margin`` of its size. Such a piece
   is that person's arm or head cut off where the maps lost a limb (or a stray detection
   on it); a lone fragment away from everyone is kept (the post-rules may still drop it).

The two steps repeat until nothing changes, so the stage is idempotent. It never moves a
part from one person to another, never gives a person two candidates of one part, and a
person it keeps keeps all its parts (property tests check each).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from posekit.decode.graph import CandidateGraph
from posekit.errors import PosekitError
from posekit.skeleton import Skeleton

__all__ = ["FragmentRules", "refine_fragments"]

# rounds of (re-attach, suppress): each round that changes anything drops a person or
# gives one more candidate to a person, so few are ever needed
_MAX_ROUNDS = 8


@dataclass(frozen=True)
class FragmentRules:
    """How fragments are handled (module docstring).

    Args:
        max_parts: a person with at most this many parts is a fragment.
        reattach: join smaller people (and lone candidates) to the person their
            remaining accepted pairs link them to.
        join_parts: only people of at most this many parts join another.
        min_link: a join needs a linking pair whose score is more than this.
        suppress: drop lone fragments that a bigger person explains.
        margin: how far around a bigger person (fraction of its box's larger side)
            a fragment counts as lying on it.
    """

    max_parts: int = 3
    reattach: bool = True
    join_parts: int = 1000
    min_link: float = 0.0
    suppress: bool = True
    margin: float = 0.25

    def __post_init__(self) -> None:
        if int(self.max_parts) != self.max_parts or self.max_parts < 1:
            raise PosekitError(f"FragmentRules.max_parts must be an integer >= 1, "
                               f"got {self.max_parts!r}")
        if not np.isfinite(self.min_link) or not np.isfinite(self.margin) or self.margin < 0:
            raise PosekitError(f"FragmentRules.min_link must be finite and margin a finite "
                               f"fraction >= 0, got {self.min_link!r} and {self.margin!r}")


def refine_fragments(assignment: np.ndarray, candidates: CandidateGraph, skeleton: Skeleton,
                     rules: FragmentRules = FragmentRules()) -> np.ndarray:
    """The assignment with fragments re-attached or suppressed (module docstring).

    Args:
        assignment: (P, K) intp, candidate index per person and part or -1.

    Returns:
        (P', K) intp: the people kept, in their original order, grown by what joined
        them (people that joined another and suppressed fragments are left out).
    """
    K = skeleton.num_keypoints
    a = np.asarray(assignment, dtype=np.intp).reshape(-1, K)
    a = a[(a >= 0).any(axis=1)]
    edges = _links(candidates, skeleton) if rules.reattach else None
    for _ in range(_MAX_ROUNDS):
        before = a
        if edges is not None:
            a = _reattach(a, candidates, edges, rules)
        if rules.suppress:
            a = _suppress(a, candidates, rules)
        if a.shape == before.shape and np.array_equal(a, before):
            break
    return a


def _owners(a: np.ndarray, candidates: CandidateGraph) -> np.ndarray:
    """(N,) person of each global candidate id, -1 for candidates no one took."""
    owner = np.full(candidates.num_candidates, -1, dtype=np.intp)
    rows, cols = np.nonzero(a >= 0)
    owner[candidates.offsets[cols] + a[rows, cols]] = rows
    return owner


def _links(candidates: CandidateGraph, skeleton: Skeleton) -> tuple[np.ndarray, ...]:
    """Every accepted pair, all limbs: global ids u, v, their parts and the score."""
    off = candidates.offsets
    lim = skeleton.limb_index
    n = [len(p) for p in candidates.pairs]
    if not sum(n):
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty, empty, empty, np.zeros(0)
    pairs = np.concatenate(candidates.pairs)
    limb = np.repeat(np.arange(len(n)), n)
    pa, pb = lim[limb, 0], lim[limb, 1]
    return (off[pa] + pairs[:, 0], off[pb] + pairs[:, 1], pa, pb,
            np.concatenate(candidates.scores))


def _reattach(a: np.ndarray, candidates: CandidateGraph, edges: tuple[np.ndarray, ...],
              rules: FragmentRules) -> np.ndarray:
    """Join people along remaining links, best link first (module docstring, step 1)."""
    eu, ev, part_u, part_v, score = edges
    if not len(eu) or not len(a):
        return a
    P, K = a.shape
    owner = _owners(a, candidates)
    pu, pv = owner[eu], owner[ev]
    # links across two people, or from a person to a candidate no one took; people only
    # grow, so a pair that clashes now (a part on both sides) always will
    used = np.concatenate([a >= 0, np.zeros((1, K), dtype=bool)])  # row -1: no one
    own_u = used[pu] | (pu < 0)[:, None] & (np.arange(K) == part_u[:, None])
    own_v = used[pv] | (pv < 0)[:, None] & (np.arange(K) == part_v[:, None])
    cross = ((pu != pv) & ((pu >= 0) | (pv >= 0)) & (score > rules.min_link)
             & ~(own_u & own_v).any(axis=1))
    if not cross.any():
        return a
    a = a.copy()
    order = np.flatnonzero(cross)[np.argsort(-score[cross], kind="stable")]
    # people 0..P-1, then one pseudo-person per free candidate (id P + global id)
    parent: dict[int, int] = {}
    lone: dict[int, int] = {}  # part of each free candidate's pseudo-person
    mask = {p: _mask(a[p]) for p in range(P)}
    size = {p: int((a[p] >= 0).sum()) for p in range(P)}

    def find(i: int) -> int:
        while parent.get(i, i) != i:
            i = parent[i]
        return i

    merged = False
    for e in order.tolist():
        ends = []
        for side, gid, k in ((int(pu[e]), int(eu[e]), int(part_u[e])),
                             (int(pv[e]), int(ev[e]), int(part_v[e]))):
            if side < 0:
                side = P + gid
                if side not in mask:
                    mask[side], size[side], lone[side] = 1 << k, 1, k
            ends.append(find(side))
        x, y = ends
        if x == y or mask[x] & mask[y] or (x >= P and y >= P):
            continue
        if y >= P or (x < P and size[x] > size[y]) or (x < P and size[x] == size[y] and x < y):
            x, y = y, x  # x joins y: y is a person, at least as big (ties: the lower row)
        if size[x] > rules.join_parts:
            continue
        parent[x] = y
        mask[y] |= mask[x]
        size[y] += size[x]
        merged = True
        if x >= P:
            k = lone[x]
            a[y, k] = x - P - candidates.offsets[k]
        else:
            a[y] = np.where(a[x] >= 0, a[x], a[y])
    if not merged:
        return a
    return a[[p for p in range(P) if find(p) == p]]


def _mask(row: np.ndarray) -> int:
    """The parts a person holds, as bits of an int (any number of parts)."""
    return sum(1 << int(k) for k in np.flatnonzero(row >= 0))


def _suppress(a: np.ndarray, candidates: CandidateGraph, rules: FragmentRules) -> np.ndarray:
    """Drop the fragments a bigger person explains (module docstring, step 2)."""
    if len(a) < 2:
        return a
    used = a >= 0
    size = used.sum(axis=1)
    frag = np.flatnonzero(size <= rules.max_parts)
    if not len(frag):
        return a
    table = np.concatenate([*candidates.peaks, np.zeros((1, 3))])
    gid = np.where(used, candidates.offsets[: a.shape[1]] + a, len(table) - 1)
    xy = table[gid][..., :2]  # (P, K, 2)
    lo = np.where(used[..., None], xy, np.inf).min(axis=1)
    hi = np.where(used[..., None], xy, -np.inf).max(axis=1)
    pad = rules.margin * (hi - lo).max(axis=1, keepdims=True)
    lo, hi = lo - pad, hi + pad  # (P, 2): each person's widened box
    # (F, P): free slots for all the fragment's parts in a bigger person ...
    hosts = ~(used[frag][:, None, :] & used[None, :, :]).any(axis=2) & \
        (size[None, :] > size[frag][:, None])
    # ... whose box holds every part of the fragment
    pts = xy[frag][:, None, :, :]  # (F, 1, K, 2)
    inside = ((pts >= lo[None, :, None, :]) & (pts <= hi[None, :, None, :])).all(axis=3)
    inside = (inside | ~used[frag][:, None, :]).all(axis=2)
    drop = np.zeros(len(a), dtype=bool)
    drop[frag] = (hosts & inside).any(axis=1)
    return a[~drop]
