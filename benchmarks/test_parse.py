"""Decode + parse time per parser against crowd size, on noisy coco18 maps.

Run with ``pytest benchmarks/test_parse.py`` (``-k "parse-only"`` or ``-k decode`` for one
half). Scenes: ``sample_poses`` crowds of 1 to 64 people in a 656 x 368 image, maps at
stride 8 spoiled by compare-parsers' default noise model (jittered, missed and weak peaks,
false positives, turned and dropped PAFs), rendered once per scene outside the timing;
each round takes the next of ``SCENES`` scenes, so medians are per scene.

Groups:

- ``decode+parse, N people``: maps -> candidates -> people. Baselines in the same group:
  ``decode only`` and ``naive-greedy`` (a plain pure-Python greedy written here, which scans
  every partial person for every connection, as simple OpenPose ports do).
- ``parse only, N people``: candidates (decoded in setup) -> people, same baseline.
- ``robust stages, N people``: what the default decode preset costs over OpenPose's rules
  (``decode="openpose"``: no end-sample skipping, peak separation or border placement,
  full upsampling) and what the fragment stage costs a parser (greedy and hungarian with
  and without it, parse only).

Parsers are timed through ``parser.solve`` (people, objective and status); ``extra_info``
records the people found per scene and, for every parser, how many scenes were solved
to proven optimality. ILPs run with a 10 s time limit and stop at 40 people.
"""

from __future__ import annotations

import functools
import itertools

import numpy as np
import pytest

from posekit.compare.noise import NoiseModel, render_maps
from posekit.decode import build_candidates, decode_preset
from posekit.parsers import PostRules, get_parser
from posekit.people import Person
from posekit.skeleton import load_skeleton
from posekit.synth.poses import sample_poses

SKELETON = load_skeleton("coco18")
IMAGE = (656, 368)
PEOPLE = (1, 2, 6, 10, 20, 40, 64)
SCENES = 8
PARSERS = ("greedy", "hungarian", "tree-ilp", "full-ilp")
ILP_MAX_PEOPLE = 40  # ILPs at 64 people take seconds a scene: left out to keep runs short
BASELINE = "naive-greedy (baseline)"


@functools.cache
def scenes(people: int) -> tuple[tuple[np.ndarray, np.ndarray], ...]:
    """``SCENES`` noisy (heatmaps, pafs) of ``people`` people; smaller people in crowds."""
    rng = np.random.default_rng(1000 + people)
    size = min(0.6, 1.2 / np.sqrt(people))
    out = []
    for _ in range(SCENES):
        kp = sample_poses(SKELETON, rng, IMAGE, people, scale_range=(0.6 * size, size))
        out.append(render_maps(SKELETON, kp, IMAGE, NoiseModel(), rng))
    return tuple(out)


@functools.cache
def candidates(people: int) -> tuple:
    return tuple(decode(maps) for maps in scenes(people))


def decode(maps: tuple[np.ndarray, np.ndarray]):
    heatmaps, pafs = maps
    return build_candidates(heatmaps, pafs, SKELETON, image_size=IMAGE)


def naive_greedy(cands, skeleton) -> list[Person]:
    """A plain greedy: partial people as lists, every connection scans all of them."""
    K, T = skeleton.num_keypoints, skeleton.num_tree_limbs
    people: list[list] = []  # K candidate indices (-1 = none), then summed score, count
    for l, (a, b) in enumerate(skeleton.limb_index.tolist()):
        conns = sorted(zip(cands.scores[l].tolist(), cands.pairs[l].tolist(), strict=True),
                       key=lambda c: -c[0])
        used_a, used_b = [], []
        for score, (i, j) in conns:
            if i in used_a or j in used_b:
                continue
            used_a.append(i)
            used_b.append(j)
            found = [p for p in people if p[a] == i or p[b] == j]
            if len(found) == 1:
                p = found[0]
                if p[b] == -1:
                    p[b] = j
                    p[K] += cands.peaks[b][j, 2] + score
                    p[K + 1] += 1
            elif len(found) == 2 and l < T:
                p, q = found
                if all(x == -1 or y == -1 for x, y in zip(p[:K], q[:K], strict=True)):
                    for k in range(K):
                        if q[k] != -1:
                            p[k] = q[k]
                    p[K] += q[K] + score
                    p[K + 1] += q[K + 1]
                    people.remove(q)
            elif not found and l < T:
                new = [-1] * K + [cands.peaks[a][i, 2] + cands.peaks[b][j, 2] + score, 2]
                new[a], new[b] = i, j
                people.append(new)
    out = []
    for p in people:
        if p[K + 1] >= 3 and p[K] / p[K + 1] >= 0.4:
            kp = np.zeros((K, 3))
            for k in range(K):
                if p[k] != -1:
                    kp[k] = cands.peaks[k][p[k]]
            out.append(Person(kp, p[K] / p[K + 1]))
    return out


