"""Every installed skeleton (built-in and plugins) honours the skeleton contract."""

import numpy as np
import pytest

import posekit
from posekit.skeleton import SKELETONS, skeleton_from_dict, skeleton_from_toml, skeleton_to_toml
from posekit.testing import check_entry_point, check_skeleton

NAMES = posekit.list_skeletons()


def test_builtin_is_installed():
    assert "coco18" in NAMES


@pytest.fixture(params=NAMES)
def skeleton(request):
    return posekit.load_skeleton(request.param)


def test_loads_and_passes_check_skeleton(skeleton):
    assert isinstance(skeleton, posekit.Skeleton)
    assert check_skeleton(skeleton) is skeleton
    assert check_entry_point(skeleton.name) == skeleton


def test_channel_counts_are_consistent(skeleton):
    K, L = skeleton.num_keypoints, skeleton.num_limbs
    assert skeleton.num_heatmap_channels == K + 1
    assert L == skeleton.num_tree_limbs + len(skeleton.redundant_limbs)
    assert skeleton.num_tree_limbs == K - 1  # a spanning tree
    assert skeleton.num_paf_channels == 2 * L
    assert skeleton.limb_index.shape == (L, 2) and skeleton.paf_channels.shape == (L, 2)
    assert sorted(skeleton.paf_channels.ravel().tolist()) == list(range(2 * L))
    assert skeleton.sigma_array.shape == (K,) and skeleton.rest_pose_array.shape == (K, 2)
    names = [skeleton.keypoints[i] for i in skeleton.limb_index.ravel()]
    assert names == [kp for limb in skeleton.all_limbs for kp in limb]


def test_layout_hash_is_stable(skeleton):
    h = skeleton.layout_hash
    assert len(h) == 16 and int(h, 16) >= 0
    assert posekit.Skeleton(**skeleton.to_dict()).layout_hash == h
    # a different name, sigmas or rest pose does not change what a network depends on
    renamed = posekit.Skeleton(**{**skeleton.to_dict(), "name": "other",
                                  "sigmas": [0.5] * skeleton.num_keypoints})
    assert renamed.layout_hash == h
    # a different PAF layout does
    layout = [list(p) for p in skeleton.paf_layout]
    layout[0] = layout[0][::-1]
    swapped = posekit.Skeleton(**{**skeleton.to_dict(), "paf_layout": layout})
    assert swapped.layout_hash != h


def test_flip_permutation_is_an_involution(skeleton):
    perm = skeleton.flip_permutation
    assert np.array_equal(perm[perm], np.arange(skeleton.num_keypoints))
    assert np.array_equal(np.sort(perm), np.arange(skeleton.num_keypoints))
    # limbs map onto limbs under the flip
    limbs = {frozenset(p) for p in skeleton.limb_index.tolist()}
    assert {frozenset((perm[a], perm[b])) for a, b in skeleton.limb_index.tolist()} == limbs


def test_round_trips_through_dict_and_toml(skeleton, tmp_path):
    assert skeleton_from_dict(skeleton.to_dict()) == skeleton
    path = tmp_path / f"{skeleton.name}.toml"
    path.write_text(skeleton_to_toml(skeleton), encoding="utf-8")
    again = skeleton_from_toml(path)
    assert again == skeleton and again.layout_hash == skeleton.layout_hash


def test_registry_reports_its_distribution(skeleton):
    entry = SKELETONS.entry(skeleton.name)
    assert entry.distribution != "an unknown distribution" and entry.version
