"""Map statistics: clean maps measure clean, each spoiled component is measured."""

import dataclasses

import numpy as np
import pytest

from posekit import load_skeleton
from posekit.compare import MapStats, measure_maps, synthetic_scenes
from posekit.compare.noise import NoiseModel, render_maps
from posekit.decode import build_candidates

COCO18 = load_skeleton("coco18")
SCENES = synthetic_scenes(COCO18, [1, 3], 4, seed=0, overlap=0.0, truncation=0.0)


def _measure(noise: NoiseModel) -> dict:
    total = MapStats()
    for scene in SCENES:
        heat, paf = render_maps(COCO18, scene.keypoints, scene.image_size, noise,
                                np.random.default_rng(scene.index))
        graph = build_candidates(heat, paf, COCO18, image_size=scene.image_size)
        total = total + measure_maps(COCO18, graph, paf, scene.keypoints, scene.image_size)
    return total.summary()


def _only(**keep) -> NoiseModel:
    off = dict(jitter=0, miss=0, weak=0, false_peaks=0, paf_angle=0, paf_pixel=0,
               paf_dropout=0, spread=0.0)
    return dataclasses.replace(NoiseModel(1.0), **{**off, **keep})


def test_clean_maps_measure_clean():
    s = _measure(NoiseModel(0.0))
    assert s["people"] == sum(sc.num_people for sc in SCENES)
    assert s["miss_visible"] == 0 and s["limb_failure_visible"] == 0
    assert s["false_peaks"] == 0 and s["clustered_failures"] is None
    assert s["jitter"] < 0.005 and abs(s["paf_angle"]) < 0.01
    assert s["peak_height"] > 0.95


def test_every_component_shows_up():
    assert _measure(_only(miss=1.0))["miss_visible"] == 1.0
    assert _measure(_only(jitter=0.03))["jitter"] == pytest.approx(0.03, rel=0.3)
    assert _measure(_only(false_peaks=3.0))["false_peaks"] > 1.0
    assert _measure(_only(paf_angle=0.3))["paf_angle"] == pytest.approx(0.3, rel=0.35)
    dropped = _measure(_only(paf_dropout=0.05, clustered=1.0))
    assert dropped["limb_failure_visible"] > 0.02 and dropped["clustered_failures"] > 0.5


def test_scaled_maps_are_measured_in_original_pixels():
    """A network's maps cover a downscaled working image: ``scale`` maps back."""
    scene = SCENES[-1]
    W, H = scene.image_size
    half = scene.keypoints.copy()
    half[..., :2] = (half[..., :2] + 0.5) / 2 - 0.5
    heat, paf = render_maps(COCO18, half, (W // 2, H // 2), NoiseModel(0.0), None)
    graph = build_candidates(heat, paf, COCO18, image_size=(W // 2, H // 2))
    full = measure_maps(COCO18, graph, paf, scene.keypoints, (W // 2, H // 2), (2.0, 2.0))
    working = measure_maps(COCO18, graph, paf, half, (W // 2, H // 2))
    full, working = full.summary(), working.summary()
    assert full["miss_visible"] == working["miss_visible"] == 0
    assert full["jitter"] == pytest.approx(working["jitter"], rel=0.05)
    assert full["paf_angle"] == pytest.approx(working["paf_angle"], abs=1e-3)
