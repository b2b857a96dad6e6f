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
from posekit.skeleton import Skeleton, list_skeletons
from tests.parsers.graph_strategies import COCO18, TOY, crowd_graph, random_graph

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
                          exchange=draw(st.booleans()), suppress=draw(st.booleans()),
                          margin=draw(st.floats(0.0, 1.0)))
    return skeleton, graph, random_assignment(graph, skeleton, rng), rules


def without_exchanges(rules: FragmentRules) -> FragmentRules:
    return FragmentRules(max_parts=rules.max_parts, reattach=rules.reattach, exchange=False,
                         suppress=rules.suppress, margin=rules.margin)


def members(a: np.ndarray, graph: CandidateGraph) -> list[set[int]]:
    """Global candidate ids of each person."""
    return [{int(graph.offsets[k] + i) for k, i in enumerate(row) if i >= 0} for row in a]


@SETTINGS
@given(cases())
def test_without_exchanges_people_stay_valid_whole_and_apart(case):
    """No candidate twice, no part twice in a person (the (P, K) form), every input
    person either kept whole inside one output person or dropped as a fragment, and only
    candidates no one had (or a dropped fragment had) are added."""
    skeleton, graph, a, rules = case
    rules = without_exchanges(rules)
    out = refine_fragments(a, graph, skeleton, rules)
    validate_assignment(out, graph)
    before, after = members(a, graph), members(out, graph)
    kept = [p for p in before if any(p <= q for q in after)]
    for person in before:
        if person in kept:
            assert len([q for q in after if person & q]) == 1, "a person was split"
        else:
            assert rules.suppress and len(person) <= rules.max_parts, "a person was lost"
    for q in after:
        assert any(p <= q for p in kept), "a person made of no input person"
    added = set().union(*after) - set().union(*kept) if after else set()
    assert all(not any(c in p for p in kept) for c in added)


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
    """Re-attaching only ever adds accepted pairs inside people (and exchanges made for
    the limb part of the objective only raise it)."""
    skeleton, graph, a, rules = case
    rules = FragmentRules(max_parts=rules.max_parts, exchange=rules.exchange, suppress=False)
    limbs_only = ObjectiveWeights(node_weight=0.0)
    out = refine_fragments(a, graph, skeleton, rules, limbs_only)
    assert objective(out, graph, skeleton, limbs_only) >= \
        objective(a, graph, skeleton, limbs_only) - 1e-9


@SETTINGS
@given(cases(), st.floats(0.0, 2.0), st.floats(-0.5, 1.0))
def test_exchanges_never_lower_the_objective_and_keep_people_valid(case, node_weight,
                                                                   node_bias):
    """Whatever the node terms: each exchange raises the shared objective, no candidate
    ends up twice, and a person an exchange made is joined by accepted pairs."""
    skeleton, graph, a, _ = case
    weights = ObjectiveWeights(node_weight, node_bias)
    rules = FragmentRules(reattach=False, suppress=False)
    out = refine_fragments(a, graph, skeleton, rules, weights)
    validate_assignment(out, graph)
    assert objective(out, graph, skeleton, weights) >= \
        objective(a, graph, skeleton, weights) - 1e-9
    before = {tuple(row) for row in a.tolist()}
    for row in out:
        if tuple(row.tolist()) not in before:
            assert joined(row, graph, skeleton), row


@settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(cases(), st.floats(0.0, 2.0), st.floats(-0.5, 1.0))
def test_no_exchange_that_a_link_supports_and_raises_the_objective_is_left(case, node_weight,
                                                                          node_bias):
    """Tried one by one afterwards, every exchange of two people at a tree limb that an
    accepted pair between them crosses leaves the objective as it is or lowers it."""
    skeleton, graph, a, _ = case
    weights = ObjectiveWeights(node_weight, node_bias)
    out = refine_fragments(a, graph, skeleton, FragmentRules(reattach=False, suppress=False),
                           weights)
    for side in tree_sides(skeleton):
        for p in range(len(out)):
            for q in range(p + 1, len(out)):
                pair = out[[p, q]]
                if not linked_across(pair, side, graph, skeleton):
                    continue
                swapped = np.stack([np.where(side, pair[1], pair[0]),
                                    np.where(side, pair[0], pair[1])])
                assert objective(swapped, graph, skeleton, weights) <= \
                    objective(pair, graph, skeleton, weights) + 1e-9


def linked_across(pair: np.ndarray, side: np.ndarray, graph: CandidateGraph,
                  skeleton: Skeleton) -> bool:
    """Whether an accepted pair joins one person's part on one side of a cut to the other
    person's part on the other side."""
    for l, (a, b) in enumerate(skeleton.limb_index.tolist()):
        if side[a] != side[b]:
            for x, y in ((0, 1), (1, 0)):
                if [pair[x, a], pair[y, b]] in graph.pairs[l].tolist():
                    return True
    return False


