"""Properties every parser keeps on random and noisy candidate graphs."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from posekit.decode.graph import CandidateGraph
from posekit.parsers import get_parser
from posekit.parsers.base import objective, validate_assignment
from posekit.skeleton import Skeleton
from tests.parsers.graph_strategies import (
    COCO18,
    TOY,
    crowd_graphs,
    empty_graph,
    random_graph,
    random_graphs,
)

PARSERS = ("greedy", "hungarian", "tree-ilp", "full-ilp")
TREE_ONLY = {"hungarian", "tree-ilp"}  # parsers that never use redundant limbs
SETTINGS = settings(max_examples=25, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


FAMILIES = {
    "toy": random_graphs(TOY, 3),  # dense, cycles through both redundant limbs
    "coco18-random": random_graphs(COCO18, 2),
    "coco18-crowd": crowd_graphs(COCO18, 4),  # noisy crowds as a decoder would see them
}
family = pytest.mark.parametrize("graphs", list(FAMILIES.values()), ids=list(FAMILIES))


def _skeleton_of(graph):
    return TOY if len(graph.peaks) == TOY.num_keypoints else COCO18


def _solve_all(graph, skeleton):
    return {name: get_parser(name).solve(graph, skeleton) for name in PARSERS}


def _linked(person_row, graph, skeleton, limbs):
    """Is every candidate of a person joined to the others through accepted pairs?"""
    parts = [k for k in range(len(person_row)) if person_row[k] >= 0]
    adjacency = {k: set() for k in parts}
    for l in limbs:
        a, b = skeleton.limb_index[l]
        if person_row[a] < 0 or person_row[b] < 0:
            continue
        if any((i, j) == (person_row[a], person_row[b]) for i, j in graph.pairs[l].tolist()):
            adjacency[a].add(b)
            adjacency[b].add(a)
    seen, todo = {parts[0]}, [parts[0]]
    while todo:
        for nxt in adjacency[todo.pop()] - seen:
            seen.add(nxt)
            todo.append(nxt)
    return seen == set(parts)


@family
@SETTINGS
@given(data=st.data())
def test_people_are_valid_and_joined_by_accepted_pairs(graphs, data):
    graph = data.draw(graphs)
    skeleton = _skeleton_of(graph)
    for name, result in _solve_all(graph, skeleton).items():
        validate_assignment(result.assignment, graph)  # no candidate twice, indices in range
        limbs = range(skeleton.num_tree_limbs if name in TREE_ONLY else skeleton.num_limbs)
        for row in result.assignment:
            assert (row >= 0).sum() >= 2, f"{name}: a person of fewer than two parts"
            assert _linked(row, graph, skeleton, limbs), f"{name}: a person not joined by pairs"
        for person in result.people:
            assert person.keypoints.shape == (skeleton.num_keypoints, 3)


@family
@SETTINGS
@given(data=st.data())
def test_full_ilp_is_best_on_the_objective_and_tree_ilp_on_the_tree_objective(graphs, data):
    graph = data.draw(graphs)
    skeleton = _skeleton_of(graph)
    results = _solve_all(graph, skeleton)
    full, tree = results["full-ilp"], results["tree-ilp"]
    assert full.status == "optimal" and tree.status == "optimal"
    for name, result in results.items():
        assert full.objective >= result.objective - 1e-6, name
        tree_value = objective(result.assignment, graph, skeleton, tree_only=True)
        assert objective(tree.assignment, graph, skeleton, tree_only=True) >= tree_value - 1e-6
    # the ILP's own value is the shared objective
    assert full.info["bound"] == pytest.approx(full.objective, abs=1e-6)
    assert full.objective >= full.info["warm_value"] - 1e-9


@family
@SETTINGS
@given(data=st.data())
def test_parsers_are_deterministic(graphs, data):
    graph = data.draw(graphs)
    skeleton = _skeleton_of(graph)
    first, second = _solve_all(graph, skeleton), _solve_all(graph, skeleton)
    for name in PARSERS:
        assert np.array_equal(first[name].assignment, second[name].assignment), name
        assert first[name].people == second[name].people, name


@pytest.mark.parametrize("skeleton", [TOY, COCO18], ids=lambda s: s.name)
@pytest.mark.parametrize("name", PARSERS)
def test_empty_graph_gives_no_people(name, skeleton):
    result = get_parser(name).solve(empty_graph(skeleton), skeleton)
    assert result.people == [] and result.assignment.shape == (0, skeleton.num_keypoints)
    assert result.objective == 0.0


def _best_by_enumeration(graph, skeleton):
    """The best objective over every clustering with at most one candidate per part."""
    nodes = [(k, i) for k, p in enumerate(graph.peaks) for i in range(len(p))]
    best = 0.0

    def place(n, clusters):
        nonlocal best
        if n == len(nodes):
            rows = np.full((len(clusters), skeleton.num_keypoints), -1, dtype=np.intp)
            for r, cluster in enumerate(clusters):
                for k, i in cluster:
                    rows[r, k] = i
            best = max(best, objective(rows, graph, skeleton))
            return
        k, i = nodes[n]
        for cluster in clusters:
            if all(kk != k for kk, _ in cluster):
                cluster.append((k, i))
                place(n + 1, clusters)
                cluster.pop()
        clusters.append([(k, i)])
        place(n + 1, clusters)
        clusters.pop()

    place(0, [])
    return best


@settings(max_examples=40, deadline=None)
@given(st.integers(0, 2**32 - 1), st.floats(0.3, 1.0))
def test_full_ilp_matches_brute_force_on_tiny_graphs(seed, density):
    # 4 parts with up to 2 candidates each, a redundant limb closing a triangle
    tiny = Skeleton(name="tiny4", keypoints=("a", "b", "c", "d"),
                    limbs=(("a", "b"), ("b", "c"), ("c", "d")), redundant_limbs=(("a", "c"),))
    graph = random_graph(tiny, np.random.default_rng(seed), 2, density)
    result = get_parser("full-ilp").solve(graph, tiny)
    assert result.status == "optimal"
    assert result.objective == pytest.approx(_best_by_enumeration(graph, tiny), abs=1e-9)


def test_enumeration_helper_finds_the_best_clustering():
    # two candidates of part a, one of part b, one accepted pair: best is that pair alone
    two = Skeleton(name="two", keypoints=("a", "b"), limbs=(("a", "b"),))
    graph = CandidateGraph((np.array([[0, 0, 0.9], [5, 5, 0.9]]), np.array([[1, 1, 0.9]])),
                           (np.array([[1, 0]]),), (np.array([0.5]),))
    assert _best_by_enumeration(graph, two) == pytest.approx(0.5 + 2 * (0.9 - 0.2))
