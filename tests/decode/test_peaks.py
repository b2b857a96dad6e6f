"""Peaks (posekit.decode.peaks): NMS, refinement, image coordinates, fast vs reference."""

from __future__ import annotations

import numpy as np
import pytest

import posekit.decode.patch as patch
from posekit.decode.peaks import find_peaks, local_maxima
from posekit.errors import PosekitError
from posekit.skeleton import Skeleton
from posekit.targets import confidence_maps

IMAGE = (656, 368)


def nearest(peaks: np.ndarray, xy) -> float:
    return float(np.hypot(peaks[:, 0] - xy[0], peaks[:, 1] - xy[1]).min()) if len(peaks) \
        else np.inf


def test_single_peak_at_image_resolution():
    heat = np.zeros((9, 12, 1), dtype=np.float32)
    heat[4, 7, 0] = 0.8
    heat[4, 6, 0] = heat[4, 8, 0] = 0.4  # symmetric: centroid stays on the pixel
    (peaks,) = find_peaks(heat)
    assert peaks.shape == (1, 3) and peaks.dtype == np.float64
    np.testing.assert_allclose(peaks[0], [7.0, 4.0, 0.8], rtol=1e-6)


def test_quadratic_centroid_and_no_refinement():
    heat = np.zeros((9, 12, 1), dtype=np.float32)
    heat[4, 7, 0], heat[4, 8, 0] = 0.8, 0.4
    (peaks,) = find_peaks(heat)  # parabola through 0, 0.8, 0.4
    np.testing.assert_allclose(peaks[0], [7 + 0.5 * 0.4 / 1.2, 4.0, 0.8], rtol=1e-6)
    (centroid,) = find_peaks(heat, refine="centroid")
    assert centroid[0, 0] == pytest.approx((7 * 0.8 + 8 * 0.4) / 1.2)
    (raw,) = find_peaks(heat, refine="none")
    np.testing.assert_allclose(raw[0, :2], [7.0, 4.0])
    heat[4, 10, 0], heat[4, 11, 0] = 0.5, 0.9  # on the border: no neighbour on one side
    (edge,) = find_peaks(heat)
    np.testing.assert_allclose(edge[0, :2], [11.0, 4.0])


def test_threshold_and_plateau():
    heat = np.zeros((6, 6, 2), dtype=np.float32)
    heat[2, 2, 0] = 0.04
    heat[1:3, 3:5, 1] = 0.5  # a 2x2 plateau gives one peak, at its centroid
    low, flat = find_peaks(heat, threshold=0.05)
    assert len(low) == 0
    assert len(flat) == 1
    np.testing.assert_allclose(flat[0], [3.5, 1.5, 0.5])
    assert len(find_peaks(heat, threshold=0.01)[0]) == 1
    assert local_maxima(np.full((1, 4, 5), 0.3)).sum() == 1  # constant map: one maximum


def test_best_first_and_max_peaks():
    heat = np.zeros((10, 10, 1), dtype=np.float32)
    heat[2, 2, 0], heat[7, 7, 0], heat[2, 7, 0] = 0.3, 0.9, 0.6
    (peaks,) = find_peaks(heat, refine="none")
    assert peaks[:, 2].tolist() == pytest.approx([0.9, 0.6, 0.3])
    (best,) = find_peaks(heat, refine="none", max_peaks=2)
    np.testing.assert_allclose(best[:, :2], [[7, 7], [7, 2]])


@pytest.mark.parametrize("upsample", ["patch", "full", "none"])
def test_rendered_keypoints_recovered_within_one_pixel(coco18, place_people, upsample):
    kp = place_people(coco18, [(150.3, 185.1), (450.7, 180.4)], 280.0)
    heat = confidence_maps(kp, coco18, IMAGE, stride=8)
    assert heat.shape == (46, 82, 19)
    peaks = find_peaks(heat[..., :18], image_size=IMAGE, upsample=upsample)
    for k in range(18):
        assert len(peaks[k]) == 2
        for person in kp:
            assert nearest(peaks[k], person[k, :2]) <= 1.0, (k, person[k])
        assert peaks[k][:, 2].min() > (0.7 if upsample == "none" else 0.9)


def random_keypoints(rng, n, size, margin=16.0):
    """n people of 18 random keypoints, person p in the p-th vertical strip of the image."""
    K, strip = 18, size[0] / n
    lo = np.stack([np.arange(n) * strip + margin, np.full(n, margin)], axis=1)[:, None]
    hi = np.stack([(np.arange(n) + 1) * strip - margin, np.full(n, size[1] - margin)],
                  axis=1)[:, None]
    xy = lo + rng.random((n, K, 2)) * (hi - lo)
    return np.concatenate([xy, np.full((n, K, 1), 2.0)], axis=2)


@pytest.mark.parametrize("size", [IMAGE, (650, 370), (500, 303)])
def test_fast_path_agrees_with_full_upsample(coco18, size):
    """Same peaks within a pixel, maps at network resolution (stride image / map size)."""
    rng = np.random.default_rng(7)
    kp = random_keypoints(rng, 5, size)
    heat = confidence_maps(kp, coco18, size, stride=8)[..., :18]
    fast = find_peaks(heat, image_size=size)
    ref = find_peaks(heat, image_size=size, upsample="full")
    for k in range(18):
        assert len(fast[k]) == len(ref[k]) > 0
        for p in ref[k]:
            assert nearest(fast[k], p[:2]) <= 1.0
        np.testing.assert_allclose(np.sort(fast[k][:, 2]), np.sort(ref[k][:, 2]), atol=1e-3)


