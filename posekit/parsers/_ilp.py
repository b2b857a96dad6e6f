"""Parser stage, shared by ``tree-ilp`` and ``full-ilp``: the clustering ILP through pulp.

Both ILP parsers choose a subset of accepted edges (:class:`~posekit.parsers.base.Edges`,
E of them over N global candidate ids) whose connected components are the people. Per
independent component of the candidate graph, with binary ``z`` (E_c,) per edge and ``y``
(N_c,) per candidate:

    maximise   sum score_e z_e + sum t_i y_i          (t: node terms of the objective)
    subject to sum of z_e over the edges of one limb at candidate i <= y_i
               y_i <= sum of z_e over all edges at i   (only where t_i > 0)
               lazy path cuts: for a path of chosen edges joining two candidates of one
               part, sum of z on the path <= sum of y on its inner candidates

The first two rows say "at most one partner per limb" and "a candidate's term is paid
once, and only when it is joined"; over a tree of limbs they already make every component
a valid person. Redundant limbs close cycles; a chosen path around one can join two
candidates of a part, which the lazy cuts forbid one violation at a time (solve, find,
cut, solve again) until the chosen components are consistent. At the optimum every
accepted pair inside a person is chosen, so the ILP value is the shared objective.

Solvers: HiGHS (default, in-process through highspy) or CBC, both through pulp, with a
time limit over the whole loop; on hitting it the best consistent solution found (at
worst the warm start: a heuristic's choice, also given to CBC as its MIP start) is
returned with status ``"time_limit"``.
"""

from __future__ import annotations

import functools
import os
import sys
import time
import warnings
from dataclasses import dataclass, field
from typing import Literal

import numpy as np
import pulp
from scipy import sparse
from scipy.sparse import csgraph

from posekit.errors import PosekitError
from posekit.parsers.base import (
    BaseParser,
    Edges,
    ObjectiveWeights,
    PostRules,
    SolveStatus,
    component_labels,
    consistent_labels,
)

__all__ = [
    "SOLVERS", "DEFAULT_TIME_LIMIT", "check_options", "BinaryProgram", "ProgramSolution",
    "ClusterSolution", "solve_clustering", "clustering_value",
]

SOLVERS = ("highs", "cbc")
DEFAULT_TIME_LIMIT = 10.0
_MIN_SOLVE_SECONDS = 0.01


def check_options(time_limit: float, solver: str) -> tuple[float, str]:
    """Validated ``(time_limit, solver)``; ``ValueError`` naming the bad option otherwise."""
    try:
        seconds = float(time_limit)
    except (TypeError, ValueError):
        raise ValueError(f"time_limit must be a number of seconds, got {time_limit!r}") from None
    if not seconds > 0:
        raise ValueError(f"time_limit must be positive, got {time_limit!r}")
    name = str(solver).lower()
    if name not in SOLVERS:
        raise ValueError(f"unknown solver {solver!r}; choose one of {', '.join(SOLVERS)}")
    return seconds, name


class ILPParser(BaseParser):
    """Base of the ILP parsers: a time limit and a solver on top of BaseParser's options."""

    def __init__(self, *, time_limit: float = DEFAULT_TIME_LIMIT, solver: str = "highs",
                 rules: PostRules | None = None, weights: ObjectiveWeights | None = None) -> None:
        super().__init__(rules=rules, weights=weights)
        self.time_limit, self.solver = check_options(time_limit, solver)


@functools.cache
def _silence_highs_banner() -> None:
    """HiGHS prints a banner on stdout when the process creates its first solver.

    Create that first one with file descriptor 1 pointed at /dev/null, so that commands
    writing JSON to stdout stay clean.
    """
    import highspy

    sys.stdout.flush()
    saved = os.dup(1)
    try:
        devnull = os.open(os.devnull, os.O_WRONLY)
        os.dup2(devnull, 1)
        os.close(devnull)
        highspy.Highs()
    finally:
        os.dup2(saved, 1)
        os.close(saved)


