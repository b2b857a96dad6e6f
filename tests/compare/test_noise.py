"""The map noise model: level 0 is the targets, noise is seeded, each component shows."""

import dataclasses

import numpy as np
import pytest

from posekit import load_skeleton
from posekit.compare.noise import NoiseModel, failure_weights, render_maps
from posekit.errors import PosekitError
from posekit.synth import sample_poses
from posekit.targets import confidence_maps, part_affinity_fields

COCO18 = load_skeleton("coco18")
SIZE = (320, 240)


@pytest.fixture(scope="module")
def people():
    return sample_poses(COCO18, np.random.default_rng(0), SIZE, 3, truncation=0.5)


def _quiet(**keep):
    """The noise model with every component off except ``keep``."""
    off = dict(jitter=0, miss=0, weak=0, false_peaks=0, paf_angle=0, paf_pixel=0, paf_dropout=0,
               spread=0.0)
    off.update(keep)
    return dataclasses.replace(NoiseModel(1.0), **off)


def test_level_zero_is_the_training_targets(people):
    heat, paf = render_maps(COCO18, people, SIZE, NoiseModel(0.0), np.random.default_rng(0))
    want = confidence_maps(people, COCO18, SIZE, stride=8, sigma=7.0)
    assert heat.shape == (30, 40, 19) and heat.dtype == np.float32
    assert np.array_equal(heat, np.asarray(want, dtype=np.float32))
    assert np.array_equal(paf, part_affinity_fields(people, COCO18, SIZE, stride=8))


def test_windowed_rendering_with_every_component_off_matches_the_targets(people):
    heat, paf = render_maps(COCO18, people, SIZE, _quiet(), np.random.default_rng(0))
    clean_heat, clean_paf = render_maps(COCO18, people, SIZE, NoiseModel(0.0), None)
    assert np.allclose(heat, clean_heat, atol=1e-6)
    assert np.allclose(paf, clean_paf, atol=1e-6)


def test_same_seed_same_maps_other_seed_other_maps(people):
    a = render_maps(COCO18, people, SIZE, NoiseModel(1.0), np.random.default_rng(5))
    b = render_maps(COCO18, people, SIZE, NoiseModel(1.0), np.random.default_rng(5))
    c = render_maps(COCO18, people, SIZE, NoiseModel(1.0), np.random.default_rng(6))
    assert all(np.array_equal(x, y) for x, y in zip(a, b, strict=True))
    assert not np.array_equal(a[0], c[0])


def test_background_is_one_minus_max_and_fields_stay_unit(people):
    heat, paf = render_maps(COCO18, people, SIZE, NoiseModel(2.0), np.random.default_rng(1))
    assert np.allclose(heat[..., -1], np.clip(1 - heat[..., :-1].max(-1), 0, 1))
    L = COCO18.num_limbs
    ch = COCO18.paf_channels
    norm = np.hypot(paf[..., ch[:, 0]], paf[..., ch[:, 1]])
    assert norm.shape[-1] == L and norm.max() <= 1 + 1e-5


def test_missed_parts_remove_peaks(people):
    heat, _ = render_maps(COCO18, people, SIZE, _quiet(miss=1.0), np.random.default_rng(0))
    assert heat[..., :-1].max() == 0.0  # every part missed at probability 1


def test_weak_peaks_lower_heights(people):
    clean, _ = render_maps(COCO18, people, SIZE, NoiseModel(0.0), None)
    weak, _ = render_maps(COCO18, people, SIZE, _quiet(weak=0.5), np.random.default_rng(0))
    assert weak[..., :-1].sum() < 0.9 * clean[..., :-1].sum()
    assert (weak[..., :-1] <= clean[..., :-1] + 1e-6).all()


def test_false_peaks_add_blobs(people):
    clean, _ = render_maps(COCO18, people, SIZE, NoiseModel(0.0), None)
    noisy, _ = render_maps(COCO18, people, SIZE, _quiet(false_peaks=5.0), np.random.default_rng(0))
    assert (noisy[..., :-1] >= clean[..., :-1] - 1e-6).all()
    assert (noisy[..., :-1] > clean[..., :-1] + 0.1).any()


def test_paf_dropout_and_angle(people):
    _, clean = render_maps(COCO18, people, SIZE, NoiseModel(0.0), None)
    _, dropped = render_maps(COCO18, people, SIZE, _quiet(paf_dropout=1.0, clustered=1.0),
                             np.random.default_rng(0))
    assert not dropped.any()
    _, turned = render_maps(COCO18, people, SIZE, _quiet(paf_angle=0.5),
                            np.random.default_rng(0))
    assert ((turned != 0) == (clean != 0)).mean() > 0.99  # same support, other directions
    assert not np.allclose(turned, clean, atol=1e-3)


def test_negative_noise_is_refused():
    with pytest.raises(PosekitError, match="--noise"):
        NoiseModel(-1.0)


def test_failure_weights_grow_away_from_the_root():
    w = dict(zip(COCO18.keypoints, failure_weights(COCO18, 2.0), strict=True))
    assert np.mean(list(w.values())) == pytest.approx(1.0)
    assert w["Neck"] == 0.0  # the root: a visible neck is never lost
    assert w["LAnkle"] > w["LKnee"] > w["LHip"] and w["RWrist"] > w["RElbow"] > w["RShoulder"]
    assert np.array_equal(failure_weights(COCO18, 0.0), np.ones(COCO18.num_keypoints))


def test_visible_misses_fall_on_far_parts(people):
    heat, _ = render_maps(COCO18, people, SIZE, _quiet(miss=1.0, spread=2.0),
                          np.random.default_rng(0))
    k = COCO18.index
    assert heat[..., k("Neck")].max() > 0.5  # weight 0: kept
    assert heat[..., k("LAnkle")].max() == 0.0 and heat[..., k("RAnkle")].max() == 0.0


def _lost_limbs(noise: NoiseModel, seed: int) -> tuple[np.ndarray, set[int]]:
    """One whole person: the limbs whose field the noise removed."""
    person = sample_poses(COCO18, np.random.default_rng(seed), SIZE, 1, truncation=0.0)
    person[..., 2] = 2
    _, clean = render_maps(COCO18, person, SIZE, NoiseModel(0.0), None)
    _, paf = render_maps(COCO18, person, SIZE, noise, np.random.default_rng(seed))
    ch = COCO18.paf_channels[:, 0]
    had = (clean[..., ch] != 0).any(axis=(0, 1))
    return person, {int(l) for l in np.flatnonzero(had & ~(paf[..., ch] != 0).any(axis=(0, 1)))}


def _whole_part_lost(limb: int, lost: set[int]) -> bool:
    """Did every limb at one of ``limb``'s ends go?"""
    limbs = COCO18.limb_index
    return any(all(m in lost for m in np.flatnonzero((limbs == end).any(axis=1)))
               for end in limbs[limb])


def test_clustered_failures_take_every_limb_at_a_part():
    together = _quiet(paf_dropout=0.1, clustered=1.0)
    alone = _quiet(paf_dropout=0.1, clustered=0.0)
    runs = [_lost_limbs(together, seed)[1] for seed in range(20)]
    assert sum(map(len, runs)) > 10
    assert all(_whole_part_lost(l, lost) for lost in runs for l in lost)
    runs = [_lost_limbs(alone, seed)[1] for seed in range(20)]
    assert not all(_whole_part_lost(l, lost) for lost in runs for l in lost)
