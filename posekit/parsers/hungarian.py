"""Parser stage, ``hungarian``: CVPR 2017 Fig. 6d (CandidateGraph -> (P, K)).

Each tree limb is an independent maximum-weight bipartite matching between the candidates
of its two parts (scipy's ``linear_sum_assignment`` on an (n_a, n_b) matrix holding the
accepted pairs' scores). Only accepted pairs with a positive score are ever kept: the other
cells are 0, so a matching that uses them as filler loses nothing by dropping them. People
are the connected components of the matched pairs; with one match per candidate and limb
over a tree of limbs, no component can hold two candidates of one part.
"""

from __future__ import annotations

import numpy as np
from scipy.optimize import linear_sum_assignment

from posekit.decode.graph import CandidateGraph
from posekit.parsers.base import (
    BaseParser,
    Edges,
    SolveStatus,
    accepted_edges,
    edges_to_assignment,
)
from posekit.skeleton import Skeleton

__all__ = ["HungarianParser", "matched_edges"]


class HungarianParser(BaseParser):
    """CVPR 2017 Fig. 6d: each tree limb an independent maximum-weight bipartite matching."""

    name = "hungarian"

    def assign(self, candidates: CandidateGraph,
               skeleton: Skeleton) -> tuple[np.ndarray, SolveStatus, dict]:
        edges = accepted_edges(candidates, skeleton, tree_only=True)
        chosen = matched_edges(edges)
        return edges_to_assignment(candidates, edges, chosen), "heuristic", {}


def matched_edges(edges: Edges) -> np.ndarray:
    """(E,) bool: the edges of a maximum-weight matching per limb (positive scores only).

    ``edges`` ordered as :func:`~posekit.parsers.base.accepted_edges` gives them.
    """
    chosen = edges.score > 0
    if not len(edges):
        return chosen
    # A limb whose edges already form a matching (about half the limbs of a crowd): the
    # best one keeps every edge of positive score. The others (a candidate in two edges of
    # the limb) go to the assignment solver. Edges come ordered by limb, then u, then v.
    same_limb = edges.limb[1:] == edges.limb[:-1]
    shared = edges.limb[1:][same_limb & (edges.u[1:] == edges.u[:-1])]
    width = int(edges.v.max()) + 1
    by_v = np.sort(edges.limb * width + edges.v)
    shared = np.union1d(shared, by_v[1:][by_v[1:] == by_v[:-1]] // width)
    starts = np.searchsorted(edges.limb, shared)
    stops = np.searchsorted(edges.limb, shared, side="right")
    for start, stop in zip(starts.tolist(), stops.tolist(), strict=True):
        u, v = edges.u[start:stop], edges.v[start:stop]
        rows, cols = u - u.min(), v - v.min()  # global ids of one part are consecutive
        weight = np.zeros((rows.max() + 1, cols.max() + 1))
        index = np.full(weight.shape, -1, dtype=np.intp)
        weight[rows, cols] = np.maximum(edges.score[start:stop], 0.0)
        index[rows, cols] = np.arange(start, stop)
        r, c = linear_sum_assignment(weight, maximize=True)
        hit = index[r, c]
        hit = hit[hit >= 0]
        chosen[start:stop] = False
        chosen[hit[edges.score[hit] > 0]] = True
    return chosen