def tree_sides(skeleton: Skeleton) -> list[np.ndarray]:
    """For each tree limb, (K,) bool: the parts its second keypoint reaches without it."""
    tree = [tuple(limb) for limb in skeleton.limb_index[: skeleton.num_tree_limbs].tolist()]
    out = []
    for cut in tree:
        reached, todo = {cut[1]}, [cut[1]]
        while todo:
            k = todo.pop()
            for limb in tree:
                if limb != cut and k in limb:
                    other = limb[1] if limb[0] == k else limb[0]
                    if other not in reached:
                        reached.add(other)
                        todo.append(other)
        out.append(np.isin(np.arange(skeleton.num_keypoints), list(reached)))
    return out


def joined(row: np.ndarray, graph: CandidateGraph, skeleton: Skeleton) -> bool:
    """Whether accepted pairs join all of a person's candidates into one piece."""
    parts = set(np.flatnonzero(row >= 0).tolist())
    links = [(int(a), int(b)) for l, (a, b) in enumerate(skeleton.limb_index)
             if a in parts and b in parts and [row[a], row[b]] in graph.pairs[l].tolist()]
    seen, todo = {min(parts)}, [min(parts)]
    while todo:
        k = todo.pop()
        for a, b in links:
            for x, y in ((a, b), (b, a)):
                if x == k and y not in seen:
                    seen.add(y)
                    todo.append(y)
    return len(parts) >= 2 and seen == parts


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.floats(0.3, 0.9))
def test_full_ilp_leaves_no_join_or_exchange_to_make(seed, density):
    """Every join and every exchange adds to the objective that full-ilp maximises (node
    terms >= 0 here): its answer has none left, so the stage only ever suppresses on it."""
    rng = np.random.default_rng(seed)
    graph = random_graph(TOY, rng, 3, density)
    peaks = tuple(np.column_stack([p[:, :2], np.maximum(p[:, 2], 0.2)]) for p in graph.peaks)
    graph = CandidateGraph(peaks, graph.pairs, graph.scores, graph.image_size)
    raw = get_parser("full-ilp").solve(graph, TOY).assignment
    out = refine_fragments(raw, graph, TOY, FragmentRules(suppress=False))
    assert sorted(map(sorted, members(out, graph))) == sorted(map(sorted, members(raw, graph)))


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(st.integers(0, 2**32 - 1), st.booleans(), st.floats(0.0, 2.0), st.floats(-0.5, 1.0))
def test_full_ilp_optimum_has_no_exchange_to_make(seed, crowd, node_weight, node_bias):
    """Exchanges only ever raise the objective, so whatever the node terms the optimum
    full-ilp finds for them (noisy coco18 crowds, dense toy graphs) is left as it is."""
    rng = np.random.default_rng(seed)
    skeleton = COCO18 if crowd else TOY
    graph = crowd_graph(COCO18, rng, int(rng.integers(2, 5))) if crowd else \
        random_graph(TOY, rng, 3, rng.uniform(0.3, 0.9))
    weights = ObjectiveWeights(node_weight, node_bias)
    raw = get_parser("full-ilp", weights=weights).solve(graph, skeleton).assignment
    out = refine_fragments(raw, graph, skeleton, FragmentRules(reattach=False, suppress=False),
                           weights)
    assert np.array_equal(out, raw)


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


# two people side by side whose right and left shoulders nearly touch (4 px apart)
SHOULDERS = Skeleton(
    name="shoulders5",
    keypoints=("l_shoulder", "r_shoulder", "r_elbow", "l_hip", "r_hip"),
    limbs=(("l_shoulder", "r_shoulder"), ("r_shoulder", "r_elbow"), ("l_shoulder", "l_hip"),
           ("r_shoulder", "r_hip")),
    redundant_limbs=(("l_hip", "r_hip"),),
)


def overlapping_pair() -> tuple[CandidateGraph, np.ndarray]:
    """Candidate 0 of each part is person A's, candidate 1 person B's, B just left of A.
    Every limb of each person is accepted (0.9), but the two shoulder-shoulder PAFs cross
    where the shoulders touch: A's left shoulder to B's right one and B's left to A's right
    score 0.9, each person's own pair 0.7. Returns the graph and the true people."""
    a = np.array([[100, 100], [60, 100], [55, 140], [95, 180], [65, 180]], dtype=float)
    b = a - (44, 0)  # B's left shoulder 4 px from A's right shoulder
    peaks = tuple(np.array([[*a[k], 0.9], [*b[k], 0.9]]) for k in range(5))
    own = np.array([[0, 0], [1, 1]])
    pairs = (np.array([[0, 0], [1, 1], [0, 1], [1, 0]]), own, own, own, own)
    scores = (np.array([0.7, 0.7, 0.9, 0.9]), *[np.array([0.9, 0.9])] * 4)
    truth = np.stack([np.column_stack([a, np.full(5, 0.9)]),
                      np.column_stack([b, np.full(5, 0.9)])])
    return CandidateGraph(peaks, pairs, scores, (200, 200)), truth