def _methods(people: int) -> dict:
    """Name -> function(candidates) -> (people, status) for the cases of one crowd size."""
    methods = {BASELINE: lambda c: (naive_greedy(c, SKELETON), "heuristic")}
    for name in PARSERS:
        if name.endswith("ilp") and people > ILP_MAX_PEOPLE:
            continue
        parser = get_parser(name, time_limit=10.0)

        def run(c, parser=parser):
            result = parser.solve(c, SKELETON)
            return result.people, result.status

        methods[name] = run
    return methods


CASES = [(method, people) for people in PEOPLE
         for method in ("decode only (baseline)", BASELINE, *PARSERS)
         if not (method.endswith("ilp") and people > ILP_MAX_PEOPLE)]
PARSE_CASES = [c for c in CASES if not c[0].startswith("decode only")]


def _ids(cases):
    return [f"{method.split()[0]}-{people}" for method, people in cases]


def _rounds(method: str) -> int:
    return SCENES * (1 if method.endswith("ilp") else 3)


@pytest.mark.parametrize("method, people", CASES, ids=_ids(CASES))
def test_decode_and_parse(benchmark, method, people):
    benchmark.group = f"decode+parse, {people:2d} people"
    maps = itertools.cycle(scenes(people))
    if method.startswith("decode only"):
        def run():
            return decode(next(maps))
    else:
        parse = _methods(people)[method]

        def run():
            return parse(decode(next(maps)))
    benchmark.pedantic(run, rounds=_rounds(method), iterations=1, warmup_rounds=1)


@pytest.mark.parametrize("method, people", PARSE_CASES, ids=_ids(PARSE_CASES))
def test_parse_only(benchmark, method, people):
    benchmark.group = f"parse only, {people:2d} people"
    cands = itertools.cycle(candidates(people))
    parse = _methods(people)[method]
    found, statuses = [], []

    def run():
        people_found, status = parse(next(cands))
        found.append(len(people_found))
        statuses.append(status)

    benchmark.pedantic(run, rounds=_rounds(method), iterations=1, warmup_rounds=1)
    benchmark.extra_info["people_found"] = float(np.mean(found))
    benchmark.extra_info["optimal"] = f"{statuses.count('optimal')}/{len(statuses)}"
    assert np.mean(found) >= 0.5 * people  # the parser found the crowd


STAGE_PEOPLE = (20, 40)
STAGES = ("decode posekit (baseline)", "decode openpose", "greedy", "greedy, no fragments",
          "hungarian", "hungarian, no fragments")


@pytest.mark.parametrize("stage, people", [(s, p) for p in STAGE_PEOPLE for s in STAGES],
                         ids=[f"{s.replace(', ', '-').replace(' ', '-')}-{p}"
                              for p in STAGE_PEOPLE for s in STAGES])
def test_robust_stages(benchmark, stage, people):
    benchmark.group = f"robust stages, {people:2d} people"
    if stage.startswith("decode"):
        config = decode_preset(stage.split()[1]).config
        maps = itertools.cycle(scenes(people))

        def run():
            heatmaps, pafs = next(maps)
            return build_candidates(heatmaps, pafs, SKELETON, image_size=IMAGE, config=config)
    else:
        name, _, off = stage.partition(", ")
        parser = get_parser(name, rules=PostRules(fragments=None) if off else None)
        cands = itertools.cycle(candidates(people))

        def run():
            return parser(next(cands), SKELETON)
    benchmark.pedantic(run, rounds=SCENES * 3, iterations=1, warmup_rounds=1)
