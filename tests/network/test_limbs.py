"""Networks covering only some of a skeleton's limbs: restriction, checkpoints, parsing."""

from __future__ import annotations

import numpy as np
import pytest
import torch

from posekit import PosekitError, list_parsers, load_skeleton
from posekit.decode import parse_maps
from posekit.network import NetworkConfig, build_network, load_checkpoint, save_checkpoint
from posekit.network.limbs import is_restriction, restrict_skeleton
from posekit.targets import render_targets


def test_dropping_a_redundant_limb_renumbers_the_remaining_channels(toy):
    # toy: tree head-neck (6,7), neck-lhand (0,1), neck-rhand (2,3); redundant lhand-rhand (4,5)
    part = restrict_skeleton(toy, toy.limbs)
    assert part.name == toy.name and part.keypoints == toy.keypoints
    assert part.redundant_limbs == ()
    assert part.paf_layout == ((4, 5), (0, 1), (2, 3))
    assert part.num_paf_channels == 6
    assert is_restriction(part, toy) and not is_restriction(toy, part)
    assert restrict_skeleton(toy, reversed(toy.all_limbs)) is toy


def test_restricted_maps_are_the_full_maps_without_the_dropped_channels():
    full = load_skeleton("mpi15")
    part = restrict_skeleton(full, full.limbs)
    people = np.array([[[40 + 3 * i, 30 + 9 * i, 2] for i in range(15)]], np.float32)
    a = render_targets(people, full, (128, 160)).pafs
    b = render_targets(people, part, (128, 160)).pafs
    kept = [c for i in range(part.num_limbs) for c in full.paf_layout[i]]
    np.testing.assert_array_equal(a[..., kept], b[..., [c for p in part.paf_layout for c in p]])


@pytest.mark.parametrize("limbs, message", [
    ([("head", "neck"), ("neck", "lhand")], "the tree limb neck-rhand is missing"),
    ([("neck", "head"), ("neck", "lhand"), ("neck", "rhand")],
     "has no limb neck-head (it declares the reverse direction)"),
    ([("head", "neck"), ("neck", "lhand"), ("neck", "rhand"), ("head", "rhand")],
     "has no limb head-rhand"),
    ([("head", "neck"), ("head", "neck"), ("neck", "lhand"), ("neck", "rhand")], "twice"),
    (["head"], "is not a (keypoint, keypoint) pair"),
])
def test_bad_limb_lists_are_refused(toy, limbs, message):
    with pytest.raises(PosekitError, match=message.replace("(", r"\(").replace(")", r"\)")):
        restrict_skeleton(toy, limbs)


def test_checkpoint_of_a_restricted_network_round_trips(toy, tmp_path):
    part = restrict_skeleton(toy, toy.limbs)
    net = build_network(part, NetworkConfig.light(width=16))
    path = save_checkpoint(tmp_path / "part.pt", net, toy, net.preprocess)
    data = torch.load(path, weights_only=True)
    assert data["format_version"] == 2
    assert data["skeleton"]["layout_hash"] == toy.layout_hash
    assert data["skeleton"]["limbs"] == [list(limb) for limb in toy.limbs]
    loaded, meta = load_checkpoint(path, skeleton=toy)
    assert loaded.skeleton.layout_hash == part.layout_hash
    assert meta.skeleton.num_limbs == 3 and meta.declared_skeleton.num_limbs == 4
    pafs, heats = loaded.eval()(torch.zeros(1, 3, 32, 32))
    assert pafs.shape[1] == 6 and heats.shape[1] == 5
    # a full network still writes format 1, which older posekit reads
    full = build_network(toy, NetworkConfig.light(width=16))
    save_checkpoint(tmp_path / "full.pt", full, toy, full.preprocess)
    assert torch.load(tmp_path / "full.pt", weights_only=True)["format_version"] == 1
    assert load_checkpoint(tmp_path / "full.pt")[1].full_skeleton is None


def test_a_network_of_another_layout_is_not_saved_as_a_restriction(toy, tmp_path):
    other = restrict_skeleton(toy, toy.limbs)
    other = type(other)(**{**other.to_dict(), "paf_layout": [[0, 1], [2, 3], [4, 5]]})
    net = build_network(other, NetworkConfig.light(width=16))
    with pytest.raises(PosekitError, match="was built for skeleton"):
        save_checkpoint(tmp_path / "x.pt", net, toy, net.preprocess)


@pytest.mark.parametrize("parser", list_parsers())
def test_every_parser_works_with_the_tree_limbs_of_mpi15(parser):
    # OpenPose's MPI model has PAFs for mpi15's 14 tree limbs only
    part = restrict_skeleton(load_skeleton("mpi15"), load_skeleton("mpi15").limbs)
    rest = np.asarray(part.rest_pose)
    people = np.stack([np.c_[rest * 120 + [20 + 140 * i, 20], np.full(15, 2)]
                       for i in range(2)]).astype(np.float32)
    maps = render_targets(people, part, (320, 160))
    found = parse_maps(maps.heatmaps, maps.pafs, skeleton=part, parser=parser,
                       image_size=(320, 160))
    assert len(found) == 2
    for person in found:
        nearest = np.abs(people[:, :, :2] - person.keypoints[None, :, :2]).max(axis=(1, 2))
        assert nearest.min() < 8  # every keypoint of one real person, within a map cell
