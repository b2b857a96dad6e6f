"""``compare-parsers``: the OpenPose paper's parser comparison, on any skeleton.

Scenes (:mod:`~posekit.compare.scenes`: synthetic people, a COCO keypoint file such as the
bundled real set, grid crowds of its real people (:mod:`~posekit.compare.real`), or a
network on a dataset) -> maps (:mod:`~posekit.compare.noise`, rendered from the ground
truth with a seeded noise model, or the network's) -> one candidate graph per scene ->
every parser (:mod:`~posekit.compare.runner`) -> OKS AP, people missed and extra
(:mod:`~posekit.compare.count`), objective gap, optimality and parse time per parser,
overall and per number of people (:mod:`~posekit.compare.report`). Annotation files are
cleaned first (:func:`~posekit.compare.real.clean_coco`); what was left out is reported.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import replace
from pathlib import Path
from typing import Any

from posekit.compare.count import PeopleCount, count_people
from posekit.compare.mapstats import MapStats, measure_maps
from posekit.compare.noise import NoiseModel, render_maps
from posekit.compare.report import maps_line, plot_report, render_table, summarize
from posekit.compare.runner import (
    DEFAULT_PARSERS,
    DEFAULT_PEOPLE,
    DEFAULT_SCENES,
    DEFAULT_TIME_LIMIT,
    CompareConfig,
    make_parsers,
    run_units,
)
from posekit.compare.scenes import (
    Scene,
    coco_scenes,
    parse_people,
    scenes_gt,
    synthetic_scenes,
)
from posekit.errors import PosekitError
from posekit.skeleton import Skeleton, load_skeleton

__all__ = [
    "compare_parsers", "CompareConfig", "NoiseModel", "render_maps", "Scene",
    "synthetic_scenes", "coco_scenes", "parse_people", "summarize", "render_table",
    "plot_report", "maps_line", "MapStats", "measure_maps", "DEFAULT_PARSERS",
    "DEFAULT_PEOPLE", "DEFAULT_SCENES", "DEFAULT_TIME_LIMIT", "DEFAULT_SWEEP",
    "PeopleCount", "count_people", "DEFAULT_CROWD_SCENES",
]

DEFAULT_SWEEP = (0.0, 0.5, 1.0, 1.5, 2.0)
DEFAULT_CROWD_SCENES = 3  # --crowd: crowds (seeds) per number of people


def _check(config: CompareConfig) -> CompareConfig:
    if not config.parsers:
        raise PosekitError("--parsers is empty; name one or more of `posekit parsers`")
    seen = set()
    for p in config.parsers:
        if p in seen:
            raise PosekitError(f"--parsers lists {p!r} twice")
        seen.add(p)
    if not config.time_limit > 0:
        raise PosekitError(f"--time-limit must be a positive number of seconds, got "
                           f"{config.time_limit}")
    if not 0 <= config.overlap <= 1:
        raise PosekitError(f"--overlap must be between 0 and 1 (box IoU), got {config.overlap}")
    if not 0 <= config.truncation <= 1:
        raise PosekitError(f"--truncation must be between 0 and 1 (a fraction of people), "
                           f"got {config.truncation}")
    if config.jobs < 1:
        raise PosekitError(f"--jobs must be at least 1, got {config.jobs}")
    from posekit.targets import PAF_FIELDS

    if config.field not in PAF_FIELDS:
        raise PosekitError(f"--field {config.field!r}: give capsule (posekit's targets) or "
                           "rect (the paper's rectangle, OpenPose's targets)")
    if not (config.smooth >= 0 and config.smooth < float("inf")):
        raise PosekitError(f"--smooth must be a number of map pixels >= 0, got "
                           f"{config.smooth}")
    NoiseModel(config.noise)
    for level in config.sweep:
        NoiseModel(level)
    if config.crowd:
        if config.weights:
            raise PosekitError("--crowd arranges real poses on a grid and renders their maps; "
                               "it has no images for a network (--weights)")
        return replace(config, source="real", data=config.data or "real")
    if config.weights:
        if not config.data:
            raise PosekitError("--weights needs --data DIR: a dataset folder with "
                               "annotations.json and images/")
        if config.sweep:
            raise PosekitError("--sweep varies the noise of rendered maps; it does not apply "
                               "to network maps (--weights)")
        if config.field != "capsule" or config.smooth:
            raise PosekitError("--field and --smooth shape rendered maps; they do not apply "
                               "to network maps (--weights)")
        return replace(config, source="network")
    return replace(config, source="coco" if config.data else "synthetic")


def compare_parsers(skeleton: str | Path | Skeleton, config: CompareConfig | None = None,
                    *, progress: Callable[[int], None] | None = None,
                    total: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Run the comparison and return its JSON report (see :mod:`posekit.compare.report`).

    ``total(n)`` is called once with the number of scene units, ``progress(1)`` after each.
    """
    sk = load_skeleton(skeleton)
    config = _check(config or CompareConfig())
    make_parsers(config.parsers, config.time_limit, config.solver)  # unknown names fail here
    coco = None
    inputs = None
    if config.source == "real":
        from posekit.compare.real import CROWD_SIZES, load_real

        real = load_real(sk, config.data)
        inputs = real.report
        counts = config.people or CROWD_SIZES
        config = replace(config, people=tuple(counts),
                         scenes=config.scenes or DEFAULT_CROWD_SCENES)
        scenes = []
        for count in counts:
            for j in range(config.scenes):
                scenes.append(real.crowd(count, config.seed + j, index=len(scenes)))
    elif config.source == "synthetic":
        people = config.people or DEFAULT_PEOPLE
        config = replace(config, people=tuple(people),
                         scenes=config.scenes or DEFAULT_SCENES)
        scenes = synthetic_scenes(sk, people, config.scenes, config.seed,
                                  overlap=config.overlap, truncation=config.truncation)
    else:
        from posekit.coco import load_coco_keypoints
        from posekit.compare.real import clean_coco, resolve_data

        coco, inputs = clean_coco(load_coco_keypoints(resolve_data(config.data), sk))
        scenes = coco_scenes(coco, scenes=config.scenes, people=config.people,
                             seed=config.seed, source=config.source)
        if config.source == "network":
            from posekit.compare.runner import _estimator
            from posekit.compare.scenes import image_file

            for s in scenes:
                image_file(s)
            if config.jobs > 1:
                _estimator(sk, config)  # fail before starting workers
    gt = scenes_gt(sk, scenes, coco)
    levels = [config.noise] + [x for x in config.sweep if x != config.noise]
    units = [(s, level) for level in levels for s in scenes]
    if total:
        total(len(units))
    records = run_units(sk, config, units, progress)
    n = len(scenes)
    main = records[:n]
    sweep = None
    if config.sweep:
        by_level = {level: records[i * n:(i + 1) * n] for i, level in enumerate(levels)}
        sweep = {level: by_level[level] for level in sorted(set(levels))}
    return summarize(sk, config.to_dict(), scenes, gt, main, sweep,
                     inputs=inputs.to_dict() if inputs is not None else None)
