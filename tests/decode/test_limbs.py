"""Limb scores (posekit.decode.limbs): the sampled PAF line integral and its rules."""

from __future__ import annotations

import math

import numpy as np
import pytest

import posekit.decode.limbs as limbs
from posekit.decode.limbs import LimbScoring, sample_counts, score_limb, score_limbs
from posekit.decode.resize import upsample_maps
from posekit.errors import PosekitError
from posekit.targets import part_affinity_fields


def uniform_field(h: int, w: int, vec=(1.0, 0.0)) -> np.ndarray:
    paf = np.zeros((h, w, 2), dtype=np.float32)
    paf[...] = vec
    return paf


@pytest.mark.parametrize(("dx", "dy", "n"), [
    (0, 0, 5), (5, 0, 5), (0, 20, 10), (-45, 3, 15), (48, 0, 15), (48.05, 0, 16),
    (125, 0, 25), (1000, -999, 25),
])
def test_sample_counts(dx, dy, n):
    # clamp(round(sqrt(5 * max(|dx|, |dy|))), 5, 25); sqrt(5 * 48.05) = 15.5 rounds up
    assert sample_counts(np.array([dx]), np.array([dy]))[0] == n


def test_uniform_field_scores_one_plus_distance_prior():
    paf = uniform_field(40, 300)
    a = np.array([[10.0, 20.0, 0.9]])
    b = np.array([[30.0, 20.0, 0.9], [250.0, 20.0, 0.9], [10.0, 35.0, 0.9]])
    pairs, scores = score_limb(paf, (0, 1), a, b, image_height=200)
    # (0, 1): along the field, 20 px: score 1; (0, 2): 240 px long, over half the image
    # height: prior 0.5 * 200 / 240 - 1; (0, 3): across the field: all samples 0
    assert pairs.tolist() == [[0, 0], [0, 1]] and pairs.dtype == np.intp
    np.testing.assert_allclose(scores, [1.0, 1.0 + 0.5 * 200 / 240 - 1], rtol=1e-6)
    _, plain = score_limb(paf, (0, 1), a, b, image_height=200,
                          rule=LimbScoring(prior=None))
    np.testing.assert_allclose(plain, [1.0, 1.0], rtol=1e-6)
    # a weak field: the prior refuses a long limb (0.3 + 100 / 200 - 1 < 0), not a
    # shorter one (0.3 + 100 / 120 - 1 > 0)
    weak = uniform_field(40, 300, (0.3, 0.0))
    ends = np.array([[130.0, 20.0], [210.0, 20.0]])
    pairs, scores = score_limb(weak, (0, 1), a, ends, image_height=200)
    assert pairs.tolist() == [[0, 0]]
    np.testing.assert_allclose(scores, [0.3 + 100 / 120 - 1], rtol=1e-6)


def test_direction_matters():
    paf = uniform_field(40, 100)
    a, b = np.array([[60.0, 20.0]]), np.array([[20.0, 20.0]])  # against the field
    assert len(score_limb(paf, (0, 1), a, b, image_height=40)[0]) == 0
    assert len(score_limb(paf, (0, 1), b, a, image_height=40)[0]) == 1


@pytest.mark.parametrize(("length", "holes", "accepted"), [
    (100, 1, True),   # 22 samples: one may fail (21 > 0.95 * 22)
    (100, 2, False),
    (40, 1, False),   # 14 samples: none may fail
    (40, 0, True),
])
def test_fraction_of_samples_above_threshold(length, holes, accepted):
    n = int(sample_counts(np.array([length]), np.array([0]))[0])
    paf = uniform_field(11, 120)
    for k in range(1, holes + 1):  # zero the PAF under interior samples 3, 6, ...
        x = 5 + length * (3 * k) / (n - 1)
        paf[5, int(np.floor(x + 0.5))] = 0
    pairs, _ = score_limb(paf, (0, 1), np.array([[5.0, 5.0]]),
                          np.array([[5.0 + length, 5.0]]), image_height=1000,
                          interpolation="nearest")
    assert (len(pairs) == 1) is accepted


def test_coinciding_candidates_and_empty_sides():
    paf = uniform_field(10, 10)
    a = np.array([[4.0, 4.0, 1.0]])
    assert len(score_limb(paf, (0, 1), a, a.copy(), image_height=10)[0]) == 0
    pairs, scores = score_limb(paf, (0, 1), np.zeros((0, 3)), a, image_height=10)
    assert pairs.shape == (0, 2) and scores.shape == (0,)
    with pytest.raises(PosekitError, match="interpolation"):
        score_limb(paf, (0, 1), a, a + [3, 0, 0], image_height=10, interpolation="area")