def keypoints(people) -> list[list[list[float]]]:
    """People's keypoints in a fixed order, to compare sets of people."""
    return sorted(p.keypoints.tolist() for p in people)


def keypoints_of(people: np.ndarray) -> list[list[list[float]]]:
    return sorted(p.tolist() for p in people)


@pytest.mark.parametrize("parser", ["greedy", "hungarian", "tree-ilp"])
def test_two_people_mixed_at_crossing_shoulders_are_put_right_by_an_exchange(parser):
    """The shoulder-shoulder limb alone prefers the crossed pairs (0.9 + 0.9 > 0.7 + 0.7),
    so a parser that decides it alone gives each person the other's right side (arm and
    hip follow their shoulder); the hip-hip limb links each left hip to its own right hip.
    Exchanging the right sides raises the objective by 1.4: the people come out right,
    as full-ilp finds them."""
    graph, truth = overlapping_pair()
    rules = PostRules(fragments=FragmentRules(exchange=False))
    mixed = get_parser(parser, rules=rules)(graph, SHOULDERS)
    assert len(mixed) == 2 and keypoints(mixed) != keypoints_of(truth)
    assert keypoints(get_parser(parser)(graph, SHOULDERS)) == keypoints_of(truth)
    assert keypoints(get_parser("full-ilp")(graph, SHOULDERS)) == keypoints_of(truth)


def test_an_exchange_is_made_only_when_it_raises_the_objective():
    """With the crossed shoulder pairs scoring 1.6 each, the crossing is the better
    reading of the maps (1.6 + 1.6 > 0.7 + 0.7 + 0.9 + 0.9): people stay as parsed."""
    graph, truth = overlapping_pair()
    scores = (np.array([0.7, 0.7, 1.6, 1.6]), *graph.scores[1:])
    graph = CandidateGraph(graph.peaks, graph.pairs, scores, graph.image_size)
    full = keypoints(get_parser("full-ilp")(graph, SHOULDERS))
    assert full != keypoints_of(truth)
    for parser in ("greedy", "hungarian", "tree-ilp"):
        assert keypoints(get_parser(parser)(graph, SHOULDERS)) == full, parser


@pytest.mark.parametrize("parser", ["greedy", "hungarian"])
def test_an_arm_taken_by_a_weak_second_shoulder_peak_goes_back_to_its_person(parser):
    """Person A, and a weak second peak at its right shoulder (score 0.1, below the
    objective's node bias 0.2) whose PAF to A's elbow scores 0.95, A's own 0.9: a parser
    deciding that limb by PAF scores alone gives the elbow to the weak peak. Moving the
    elbow back loses 0.05 of PAF score but leaves the weak peak alone (+0.1): the
    objective rises, and A gets its elbow, as full-ilp (and tree-ilp, which weighs
    peaks too) gives it."""
    a = np.array([[100, 100], [60, 100], [55, 140], [95, 180], [65, 180]], dtype=float)
    peaks = tuple(np.array([[*a[k], 0.9]]) for k in range(5))
    peaks = (peaks[0], np.array([[60, 100, 0.9], [62, 103, 0.1]]), *peaks[2:])
    pairs = (np.array([[0, 0]]), np.array([[0, 0], [1, 0]]), np.array([[0, 0]]),
             np.array([[0, 0]]), np.array([[0, 0]]))
    scores = (np.array([0.9]), np.array([0.9, 0.95]), *[np.array([0.9])] * 3)
    graph = CandidateGraph(peaks, pairs, scores, (200, 200))
    keep_all = PostRules(min_parts=1, min_score=0.0)
    whole = [[*a[k], 0.9] for k in range(5)]
    assert [p.keypoints.tolist() for p in get_parser("full-ilp", rules=keep_all)(
        graph, SHOULDERS)] == [whole]
    off = PostRules(min_parts=1, min_score=0.0, fragments=FragmentRules(exchange=False))
    assert whole not in [p.keypoints.tolist() for p in get_parser(parser, rules=off)(
        graph, SHOULDERS)]
    assert [p.keypoints.tolist() for p in get_parser(parser, rules=keep_all)(
        graph, SHOULDERS)] == [whole]


def test_a_real_photo_of_two_overlapping_people_is_parsed_as_full_ilp_does():
    """COCO image 370162 (bundled real set, coco17): two people whose shoulders are 4 px
    apart. On its ideal maps every parser recovers all 10 people with no extra one."""
    if "coco17" not in list_skeletons():
        pytest.skip("the coco17 plugin is not installed")
    from posekit.compare.count import count_people
    from posekit.compare.real import load_real, parse_scene

    real = load_real("coco17")
    scene = next(s for s in real.photos() if s.image_id == 370162)
    for parser in ("full-ilp", "tree-ilp", "hungarian", "greedy"):
        found = parse_scene(real.skeleton, scene, get_parser(parser), field="rect")
        count = count_people(found, scene.keypoints, real.skeleton, areas=scene.areas)
        assert (count.recovered, count.extra) == (10, 0), parser
