"""Every way a Skeleton definition can be invalid raises SkeletonError naming skeleton + field."""

import numpy as np
import pytest

from posekit import Skeleton, SkeletonError
from posekit.skeleton import DEFAULT_SIGMA

BASE = dict(
    name="stick5",
    keypoints=("head", "neck", "rhand", "lhand", "hip"),
    limbs=(("neck", "head"), ("neck", "rhand"), ("neck", "lhand"), ("neck", "hip")),
    redundant_limbs=(("rhand", "hip"), ("lhand", "hip")),
    flip_pairs=(("rhand", "lhand"),),
    sigmas=(0.03, 0.07, 0.06, 0.06, 0.1),
    rest_pose=((0.5, 0.1), (0.5, 0.3), (0.3, 0.5), (0.7, 0.5), (0.5, 0.6)),
    paf_layout=((2, 3), (0, 1), (4, 5), (6, 7), (8, 9), (10, 11)),
)


def make(**changes):
    return Skeleton(**{**BASE, **changes})


def test_base_is_valid():
    sk = make()
    assert sk.num_limbs == 6 and sk.paf_channels[0].tolist() == [2, 3]


CASES = [
    # (id, changes, field, words in the reason)
    ("empty name", dict(name=""), "name", "non-empty"),
    ("name with space", dict(name="stick 5"), "name", "letters, digits"),
    ("keypoints a string", dict(keypoints="head,neck"), "keypoints", "sequence of names"),
    ("keypoint not a string", dict(keypoints=("head", 3)), "keypoints", "not a string"),
    ("one keypoint", dict(keypoints=("head",), limbs=(), redundant_limbs=(), flip_pairs=(),
                          sigmas=None, rest_pose=None, paf_layout=None),
     "keypoints", "at least 2"),
    ("empty keypoint name", dict(keypoints=("head", "neck", "rhand", "lhand", " ")),
     "keypoints", "must not be empty"),
    ("duplicate keypoint", dict(keypoints=("head", "neck", "rhand", "lhand", "head")),
     "keypoints", "duplicate keypoint name 'head'"),
    ("unknown keypoint in limbs", dict(limbs=(("neck", "head"), ("neck", "rhand"),
                                              ("neck", "lhand"), ("neck", "hips"))),
     "limbs", "unknown keypoint 'hips'"),
    ("unknown keypoint in redundant", dict(redundant_limbs=(("rhand", "hip"),
                                                            ("lhand", "foot"))),
     "redundant_limbs", "unknown keypoint 'foot'"),
    ("unknown keypoint in flip pairs", dict(flip_pairs=(("rhand", "lfoot"),)),
     "flip_pairs", "unknown keypoint 'lfoot'"),
    ("limb not a pair", dict(limbs=(("neck", "head", "hip"),)), "limbs",
     "not a pair of keypoint names"),
    ("limb to itself", dict(limbs=(("neck", "neck"),)), "limbs", "joins a keypoint to itself"),
    ("tree not spanning", dict(limbs=(("neck", "head"), ("neck", "rhand"), ("neck", "lhand")),
                               redundant_limbs=(), paf_layout=None),
     "limbs", "not connected: hip"),
    ("tree with a cycle", dict(limbs=(("neck", "head"), ("neck", "rhand"), ("neck", "lhand"),
                                      ("neck", "hip"), ("hip", "head")),
                               redundant_limbs=(), paf_layout=None),
     "limbs", "close a cycle"),
    ("tree limb twice", dict(limbs=(("neck", "head"), ("head", "neck"), ("neck", "rhand"),
                                    ("neck", "lhand"), ("neck", "hip"))),
     "limbs", "listed twice"),
    ("redundant repeats a tree limb", dict(redundant_limbs=(("rhand", "hip"),
                                                            ("lhand", "hip"),
                                                            ("head", "neck"))),
     "redundant_limbs", "repeats a tree limb"),
    ("redundant twice", dict(redundant_limbs=(("rhand", "hip"), ("lhand", "hip"),
                                              ("hip", "rhand"))),
     "redundant_limbs", "listed twice"),
    ("flip pairs not symmetric", dict(flip_pairs=(("rhand", "head"),)),
     "flip_pairs", "not symmetric"),
    ("keypoint in two flip pairs", dict(flip_pairs=(("rhand", "lhand"), ("lhand", "hip"))),
     "flip_pairs", "appears in two flip pairs"),
    ("too few sigmas", dict(sigmas=(0.05,) * 4), "sigmas", "4 values for 5 keypoints"),
    ("negative sigma", dict(sigmas=(0.05, 0.05, -0.05, 0.05, 0.05)), "sigmas", "positive"),
    ("sigma not a number", dict(sigmas=(0.05, 0.05, "big", 0.05, 0.05)), "sigmas",
     "'big' is not a number"),
    ("too few rest points", dict(rest_pose=((0.5, 0.5),) * 4), "rest_pose",
     "4 points for 5 keypoints"),
    ("rest point not a pair", dict(rest_pose=((0.5, 0.1, 0.0),) * 5), "rest_pose",
     "not an (x, y) pair"),
    ("rest point far outside", dict(rest_pose=((0.5, 0.1), (0.5, 0.3), (0.3, 0.5),
                                               (0.7, 0.5), (3.0, 0.6))),
     "rest_pose", "normalised coordinate"),
    ("paf layout wrong length", dict(paf_layout=((0, 1), (2, 3))), "paf_layout",
     "2 entries for 6 limbs"),
    ("paf layout repeats a channel", dict(paf_layout=((0, 1), (0, 1), (4, 5), (6, 7), (8, 9),
                                                      (10, 11))),
     "paf_layout", "exactly once"),
    ("paf layout out of range", dict(paf_layout=((0, 1), (2, 3), (4, 5), (6, 7), (8, 9),
                                                 (10, 12))),
     "paf_layout", "exactly once"),
    ("paf channel not an int", dict(paf_layout=((0, 1), (2, 3), (4, 5), (6, 7), (8, 9),
                                                (10, 11.0))),
     "paf_layout", "not an (x_channel, y_channel) pair"),
]


@pytest.mark.parametrize("changes, field, words", [c[1:] for c in CASES],
                         ids=[c[0] for c in CASES])
def test_invalid_definition_names_skeleton_and_field(changes, field, words):
    with pytest.raises(SkeletonError) as err:
        make(**changes)
    name = changes.get("name", BASE["name"])
    assert err.value.skeleton == name and err.value.field == field
    assert str(err.value).startswith(f"skeleton {name!r}, field {field!r}: ")
    assert words in err.value.reason


def test_defaults_fill_sigmas_layout_and_rest_pose():
    sk = Skeleton(name="chain3", keypoints=("a", "b", "c"), limbs=(("a", "b"), ("b", "c")),
                  redundant_limbs=(("a", "c"),))
    assert sk.sigmas == (DEFAULT_SIGMA,) * 3
    assert sk.paf_layout == ((0, 1), (2, 3), (4, 5))
    pose = sk.rest_pose_array
    assert pose.shape == (3, 2) and np.all((pose >= 0) & (pose <= 1))
    assert len({tuple(p) for p in pose.tolist()}) == 3  # distinct points


def test_skeleton_is_frozen():
    sk = make()
    with pytest.raises(AttributeError):
        sk.name = "other"  # type: ignore[misc]
