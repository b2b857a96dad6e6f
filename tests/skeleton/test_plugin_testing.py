"""posekit.testing: the checks plugin authors run, and the problems they must catch."""

import pytest

import posekit
from posekit.testing import SkeletonCheckError, check_entry_point, check_skeleton

GOOD = dict(
    name="stick5",
    keypoints=("head", "neck", "rhand", "lhand", "hip"),
    limbs=(("neck", "head"), ("neck", "rhand"), ("neck", "lhand"), ("neck", "hip")),
    flip_pairs=(("rhand", "lhand"),),
    sigmas=(0.03, 0.07, 0.06, 0.06, 0.1),
    rest_pose=((0.5, 0.1), (0.5, 0.3), (0.3, 0.5), (0.7, 0.5), (0.5, 0.6)),
)


def make(**changes):
    return posekit.Skeleton(**{**GOOD, **changes})


def problems_of(sk):
    with pytest.raises(SkeletonCheckError) as err:
        check_skeleton(sk)
    return err.value


def test_a_good_skeleton_passes_and_is_returned():
    sk = make()
    assert check_skeleton(sk) is sk


def test_the_error_is_a_skeleton_error_and_an_assertion_error():
    err = problems_of(make(sigmas=(0.03, 0.07, 0.06, 0.06, 5.0)))
    assert isinstance(err, posekit.SkeletonError) and isinstance(err, AssertionError)
    assert err.skeleton == "stick5" and err.field == "sigmas"


def test_every_problem_is_listed_in_one_error():
    sk = make(
        rest_pose=((0.5, 0.1), (0.5, 0.1), (0.3, 0.5), (0.7, 0.8), (0.5, 0.5)),  # 3 problems
        sigmas=(0.0001, 0.07, 0.06, 0.06, 0.1),
    )
    err = problems_of(sk)
    fields = [f for f, _ in err.problems]
    assert fields == ["rest_pose", "flip_pairs", "sigmas"]
    text = str(err)
    assert text.startswith("skeleton 'stick5', field 'rest_pose, flip_pairs, sigmas': "
                           "3 problems")
    assert "limb ('neck', 'head') has zero length" in text
    assert "('rhand', 'lhand') sit at different heights" in text
    assert "sigma 0.0001 of 'head' is implausible" in text


@pytest.mark.parametrize("changes, field, words", [
    (dict(rest_pose=((0.5, 0.1), (0.5, 0.3), (0.3, 0.5), (0.7, 0.5), (0.3, 0.5))),
     "rest_pose", "'rhand' and 'hip' coincide"),
    (dict(rest_pose=((0.5, -0.2), (0.5, 0.3), (0.3, 0.5), (0.7, 0.5), (0.5, 0.6))),
     "rest_pose", "'head' at (0.5, -0.2) lies outside the unit square"),
    (dict(rest_pose=((0.5, 0.1), (0.5, 0.3), (0.3, 0.5), (0.9, 0.5), (0.5, 0.6))),
     "flip_pairs", "neither mirror each other"),
    (dict(sigmas=(0.03, 0.07, 0.05, 0.06, 0.1)), "sigmas",
     "flip partners ('rhand', 'lhand') have different sigmas"),
    (dict(sigmas=(0.03, 0.07, 0.06, 0.06, 2.0)), "sigmas", "sigma 2 of 'hip'"),
])
def test_each_problem_is_caught(changes, field, words):
    err = problems_of(make(**changes))
    assert [f for f, _ in err.problems] == [field]
    assert words in err.problems[0][1]


def test_side_view_flip_partners_may_overlap():
    # an animal seen from the side: left and right legs nearly on top of each other
    side = make(rest_pose=((0.8, 0.2), (0.6, 0.3), (0.5, 0.8), (0.52, 0.79), (0.3, 0.4)))
    assert check_skeleton(side) is side


def test_an_object_changed_after_construction_fails_revalidation():
    sk = make()
    object.__setattr__(sk, "limbs", (("neck", "head"),))  # no longer spanning
    err = problems_of(sk)
    assert err.problems[0][0] == "limbs" and "not connected" in err.problems[0][1]


def test_not_a_skeleton():
    with pytest.raises(SkeletonCheckError, match="expected a posekit.Skeleton, got dict"):
        check_skeleton(GOOD)  # type: ignore[arg-type]


def test_check_entry_point_loads_through_the_registry():
    assert check_entry_point("coco18") is posekit.load_skeleton("coco18")


def test_check_entry_point_names_a_missing_entry_point():
    with pytest.raises(SkeletonCheckError) as err:
        check_entry_point("not_installed_anywhere")
    assert err.value.field == "entry point"
    assert "no 'posekit.skeletons' entry point named 'not_installed_anywhere'" in str(err.value)
    assert "coco18" in str(err.value)


def test_check_entry_point_reports_a_broken_plugin(fixture_site, python):
    code = ("from posekit.testing import check_entry_point, SkeletonCheckError\n"
            "try:\n"
            "    check_entry_point('fixbadimport')\n"
            "except SkeletonCheckError as exc:\n"
            "    print(exc)\n")
    out = python(["-c", code], fixture_site)
    assert out.returncode == 0, out.stderr
    assert "field 'entry point'" in out.stdout
    assert "posekit-fixture-badimport 0.0.1" in out.stdout and "ModuleNotFoundError" in out.stdout
