"""Full-pipeline throughput on CPU at 368x368: network + decode + parse, 1 vs 20 people.

For each backbone (VGG-19 and light) the baseline is the network alone
(``PoseEstimator.maps``: resize, normalise, forward, maps to numpy). The pipeline adds
decoding and parsing of maps holding 1 or 20 people: the ground-truth maps of a synthetic
scene (posekit.targets), since a randomly initialised network's maps hold nobody and the
network's cost does not depend on what its maps contain. ``extra_info`` records the
shares of decoding (peaks + PAF line integrals -> candidate graph) and of parsing (the
parser on that graph) in the pipeline time; the parse share should stay small as people
grow.
With the bundled demo weights present, the real pipeline (their own maps) is measured too.

    pytest benchmarks/test_pipeline.py --benchmark-columns=median,ops,rounds
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import pytest

import posekit
from posekit.decode import build_candidates
from posekit.inference import PoseEstimator, bundled_weights
from posekit.parsers import get_parser
from posekit.synth.render import synth_scene
from posekit.targets import render_targets

SIZE = 368
PEOPLE = (1, 20)
PARSER = "hungarian"
SKELETON = posekit.load_skeleton("coco18")
ROUNDS = {"vgg19": 3, "light": 20}


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
    parser = get_parser(PARSER)

    def decode():
        return build_candidates(heat, paf, SKELETON, (SIZE, SIZE))

    def pipeline():
        estimator.maps([loaded])
        return parser(decode(), SKELETON)

    found = _run(benchmark, estimator, pipeline)
    assert len(found) >= 1
    graph = decode()
    _record(benchmark, people, found, _median(decode), _median(lambda: parser(graph, SKELETON)))


def _record(benchmark, people, found, decode_s, parse_s):
    total_s = benchmark.stats.stats.median
    benchmark.extra_info.update(
        people=people, found=len(found), images_per_second=round(1 / total_s, 3),
        decode_ms=round(decode_s * 1e3, 2), parse_ms=round(parse_s * 1e3, 2),
        decode_share=round(decode_s / total_s, 4), parse_share=round(parse_s / total_s, 4))


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
    size = loaded.working_size

    def decode():
        return build_candidates(heat, paf, est.skeleton, size)

    graph = decode()
    _record(benchmark, people, found, _median(decode),
            _median(lambda: est.parser(graph, est.skeleton)))


def _median(fn, repeat: int = 7) -> float:
    return statistics.median(_timed(fn) for _ in range(repeat))


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start
