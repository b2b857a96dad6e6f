"""build_candidates and parse_maps: maps -> candidate graph -> people, and map validation."""

from __future__ import annotations

import subprocess
import sys

import numpy as np
import pytest

from posekit.decode import CandidateGraph, DecodeConfig, build_candidates, parse_maps
from posekit.errors import PosekitError
from posekit.people import Person
from posekit.targets import render_targets

IMAGE = (656, 368)


class BestPeakParser:
    """A parser of our own: one person made of the best peak of every part; it keeps the
    graph it was given so tests can look at it."""

    def __init__(self) -> None:
        self.seen: list[CandidateGraph] = []

    def __call__(self, candidates, skeleton):
        self.seen.append(candidates)
        kp = np.zeros((skeleton.num_keypoints, 3))
        for k, peaks in enumerate(candidates.peaks):
            if len(peaks):
                kp[k] = peaks[np.argmax(peaks[:, 2])]
        return [Person(kp, 1.0)]


def matched(found: list[Person], truth: np.ndarray, tol: float) -> bool:
    """Every true person has a found person with all its keypoints within ``tol`` px."""
    for person in truth:
        if not any(np.all(np.hypot(*(p.keypoints[:, :2] - person[:, :2]).T) <= tol)
                   and p.num_parts == len(person) for p in found):
            return False
    return True


def test_candidate_graph_of_three_people(coco18, three_people):
    t = render_targets(three_people, coco18, IMAGE)
    graph = build_candidates(t.heatmaps, t.pafs, coco18, image_size=IMAGE)
    assert graph.image_size == IMAGE
    graph.check(coco18)
    assert [len(p) for p in graph.peaks] == [3] * 18
    for l, (pairs, scores) in enumerate(zip(graph.pairs, graph.scores, strict=True)):
        assert len(pairs) == 3, l  # each person's own limb, nothing across people
        a, b = coco18.limb_index[l]
        for i, j in pairs:  # both ends belong to one person
            pa, pb = graph.peaks[a][i], graph.peaks[b][j]
            who_a = np.argmin(np.abs(three_people[:, a, 0] - pa[0]))
            who_b = np.argmin(np.abs(three_people[:, b, 0] - pb[0]))
            assert who_a == who_b
        assert scores.min() > 0.7


@pytest.mark.parametrize("upsample", ["patch", "full", "none"])
def test_parse_maps_round_trip_with_greedy(coco18, three_people, upsample):
    t = render_targets(three_people, coco18, IMAGE)
    people = parse_maps(t.heatmaps, t.pafs, "coco18", "greedy", IMAGE, upsample=upsample)
    assert len(people) == 3
    assert matched(people, three_people, tol=1.5)
    assert all(isinstance(p, Person) for p in people)


def test_parser_object_is_used(coco18, place_people):
    truth = place_people(coco18, [(300.4, 170.2)], 250.0)
    t = render_targets(truth, coco18, IMAGE)
    parser = BestPeakParser()
    people = parse_maps(t.heatmaps, t.pafs, coco18, parser, IMAGE)
    assert len(parser.seen) == 1 and parser.seen[0].image_size == IMAGE
    assert matched(people, truth, tol=1.0)


def test_maps_at_image_resolution(coco18, place_people):
    truth = place_people(coco18, [(100.2, 80.7)], 120.0)
    t = render_targets(truth, coco18, (200, 160), stride=1, sigma=4.0)
    assert t.heatmaps.shape[:2] == (160, 200)
    people = parse_maps(t.heatmaps, t.pafs, coco18, BestPeakParser())
    assert matched(people, truth, tol=1.0)


def test_stride_option_for_partial_last_cell(coco18, place_people):
    """650 px at stride 8 gives 82 map columns, the last one partly outside the image:
    ``stride=8`` keeps the targets' geometry, image / map size would not."""
    size = (650, 370)
    truth = place_people(coco18, [(560.5, 200.3)], 300.0)
    t = render_targets(truth, coco18, size)
    assert t.heatmaps.shape[:2] == (47, 82)
    exact = parse_maps(t.heatmaps, t.pafs, coco18, BestPeakParser(), size, stride=8)
    assert matched(exact, truth, tol=1.0)
    stretched = parse_maps(t.heatmaps, t.pafs, coco18, BestPeakParser(), size)
    assert not matched(stretched, truth, tol=1.0)


