"""What each parser does on small hand-made graphs, the ILP options, and the contract."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

import posekit
from posekit.decode.graph import CandidateGraph
from posekit.parsers import get_parser
from posekit.parsers.base import ObjectiveWeights, PostRules, objective, validate_assignment
from posekit.skeleton import Skeleton
from tests.parsers.graph_strategies import COCO18, crowd_graph

# a chain a-b-c-d whose limbs are listed out of order: (a, b), (c, d), then (b, c)
CHAIN = Skeleton(name="chain4", keypoints=("a", "b", "c", "d"),
                 limbs=(("a", "b"), ("c", "d"), ("b", "c")), redundant_limbs=(("a", "c"),))
KEEP_ALL = PostRules(min_parts=2, min_score=0.0)


def graph(skeleton, counts, pairs):
    """Candidates at distinct points with score 0.9; ``pairs[l]`` = [(i, j, score), ...]."""
    peaks = tuple(np.array([[10.0 * k, 10.0 * i, 0.9] for i in range(n)]).reshape(-1, 3)
                  for k, n in enumerate(counts))
    limb_pairs = tuple(np.array([(i, j) for i, j, _ in p], dtype=np.intp).reshape(-1, 2)
                       for p in pairs)
    scores = tuple(np.array([s for _, _, s in p], dtype=float) for p in pairs)
    return CandidateGraph(peaks, limb_pairs, scores, (100, 100))


def assignment(name, g, skeleton, **options):
    return get_parser(name, rules=KEEP_ALL, **options).solve(g, skeleton).assignment


def test_greedy_merges_partial_people_as_openpose():
    g = graph(CHAIN, [1, 1, 1, 1], [[(0, 0, 0.9)], [(0, 0, 0.8)], [(0, 0, 0.7)], []])
    out = assignment("greedy", g, CHAIN)
    assert out.tolist() == [[0, 0, 0, 0]]  # (a, b) and (c, d) became one person via (b, c)


def test_greedy_takes_the_best_connection_first_where_hungarian_maximises_the_sum():
    two = Skeleton(name="two", keypoints=("a", "b"), limbs=(("a", "b"),))
    g = graph(two, [2, 2], [[(0, 0, 0.9), (0, 1, 0.8), (1, 0, 0.8), (1, 1, 0.1)]])
    assert sorted(assignment("greedy", g, two).tolist()) == [[0, 0], [1, 1]]  # 0.9 + 0.1
    assert sorted(assignment("hungarian", g, two).tolist()) == [[0, 1], [1, 0]]  # 0.8 + 0.8


def test_redundant_limbs_never_create_a_person():
    g = graph(CHAIN, [1, 1, 1, 1], [[], [], [], [(0, 0, 0.9)]])  # only the redundant a-c
    for name in ("greedy", "hungarian", "tree-ilp"):
        assert assignment(name, g, CHAIN).shape == (0, 4), name


def test_greedy_redundant_limb_fills_an_empty_slot_but_never_overwrites():
    # person {a0, b0} exists; redundant a-c offers c0 (free slot) -> filled
    g = graph(CHAIN, [1, 1, 1, 0], [[(0, 0, 0.9)], [], [], [(0, 0, 0.5)]])
    assert assignment("greedy", g, CHAIN).tolist() == [[0, 0, 0, -1]]
    # person {a0, b0, c0} and a redundant pair a0-c1: c stays c0, c1 stays alone
    g = graph(CHAIN, [1, 1, 2, 0], [[(0, 0, 0.9)], [], [(0, 0, 0.9)], [(0, 1, 0.95)]])
    assert assignment("greedy", g, CHAIN).tolist() == [[0, 0, 0, -1]]


def test_hungarian_never_uses_an_unaccepted_pair():
    two = Skeleton(name="two", keypoints=("a", "b"), limbs=(("a", "b"),))
    # a0-b0 and a1-b0 accepted; a1-b1 is not, although a full matching would pair them
    g = graph(two, [2, 2], [[(0, 0, 0.9), (1, 0, 0.8)]])
    for name in ("hungarian", "tree-ilp", "full-ilp", "greedy"):
        assert assignment(name, g, two).tolist() == [[0, 0]], name


def test_tree_ilp_weighs_node_terms_where_hungarian_ignores_them():
    # b0 is a weak peak: joining it to a0 and c0 gains 2 x 0.2 PAF but its node term
    # is 0.1 - 0.6 = -0.5 (a0 and c0 sit exactly at the bias: 0)
    three = Skeleton(name="three", keypoints=("a", "b", "c"), limbs=(("a", "b"), ("b", "c")))
    g = CandidateGraph((np.array([[0.0, 0.0, 0.6]]), np.array([[10.0, 0.0, 0.1]]),
                        np.array([[20.0, 0.0, 0.6]])),
                       (np.array([[0, 0]]), np.array([[0, 0]])), (np.array([0.2]), np.array([0.2])))
    weights = ObjectiveWeights(node_weight=1.0, node_bias=0.6)
    assert assignment("hungarian", g, three, weights=weights).tolist() == [[0, 0, 0]]
    assert assignment("tree-ilp", g, three, weights=weights).shape == (0, 3)
    assert objective(np.array([[0, 0, 0]]), g, three, weights) == pytest.approx(-0.1)


def test_full_ilp_never_puts_two_candidates_of_a_part_together_around_a_cycle():
    # a0-b0-c0 (tree) and a1-c0 (redundant a-c): taking all three pairs would put a0 and
    # a1 in one person (4.7 without the cut); the best valid choice is {a0, b0, c0} (3.9)
    g = graph(CHAIN, [2, 1, 1, 0], [[(0, 0, 0.9)], [], [(0, 0, 0.9)], [(1, 0, 0.1)]])
    result = get_parser("full-ilp", rules=KEEP_ALL).solve(g, CHAIN)
    assert result.status == "optimal" and result.info["cuts"] >= 1
    assert result.assignment.tolist() == [[0, 0, 0, -1]]
    assert result.objective == pytest.approx(0.9 + 0.9 + 3 * 0.7)


@pytest.fixture(scope="module")
def big_crowd():
    return crowd_graph(COCO18, np.random.default_rng(0), 40, spurious=1.0, false_positives=0.3)


def test_time_limit_returns_the_best_found_with_status_time_limit(big_crowd):
    greedy = get_parser("greedy").solve(big_crowd, COCO18)
    result = get_parser("full-ilp", time_limit=0.02).solve(big_crowd, COCO18)
    assert result.status == "time_limit"
    validate_assignment(result.assignment, big_crowd)
    assert result.objective >= greedy.objective - 1e-9  # at worst greedy's solution
    assert result.info["bound"] >= result.objective
    assert len(result.people) > 10


def test_cbc_is_selectable_and_agrees_with_highs():
    g = crowd_graph(COCO18, np.random.default_rng(3), 3)
    for name in ("tree-ilp", "full-ilp"):
        highs = get_parser(name, solver="highs").solve(g, COCO18)
        cbc = get_parser(name, solver="cbc").solve(g, COCO18)
        assert cbc.status == highs.status == "optimal"
        assert cbc.objective == pytest.approx(highs.objective, abs=1e-6)
        assert repr(get_parser(name, solver="cbc")).endswith("solver='cbc')")


@pytest.mark.parametrize("options, message", [
    ({"solver": "gurobi"}, "unknown solver 'gurobi'; choose one of highs, cbc"),
    ({"time_limit": 0}, "time_limit must be positive"),
])
def test_bad_ilp_options_are_refused(options, message):
    for name in ("tree-ilp", "full-ilp"):
        with pytest.raises(posekit.PosekitError, match=message):
            get_parser(name, **options)


@pytest.mark.parametrize("name", posekit.list_parsers())
def test_every_installed_parser_turns_candidates_into_people(name):
    parser = get_parser(name, rules=PostRules(), weights=ObjectiveWeights())
    g = crowd_graph(COCO18, np.random.default_rng(1), 3, false_positives=0.0, missed=0.0,
                    missed_limbs=0.0, spurious=0.0)
    people = parser(g, COCO18)
    assert isinstance(people, list) and len(people) == 3
    for person in people:
        assert isinstance(person, posekit.Person)
        assert person.keypoints.shape == (COCO18.num_keypoints, 3)
        assert person.score >= 0.4 and person.num_parts >= 3
    scores = [p.score for p in people]
    assert scores == sorted(scores, reverse=True)


def test_objective_ignores_candidates_no_accepted_pair_joins():
    two = Skeleton(name="two3", keypoints=("a", "b", "c"), limbs=(("a", "b"), ("b", "c")))
    g = graph(two, [1, 1, 1], [[(0, 0, 0.5)], []])
    joined = objective(np.array([[0, 0, -1]]), g, two)
    assert joined == pytest.approx(0.5 + 2 * (0.9 - 0.2))
    assert objective(np.array([[0, 0, 0]]), g, two) == pytest.approx(joined)  # c0 is stray
    assert objective(np.array([[0, -1, 0]]), g, two) == 0.0


def test_ilp_parsers_print_nothing_on_stdout():
    # HiGHS prints a banner when a process creates its first solver; JSON on stdout
    # (posekit parse) must stay clean
    code = (
        "import numpy as np\n"
        "from posekit.decode.graph import CandidateGraph\n"
        "from posekit.parsers import get_parser\n"
        "from posekit.skeleton import Skeleton\n"
        "sk = Skeleton(name='chain3', keypoints=('a', 'b', 'c'), limbs=(('a', 'b'), ('b', 'c')),"
        " redundant_limbs=(('a', 'c'),))\n"
        "pk = np.array([[0, 0, 0.9], [9, 9, 0.9]])\n"
        "g = CandidateGraph((pk, pk[:1], pk[:1]), (np.array([[0, 0]]), np.array([[0, 0]]),"
        " np.array([[1, 0]])), (np.array([0.9]), np.array([0.9]), np.array([0.1])))\n"
        "r = get_parser('full-ilp').solve(g, sk)\n"
        "assert r.info['iterations'] >= 1, r.info\n"
    )
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True)
    assert out.stdout == ""
