"""The limb rule variants (end samples, spacing, score) and the decode presets."""

from __future__ import annotations

import math

import numpy as np
import pytest

from posekit.decode import DecodeConfig, build_candidates, decode_preset, parse_maps
from posekit.decode.limbs import LimbScoring, sample_counts, score_limb
from posekit.errors import PosekitError
from posekit.parsers import PostRules
from posekit.targets import confidence_maps, part_affinity_fields
from tests.decode.test_limbs import VARIANTS, random_case, reference


@pytest.mark.parametrize("variant", VARIANTS)
@pytest.mark.parametrize("seed", [0, 1, 2])
@pytest.mark.parametrize("interpolation", ["bilinear", "nearest"])
def test_variants_match_a_plain_loop(variant, seed, interpolation):
    rule = LimbScoring(**variant)
    paf, a, b = random_case(seed)
    want = reference(paf, [2, 3], a, b, rule, 184, (8.0, 8.0), interpolation)
    got = score_limb(paf, (2, 3), a, b, image_height=184, scale=(8.0, 8.0), rule=rule,
                     interpolation=interpolation)
    assert got[0].tolist() == want[0].tolist()
    np.testing.assert_allclose(got[1], want[1], rtol=1e-9)


def field_ending_at(length: float, beyond: float) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """A horizontal limb's field at image resolution that covers exactly x = 20 .. 20 +
    length, and its two candidates, the second ``beyond`` pixels past the field's end
    (a peak found a pixel or two beyond the joint, as on real maps)."""
    paf = np.zeros((40, 200, 2), dtype=np.float32)
    paf[15:26, 20:21 + int(length), 0] = 1.0
    a = np.array([[20.0, 20.0]])
    b = np.array([[20.0 + length + beyond, 20.0]])
    return paf, a, b


def test_an_end_sample_off_the_field_fails_openposes_rule_but_not_the_robust_one():
    paf, a, b = field_ending_at(60, 2.0)
    args = dict(image_height=368, interpolation="nearest")
    strict = score_limb(paf, (0, 1), a, b, rule=LimbScoring(), **args)
    robust = score_limb(paf, (0, 1), a, b, rule=LimbScoring(ends="skip"), **args)
    assert len(strict[0]) == 0  # one sample of 18 below the threshold: rejected
    assert robust[0].tolist() == [[0, 0]] and robust[1][0] > 0.9
    # a field missing in the middle fails either way
    paf[15:26, 40:60] = 0
    assert len(score_limb(paf, (0, 1), a, b, rule=LimbScoring(ends="skip"), **args)[0]) == 0


def test_openpose_spacing_never_reads_the_second_candidate():
    paf, a, b = field_ending_at(60, 3.0)
    rule = LimbScoring(spacing="openpose", prior=None)
    n = int(sample_counts(np.array([63.0]), np.array([0.0]), rule)[0])
    got = score_limb(paf, (0, 1), a, b, image_height=368, rule=rule, interpolation="nearest")
    # last sample at a + (n - 1) / n * d = 20 + 63 (n - 1) / n, inside the field
    assert n == 18 and 20 + 63 * (n - 1) / n <= 80 and got[0].tolist() == [[0, 0]]
    both = score_limb(paf, (0, 1), a, b, image_height=368, interpolation="nearest",
                      rule=LimbScoring(prior=None))
    assert len(both[0]) == 0  # reads b, 3 px past the field


def test_mean_above_scores_only_the_samples_that_count():
    paf, a, b = field_ending_at(100, 0.0)
    paf[15:26, 20:30, 0] = 0.03  # weak (below the threshold) near the first candidate
    rule = dict(prior=None, ends="skip", min_above=0.5)
    args = dict(image_height=368, interpolation="nearest")
    mean = score_limb(paf, (0, 1), a, b, rule=LimbScoring(**rule), **args)[1][0]
    above = score_limb(paf, (0, 1), a, b, rule=LimbScoring(**rule, score="mean-above"),
                       **args)[1][0]
    assert mean < 0.95 and above == pytest.approx(1.0)


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(ends="both"), "ends"), (dict(spacing="linspace"), "spacing"),
    (dict(score="max"), "score"), (dict(ends="skip", min_samples=2), "min_samples"),
])
def test_variant_validation(kwargs, match):
    with pytest.raises(PosekitError, match=match):
        LimbScoring(**kwargs)


