"""Ground-truth maps (posekit.targets): hand-computed cases and properties."""

from __future__ import annotations

import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

import posekit.targets as targets
from posekit.errors import PosekitError
from posekit.skeleton import Skeleton, load_skeleton
from posekit.targets import (
    confidence_maps,
    loss_mask,
    map_size,
    part_affinity_fields,
    render_targets,
)

# two keypoints, one limb whose x goes to channel 1 and y to channel 0
PAIR = Skeleton(name="pair", keypoints=("a", "b"), limbs=(("a", "b"),), paf_layout=((1, 0),))
CHAIN = Skeleton(name="chain", keypoints=("a", "b", "c"), limbs=(("a", "b"), ("b", "c")))
COCO18 = load_skeleton("coco18")


def people(*points: tuple[float, float] | None, k: int = 2) -> np.ndarray:
    """One person per group of ``k`` points; ``None`` = unlabelled keypoint."""
    out = np.zeros((len(points) // k, k, 3))
    for i, p in enumerate(points):
        if p is not None:
            out[i // k, i % k] = (p[0], p[1], 2)
    return out


def on_pixels(paf: np.ndarray) -> set[tuple[int, int]]:
    return {(int(i), int(j)) for i, j in zip(*np.nonzero(np.abs(paf).sum(axis=2)), strict=True)}


# ---------------------------------------------------------------------------- geometry
@pytest.mark.parametrize(("size", "stride", "expected"), [
    ((656, 368), 8, (82, 46)), ((650, 370), 8, (82, 47)), ((10, 8), 1, (10, 8)),
    ((1, 1), 8, (1, 1)),
])
def test_map_size_is_ceil(size, stride, expected):
    assert map_size(size, stride) == expected
    w, h = expected
    assert confidence_maps(np.zeros((0, 2, 3)), PAIR, size, stride).shape == (h, w, 3)
    assert part_affinity_fields(np.zeros((0, 2, 3)), PAIR, size, stride).shape == (h, w, 2)
    assert loss_mask(size, stride).shape == (h, w)


# ---------------------------------------------------------------------------- confidence
def test_gaussian_peak_value_and_position_stride_1():
    heat = confidence_maps(people((5, 4), (2, 2)), PAIR, (10, 8), stride=1, sigma=2.0)
    assert heat.dtype == np.float32 and heat.shape == (8, 10, 3)
    assert heat[4, 5, 0] == 1.0
    assert np.unravel_index(np.argmax(heat[..., 0]), heat.shape[:2]) == (4, 5)
    # exp(-d^2 / (2 sigma^2)) at d^2 = 4 + 1
    assert heat[5, 7, 0] == pytest.approx(math.exp(-5 / 8), rel=1e-6)
    assert heat[2, 2, 1] == 1.0


def test_gaussian_at_stride_8_is_evaluated_at_map_pixel_centres():
    # map pixel (i, j) is centred at image ((j + 0.5) * 8 - 0.5, (i + 0.5) * 8 - 0.5)
    x, y = 3 * 8 + 3.5, 2 * 8 + 3.5
    heat = confidence_maps(people((x, y), None), PAIR, (64, 48), stride=8, sigma=7.0)
    assert heat.shape == (6, 8, 3)
    assert heat[2, 3, 0] == 1.0
    assert heat[2, 4, 0] == pytest.approx(math.exp(-64 / 98), rel=1e-6)
    assert heat[3, 4, 0] == pytest.approx(math.exp(-128 / 98), rel=1e-6)
    off = confidence_maps(people((x + 2, y - 1), None), PAIR, (64, 48), stride=8, sigma=7.0)
    assert off[2, 3, 0] == pytest.approx(math.exp(-5 / 98), rel=1e-6)


def test_maximum_not_sum_over_people_and_background():
    both = confidence_maps(people((10, 10), None, (14, 10), None), PAIR, (30, 20), 1, 3.0)
    one = confidence_maps(people((10, 10), None), PAIR, (30, 20), 1, 3.0)
    two = confidence_maps(people((14, 10), None), PAIR, (30, 20), 1, 3.0)
    np.testing.assert_array_equal(both[..., 0], np.maximum(one[..., 0], two[..., 0]))
    assert both[..., 0].max() == 1.0
    np.testing.assert_allclose(both[..., 2], 1.0 - both[..., :2].max(axis=2), atol=1e-7)
    assert np.all(both[..., 1] == 0)  # nobody labelled b
    assert both[10, 10, 2] == 0.0 and both[0, 29, 2] == pytest.approx(1.0)


def test_unlabelled_and_non_finite_keypoints_are_ignored():
    kp = people((5, 5), (8, 5))
    kp[0, 1, 2] = 0
    heat = confidence_maps(kp, PAIR, (12, 10), 1, 2.0)
    assert heat[..., 1].max() == 0 and heat[5, 5, 0] == 1
    assert part_affinity_fields(kp, PAIR, (12, 10), 1).max() == 0
    kp = people((5, 5), (np.nan, 5))
    assert confidence_maps(kp, PAIR, (12, 10), 1, 2.0)[..., 1].max() == 0


def test_keypoint_outside_the_image_leaves_its_tail():
    heat = confidence_maps(people((-3, 4), None), PAIR, (10, 8), 1, 2.0)
    assert heat[4, 0, 0] == pytest.approx(math.exp(-9 / 8), rel=1e-6)
    assert np.unravel_index(np.argmax(heat[..., 0]), heat.shape[:2]) == (4, 0)


def test_stride_1_and_8_agree_where_pixel_centres_coincide():
    # stride-8 centres are at 8 j + 3.5: a stride-1 map of an image shifted by 0.5 px
    # and subsampled every 8 pixels has the same centres
    kp = people((21.5, 13.5), (40.25, 30.0))
    fine = confidence_maps(kp + [0.5, 0.5, 0], PAIR, (64, 48), 1, 7.0)
    coarse = confidence_maps(kp, PAIR, (64, 48), 8, 7.0)
    np.testing.assert_allclose(coarse[..., :2], fine[4::8, 4::8, :2], atol=1e-6)


# ---------------------------------------------------------------------------- PAFs
def test_horizontal_limb_exact_pixels_paper_rectangle():
    paf = part_affinity_fields(people((2, 3), (6, 3)), PAIR, (10, 8), stride=1, width=1.0,
                               end_caps=False)
    assert paf.dtype == np.float32 and paf.shape == (8, 10, 2)
    expected = {(i, j) for i in (2, 3, 4) for j in range(2, 7)}
    assert on_pixels(paf) == expected
    rows, cols = zip(*expected, strict=True)
    assert np.all(paf[rows, cols, 1] == 1.0)  # x goes to channel 1 (paf_layout)
    assert np.all(paf[rows, cols, 0] == 0.0)


def test_horizontal_limb_exact_pixels_with_end_caps():
    paf = part_affinity_fields(people((2, 3), (6, 3)), PAIR, (10, 8), stride=1, width=1.0)
    expected = {(i, j) for i in (2, 3, 4) for j in range(2, 7)} | {(3, 1), (3, 7)}
    assert on_pixels(paf) == expected


def test_limb_at_stride_8_uses_map_pixels_for_width():
    def centre(j: int) -> float:
        return (j + 0.5) * 8 - 0.5

    kp = people((centre(1), centre(2)), (centre(5), centre(2)))
    paf = part_affinity_fields(kp, PAIR, (64, 48), stride=8, width=1.0, end_caps=False)
    assert on_pixels(paf) == {(i, j) for i in (1, 2, 3) for j in range(1, 6)}
    assert on_pixels(part_affinity_fields(kp, PAIR, (64, 48), 8, 0.5)) == {
        (2, j) for j in range(1, 6)}


def test_diagonal_limb_unit_vector():
    paf = part_affinity_fields(people((1, 1), (7, 9)), PAIR, (10, 12), 1)
    on = np.abs(paf).sum(axis=2) > 0
    np.testing.assert_allclose(paf[on][:, 1], 0.6, atol=1e-6)  # x (channel 1)
    np.testing.assert_allclose(paf[on][:, 0], 0.8, atol=1e-6)  # y (channel 0)
    assert on[5, 4] and not on[1, 8]


def test_overlapping_people_are_averaged():
    kp = people((1, 5), (9, 5), (5, 1), (5, 9))  # a horizontal and a vertical limb
    paf = part_affinity_fields(kp, PAIR, (11, 11), 1, end_caps=False)
    np.testing.assert_allclose(paf[5, 5], [0.5, 0.5])  # crossing: mean of (1,0) and (0,1)
    np.testing.assert_allclose(paf[5, 2], [0.0, 1.0])  # horizontal limb only
    np.testing.assert_allclose(paf[2, 5], [1.0, 0.0])  # vertical limb only
    same = part_affinity_fields(people((1, 5), (9, 5), (1, 5), (9, 5)), PAIR, (11, 11), 1)
    np.testing.assert_array_equal(same, part_affinity_fields(people((1, 5), (9, 5)), PAIR,
                                                             (11, 11), 1))
    opposite = part_affinity_fields(people((1, 5), (9, 5), (9, 5), (1, 5)), PAIR, (11, 11), 1)
    assert np.abs(opposite[5, 3]).max() == 0  # opposite directions cancel


def test_zero_length_limb_contributes_nothing():
    kp = people((4, 4), (4, 4))
    assert part_affinity_fields(kp, PAIR, (10, 8), 1).max() == 0
    assert confidence_maps(kp, PAIR, (10, 8), 1)[4, 4, :2].tolist() == [1.0, 1.0]


def test_keypoints_outside_the_image():
    paf = part_affinity_fields(people((-20, 3), (5, 3)), PAIR, (10, 8), 1, end_caps=False)
    assert on_pixels(paf) == {(i, j) for i in (2, 3, 4) for j in range(0, 6)}
    through = part_affinity_fields(people((-5, 3), (30, 3)), PAIR, (10, 8), 1)
    assert on_pixels(through) == {(i, j) for i in (2, 3, 4) for j in range(10)}
    assert part_affinity_fields(people((-30, -30), (-10, -40)), PAIR, (10, 8), 1).max() == 0


def test_each_limb_goes_to_its_own_channels():
    kp = people((1, 1), (6, 1), (6, 6), k=3)
    paf = part_affinity_fields(kp, CHAIN, (8, 8), 1)
    np.testing.assert_allclose(paf[1, 3, 0:2], [1, 0])  # a -> b in channels 0, 1
    np.testing.assert_allclose(paf[3, 6, 2:4], [0, 1])  # b -> c in channels 2, 3
    assert np.abs(paf[1, 3, 2:4]).max() == 0 and np.abs(paf[3, 6, 0:2]).max() == 0


def test_blocks_give_the_same_maps(monkeypatch):
    rng = np.random.default_rng(3)
    kp = np.concatenate([rng.uniform(-10, 90, (30, 18, 2)), np.full((30, 18, 1), 2.0)], axis=2)
    whole = render_targets(kp, COCO18, (80, 60), stride=4)
    monkeypatch.setattr(targets, "_BLOCK", 200)  # a few people per block
    split = render_targets(kp, COCO18, (80, 60), stride=4)
    np.testing.assert_array_equal(whole.heatmaps, split.heatmaps)
    np.testing.assert_allclose(whole.pafs, split.pafs, atol=1e-6)


# ---------------------------------------------------------------------------- mask
def test_loss_mask_zero_where_ignore_touches_the_cell():
    ignore = np.zeros((20, 30), dtype=bool)
    ignore[9, 17] = True  # map pixel (1, 2) at stride 8
    ignore[19, 29] = True  # last (partial) cell
    mask = loss_mask((30, 20), 8, ignore)
    assert mask.dtype == np.float32 and mask.shape == (3, 4)
    assert np.argwhere(mask == 0).tolist() == [[1, 2], [2, 3]]
    assert loss_mask((30, 20), 8).min() == 1.0
    with pytest.raises(PosekitError, match=r"\(H, W\) = \(20, 30\)"):
        loss_mask((30, 20), 8, np.zeros((30, 20), dtype=bool))


def test_render_targets_bundles_the_three():
    t = render_targets(people((5, 5), (20, 5)), PAIR, (32, 16), stride=8,
                       ignore=np.ones((16, 32), dtype=bool))
    assert t.heatmaps.shape == (2, 4, 3) and t.pafs.shape == (2, 4, 2)
    assert t.mask.shape == (2, 4) and t.mask.max() == 0


@pytest.mark.parametrize(("call", "match"), [
    (lambda: confidence_maps(np.zeros((1, 3, 3)), PAIR, (8, 8)), r"\(people, 2, 3\)"),
    (lambda: confidence_maps(np.zeros((2, 3)), PAIR, (8, 8)), "got shape"),
    (lambda: confidence_maps(np.zeros((0, 2, 3)), PAIR, (8, 0)), "image_size"),
    (lambda: confidence_maps(np.zeros((0, 2, 3)), PAIR, (8, 8), stride=0), "stride"),
    (lambda: confidence_maps(np.zeros((0, 2, 3)), PAIR, (8, 8), stride=2.5), "stride"),
    (lambda: confidence_maps(np.zeros((0, 2, 3)), PAIR, (8, 8), sigma=0), "sigma"),
    (lambda: part_affinity_fields(np.zeros((0, 2, 3)), PAIR, (8, 8), width=-1), "width"),
])
def test_bad_input_is_refused(call, match):
    with pytest.raises(PosekitError, match=match):
        call()


# ---------------------------------------------------------------------------- properties
@st.composite
def scenes(draw):
    W = draw(st.integers(1, 48))
    H = draw(st.integers(1, 48))
    stride = draw(st.sampled_from([1, 2, 4, 8]))
    P = draw(st.integers(0, 4))
    coords = st.floats(-20, 70, allow_nan=False)
    kp = np.zeros((P, 3, 3))
    for p in range(P):
        for k in range(3):
            kp[p, k] = (draw(coords), draw(coords), draw(st.sampled_from([0, 1, 2])))
    return kp, (W, H), stride


@settings(max_examples=60, deadline=None)
@given(scenes())
def test_maps_stay_in_range(scene):
    kp, size, stride = scene
    t = render_targets(kp, CHAIN, size, stride, sigma=3.0)
    heat, paf = t.heatmaps, t.pafs
    assert heat.min() >= 0 and heat.max() <= 1
    np.testing.assert_allclose(heat[..., 3], 1 - heat[..., :3].max(axis=2), atol=1e-6)
    for l in range(2):
        length = np.hypot(paf[..., 2 * l], paf[..., 2 * l + 1])
        assert length.max(initial=0) <= 1 + 1e-6
    if len(kp) == 1:  # one person: every vector set is a unit vector
        for l in range(2):
            length = np.hypot(paf[..., 2 * l], paf[..., 2 * l + 1])
            np.testing.assert_allclose(length[length > 0], 1.0, atol=1e-6)


# ----------------------------------------------------------------- field="rect" | "capsule"
def _along_limb(field: str) -> np.ndarray:
    """x component of a horizontal limb's field on its own row, stride 1, half-width 2."""
    kp = people((10, 8), (20, 8))  # joints at columns 10 and 20 of row 8
    paf = part_affinity_fields(kp, PAIR, (32, 16), stride=1, width=2.0, field=field)
    return paf[8, :, 1]


def test_rect_field_stops_at_the_joints_capsule_covers_them():
    rect, capsule = _along_limb("rect"), _along_limb("capsule")
    # between the joints both fields are the unit vector
    assert np.allclose(rect[10:21], 1.0) and np.allclose(capsule[10:21], 1.0)
    # beyond the joints along the limb: the paper's rectangle is empty ...
    assert not rect[:10].any() and not rect[21:].any()
    # ... while the capsule reaches ``width`` past each joint, and no further
    assert np.allclose(capsule[8:10], 1.0) and np.allclose(capsule[21:23], 1.0)
    assert not capsule[:8].any() and not capsule[23:].any()


def test_field_names_match_end_caps_and_the_default():
    kp = people((11.3, 7.7), (43.9, 30.2))
    default = part_affinity_fields(kp, PAIR, (64, 48))
    assert np.array_equal(part_affinity_fields(kp, PAIR, (64, 48), field="capsule"), default)
    assert np.array_equal(part_affinity_fields(kp, PAIR, (64, 48), field="rect"),
                          part_affinity_fields(kp, PAIR, (64, 48), end_caps=False))
    both = render_targets(kp, PAIR, (64, 48), field="rect")
    assert np.array_equal(both.pafs, part_affinity_fields(kp, PAIR, (64, 48), field="rect"))


def test_unknown_field_is_a_clear_error():
    with pytest.raises(PosekitError, match="capsule.*rect"):
        part_affinity_fields(people((1, 1), (5, 5)), PAIR, (8, 8), 1, field="oval")