def test_true_limb_high_crossing_pair_rejected(coco18):
    """Two upright people side by side: their own Neck-RHip limbs score about 1; the
    pairs across people (Neck of one, RHip of the other) are refused."""
    kp = np.zeros((2, 18, 3))
    kp[0, 1], kp[0, 8] = (150, 100, 2), (152, 220, 2)
    kp[1, 1], kp[1, 8] = (300, 105, 2), (298, 225, 2)
    paf = part_affinity_fields(kp, coco18, (656, 368), stride=8)
    limb = 6  # Neck -> RHip
    assert tuple(coco18.limb_index[limb]) == (1, 8)
    pairs, scores = score_limb(paf, tuple(coco18.paf_channels[limb]), kp[:, 1], kp[:, 8],
                               image_height=368, scale=(8.0, 8.0), interpolation="cubic")
    assert pairs.tolist() == [[0, 0], [1, 1]]
    assert scores.min() > 0.9


def random_case(seed: int):
    rng = np.random.default_rng(seed)
    h, w = 23, 41
    angle = rng.uniform(0, 2 * math.pi)
    paf = np.zeros((h, w, 4), dtype=np.float32)
    paf[..., 2] = math.cos(angle) + rng.normal(0, 0.4, (h, w))
    paf[..., 3] = math.sin(angle) + rng.normal(0, 0.4, (h, w))
    paf[rng.random((h, w)) < 0.1, 2:] = 0
    a = rng.uniform(-10, [8 * w + 10, 8 * h + 10], (12, 2))
    b = np.concatenate([a[:6] + 60 * np.array([math.cos(angle), math.sin(angle)]),
                        rng.uniform(0, [8 * w, 8 * h], (6, 2))])
    return paf, a, b


VARIANTS = [
    dict(ends="skip"), dict(spacing="openpose"), dict(score="mean-above"),
    dict(ends="skip", min_above=0.8), dict(spacing="openpose", score="mean-above", prior=None),
]


def reference(paf, channels, a, b, rule: LimbScoring, image_height, scale, interpolation):
    """A plain loop over pairs and samples, written from LimbScoring's docstring."""
    h, w = paf.shape[:2]
    pairs, scores = [], []
    for i, pa in enumerate(a):
        for j, pb in enumerate(b):
            d = pb - pa
            norm = math.hypot(*d)
            if norm < 1e-6:
                continue
            n = min(rule.max_samples, max(rule.min_samples, math.floor(
                math.sqrt(rule.density * max(abs(d[0]), abs(d[1]))) + 0.5)))
            steps = n - 1 if rule.spacing == "both-ends" else n
            dots = []
            for k in range(n):
                x, y = pa + d * k / steps
                u = min(max((x + 0.5) / scale[0] - 0.5, 0), w - 1)
                v = min(max((y + 0.5) / scale[1] - 0.5, 0), h - 1)
                if interpolation == "nearest":
                    vec = paf[int(math.floor(v + 0.5)), int(math.floor(u + 0.5)), channels]
                else:
                    j0, i0 = min(int(u), max(w - 2, 0)), min(int(v), max(h - 2, 0))
                    tu, tv = u - j0, v - i0
                    vec = ((1 - tv) * ((1 - tu) * paf[i0, j0, channels]
                                       + tu * paf[i0, j0 + 1, channels])
                           + tv * ((1 - tu) * paf[i0 + 1, j0, channels]
                                   + tu * paf[i0 + 1, j0 + 1, channels]))
                dots.append(float(vec[0] * d[0] / norm + vec[1] * d[1] / norm))
            tested = dots[1:-1] if rule.ends == "skip" else dots
            passing = [v for v in dots if v > rule.sample_threshold]
            if rule.score == "mean":
                score = sum(dots) / n
            else:
                score = sum(passing) / max(len(passing), 1)
            if rule.prior is not None:
                score += min(rule.prior * image_height / norm - 1, 0)
            above = sum(v > rule.sample_threshold for v in tested)
            if above > rule.min_above * len(tested) and score > rule.min_score:
                pairs.append([i, j])
                scores.append(score)
    return np.array(pairs, dtype=np.intp).reshape(-1, 2), np.array(scores)


@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_matches_a_plain_loop(seed, interpolation):
    paf, a, b = random_case(seed)
    want = reference(paf, [2, 3], a, b, LimbScoring(), 184, (8.0, 8.0), interpolation)
    got = score_limb(paf, (2, 3), a, b, image_height=184, scale=(8.0, 8.0),
                     interpolation=interpolation)
    assert got[0].tolist() == want[0].tolist()
    assert len(want[0]) > 0
    np.testing.assert_allclose(got[1], want[1], rtol=1e-9)