def _make_solver(name: str, seconds: float, warm_start: bool) -> pulp.LpSolver:
    """A pulp solver. Only CBC takes the warm start: HiGHS 1.16 given a MIP start through
    highspy's ``setSolution`` can report a better optimum yet hand back the start itself."""
    if name == "highs":
        if not pulp.HiGHS().available():
            raise PosekitError("solver 'highs' is not available: install highspy, "
                               "or choose solver='cbc'")
        _silence_highs_banner()
        return pulp.HiGHS(msg=False, timeLimit=seconds, gapRel=0.0, gapAbs=1e-7)
    options = {"msg": False, "timeLimit": seconds, "warmStart": warm_start, "gapRel": 0.0,
               "gapAbs": 1e-7, "threads": 1}
    solver = pulp.COIN_CMD(**options)  # a cbc on PATH
    if solver.available():
        return solver
    bundled = getattr(pulp, "PULP_CBC_CMD", None)  # the cbc shipped inside pulp < 4
    if bundled is not None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", DeprecationWarning)
            solver = bundled(**options)
        if solver.available():
            return solver
    raise PosekitError("solver 'cbc' is not available: install cbc (pip install 'pulp[cbc]'), "
                       "or choose solver='highs'")


def _dual_bound(problem: pulp.LpProblem) -> float | None:
    """Upper bound on the optimum that HiGHS proved (None for other solvers)."""
    model = getattr(problem, "solverModel", None)
    if model is None or not hasattr(model, "getInfo"):
        return None
    bound = model.getInfo().mip_dual_bound
    return -float(bound) if np.isfinite(bound) else None  # pulp gives HiGHS min -c·x


@dataclass
class ProgramSolution:
    x: np.ndarray  # (n,) float values; zeros when no solution was found
    state: Literal["optimal", "feasible", "none"]
    bound: float | None  # upper bound on the optimum, if the solver reports one


class BinaryProgram:
    """``max c·x`` over binary ``x`` subject to sparse rows ``a·x <= b``, built with pulp."""

    def __init__(self, objective: np.ndarray) -> None:
        self.problem = pulp.LpProblem("posekit", pulp.LpMaximize)
        self.c = np.asarray(objective, dtype=np.float64)
        make = getattr(self.problem, "add_variable", None)  # pulp >= 3.3; LpVariable before
        if make is None:
            make = pulp.LpVariable
        self.x = [make(f"x{i:07d}", 0, 1, pulp.LpBinary) for i in range(len(objective))]
        self.problem.setObjective(
            pulp.LpAffineExpression(list(zip(self.x, objective.tolist(), strict=True))))
        self.num_rows = 0

    def add_row(self, index: list[int], coef: list[float], rhs: float) -> None:
        expr = pulp.LpAffineExpression([(self.x[i], a) for i, a in zip(index, coef, strict=True)])
        self.problem.addConstraint(pulp.LpConstraint(expr, pulp.LpConstraintLE, rhs=rhs),
                                   name=f"r{self.num_rows}")
        self.num_rows += 1

    def solve(self, solver: str, seconds: float, start: np.ndarray | None) -> ProgramSolution:
        if start is not None:
            for var, value in zip(self.x, start.tolist(), strict=True):
                var.setInitialValue(round(value))
        engine = _make_solver(solver, max(seconds, _MIN_SOLVE_SECONDS), start is not None)
        try:
            self.problem.solve(engine)
            found = self.problem.sol_status
        except pulp.PulpSolverError:  # e.g. CBC killed at the time limit before writing
            found = pulp.LpSolutionNoSolutionFound
        if found == pulp.LpSolutionOptimal:
            state: Literal["optimal", "feasible", "none"] = "optimal"
        elif found == pulp.LpSolutionIntegerFeasible:
            state = "feasible"
        else:
            state = "none"
        x = np.array([v.varValue or 0.0 for v in self.x]) if state != "none" else \
            np.zeros(len(self.x))
        bound = float(self.c @ x) if state == "optimal" else _dual_bound(self.problem)
        return ProgramSolution(x, state, bound)


@dataclass
class ClusterSolution:
    chosen: np.ndarray  # (E,) bool: chosen edges, consistent (at most one candidate per part)
    status: SolveStatus
    info: dict = field(default_factory=dict)