# -------------------------------------------------------------------------- presets
def test_openpose_preset_is_openpose_cpp():
    """OpenPose C++ (poseParameters.cpp, non-MPI defaults; bodyPartConnectorBase.cpp;
    nmsBase.cpp): NMS 0.05 on cubic-upsampled maps with a 7x7 centroid, PAF sample
    threshold 0.05, more than 95 % of n = clamp(round(sqrt(5 max(|dx|, |dy|))), 5, 25)
    samples at a + k d / n read at the nearest pixel, score = mean of the samples above
    the threshold, no distance prior, at least 3 parts and a mean score of 0.4, nothing
    re-attached."""
    preset = decode_preset("openpose")
    c = preset.config
    assert (c.peak_threshold, c.upsample, c.kernel, c.refine, c.refine_radius) == \
        (0.05, "full", "cubic", "centroid", 3)
    assert (c.paf_threshold, c.min_above, c.distance_prior) == (0.05, 0.95, None)
    assert (c.end_samples, c.sample_spacing, c.limb_score) == ("count", "openpose",
                                                               "mean-above")
    assert (c.max_peaks, c.peak_separation) == (127, 0.0)
    spans = np.array([0.0, 4.0, 5.0, 12.0, 30.0, 60.0, 124.0, 125.0, 1000.0])
    want = [min(25, max(5, int(math.sqrt(5 * s) + 0.5))) for s in spans]
    assert sample_counts(spans, spans / 2, c.scoring).tolist() == want
    assert preset.rules == PostRules(min_parts=3, min_score=0.4, fragments=None)


def test_default_preset_is_the_default_config():
    preset = decode_preset("posekit")
    assert preset.config == DecodeConfig() and preset.rules == PostRules()
    assert DecodeConfig().end_samples == "skip"


def test_unknown_preset_names_the_valid_ones():
    with pytest.raises(PosekitError, match="openpose.*did you mean 'openpose'"):
        decode_preset("openpse")


def one_person_rect_maps(coco18, place_people, *, wrist_beyond: float):
    """Maps of one person with the paper's rectangle PAFs; the right wrist's heatmap peak
    ``wrist_beyond`` pixels past the joint, along the forearm."""
    kp = place_people(coco18, [(328.0, 184.0)], 300.0)
    heat_kp = kp.copy()
    w, e = coco18.index("RWrist"), coco18.index("RElbow")
    d = kp[0, w, :2] - kp[0, e, :2]
    heat_kp[0, w, :2] += wrist_beyond * d / np.linalg.norm(d)
    heat = confidence_maps(heat_kp, coco18, (656, 368))
    paf = part_affinity_fields(kp, coco18, (656, 368), end_caps=False)
    return heat, paf


def test_a_lone_person_whose_end_sample_is_weak_is_still_one_whole_person(coco18,
                                                                         place_people):
    """The wrist's peak 4 px past the joint, where the rectangle field ends: its end
    sample reads nothing. Counting it (OpenPose's demo rule) loses the forearm."""
    heat, paf = one_person_rect_maps(coco18, place_people, wrist_beyond=4.0)
    people = parse_maps(heat, paf, coco18, "greedy", image_size=(656, 368))
    assert [p.num_parts for p in people] == [18]
    strict = parse_maps(heat, paf, coco18, "greedy", image_size=(656, 368),
                        end_samples="count")
    assert [p.num_parts for p in strict] == [17]
    assert not strict[0].visible[coco18.index("RWrist")]


def test_decode_option_reaches_the_parsers_rules(coco18, place_people):
    heat, paf = one_person_rect_maps(coco18, place_people, wrist_beyond=0.0)
    graph = build_candidates(heat, paf, coco18, (656, 368), decode_preset("openpose").config)
    assert all(len(p) == 1 for p in graph.peaks)
    with pytest.raises(PosekitError, match="unknown decode preset"):
        parse_maps(heat, paf, coco18, "greedy", image_size=(656, 368), decode="caffe")
    # preset settings can be overridden field by field
    people = parse_maps(heat, paf, coco18, "greedy", image_size=(656, 368),
                        decode="openpose", min_above=0.5)
    assert [p.num_parts for p in people] == [18]


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(peak_separation=-1.0), "peak_separation"), (dict(end_samples="none"), "ends"),
    (dict(sample_spacing="even"), "spacing"), (dict(limb_score="median"), "score"),
])
def test_decode_config_validates_the_new_fields(kwargs, match):
    with pytest.raises(PosekitError, match=match):
        DecodeConfig(**kwargs)
