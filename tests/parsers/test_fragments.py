"""The fragment stage (posekit.parsers.fragments): properties and what users see."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from posekit.decode.graph import CandidateGraph
from posekit.errors import PosekitError
from posekit.parsers import PostRules, get_parser
from posekit.parsers.base import ObjectiveWeights, objective, validate_assignment
from posekit.parsers.fragments import FragmentRules, refine_fragments
from posekit.skeleton import Skeleton
from tests.parsers.graph_strategies import COCO18, TOY, random_graph

SETTINGS = settings(max_examples=60, deadline=None,
                    suppress_health_check=[HealthCheck.too_slow])


def random_assignment(graph: CandidateGraph, skeleton: Skeleton,
                      rng: np.random.Generator) -> np.ndarray:
    """People made of random candidates: each candidate in at most one person, at most one
    candidate of a part per person, some candidates left to no one."""
    K = skeleton.num_keypoints
    rows = int(rng.integers(0, 6))
    a = np.full((rows, K), -1, dtype=np.intp)
    for k, peaks in enumerate(graph.peaks):
        for i in rng.permutation(len(peaks)):
            r = int(rng.integers(-1, rows)) if rows else -1
            if r >= 0 and a[r, k] < 0:
                a[r, k] = i
    return a[(a >= 0).any(axis=1)]


@st.composite
def cases(draw, skeletons=(TOY, COCO18)):
    skeleton = draw(st.sampled_from(skeletons))
    rng = np.random.default_rng(draw(st.integers(0, 2**32 - 1)))
    graph = random_graph(skeleton, rng, 4 if skeleton is TOY else 2, rng.uniform(0.2, 0.9))
    rules = FragmentRules(max_parts=draw(st.integers(1, 4)), reattach=draw(st.booleans()),
                          suppress=draw(st.booleans()), margin=draw(st.floats(0.0, 1.0)))
    return skeleton, graph, random_assignment(graph, skeleton, rng), rules


def members(a: np.ndarray, graph: CandidateGraph) -> list[set[int]]:
    """Global candidate ids of each person."""
    return [{int(graph.offsets[k] + i) for k, i in enumerate(row) if i >= 0} for row in a]


@SETTINGS
@given(cases())
def test_people_stay_valid_whole_and_apart(case):
    """No candidate twice, no part twice in a person (the (P, K) form), every input
    person either kept whole inside one output person or dropped as a fragment, and only
    candidates no one had are added."""
    skeleton, graph, a, rules = case
    out = refine_fragments(a, graph, skeleton, rules)
    validate_assignment(out, graph)
    before, after = members(a, graph), members(out, graph)
    taken = set().union(*before) if before else set()
    for person in before:
        holders = [j for j, q in enumerate(after) if person & q]
        assert len(holders) <= 1, "a person was split"
        if holders:
            assert person <= after[holders[0]], "a kept person lost a part"
        else:
            assert rules.suppress and len(person) <= rules.max_parts, "a person was lost"
    for q in after:
        assert len([p for p in before if p & q]) >= 1 or not q  # grown from a person
    added = set().union(*after) - taken if after else set()
    assert all(not any(c in p for p in before) for c in added)


@SETTINGS
@given(cases())
def test_idempotent(case):
    skeleton, graph, a, rules = case
    once = refine_fragments(a, graph, skeleton, rules)
    twice = refine_fragments(once, graph, skeleton, rules)
    assert np.array_equal(once, twice)


@SETTINGS
@given(cases())
def test_joins_never_lower_the_limb_part_of_the_objective(case):
    """Re-attaching only ever adds accepted pairs inside people."""
    skeleton, graph, a, rules = case
    rules = FragmentRules(max_parts=rules.max_parts, suppress=False)
    out = refine_fragments(a, graph, skeleton, rules)
    limbs_only = ObjectiveWeights(node_weight=0.0)
    assert objective(out, graph, skeleton, limbs_only) >= \
        objective(a, graph, skeleton, limbs_only) - 1e-9


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.floats(0.3, 0.9))
def test_full_ilp_leaves_no_join_to_make(seed, density):
    """Every join adds to the objective that full-ilp maximises (node terms >= 0 here):
    its answer has none left, so the stage only ever suppresses on it."""
    rng = np.random.default_rng(seed)
    graph = random_graph(TOY, rng, 3, density)
    peaks = tuple(np.column_stack([p[:, :2], np.maximum(p[:, 2], 0.2)]) for p in graph.peaks)
    graph = CandidateGraph(peaks, graph.pairs, graph.scores, graph.image_size)
    raw = get_parser("full-ilp").solve(graph, TOY).assignment
    out = refine_fragments(raw, graph, TOY, FragmentRules(suppress=False))
    assert sorted(map(sorted, members(out, graph))) == sorted(map(sorted, members(raw, graph)))


def test_rules_are_validated():
    with pytest.raises(PosekitError, match="max_parts"):
        FragmentRules(max_parts=0)
    with pytest.raises(PosekitError, match="margin"):
        FragmentRules(margin=-1.0)


# ------------------------------------------------------------------ user-visible cases
def person_graph(*, lost: tuple[tuple[str, str], ...] = (), offset=(0.0, 0.0),
                 arm_apart: bool = False) -> CandidateGraph:
    """One coco18 person (rest pose, 300 px tall) as a decoder would see it: a candidate
    per part, every limb accepted (score 0.9) except ``lost``; ``arm_apart`` moves the
    right arm far away (a different place than the body)."""
    xy = (COCO18.rest_pose_array - 0.5) * 300 + (328, 184) + np.asarray(offset)
    if arm_apart:
        for k in ("RShoulder", "RElbow", "RWrist"):
            xy[COCO18.index(k)] += (300, 0)
    peaks = tuple(np.array([[x, y, 0.9]]) for x, y in xy)
    pairs, scores = [], []
    for a, b in COCO18.all_limbs:
        keep = (a, b) not in lost
        pairs.append(np.array([[0, 0]] if keep else np.zeros((0, 2)), dtype=np.intp))
        scores.append(np.array([0.9] if keep else []))
    return CandidateGraph(peaks, tuple(pairs), tuple(scores), (656, 368))


@pytest.mark.parametrize("parser", ["hungarian", "tree-ilp"])
def test_an_arm_cut_off_by_a_lost_limb_is_reattached_through_a_redundant_limb(parser):
    """Neck-RShoulder lost: tree parsers see the right arm as a 3-part person of its
    own; its RShoulder-REar PAF (a redundant limb they ignore) puts it back."""
    graph = person_graph(lost=(("Neck", "RShoulder"),))
    alone = get_parser(parser, rules=PostRules(fragments=None))(graph, COCO18)
    assert sorted(p.num_parts for p in alone) == [3, 15]
    people = get_parser(parser)(graph, COCO18)
    assert [p.num_parts for p in people] == [18]


def test_a_lone_ear_linked_only_by_a_redundant_limb_fills_its_slot():
    graph = person_graph(lost=(("REye", "REar"),))
    assert [p.num_parts for p in
            get_parser("hungarian", rules=PostRules(fragments=None))(graph, COCO18)] == [17]
    assert [p.num_parts for p in get_parser("hungarian")(graph, COCO18)] == [18]


def test_an_unlinked_fragment_on_a_person_is_suppressed_but_one_far_away_kept():
    """Both limbs that hold the right arm lost: nothing links it. Lying on the body,
    which has free slots for it, it is that person's lost arm (dropped); far from it,
    it may be someone else's (kept)."""
    lost = (("Neck", "RShoulder"), ("RShoulder", "REar"))
    near = get_parser("greedy")(person_graph(lost=lost), COCO18)
    assert [p.num_parts for p in near] == [15]
    far = get_parser("greedy")(person_graph(lost=lost, arm_apart=True), COCO18)
    assert sorted(p.num_parts for p in far) == [3, 15]
    off = get_parser("greedy", rules=PostRules(fragments=None))(person_graph(lost=lost),
                                                                  COCO18)
    assert sorted(p.num_parts for p in off) == [3, 15]


def test_the_parsers_raw_assignment_is_left_alone():
    graph = person_graph(lost=(("Neck", "RShoulder"),))
    result = get_parser("hungarian").solve(graph, COCO18)
    assert len(result.assignment) == 2 and [p.num_parts for p in result.people] == [18]