def _small_labels(num: int, u: np.ndarray, v: np.ndarray) -> np.ndarray:
    """Component labels as :func:`~posekit.parsers.base.component_labels` gives them (up to
    their values), by union-find: cheaper for one component's few edges."""
    parent = list(range(num))

    def find(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    for a, b in zip(u.tolist(), v.tolist(), strict=True):
        ra, rb = find(a), find(b)
        if ra != rb:
            parent[max(ra, rb)] = min(ra, rb)
    return np.array([find(i) for i in range(num)], dtype=np.intp)


def clustering_value(num: int, u: np.ndarray, v: np.ndarray, score: np.ndarray,
                     terms: np.ndarray, chosen: np.ndarray) -> float:
    """Objective of the components of ``chosen`` edges (all induced edges count)."""
    lab = (_small_labels if len(u) < 1000 else component_labels)(num, u[chosen], v[chosen])
    inside = lab[u] == lab[v]
    joined = np.zeros(num, dtype=bool)
    joined[u[inside]] = joined[v[inside]] = True
    return float(score[inside].sum() + terms[joined].sum())


def _violations(num: int, part: np.ndarray, u: np.ndarray, v: np.ndarray,
                chosen: np.ndarray) -> list[list[int]]:
    """Paths (lists of edge indices) of chosen edges joining two candidates of one part."""
    sel = np.flatnonzero(chosen)
    lab = _small_labels(num, u[sel], v[sel])
    touched = np.unique(np.concatenate([u[sel], v[sel]]))
    keys = lab[touched] * (part.max() + 1) + part[touched]
    uniq, counts = np.unique(keys, return_counts=True)
    if not (counts > 1).any():
        return []
    graph = sparse.coo_matrix((np.ones(len(sel)), (u[sel], v[sel])), shape=(num, num)).tocsr()
    edge_of = {}
    for e, a, b in zip(sel.tolist(), u[sel].tolist(), v[sel].tolist(), strict=True):
        edge_of[a, b] = edge_of[b, a] = e
    paths = []
    for key in uniq[counts > 1]:
        same = touched[keys == key]  # ascending ids: cut paths from the first to each other
        _, pred = csgraph.breadth_first_order(graph, int(same[0]), directed=False)
        for end in same[1:].tolist():
            path, node = [], end
            while node != same[0]:
                path.append(edge_of[node, int(pred[node])])
                node = int(pred[node])
            paths.append(path[::-1])
    return paths


def solve_clustering(edges: Edges, part: np.ndarray, terms: np.ndarray, warm: np.ndarray, *,
                     time_limit: float, solver: str) -> ClusterSolution:
    """Best consistent edge choice (module docstring), component by component.

    Args:
        edges: the accepted edges the ILP may choose.
        part: (N,) part of each global candidate id; terms: (N,) node terms.
        warm: (E,) bool, a consistent choice to start from (and fall back on).
        time_limit: seconds for the whole call; solver: ``"highs"`` or ``"cbc"``.
    """
    deadline = time.perf_counter() + time_limit
    N, E = len(part), len(edges)
    chosen = np.zeros(E, dtype=bool)
    info = {"components": 0, "ilp_components": 0, "iterations": 0, "cuts": 0,
            "bound": 0.0, "warm_value": 0.0}
    if E == 0:
        return ClusterSolution(chosen, "optimal", info)
    comp = component_labels(N, edges.u, edges.v)[edges.u]
    order = np.argsort(comp, kind="stable")
    starts = np.flatnonzero(np.r_[True, comp[order][1:] != comp[order][:-1]])
    info["components"] = len(starts)
    timed_out = False
    for group in np.split(order, starts[1:]):
        nodes, inv = np.unique(np.concatenate([edges.u[group], edges.v[group]]),
                               return_inverse=True)
        local = _Component(nodes, inv[: len(group)], inv[len(group):], edges.score[group],
                           edges.limb[group], part[nodes], terms[nodes], warm[group])
        if local.trivial():
            chosen[group] = True
            info["bound"] += float(local.score.sum() + local.terms.sum())
            continue
        info["ilp_components"] += 1
        pick, bound, done = local.solve(deadline, solver, info)
        chosen[group] = pick
        info["bound"] += bound
        timed_out |= not done
    info["warm_value"] = clustering_value(N, edges.u, edges.v, edges.score, terms, warm)
    return ClusterSolution(chosen, "time_limit" if timed_out else "optimal", info)


@dataclass
class _Component:
    """One independent component of the candidate graph, in local ids."""

    nodes: np.ndarray  # (n,) global ids
    u: np.ndarray  # (m,) local ids
    v: np.ndarray
    score: np.ndarray
    limb: np.ndarray
    part: np.ndarray  # (n,)
    terms: np.ndarray  # (n,)
    warm: np.ndarray  # (m,) bool

    def value(self, chosen: np.ndarray) -> float:
        return clustering_value(len(self.nodes), self.u, self.v, self.score, self.terms, chosen)

    def trivial(self) -> bool:
        """No part twice and nothing negative: taking every edge is optimal."""
        return (len(np.unique(self.part)) == len(self.part) and bool((self.score >= 0).all())
                and bool((self.terms >= 0).all()))

    def _program(self) -> BinaryProgram:
        n, m = len(self.nodes), len(self.u)
        program = BinaryProgram(np.concatenate([self.score, self.terms]))
        ends = np.concatenate([self.u, self.v])
        edge = np.tile(np.arange(m), 2)
        key = ends * (int(self.limb.max()) + 1) + np.tile(self.limb, 2)
        idx = np.lexsort((edge, key))
        split = np.flatnonzero(np.diff(key[idx])) + 1
        for run in np.split(idx, split):  # one partner per limb; z <= y
            node = int(ends[run[0]])
            program.add_row(edge[run].tolist() + [m + node], [1.0] * len(run) + [-1.0], 0.0)
        incident: list[list[int]] = [[] for _ in range(n)]
        for e, a in zip(edge.tolist(), ends.tolist(), strict=True):
            incident[a].append(e)
        for i in np.flatnonzero(self.terms > 0).tolist():  # a term is paid only when joined
            program.add_row([m + i] + incident[i], [1.0] + [-1.0] * len(incident[i]), 0.0)
        return program

    def _start(self, chosen: np.ndarray) -> np.ndarray:
        joined = np.zeros(len(self.nodes))
        joined[self.u[chosen]] = joined[self.v[chosen]] = 1.0
        return np.concatenate([chosen.astype(float), joined])

    def solve(self, deadline: float, solver: str, info: dict) -> tuple[np.ndarray, float, bool]:
        """(chosen edges, upper bound, proven optimal) for this component."""
        n, m = len(self.nodes), len(self.u)
        program = self._program()
        best, best_value = self.warm.copy(), self.value(self.warm)
        bound = float(np.maximum(self.score, 0).sum() + np.maximum(self.terms, 0).sum())
        while True:
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                return best, bound, False
            sol = program.solve(solver, remaining,
                                self._start(best) if solver == "cbc" else None)
            info["iterations"] += 1
            if sol.bound is not None:
                bound = min(bound, sol.bound)
            if sol.state == "none":
                return best, bound, False
            pick = sol.x[:m] > 0.5
            paths = _violations(n, self.part, self.u, self.v, pick)
            if not paths:
                value = self.value(pick)
                if value > best_value:
                    best, best_value = pick, value
                return best, (best_value if sol.state == "optimal" else bound), \
                    sol.state == "optimal"
            repaired = _repair(n, self.part, self.u, self.v, self.score, pick)
            value = self.value(repaired)
            if value > best_value:
                best, best_value = repaired, value
            for path in paths:
                inner = _inner_nodes(self.u, self.v, path)
                program.add_row(path + [m + i for i in inner],
                                [1.0] * len(path) + [-1.0] * len(inner), 0.0)
            info["cuts"] += len(paths)


def _inner_nodes(u: np.ndarray, v: np.ndarray, path: list[int]) -> list[int]:
    """Candidates strictly inside a path of edges (each shared by two consecutive edges)."""
    return [int(np.intersect1d((u[a], v[a]), (u[b], v[b]))[0])
            for a, b in zip(path[:-1], path[1:], strict=True)]


def _repair(num: int, part: np.ndarray, u: np.ndarray, v: np.ndarray, score: np.ndarray,
            chosen: np.ndarray) -> np.ndarray:
    """A consistent choice from an inconsistent one: clusters joined best edge first, never
    two candidates of one part, then every edge inside a cluster."""
    root = consistent_labels(num, part, u[chosen], v[chosen], score[chosen])
    return root[u] == root[v]
