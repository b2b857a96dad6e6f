"""Decode time (maps -> candidate graph: peaks + limb scores) against crowd size.

Run with ``pytest benchmarks/test_decode.py``. Scenes: ``sample_poses`` crowds of 1 to 64
coco18 people in a 656 x 368 image, their training targets at stride 8 (maps of 82 x 46)
rendered once per scene outside the timing; each round takes the next of ``SCENES``
scenes. Groups ``decode, N people`` hold:

- ``full`` (baseline): OpenPose's way, every map upsampled to the image (cubic), NMS and
  refinement there, PAFs read at the nearest pixel of the upsampled maps;
- ``patch`` (default): seeds on the small maps (see :mod:`posekit.decode.patch`), the full
  upsample computed only on patches around them, PAFs read from the small maps with the
  same kernel;
- ``none``: peaks at map resolution.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest

from posekit.decode import DecodeConfig, build_candidates
from posekit.skeleton import load_skeleton
from posekit.synth.poses import sample_poses
from posekit.targets import render_targets

SKELETON = load_skeleton("coco18")
IMAGE = (656, 368)
PEOPLE = (1, 5, 20, 64)
SCENES = 4
MODES = {"full (baseline)": "full", "patch": "patch", "none": "none"}


@functools.cache
def scenes(people: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    rng = np.random.default_rng(2000 + people)
    size = min(0.6, 1.2 / np.sqrt(people))
    out = []
    for _ in range(SCENES):
        kp = sample_poses(SKELETON, rng, IMAGE, people, scale_range=(0.6 * size, size))
        t = render_targets(kp, SKELETON, IMAGE, stride=8)
        assert t.heatmaps.shape == (46, 82, 19)
        out.append((t.heatmaps, t.pafs))
    return tuple(out)


CASES = [(mode, people) for people in PEOPLE for mode in MODES]


@pytest.mark.parametrize("mode, people", CASES,
                         ids=[f"{MODES[m]}-{p}" for m, p in CASES])
def test_decode(benchmark, mode, people):
    benchmark.group = f"decode, {people:2d} people"
    config = DecodeConfig(upsample=MODES[mode])
    maps = itertools.cycle(scenes(people))

    def run():
        heatmaps, pafs = next(maps)
        return build_candidates(heatmaps, pafs, SKELETON, IMAGE, config)

    graph = benchmark.pedantic(run, rounds=3 * SCENES, warmup_rounds=1)
    benchmark.extra_info["peaks"] = sum(len(p) for p in graph.peaks)
    benchmark.extra_info["pairs"] = sum(len(p) for p in graph.pairs)
    assert sum(len(p) for p in graph.peaks) >= people * 10
