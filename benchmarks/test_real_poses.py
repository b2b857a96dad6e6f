"""Decode + parse time on real poses, against the same pipeline on synthetic figures.

Run with ``pytest benchmarks/test_real_poses.py``. Scenes: grid crowds of 10, 20 and 40
real people from the bundled set (:mod:`posekit.compare.real`) on 656 x 368, their ideal
maps with the paper's rectangle PAFs smoothed by a 1-map-pixel Gaussian (closest to a
network's output), rendered once outside the timing; each round takes the next of the
three seeded crowds. Group ``real crowd N``: every parser, decode included; baseline in the
same group: ``synthetic (baseline)``, greedy on ``sample_poses`` figures of the same count
and size on the same maps, so a real-pose slowdown shows as a ratio. ``extra_info``
records people present, recovered, missed and extra over the three crowds (the count
metric, :mod:`posekit.compare.count`), so speed and correctness are read side by side.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest

from posekit.compare.count import PeopleCount, count_people
from posekit.compare.ideal import STRIDE, ideal_maps
from posekit.compare.real import CANVAS, SEEDS, load_real
from posekit.decode import build_candidates
from posekit.parsers import get_parser
from posekit.skeleton import load_skeleton
from posekit.synth.poses import sample_poses

SKELETON = load_skeleton("coco18")
PEOPLE = (10, 20, 40)
PARSERS = ("greedy", "hungarian", "tree-ilp", "full-ilp")
BASELINE = "synthetic (baseline)"


@functools.cache
def real_scenes(people: int) -> tuple:
    real = load_real(SKELETON)
    out = []
    for seed in SEEDS:
        scene = real.crowd(people, seed)
        maps = ideal_maps(SKELETON, scene.keypoints, scene.image_size, field="rect", smooth=1.0)
        out.append((scene, maps))
    return tuple(out)


@functools.cache
def synthetic_scenes(people: int) -> tuple:
    rng = np.random.default_rng(2000 + people)
    size = min(0.6, 1.2 / np.sqrt(people))
    out = []
    for _ in SEEDS:
        kp = sample_poses(SKELETON, rng, CANVAS, people, scale_range=(0.6 * size, size))
        out.append((kp, ideal_maps(SKELETON, kp, CANVAS, field="rect", smooth=1.0)))
    return tuple(out)


def _decode_parse(parser, maps):
    heat, paf = maps
    candidates = build_candidates(heat, paf, SKELETON, image_size=CANVAS, stride=STRIDE)
    return parser(candidates, SKELETON)


@pytest.mark.parametrize("people", PEOPLE)
@pytest.mark.parametrize("name", (BASELINE, *PARSERS))
def test_real_crowd(benchmark, name, people):
    benchmark.group = f"real crowd {people}"
    if name == BASELINE:
        parser = get_parser("greedy")
        scenes = [maps for _, maps in synthetic_scenes(people)]
    else:
        parser = get_parser(name, time_limit=10.0)
        scenes = [maps for _, maps in real_scenes(people)]
    cycle = itertools.cycle(scenes)
    benchmark(lambda: _decode_parse(parser, next(cycle)))
    if name != BASELINE:
        total = PeopleCount.total(
            count_people(_decode_parse(parser, maps), scene.keypoints, SKELETON,
                         areas=scene.areas) for scene, maps in real_scenes(people))
        benchmark.extra_info.update(total.to_dict())
        assert total.people == len(SEEDS) * people