def test_decode_options_reach_decoding(coco18, three_people):
    t = render_targets(three_people, coco18, IMAGE)
    parser = BestPeakParser()
    parse_maps(t.heatmaps, t.pafs, coco18, parser, IMAGE, peak_threshold=0.99)
    parse_maps(t.heatmaps, t.pafs, coco18, parser, IMAGE,
               config=DecodeConfig(max_peaks=1, min_limb_score=5.0))
    strict, capped = parser.seen
    assert sum(len(p) for p in strict.peaks) < 54
    assert all(len(p) == 1 for p in capped.peaks)
    assert all(len(p) == 0 for p in capped.pairs)


def test_parser_options_reach_the_parser(coco18, three_people):
    t = render_targets(three_people, coco18, IMAGE)
    people = parse_maps(t.heatmaps, t.pafs, coco18, "tree-ilp", IMAGE, time_limit=10.0)
    assert len(people) == 3


@pytest.mark.parametrize(("parser", "options", "match"), [
    ("greedy", {"peak_treshold": 0.1}, "did you mean 'peak_threshold'"),
    ("greedy", {"time_limit": 1.0}, "parser 'greedy'"),
    (BestPeakParser(), {"time_limit": 1.0}, "already built parser"),
])
def test_unknown_options_are_refused(coco18, three_people, parser, options, match):
    t = render_targets(three_people, coco18, IMAGE)
    with pytest.raises(PosekitError, match=match):
        parse_maps(t.heatmaps, t.pafs, coco18, parser, IMAGE, **options)


@pytest.fixture
def maps(coco18, three_people):
    t = render_targets(three_people, coco18, IMAGE)
    return t.heatmaps, t.pafs


def bad(maps, what):
    heat, paf = maps[0].copy(), maps[1].copy()
    if what == "heat channels":
        heat = heat[..., :18]
    elif what == "paf channels":
        paf = paf[..., :36]
    elif what == "channels first":
        heat = np.ascontiguousarray(np.moveaxis(heat, -1, 0))
    elif what == "sizes":
        paf = paf[:-1]
    elif what == "nan":
        heat[3, 4, 5] = np.nan
    elif what == "inf":
        paf[0, 0, 0] = np.inf
    elif what == "empty":
        heat, paf = heat[:0], paf[:0]
    elif what == "ndim":
        heat = heat[0]
    elif what == "dtype":
        heat = (heat * 255).astype(np.uint8)
    return heat, paf


@pytest.mark.parametrize(("what", "message"), [
    ("heat channels", "heatmaps have 18 channels but skeleton 'coco18' needs 19 "
                      "(18 keypoints + background)"),
    ("paf channels", "pafs have 36 channels but skeleton 'coco18' needs 38 "
                     "(x and y for 19 limbs)"),
    ("channels first", "numpy.moveaxis"),
    ("sizes", "heatmaps are 46x82 (height x width) but pafs are 45x82"),
    ("nan", "heatmaps contain 1 NaN or infinite value;"),
    ("inf", "pafs contain 1 NaN or infinite value;"),
    ("empty", "maps are empty"),
    ("ndim", "heatmaps must have 3 dimensions"),
    ("dtype", "heatmaps must be a float array (float32), got dtype uint8"),
])
def test_bad_maps_are_refused(coco18, maps, what, message):
    heat, paf = bad(maps, what)
    with pytest.raises(PosekitError) as err:
        build_candidates(heat, paf, coco18, IMAGE)
    assert message in str(err.value)
    assert "\n" not in str(err.value)


def test_float64_maps_are_accepted(coco18, maps):
    graph = build_candidates(maps[0].astype(np.float64), maps[1].astype(np.float64), coco18,
                             IMAGE)
    assert sum(len(p) for p in graph.peaks) == 54


@pytest.mark.parametrize(("kwargs", "match"), [
    (dict(upsample="bicubic"), "upsample"), (dict(kernel="lanczos"), "kernel"),
    (dict(refine="peak"), "refine"), (dict(refine_radius=-1), "refine_radius"),
    (dict(max_peaks=0), "max_peaks"), (dict(min_samples=30), "min_samples"),
])
def test_decode_config_validation(kwargs, match):
    with pytest.raises(PosekitError, match=match):
        DecodeConfig(**kwargs)


def test_bad_image_size(coco18, maps):
    for size in [(0, 368), (656,), (656.5, 368), "656x368"]:
        with pytest.raises(PosekitError, match="image_size"):
            build_candidates(*maps, coco18, size)


def test_decoding_does_not_import_torch():
    code = ("import sys, numpy as np; import posekit.decode, posekit.targets, posekit.maps; "
            "from posekit.decode import parse_maps; assert 'torch' not in sys.modules")
    subprocess.run([sys.executable, "-c", code], check=True)