@pytest.mark.parametrize("variant", [{}, *VARIANTS])
@pytest.mark.parametrize("seed", [0, 1, 2, 3])
@pytest.mark.parametrize("interpolation", ["bilinear", "cubic", "nearest"])
def test_early_rejection_changes_nothing(monkeypatch, seed, interpolation, variant):
    """For OpenPose's rule and every variant of it (end samples, spacing, score)."""
    paf, a, b = random_case(seed)
    args = dict(image_height=184, scale=(8.0, 8.0), interpolation=interpolation,
                rule=LimbScoring(**variant))
    monkeypatch.setattr(limbs, "PROBE_MIN_PAIRS", 0)
    monkeypatch.setattr(limbs, "READ_FIRST_MIN_PAIRS", 0)
    fast = score_limb(paf, (2, 3), a, b, **args)
    monkeypatch.setattr(limbs, "END_SAMPLES", False)
    monkeypatch.setattr(limbs, "BOUND_PROBES", ())
    monkeypatch.setattr(limbs, "READ_FIRST", 0)
    slow = score_limb(paf, (2, 3), a, b, **args)
    assert fast[0].tolist() == slow[0].tolist()
    np.testing.assert_allclose(fast[1], slow[1], rtol=0, atol=1e-12)


@pytest.mark.parametrize("interpolation", ["bilinear", "cubic", "nearest"])
def test_early_rejection_changes_nothing_for_all_limbs_at_once(monkeypatch, coco18,
                                                              interpolation):
    """A noisy crowd, every limb scored at once: the shortcuts keep every pair and score."""
    rng = np.random.default_rng(11)
    size = np.array([656.0, 368.0])
    centres = rng.uniform(40, size - 40, (12, 1, 2))
    kp = np.concatenate([centres + rng.normal(0, 30, (12, 18, 2)), np.full((12, 18, 1), 2.0)],
                        axis=2)
    paf = part_affinity_fields(kp, coco18, (656, 368), stride=8)
    paf += rng.normal(0, 0.05, paf.shape).astype(np.float32)
    peaks = [np.concatenate([kp[:, k, :2], rng.uniform(0, size, (4, 2))]) for k in range(18)]
    args = dict(image_height=368, scale=(8.0, 8.0), interpolation=interpolation)
    monkeypatch.setattr(limbs, "READ_FIRST_MIN_PAIRS", 0)
    fast = score_limbs(paf, peaks, coco18, **args)
    monkeypatch.setattr(limbs, "BLOCK", 50)  # pairs and samples in many small blocks
    monkeypatch.setattr(limbs, "READ_BLOCK", 7)
    blocks = score_limbs(paf, peaks, coco18, **args)
    monkeypatch.setattr(limbs, "END_SAMPLES", False)
    monkeypatch.setattr(limbs, "BOUND_PROBES", ())
    monkeypatch.setattr(limbs, "READ_FIRST", 0)
    slow = score_limbs(paf, peaks, coco18, **args)
    assert sum(len(p) for p in slow[0]) >= 12 * coco18.num_limbs // 2
    for l in range(coco18.num_limbs):
        assert fast[0][l].tolist() == blocks[0][l].tolist() == slow[0][l].tolist(), l
        np.testing.assert_allclose(fast[1][l], slow[1][l], rtol=0, atol=1e-12)
        np.testing.assert_allclose(blocks[1][l], slow[1][l], rtol=0, atol=1e-12)


def test_cubic_reading_equals_reading_upsampled_maps():
    """Samples on whole image pixels: the small maps read with the cubic kernel give
    the values of the maps upsampled to the image (what OpenPose reads)."""
    paf, _, _ = random_case(5)
    up = upsample_maps(paf, (41 * 8, 23 * 8), (8.0, 8.0))
    every = LimbScoring(sample_threshold=-10, min_above=0, min_score=-10)
    for start in ([100.0, 50.0], [90.0, 30.0], [250.0, 100.0]):  # samples inside the image
        a = np.array([start])
        b = a + [[72.0, 0.0], [0.0, 72.0], [72.0, 72.0], [-72.0, 0.0]]  # 19 samples, 4 px
        small = score_limb(paf, (2, 3), a, b, image_height=184, scale=(8.0, 8.0),
                           interpolation="cubic", rule=every)
        large = score_limb(up, (2, 3), a, b, image_height=184, interpolation="nearest",
                           rule=every)
        assert small[0].tolist() == large[0].tolist() == [[0, j] for j in range(4)]
        np.testing.assert_allclose(small[1], large[1], atol=1e-5)


def test_score_limbs_covers_every_limb(coco18, place_people):
    kp = place_people(coco18, [(200.0, 180.0)], 300.0)
    paf = part_affinity_fields(kp, coco18, (656, 368), stride=8)
    peaks = [kp[0, k:k + 1] for k in range(18)]
    pairs, scores = score_limbs(paf, peaks, coco18, image_height=368, scale=(8.0, 8.0),
                                interpolation="cubic")
    assert len(pairs) == len(scores) == coco18.num_limbs
    assert all(p.tolist() == [[0, 0]] for p in pairs)
    assert min(float(s[0]) for s in scores) > 0.8


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(min_samples=1), "min_samples"), (dict(min_samples=9, max_samples=5), "min_samples"),
    (dict(min_above=1.5), "min_above"), (dict(density=0), "density"),
])
def test_rule_validation(kwargs, match):
    with pytest.raises(PosekitError, match=match):
        LimbScoring(**kwargs)
