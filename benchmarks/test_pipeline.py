"""Pipeline throughput on CPU at 368x656: is decode + parse hidden behind the network?

For each backbone (VGG-19 and light, random weights) and the same images, in one run:

- ``network``: the baseline, the network alone (``PoseEstimator.maps`` in batches of
  ``batch_size``: normalise, forward, maps to numpy);
- ``serial``: network, then decode + parse of each image in turn (``workers=0``), what
  ``infer`` did before the pipeline;
- ``pipeline``: ``PoseEstimator``'s pipeline (:class:`posekit.inference.pipeline.Pipeline`)
  with loading threads and its default decode processes (``default_workers``: none beside
  a CPU network on 2 cores or fewer, else cores - 1), started once outside the timing as a long
  run would. It also times ``PAIRS`` alternating (network alone, pipeline) runs and records
  the median ratio, which a machine whose load drifts during the run distorts far less than
  the separate tests.

Random weights give maps that hold nobody, so the network here is wrapped to return, after
its real forward pass, the ground-truth maps of a synthetic scene of ``PEOPLE`` people:
decode and parse then do a real crowd's work (the network's cost does not depend on what
its maps contain). ``extra_info`` records images/s and the pipeline's share of the
network-alone rate (target: >= 0.95) and the decode + parse time per image.

    pytest benchmarks/test_pipeline.py --benchmark-columns=median,ops,rounds
"""

from __future__ import annotations

import statistics
import time

import numpy as np
import pytest
import torch

import posekit
from posekit.inference import PoseEstimator
from posekit.inference.pipeline import Pipeline
from posekit.synth.render import synth_scene
from posekit.targets import render_targets

SIZE = (656, 368)  # (W, H): network input 368 x 656
PEOPLE = 10
SKELETON = posekit.load_skeleton("coco18")
IMAGES = {"vgg19": 3, "light": 8}
ROUNDS = {"vgg19": 3, "light": 5}
PAIRS = 3
RATES: dict[str, dict[str, float]] = {}


class Planted(torch.nn.Module):
    """The real network's forward pass, then a fixed scene's ground-truth maps."""

    def __init__(self, net: torch.nn.Module, pafs: np.ndarray, heats: np.ndarray) -> None:
        super().__init__()
        self.net = net
        self.pafs = torch.from_numpy(pafs).permute(2, 0, 1)[None].float()
        self.heats = torch.from_numpy(heats).permute(2, 0, 1)[None].float()

    def forward(self, x: torch.Tensor) -> tuple[torch.Tensor, torch.Tensor]:
        pafs, heats = self.net(x)
        n = x.shape[0]
        assert pafs.shape[-2:] == self.pafs.shape[-2:]
        return self.pafs.expand(n, -1, -1, -1), self.heats.expand(n, -1, -1, -1)


@pytest.fixture(scope="module", params=["vgg19", "light"])
def setup(request, tmp_path_factory):
    from posekit.network import NetworkConfig, Preprocess, build_network, save_checkpoint

    torch.manual_seed(0)
    config = NetworkConfig() if request.param == "vgg19" else NetworkConfig.light()
    net = build_network(SKELETON, config)
    path = tmp_path_factory.mktemp("bench") / f"{request.param}.pt"
    save_checkpoint(path, net, SKELETON, Preprocess(input_height=SIZE[1]))
    est = PoseEstimator(SKELETON, path, parser="hungarian", device="cpu", batch_size=1)
    scene = synth_scene(SKELETON, np.random.default_rng(0), SIZE, PEOPLE)
    targets = render_targets(scene.keypoints, SKELETON, SIZE)
    est.net = Planted(est.net, targets.pafs, targets.heatmaps)
    images = [scene.image] * IMAGES[request.param]
    with Pipeline(est) as pipe:
        list(pipe.run(enumerate(images[:2])))  # start the worker, warm everything up
        yield request.param, est, pipe, images


def _run(benchmark, name, kind, fn, n):
    benchmark.group = f"pipeline {name} {SIZE[1]}x{SIZE[0]} cpu ({n} images)"
    result = benchmark.pedantic(fn, rounds=ROUNDS[name], iterations=1, warmup_rounds=1)
    rate = n / benchmark.stats.stats.median
    RATES.setdefault(name, {})[kind] = rate
    benchmark.extra_info["images_per_second"] = round(rate, 3)
    if "network" in RATES[name]:
        benchmark.extra_info["share_of_network_alone"] = round(
            rate / RATES[name]["network"], 4)
    return result


def test_network_alone(benchmark, setup):
    """Baseline: the network alone, in batches of ``batch_size``."""
    name, est, _, images = setup
    inputs = [est.prepare(est.load(im)) for im in images]

    def network():
        for start in range(0, len(inputs), est.batch_size):
            est.maps(inputs[start:start + est.batch_size])

    _run(benchmark, name, "network", network, len(images))


def test_serial(benchmark, setup):
    """Network, then decode + parse of each image in the same thread."""
    name, est, _, images = setup
    with Pipeline(est, workers=0) as serial:
        people = _run(benchmark, name, "serial",
                      lambda: [r.people for r in serial.run(enumerate(images))], len(images))
    assert all(len(p) >= PEOPLE // 2 for p in people)
    _decode_time(benchmark, est, images[0])


def test_pipeline(benchmark, setup):
    """Loading, network and decode + parse at once (the default decode processes)."""
    name, est, pipe, images = setup
    people = _run(benchmark, name, "pipeline",
                  lambda: [r.people for r in pipe.run(enumerate(images))], len(images))
    assert all(len(p) >= PEOPLE // 2 for p in people)
    _decode_time(benchmark, est, images[0])
    benchmark.extra_info["decode_processes"] = pipe.workers
    inputs = [est.prepare(est.load(im)) for im in images]
    shares = []
    for _ in range(PAIRS):
        network = _timed(lambda: [est.maps([x]) for x in inputs])
        shares.append(network / _timed(lambda: list(pipe.run(enumerate(images)))))
    benchmark.extra_info["paired_share_of_network_alone"] = round(statistics.median(shares), 4)
    benchmark.extra_info["paired_shares"] = [round(x, 4) for x in shares]


def _timed(fn) -> float:
    start = time.perf_counter()
    fn()
    return time.perf_counter() - start


def _decode_time(benchmark, est, image):
    loaded = est.load(image)
    heat, paf = est.maps([loaded])[0]
    times = []
    for _ in range(5):
        start = time.perf_counter()
        est.people_from_maps(heat, paf, loaded)
        times.append(time.perf_counter() - start)
    benchmark.extra_info["decode_parse_ms"] = round(statistics.median(times) * 1e3, 2)
