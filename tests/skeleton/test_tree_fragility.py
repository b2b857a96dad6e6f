"""posekit.testing.fragile_parts: trees that fall apart when one small part is missing."""

from __future__ import annotations

import warnings

import pytest

import posekit
from posekit import Skeleton
from posekit.skeleton import load_skeleton
from posekit.testing import FragileTreeWarning, check_skeleton, fragile_parts

COCO17 = load_skeleton("coco17")
# coco17's former tree: COCO's one symmetric spanning tree, halves joined through the ears
EAR_TREE = (
    ("left_knee", "left_ankle"), ("left_hip", "left_knee"), ("right_knee", "right_ankle"),
    ("right_hip", "right_knee"), ("left_shoulder", "left_hip"), ("right_shoulder", "right_hip"),
    ("left_shoulder", "left_elbow"), ("right_shoulder", "right_elbow"),
    ("left_elbow", "left_wrist"), ("right_elbow", "right_wrist"), ("nose", "left_eye"),
    ("nose", "right_eye"), ("left_eye", "left_ear"), ("right_eye", "right_ear"),
    ("left_ear", "left_shoulder"), ("right_ear", "right_shoulder"),
)


def with_limbs(skeleton: Skeleton, limbs, redundant=()) -> Skeleton:
    data = skeleton.to_dict()
    data.update(name=f"{skeleton.name}-variant", limbs=limbs, redundant_limbs=redundant,
                paf_layout=None)
    return Skeleton(**data)


def test_a_tree_joined_only_through_the_ears_warns_and_names_the_pieces():
    sk = with_limbs(COCO17, EAR_TREE)
    cuts = {c.part: c for c in fragile_parts(sk)}
    assert {"left_ear", "right_ear", "left_eye", "right_eye", "nose"} <= set(cuts)
    assert "left_shoulder" not in cuts  # a shoulder is not small (OKS sigma 0.079)
    left = cuts["left_ear"]
    assert left.pieces[1] == ("left_shoulder", "left_elbow", "left_wrist", "left_hip",
                              "left_knee", "left_ankle")
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        assert check_skeleton(sk) is sk  # a warning, not an error: the skeleton works
    texts = [str(w.message) for w in caught if w.category is FragileTreeWarning]
    assert len(texts) == len(cuts)
    assert any("losing 'left_ear'" in t and "cuts a person into 2 pieces" in t
               and "no redundant limb joins them" in t for t in texts)


def test_redundant_limbs_that_join_the_pieces_again_silence_it():
    sk = with_limbs(COCO17, EAR_TREE, (("left_shoulder", "right_shoulder"),
                                       ("left_hip", "right_hip")))
    assert fragile_parts(sk) == []


def test_small_pieces_and_large_parts_do_not_count():
    """coco18: losing the nose leaves an eye and an ear apart on each side (2 parts,
    bridged by ear-shoulder anyway); the neck is a hub but not small."""
    assert fragile_parts(load_skeleton("coco18")) == []
    sk = with_limbs(load_skeleton("coco18"), load_skeleton("coco18").limbs)
    assert fragile_parts(sk) == []


def test_small_is_relative_to_the_skeleton():
    """In a hand every sigma is small; the wrist (larger than most) is its hub, fine."""
    hand = load_skeleton("hand21")
    assert fragile_parts(hand) == []
    assert fragile_parts(hand, small_sigma=1.0, min_piece=1) == []


@pytest.mark.parametrize("name", posekit.list_skeletons())
def test_no_shipped_skeleton_is_fragile(name):
    sk = load_skeleton(name)
    with warnings.catch_warnings():
        warnings.simplefilter("error", FragileTreeWarning)
        check_skeleton(sk)
    assert fragile_parts(sk) == []
