"""Parser stage, after any parser: people repaired with the graph's evidence ((P, K) -> (P', K)).

A parser can leave a person in pieces: a limb it did not choose (a matching took another
pair; a tree parser never looks at redundant limbs) or a limb the PAF rejected cuts off an
arm, a leg or the head. Where two people overlap it can also mix them: the PAFs of one limb
of the two cross (two shoulders a few pixels apart), the best choice for that limb alone
pairs them wrongly, and each arm, hip and leg follows its part into the wrong person. This
stage treats such results the same way whatever parser made them, using only the candidate
graph (the evidence the maps give) and the shared objective
(:mod:`posekit.parsers.objective`), which full-ilp maximises:

1. **Re-attach.** Every accepted pair (tree or redundant limb) whose two candidates lie in
   two different people, or in a person and a candidate no one took, is a remaining link.
   Links are taken best score first; each joins the smaller of its two people (or its
   lone candidate) to the other, when that one has free slots for all its parts (never two
   candidates of one part); a grown person can take more. Each join adds at least the
   linking pair's score to the objective: it is a step towards the full-graph optimum,
   so ``full-ilp``'s answer has none left to make, while the other parsers' often do.
2. **Exchange.** Cutting the skeleton's tree at one tree limb splits the parts into two
   sides; two people may exchange their candidates of one side (a person with none there
   takes the other's). An exchange is tried where a remaining link between the two people
   crosses the cut (it would become a pair inside a person: evidence that the parts belong
   the other way round). The objective is a sum over people, so an exchange changes it by
   the change of its two people's values; each that raises it is made, best first
   (several at once when they concern different people), until none is left. A person an
   exchange leaves in pieces that no accepted pair joins becomes one person per piece (a
   lone candidate is dropped), which leaves the objective as it is. So this step only
   ever raises the objective and leaves ``full-ilp``'s optimum alone.
3. **Suppress.** A fragment (at most ``max_parts`` parts) that stays apart is dropped when
   a bigger person explains it: that person has free slots for all its parts and the
   fragment lies within the person's box widened by ``margin`` of its size. Such a piece
   is that person's arm or head cut off where the maps lost a limb (or a stray detection
   on it); a lone fragment away from everyone is kept (the post-rules may still drop it).

The steps repeat until nothing changes, so the stage is idempotent. It never gives a
person two candidates of one part or a candidate to two people; without exchanges it never
moves a part from one person to another, and a person it keeps keeps all its parts
(property tests check each).
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import numpy as np

from posekit.decode.graph import CandidateGraph
from posekit.errors import PosekitError
from posekit.parsers.objective import ObjectiveWeights, limb_hits, peak_table, person_values
from posekit.skeleton import Skeleton

__all__ = ["FragmentRules", "refine_fragments"]

# rounds of (re-attach, exchange, suppress): each round that changes anything drops a
# person, gives one more candidate to a person or raises the objective, so few are needed
_MAX_ROUNDS = 8
# an exchange is made when it raises the objective by more than this (never on a tie)
_MIN_GAIN = 1e-9


@dataclass(frozen=True)
class FragmentRules:
    """How fragments are handled (module docstring).

    Args:
        max_parts: a person with at most this many parts is a fragment.
        reattach: join smaller people (and lone candidates) to the person their
            remaining accepted pairs link them to.
        join_parts: only people of at most this many parts join another.
        min_link: a join needs a linking pair whose score is more than this.
        exchange: let two people exchange the parts beyond a tree limb when that raises
            the objective.
        suppress: drop lone fragments that a bigger person explains.
        margin: how far around a bigger person (fraction of its box's larger side)
            a fragment counts as lying on it.
    """

    max_parts: int = 3
    reattach: bool = True
    join_parts: int = 1000
    min_link: float = 0.0
    exchange: bool = True
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
                     rules: FragmentRules = FragmentRules(),
                     weights: ObjectiveWeights | None = None) -> np.ndarray:
    """The assignment with fragments re-attached, parts exchanged and fragments suppressed
    (module docstring).

    Args:
        assignment: (P, K) intp, candidate index per person and part or -1.
        weights: the objective's node terms (the exchanges raise that objective;
            default :class:`~posekit.parsers.objective.ObjectiveWeights`).

    Returns:
        (P', K) intp: the people kept, in their original order, grown by what joined
        them (people that joined another and suppressed fragments are left out); a
        person an exchange split keeps its row for its first piece, the other pieces
        follow all people.
    """
    K = skeleton.num_keypoints
    weights = weights or ObjectiveWeights()
    a = np.asarray(assignment, dtype=np.intp).reshape(-1, K)
    a = a[(a >= 0).any(axis=1)]
    edges = _links(candidates, skeleton) if rules.reattach or rules.exchange else None
    # each step returns its input itself when it changes nothing
    for round_ in range(_MAX_ROUNDS):
        before = a
        ends = _ends(a, candidates, edges) if edges is not None else None
        if rules.reattach:
            a = _reattach(a, candidates, edges, ends, rules)
        # exchanges are looked for in the first round and after joins: a join can open
        # one, dropping a fragment cannot (an exchange concerns its two people alone)
        if rules.exchange and (round_ == 0 or a is not before):
            ends = ends if a is before else _ends(a, candidates, edges)
            a = _exchange(a, candidates, skeleton, edges, ends, weights)
        if round_ and a is before:
            break  # what the last round's suppression left, it leaves as it is
        if rules.suppress:
            a = _suppress(a, candidates, rules)
        if a is before:
            break
    return a


def _ends(a: np.ndarray, candidates: CandidateGraph,
          edges: tuple[np.ndarray, ...]) -> tuple[np.ndarray, np.ndarray]:
    """The person holding each link's two candidates (-1: no one), as two (E,) arrays."""
    owner = np.full(candidates.num_candidates, -1, dtype=np.intp)
    rows, cols = np.nonzero(a >= 0)
    owner[candidates.offsets[cols] + a[rows, cols]] = rows
    return owner[edges[0]], owner[edges[1]]


def _links(candidates: CandidateGraph, skeleton: Skeleton) -> tuple[np.ndarray, ...]:
    """Every accepted pair, all limbs: global ids u, v, their parts, the score, the limb."""
    off = candidates.offsets
    lim = skeleton.limb_index
    n = [len(p) for p in candidates.pairs]
    if not sum(n):
        empty = np.zeros(0, dtype=np.intp)
        return empty, empty, empty, empty, np.zeros(0), empty
    pairs = np.concatenate(candidates.pairs)
    limb = np.repeat(np.arange(len(n)), n)
    pa, pb = lim[limb, 0], lim[limb, 1]
    return (off[pa] + pairs[:, 0], off[pb] + pairs[:, 1], pa, pb,
            np.concatenate(candidates.scores), limb)


def _reattach(a: np.ndarray, candidates: CandidateGraph, edges: tuple[np.ndarray, ...],
              ends: tuple[np.ndarray, np.ndarray], rules: FragmentRules) -> np.ndarray:
    """Join people along remaining links, best link first (module docstring, step 1).
    ``ends``: :func:`_ends` of ``a``."""
    eu, ev, part_u, part_v, score, _ = edges
    if not len(eu) or not len(a):
        return a
    P, K = a.shape
    pu, pv = ends
    # links across two people, or from a person to a candidate no one took; people only
    # grow, so a pair that clashes now (a part on both sides) always will
    cross = np.flatnonzero((pu != pv) & ((pu >= 0) | (pv >= 0)) & (score > rules.min_link))
    if not len(cross):
        return a
    used = np.concatenate([a >= 0, np.zeros((1, K), dtype=bool)])  # row -1: no one
    cu, cv = pu[cross], pv[cross]
    own_u = used[cu] | (cu < 0)[:, None] & (np.arange(K) == part_u[cross, None])
    own_v = used[cv] | (cv < 0)[:, None] & (np.arange(K) == part_v[cross, None])
    cross = cross[~(own_u & own_v).any(axis=1)]
    if not len(cross):
        return a
    out = a.copy()
    order = cross[np.argsort(-score[cross], kind="stable")]
    # people 0..P-1, then one pseudo-person per free candidate (id P + global id); the
    # parts a person holds are the bits of an int, read once a link reaches the person
    parent: dict[int, int] = {}
    lone: dict[int, int] = {}  # part of each free candidate's pseudo-person
    bits = np.packbits(used[:P], axis=1, bitorder="little")
    mask: dict[int, int] = {}

    def find(i: int) -> int:
        while parent.get(i, i) != i:
            i = parent[i]
        if i not in mask:
            mask[i] = int.from_bytes(bits[i].tobytes(), "little")
        return i

    merged = False
    for e in order.tolist():
        roots = []
        for side, gid, k in ((int(pu[e]), int(eu[e]), int(part_u[e])),
                             (int(pv[e]), int(ev[e]), int(part_v[e]))):
            if side < 0:
                side = P + gid
                if side not in mask:
                    mask[side], lone[side] = 1 << k, k
            roots.append(find(side))
        x, y = roots
        if x == y or mask[x] & mask[y] or (x >= P and y >= P):
            continue
        nx, ny = mask[x].bit_count(), mask[y].bit_count()
        if y >= P or (x < P and nx > ny) or (x < P and nx == ny and x < y):
            x, y, nx = y, x, ny  # x joins y: y is a person, at least as big (ties: the lower row)
        if nx > rules.join_parts:
            continue
        parent[x] = y
        mask[y] |= mask[x]
        merged = True
        if x >= P:
            k = lone[x]
            out[y, k] = x - P - candidates.offsets[k]
        else:
            out[y] = np.where(out[x] >= 0, out[x], out[y])
    if not merged:
        return a
    return out[[p for p in range(P) if find(p) == p]]


@functools.lru_cache(maxsize=32)
def _tree_sides(limbs: bytes, num_keypoints: int, num_tree: int
                ) -> tuple[np.ndarray, np.ndarray]:
    """(T, K) bool: the parts on the second keypoint's side of each tree limb once it is
    cut; and (L, T) 0/1 floats: which cuts separate the two parts of each limb (a tree
    limb's own cut; the tree path's cuts for a redundant limb). ``limbs``: the limb index
    bytes."""
    index = np.frombuffer(limbs, dtype=np.intp).reshape(-1, 2)
    near: list[list[tuple[int, int]]] = [[] for _ in range(num_keypoints)]
    for t, (a, b) in enumerate(index[:num_tree].tolist()):
        near[a].append((b, t))
        near[b].append((a, t))
    sides = np.zeros((num_tree, num_keypoints), dtype=bool)
    for t, (_, b) in enumerate(index[:num_tree].tolist()):
        todo = [b]
        sides[t, b] = True
        while todo:
            for k, via in near[todo.pop()]:
                if via != t and not sides[t, k]:
                    sides[t, k] = True
                    todo.append(k)
    return sides, (sides[:, index[:, 0]] != sides[:, index[:, 1]]).T.astype(np.float64)


def _exchange(a: np.ndarray, candidates: CandidateGraph, skeleton: Skeleton,
              edges: tuple[np.ndarray, ...], ends: tuple[np.ndarray, np.ndarray],
              weights: ObjectiveWeights) -> np.ndarray:
    """Exchanges that raise the objective, best first, until none is left (module
    docstring, step 2). ``ends``: :func:`_ends` of ``a``."""
    eu, ev, score, limb = edges[0], edges[1], edges[4], edges[5]
    if len(a) < 2 or not len(eu):
        return a
    sides, cuts = _tree_sides(skeleton.limb_index.tobytes(), skeleton.num_keypoints,
                              skeleton.num_tree_limbs)
    L, T = cuts.shape
    terms = None
    while True:
        P = len(a)
        pu, pv = ends
        both = (pu >= 0) & (pv >= 0)
        cross = np.flatnonzero(both & (pu != pv))
        if not len(cross):
            return a
        # An exchange of persons p and q at cut t gains the links between them that t
        # separates and the node terms of candidates those links newly join; it loses the
        # links inside p and q that t separates, and the node terms of candidates left with
        # no link (a gain where a term is negative). That bounds its gain: first loosely
        # (the links between p and q are some of those at p and at q), then exactly summed
        # per exchange, for those the first bound leaves; only those the second leaves are
        # valued. (A pair listed twice in the graph counts twice in the bounds: an
        # exchange may then be missed, never a bad one made.)
        if terms is None:  # (N,) node terms
            terms = weights.node_weight * (peak_table(candidates)[:-1, 2] - weights.node_bias)
            gained, freed = np.maximum(terms, 0.0), np.maximum(-terms, 0.0)
        inside = np.flatnonzero(both & (pu == pv))
        kept = score[inside] - freed[eu[inside]] - freed[ev[inside]]
        held = np.bincount(pu[inside] * L + limb[inside], weights=kept, minlength=P * L)
        loss = held.reshape(P, L) @ cuts  # (P, T)
        joined = np.zeros(candidates.num_candidates, dtype=bool)
        joined[eu[inside]] = joined[ev[inside]] = True
        bonus = (score[cross] + np.where(joined[eu[cross]], 0.0, gained[eu[cross]])
                 + np.where(joined[ev[cross]], 0.0, gained[ev[cross]]))
        some = np.maximum(bonus, 0.0)
        reach = (np.bincount(pu[cross], weights=some, minlength=P)
                 + np.bincount(pv[cross], weights=some, minlength=P))
        e, t = np.nonzero(cuts[limb[cross]])
        p, q = pu[cross[e]], pv[cross[e]]
        worth = np.minimum(reach[p], reach[q]) - loss[p, t] - loss[q, t] > _MIN_GAIN
        if not worth.any():
            return a
        p, q, t, e = p[worth], q[worth], t[worth], e[worth]
        moves, which = np.unique((np.minimum(p, q) * P + np.maximum(p, q)) * T + t,
                                 return_inverse=True)
        t, p, q = moves % T, moves // T // P, moves // T % P
        worth = np.bincount(which, weights=bonus[e]) - loss[p, t] - loss[q, t] > _MIN_GAIN
        if not worth.any():
            return a
        t, p, q = t[worth], p[worth], q[worth]
        side = sides[t]
        new_p = np.where(side, a[q], a[p])
        new_q = np.where(side, a[p], a[q])
        value = person_values(np.concatenate([a, new_p, new_q]), candidates, skeleton, weights)
        M = len(t)
        gain = value[P:P + M] + value[P + M:] - value[p] - value[q]
        good = np.flatnonzero(gain > _MIN_GAIN)
        if not len(good):
            return a
        a = a.copy()
        busy: set[int] = set()
        for m in good[np.argsort(-gain[good], kind="stable")].tolist():
            if p[m] in busy or q[m] in busy:
                continue
            busy.update((int(p[m]), int(q[m])))
            a[p[m]], a[q[m]] = new_p[m], new_q[m]
        a = _pieces(a, sorted(busy), candidates, skeleton)
        ends = _ends(a, candidates, edges)


def _pieces(a: np.ndarray, rows: list[int], candidates: CandidateGraph,
            skeleton: Skeleton) -> np.ndarray:
    """``a`` with each of ``rows`` split into the pieces its accepted pairs join: the first
    piece keeps the row, the others are added at the end; lone candidates and empty rows
    are dropped."""
    K = a.shape[1]
    sub = a[rows]
    found = limb_hits(sub, candidates, skeleton)[1].astype(np.float64)  # (R, L)
    first, second = skeleton.limb_index[:, 0], skeleton.limb_index[:, 1]
    reach = np.zeros((len(rows), K, K))
    reach[:, first, second] = reach[:, second, first] = found
    reach[:, np.arange(K), np.arange(K)] = 1.0
    for _ in range(max(1, (K - 1).bit_length())):  # paths of up to 2, 4, ... >= K - 1 limbs
        reach = np.minimum(reach @ reach, 1.0)
    held = sub >= 0
    label = np.where(held, reach.argmax(axis=2), -1)  # each part's lowest reachable part
    whole = (held.sum(axis=1) >= 2) & ((label == label.max(axis=1, keepdims=True))
                                        | ~held).all(axis=1)
    if whole.all():
        return a
    keep = np.ones(len(a), dtype=bool)
    extra = []
    for r, lab in zip(np.asarray(rows)[~whole].tolist(), label[~whole], strict=True):
        groups = [np.flatnonzero(lab == g) for g in np.unique(lab[lab >= 0])]
        groups = [g for g in groups if len(g) >= 2]
        if not groups:
            keep[r] = False
            continue
        row = a[r].copy()
        a[r] = -1
        a[r, groups[0]] = row[groups[0]]
        for g in groups[1:]:
            piece = np.full(K, -1, dtype=np.intp)
            piece[g] = row[g]
            extra.append(piece)
    return np.concatenate([a[keep], *[x[None] for x in extra]]) if extra else a[keep]


def _suppress(a: np.ndarray, candidates: CandidateGraph, rules: FragmentRules) -> np.ndarray:
    """Drop the fragments a bigger person explains (module docstring, step 3)."""
    if len(a) < 2:
        return a
    used = a >= 0
    size = used.sum(axis=1)
    frag = np.flatnonzero(size <= rules.max_parts)
    if not len(frag):
        return a
    table = peak_table(candidates)
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
    return a[~drop] if drop.any() else a
