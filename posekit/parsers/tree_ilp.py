"""Parser stage, ``tree-ilp``: CVPR 2017 Fig. 6c (CandidateGraph -> (P, K)).

Tree limbs only, solved jointly as one ILP (see :mod:`posekit.parsers._ilp`): binary
``z`` per accepted tree pair and ``y`` per candidate, at most one partner per candidate and
limb (``sum z <= y``), a candidate's node term ``node_weight * (peak - node_bias)`` paid once
and only when it is joined. It maximises ``objective(..., tree_only=True)`` exactly, so
it is never below ``hungarian`` on that objective; hungarian's matching is its fallback.
Over a tree of limbs every component of chosen pairs is a valid person, so no lazy cuts
are ever needed. People are the connected components.
"""

from __future__ import annotations

import numpy as np

from posekit.decode.graph import CandidateGraph
from posekit.parsers._ilp import ILPParser, solve_clustering
from posekit.parsers.base import (
    SolveStatus,
    accepted_edges,
    candidate_parts,
    edges_to_assignment,
    node_terms,
)
from posekit.parsers.hungarian import matched_edges
from posekit.skeleton import Skeleton

__all__ = ["TreeILPParser"]


class TreeILPParser(ILPParser):
    """CVPR 2017 Fig. 6c: tree limbs solved jointly as one ILP with node-selection terms.

    Args:
        time_limit: seconds for the whole solve; on hitting it the best solution found
            (at worst hungarian's) is returned with status ``"time_limit"``.
        solver: ``"highs"`` (default) or ``"cbc"``.
        rules, weights: see :class:`~posekit.parsers.base.BaseParser`.
    """

    name = "tree-ilp"

    def assign(self, candidates: CandidateGraph,
               skeleton: Skeleton) -> tuple[np.ndarray, SolveStatus, dict]:
        edges = accepted_edges(candidates, skeleton, tree_only=True)
        result = solve_clustering(
            edges, candidate_parts(candidates), node_terms(candidates, self.weights),
            matched_edges(edges), time_limit=self.time_limit, solver=self.solver,
        )
        return edges_to_assignment(candidates, edges, result.chosen), result.status, result.info

    def __repr__(self) -> str:
        return f"TreeILPParser(time_limit={self.time_limit}, solver={self.solver!r})"