def test_patch_blocks_change_nothing(monkeypatch, coco18):
    """The patch path in the smallest blocks (one channel, then one seed, at a time; the
    patches of one part overlap across blocks) finds exactly the same peaks."""
    rng = np.random.default_rng(9)
    kp = random_keypoints(rng, 6, IMAGE)
    heat = confidence_maps(kp, coco18, IMAGE, stride=8)[..., :18]
    whole = find_peaks(heat, image_size=IMAGE)
    monkeypatch.setattr(patch, "BLOCK_BYTES", 1)
    for a, b in zip(whole, find_peaks(heat, image_size=IMAGE), strict=True):
        assert len(a) >= 6
        np.testing.assert_array_equal(a, b)


def test_patch_finds_the_reference_peaks_of_noisy_crowds(coco18):
    """On noisy maps of crowds (compare-parsers' noise model) the patch path finds at least
    99.7 % of the full upsample's peaks, and nothing else (measured: 99.87 %)."""
    from posekit.compare.noise import NoiseModel, render_maps
    from posekit.synth.poses import sample_poses

    total = missed = extra = 0
    for people in (20, 64):
        rng = np.random.default_rng(people)
        size = min(0.6, 1.2 / np.sqrt(people))
        for _ in range(4):
            kp = sample_poses(coco18, rng, IMAGE, people, scale_range=(0.6 * size, size))
            heat = render_maps(coco18, kp, IMAGE, NoiseModel(), rng)[0][..., :18]
            ref = find_peaks(heat, image_size=IMAGE, upsample="full")
            for r, got in zip(ref, find_peaks(heat, image_size=IMAGE), strict=True):
                d = np.hypot(r[:, None, 0] - got[None, :, 0], r[:, None, 1] - got[None, :, 1])
                total += len(r)
                missed += int((d.min(axis=1, initial=np.inf) > 1e-3).sum())
                extra += int((d.min(axis=0, initial=np.inf) > 1e-3).sum())
    assert total > 5000
    assert missed <= 0.003 * total
    assert extra == 0


def test_patch_finds_a_peak_on_the_edge_beside_a_stronger_one():
    """The upsampled maps peak on the top edge above a blob (the border pixel is a maximum
    only along the border); the patch path finds it, as the full upsample does."""
    heat = np.array([[1, 7, 14, 8, 1], [2, 17, 36, 20, 3], [6, 34, 55, 24, 3],
                     [9, 53, 85, 37, 4]], dtype=np.float32)[..., None] / 100
    ref = find_peaks(heat, image_size=(40, 32), upsample="full")[0]
    got = find_peaks(heat, image_size=(40, 32))[0]
    assert len(ref) == 2 and ref[1, 1] == 0.0
    np.testing.assert_allclose(got, ref, atol=1e-4)


def test_coarse_path_recovers_keypoints(coco18):
    rng = np.random.default_rng(8)
    kp = random_keypoints(rng, 3, IMAGE, margin=24.0)
    heat = confidence_maps(kp, coco18, IMAGE, stride=8)[..., :18]
    coarse = find_peaks(heat, image_size=IMAGE, upsample="none")
    for k in range(18):
        for person in kp:
            assert nearest(coarse[k], person[k, :2]) <= 1.0


def test_anisotropic_stride():
    """Maps of 10 x 20 pixels covering a 160 x 40 image: 8 px per map pixel across, 4 down."""
    one = Skeleton(name="one", keypoints=("a", "b"), limbs=(("a", "b"),))
    truth = (83.2, 21.7)
    kp = np.array([[[truth[0] + 0.5, truth[1] + 0.5, 2.0], [0.0, 0.0, 0.0]]])
    fine = confidence_maps(kp, one, (160, 40), stride=1, sigma=6.0)
    # rows 4 i + 2 and columns 8 j + 4 of the shifted render are the map pixel centres
    # (4 i + 1.5, 8 j + 3.5) of the unshifted keypoint
    small = fine[2::4, 4::8, :2]
    assert small.shape == (10, 20, 2)
    for mode in ("patch", "full", "none"):
        peaks, _ = find_peaks(small, image_size=(160, 40), upsample=mode)
        assert nearest(peaks, truth) <= 1.0, mode


def test_bad_arguments():
    with pytest.raises(PosekitError, match=r"\(h, w, C\)"):
        find_peaks(np.zeros((4, 4)))
    with pytest.raises(PosekitError, match="upsample"):
        find_peaks(np.zeros((4, 4, 1)), upsample="bicubic")
    with pytest.raises(PosekitError, match="image_size"):
        find_peaks(np.zeros((4, 4, 1)), image_size=(0, 4))
    with pytest.raises(PosekitError, match="refine_radius"):
        find_peaks(np.zeros((4, 4, 1)), refine="centroid", refine_radius=-1)
    with pytest.raises(PosekitError, match="refine mode"):
        find_peaks(np.zeros((4, 4, 1)), refine="gaussian")


@pytest.mark.parametrize("x", [631.6, 634.0, 636.0, 639.0, 0.5, 3.0, 6.0])
def test_a_part_near_the_image_edge_gives_one_peak(x):
    """No echo peak on the edge; position within one map pixel there (no data beyond)."""
    import posekit
    from posekit.decode import build_candidates
    from posekit.targets import render_targets

    sk = posekit.load_skeleton("coco18")
    kp = np.zeros((1, sk.num_keypoints, 3))
    kp[0, 0] = [x, 200.0, 2]
    t = render_targets(kp, sk, (640, 480))
    peaks = build_candidates(t.heatmaps, t.pafs, sk, image_size=(640, 480)).peaks[0]
    assert len(peaks) == 1
    assert abs(peaks[0, 0] - x) < 8.0 and abs(peaks[0, 1] - 200.0) < 1.0
