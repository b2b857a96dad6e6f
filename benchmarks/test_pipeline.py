"""Full-pipeline throughput on CPU at 368x368: network + decode + parse, 1 vs 20 people.

For each backbone (VGG-19 and light) the baseline is the network alone
(``PoseEstimator.maps``: resize, normalise, forward, maps to numpy). The pipeline adds
decoding and parsing of maps holding 1 or 20 people: the ground-truth maps of a synthetic
scene (posekit.targets), since a randomly initialised network's maps hold nobody and the
network's cost does not depend on what its maps contain. ``extra_info`` records the
decode + parse share of the pipeline time, which should stay small as people grow.
With the bundled demo weights present, the real pipeline (their own maps) is measured too.

    pytest benchmarks/test_pipeline.py --benchmark-columns=median,ops,rounds
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import pytest

import posekit
from posekit.decode import parse_maps
from posekit.inference import PoseEstimator, bundled_weights
from posekit.synth.render import synth_scene
from posekit.targets import render_targets

SIZE = 368
PEOPLE = (1, 20)
PARSER = "hungarian"
SKELETON = posekit.load_skeleton("coco18")
ROUNDS = {"vgg19": 3, "light": 10}


@pytest.fixture(scope="module", params=["vgg19", "light"])
def estimator(request, tmp_path_factory):
    import torch

    from posekit.network import NetworkConfig, Preprocess, build_network, save_checkpoint

    torch.manual_seed(0)
    config = NetworkConfig() if request.param == "vgg19" else NetworkConfig.light()
    net = build_network(SKELETON, config)
    path = tmp_path_factory.mktemp("bench") / f"{request.param}.pt"
    save_checkpoint(path, net, SKELETON, Preprocess(input_height=SIZE))
    est = PoseEstimator(SKELETON, path, parser=PARSER, device="cpu")
    est.backbone = request.param
    return est


def _scene(people: int, seed: int = 0):
    rng = np.random.default_rng(seed)
    scene = synth_scene(SKELETON, rng, (SIZE, SIZE), people)
    targets = render_targets(scene.keypoints, SKELETON, (SIZE, SIZE))
    return scene.image, targets.heatmaps, targets.pafs


def _run(benchmark, est, fn):
    benchmark.group = f"pipeline {est.backbone} {SIZE}x{SIZE} cpu"
    rounds = ROUNDS[est.backbone]
    return benchmark.pedantic(fn, rounds=rounds, iterations=1, warmup_rounds=1)


def test_network_only(benchmark, estimator):
    """Baseline: the network alone."""
    image, _, _ = _scene(1)
    loaded = estimator.load(image)
    _run(benchmark, estimator, lambda: estimator.maps([loaded]))


@pytest.mark.parametrize("people", PEOPLE)
def test_pipeline(benchmark, estimator, people):
    """Network + decode + parse of maps holding ``people`` people."""
    image, heat, paf = _scene(people)
    loaded = estimator.load(image)

    def decode_parse():
        return parse_maps(heat, paf, SKELETON, PARSER, image_size=(SIZE, SIZE))

    def pipeline():
        estimator.maps([loaded])
        return decode_parse()

    found = _run(benchmark, estimator, pipeline)
    assert len(found) >= 1
    parse_s = statistics.median(_timed(decode_parse) for _ in range(5))
    total_s = benchmark.stats.stats.median
    benchmark.extra_info.update(
        people=people, found=len(found), decode_parse_ms=round(parse_s * 1e3, 2),
        parse_share=round(parse_s / total_s, 4), images_per_second=round(1 / total_s, 3))


@pytest.mark.skipif(bundled_weights("coco18") is None or not bundled_weights("coco18").is_file(),
                    reason="no bundled demo weights")
@pytest.mark.parametrize("people", PEOPLE)
def test_demo_weights_pipeline(benchmark, people):
    """The real thing: bundled demo weights on a synthetic 368x368 scene."""
    est = PoseEstimator("coco18", parser=PARSER, device="cpu", warn_demo=False)
    image, _, _ = _scene(people, seed=1)
    loaded = est.load(image)
    benchmark.group = f"demo weights {SIZE}x{SIZE} cpu"
    found = benchmark.pedantic(lambda: est.predict([loaded])[0], rounds=5, iterations=1,
                               warmup_rounds=1)
    heat, paf = est.maps([loaded])[0]
    parse_s = statistics.median(
        _timed(lambda: est.people_from_maps(heat, paf, loaded)) for _ in range(5))
    total_s = benchmark.stats.stats.median
    benchmark.extra_info.update(
        people=people, found=len(found), decode_parse_ms=round(parse_s * 1e3, 2),
        parse_share=round(parse_s / total_s, 4), images_per_second=round(1 / total_s, 3))


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start
