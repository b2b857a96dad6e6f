"""The count metric: people recovered, missed and added, on hand-made cases."""

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from posekit import load_skeleton
from posekit.compare.count import PeopleCount, count_people, oks
from posekit.people import Person

COCO18 = load_skeleton("coco18")
REST = COCO18.rest_pose_array


def person(x0: float, y0: float, size: float = 200.0, parts=None) -> np.ndarray:
    """A coco18 person in the rest pose, ``size`` pixels tall, labelled ``parts`` (all)."""
    kp = np.zeros((18, 3))
    kp[:, :2] = REST * size + (x0, y0)
    kp[:, 2] = 2
    if parts is not None:
        keep = np.zeros(18, dtype=bool)
        keep[[COCO18.index(p) for p in parts]] = True
        kp[~keep] = 0
    return kp


ARM = ("RShoulder", "RElbow", "RWrist")
HEAD = ("Nose", "REye", "LEye", "REar", "LEar")


def test_exact_people_are_recovered():
    truth = np.stack([person(0, 0), person(300, 0)])
    c = count_people(truth.copy(), truth, COCO18)
    assert (c.recovered, c.missed, c.extra) == (2, 0, 0)
    assert c.recall == 1.0 and c.extra_rate == 0.0


def test_a_split_person_is_recovered_once_and_the_fragment_is_extra():
    truth = person(0, 0)[None]
    body = person(0, 0)
    for p in ARM:
        body[COCO18.index(p)] = 0
    found = np.stack([body, person(0, 0, parts=ARM)])
    c = count_people(found, truth, COCO18)
    assert (c.recovered, c.missed, c.extra) == (1, 0, 1)


def test_a_person_in_pieces_none_of_which_matches_is_missed():
    truth = person(0, 0)[None]
    found = np.stack([person(0, 0, parts=ARM), person(0, 0, parts=HEAD)])
    c = count_people(found, truth, COCO18)
    assert (c.recovered, c.missed, c.extra) == (0, 1, 2)


def test_matching_is_one_to_one():
    truth = person(0, 0)[None]
    c = count_people(np.stack([truth[0], truth[0]]), truth, COCO18)
    assert (c.recovered, c.extra) == (1, 1)


def test_matching_takes_as_many_pairs_as_possible():
    # found A fits both true people (the second a little better); found B only the second.
    # Taking the best pair first would leave B unmatched; the count takes both pairs.
    t1, t2 = person(0, 0), person(2, 0)
    truth = np.stack([t1, t2])
    a, b = person(2, 0), person(16, 0)
    sim = oks(truth, np.stack([a, b]), COCO18)
    assert sim[1, 0] > sim[0, 0] >= 0.5 and sim[1, 1] >= 0.5 > sim[0, 1]
    c = count_people(np.stack([a, b]), truth, COCO18)
    assert (c.recovered, c.missed, c.extra) == (2, 0, 0)


def test_persons_and_empty_inputs():
    truth = np.stack([person(0, 0)])
    assert count_people([Person(truth[0], 1.0)], truth, COCO18).recovered == 1
    assert count_people([], truth, COCO18) == PeopleCount(1, 0, 0)
    assert count_people(truth, np.zeros((0, 18, 3)), COCO18) == PeopleCount(0, 1, 0)


def test_area_sets_the_tolerance():
    truth = person(0, 0)[None]
    moved = person(6, 0)[None]
    assert count_people(moved, truth, COCO18, areas=np.array([40000.0])).recovered == 1
    assert count_people(moved, truth, COCO18, areas=np.array([100.0])).recovered == 0


def test_counts_add_up_and_print():
    total = PeopleCount.total([PeopleCount(2, 3, 2), PeopleCount(5, 4, 3)])
    assert total == PeopleCount(7, 7, 5)
    assert (total.missed, total.extra, str(total)) == (2, 2, "5/7 +2")
    assert total.to_dict() == {"people": 7, "found": 7, "recovered": 5, "missed": 2,
                               "extra": 2}


@settings(max_examples=30, deadline=None)
@given(st.lists(st.tuples(st.floats(0, 2000), st.floats(0, 2000)), min_size=0, max_size=6),
       st.lists(st.tuples(st.floats(0, 2000), st.floats(0, 2000)), min_size=0, max_size=6))
def test_counts_are_consistent(true_at, found_at):
    truth = np.stack([person(x, y) for x, y in true_at]) if true_at else np.zeros((0, 18, 3))
    found = np.stack([person(x, y) for x, y in found_at]) if found_at else np.zeros((0, 18, 3))
    c = count_people(found, truth, COCO18)
    assert c.people == len(truth) and c.found == len(found)
    assert 0 <= c.recovered <= min(len(truth), len(found))
    assert c.missed + c.recovered == len(truth) and c.extra + c.recovered == len(found)
    # the ground truth found again is always fully recovered
    assert count_people(truth, truth, COCO18).recovered == len(truth)


def test_wrong_areas_shape_is_an_error():
    from posekit.errors import PosekitError

    with pytest.raises(PosekitError, match="one value per true person"):
        count_people(person(0, 0)[None], person(0, 0)[None], COCO18, areas=np.ones(3))
