"""Parser stage, ``full-ilp``: CVPR 2017 Fig. 6b (CandidateGraph -> (P, K)).

Correlation clustering over the complete K-partite candidate graph: a pair of candidates
of different parts weighs its PAF score when a tree or redundant limb accepted it and 0
otherwise, each candidate adds its node term, and no cluster may hold two candidates of
one part. Pairs of weight 0 never change the value of a clustering, so the ILP only needs
variables for accepted pairs and candidates; clusters are the connected components of
the chosen pairs (see :mod:`posekit.parsers._ilp`). Consistency around the cycles that
redundant limbs close is enforced lazily: solve, find a chosen path joining two
candidates of one part, cut it, solve again. Independent components of the candidate
graph are solved separately. OpenPose's greedy result is the starting point (CBC's MIP
start) and the fallback: the answer is exact (status ``"optimal"``) unless the time limit
stops the loop (status ``"time_limit"``, best consistent solution found, at worst greedy's).

``info``: ``components``, ``ilp_components`` (those that needed the solver),
``iterations`` (solver calls), ``cuts`` (lazy constraints added), ``bound`` (an upper
bound on the objective; equal to it when optimal), ``warm_value`` (greedy's objective).
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
from posekit.parsers.greedy import greedy_assignment
from posekit.skeleton import Skeleton

__all__ = ["FullILPParser"]


class FullILPParser(ILPParser):
    """CVPR 2017 Fig. 6b: exact correlation clustering over all limbs (lazy ILP, pulp).

    Args:
        time_limit: seconds for the whole solve; on hitting it the best consistent
            solution found (at worst greedy's) is returned with status ``"time_limit"``.
        solver: ``"highs"`` (default) or ``"cbc"``.
        rules, weights: see :class:`~posekit.parsers.base.BaseParser`.
    """

    name = "full-ilp"

    def assign(self, candidates: CandidateGraph,
               skeleton: Skeleton) -> tuple[np.ndarray, SolveStatus, dict]:
        edges = accepted_edges(candidates, skeleton)
        part = candidate_parts(candidates)
        result = solve_clustering(
            edges, part, node_terms(candidates, self.weights),
            _inside(greedy_assignment(candidates, skeleton), candidates, edges, part),
            time_limit=self.time_limit, solver=self.solver,
        )
        return edges_to_assignment(candidates, edges, result.chosen), result.status, result.info

    def __repr__(self) -> str:
        return f"FullILPParser(time_limit={self.time_limit}, solver={self.solver!r})"


def _inside(assignment: np.ndarray, candidates: CandidateGraph, edges, part) -> np.ndarray:
    """(E,) bool: the edges whose two candidates belong to the same person."""
    person = np.full(candidates.num_candidates, -1, dtype=np.intp)
    rows, cols = np.nonzero(assignment >= 0)
    person[candidates.offsets[cols] + assignment[rows, cols]] = rows
    return (person[edges.u] >= 0) & (person[edges.u] == person[edges.v])
