"""Running the comparison: scene -> maps -> candidates -> every parser -> records.

Each unit of work is one (scene, noise level): its maps are rendered from the ground truth
(:mod:`posekit.compare.noise`) or computed by a network, decoded once into a
:class:`~posekit.decode.CandidateGraph` (timed separately), and handed to every parser.
A :class:`SceneRecord` keeps how the maps differ from the ground truth
(:mod:`~posekit.compare.mapstats`) and, per parser, the people found (D, K, 3), their scores (D,),
the shared objective of the raw assignment, the solver status and the parse time (decode
excluded). Units are independent and seeded by (seed, scene, noise), so results do not
depend on ``jobs``; with ``jobs > 1`` they are spread over worker processes.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from concurrent.futures import ProcessPoolExecutor, as_completed
from dataclasses import asdict, dataclass, field
from typing import Any

import numpy as np

from posekit.compare.mapstats import MapStats, measure_maps
from posekit.compare.noise import SIGMA, STRIDE, NoiseModel, render_maps
from posekit.compare.scenes import Scene
from posekit.errors import PosekitError
from posekit.people import Person
from posekit.skeleton import Skeleton

__all__ = ["CompareConfig", "ParserRecord", "SceneRecord", "run_units", "make_parsers",
           "DEFAULT_PARSERS", "DEFAULT_PEOPLE", "DEFAULT_SCENES", "DEFAULT_TIME_LIMIT"]

DEFAULT_PARSERS = ("full-ilp", "tree-ilp", "hungarian", "greedy")
DEFAULT_PEOPLE = (1, 2, 4, 6, 10, 20)
DEFAULT_SCENES = 10
DEFAULT_TIME_LIMIT = 10.0


@dataclass(frozen=True)
class CompareConfig:
    """Everything that defines a comparison run (recorded in the JSON's ``config``)."""

    parsers: tuple[str, ...] = DEFAULT_PARSERS
    people: tuple[int, ...] | None = DEFAULT_PEOPLE
    scenes: int | None = DEFAULT_SCENES
    noise: float = 1.0
    sweep: tuple[float, ...] = ()
    overlap: float = 0.3  # synthetic scenes: largest box IoU between two people
    truncation: float = 0.1  # synthetic scenes: fraction of people over the border
    time_limit: float = DEFAULT_TIME_LIMIT
    seed: int = 0
    source: str = "synthetic"
    data: str | None = None
    weights: str | None = None
    solver: str | None = None
    device: str = "cpu"
    jobs: int = 1
    field: str = "capsule"  # rendered maps: PAF region, "capsule" or "rect" (the paper's)
    smooth: float = 0.0  # rendered maps: Gaussian blur, map pixels
    crowd: bool = False  # file sources: grid crowds of --people real poses, not the images

    def to_dict(self) -> dict[str, Any]:
        out = asdict(self)
        for k in ("parsers", "people", "sweep"):
            out[k] = None if out[k] is None else list(out[k])
        out["noise_model"] = NoiseModel(self.noise).to_dict()
        out["maps"] = {"stride": STRIDE, "sigma": SIGMA, "paf_half_width": STRIDE * 1.0,
                       "field": self.field, "smooth": self.smooth}
        return out


@dataclass
class ParserRecord:
    keypoints: np.ndarray  # (D, K, 3) people found (after the post-rules)
    scores: np.ndarray  # (D,)
    objective: float
    status: str
    seconds: float

    def people(self) -> list[Person]:
        return [Person(k, s) for k, s in zip(self.keypoints, self.scores, strict=True)]


@dataclass
class SceneRecord:
    scene: int  # Scene.index
    noise: float
    num_people: int
    decode_seconds: float
    candidates: int
    parsers: dict[str, ParserRecord] = field(default_factory=dict)
    maps: MapStats | None = None  # how the maps differ from the ground truth


def make_parsers(names: Sequence[str], time_limit: float, solver: str | None) -> dict[str, Any]:
    """Ready parsers by name (unknown names: a clear error listing the installed ones)."""
    from posekit.parsers import get_parser

    options: dict[str, Any] = {"time_limit": float(time_limit)}
    if solver:
        options["solver"] = solver
    return {name: get_parser(name, **options) for name in names}


def _assignment_from_people(people: list[Person], candidates: Any) -> np.ndarray:
    """(P, K) candidate indices of a parser's people (for parsers with no ``solve``)."""
    K = len(candidates.peaks)
    out = np.full((len(people), K), -1, dtype=np.intp)
    for p, person in enumerate(people):
        for k in np.flatnonzero(person.visible):
            peaks = candidates.peaks[k]
            if len(peaks):
                d = np.abs(peaks[:, :2] - person.keypoints[k, :2]).sum(axis=1)
                j = int(np.argmin(d))
                if d[j] < 1e-6:
                    out[p, k] = j
    return out


def _solve(parser: Any, candidates: Any, skeleton: Skeleton) -> ParserRecord:
    if hasattr(parser, "solve"):
        res = parser.solve(candidates, skeleton)
        people, value, status, seconds = res.people, res.objective, res.status, res.seconds
    else:
        from posekit.parsers import objective

        start = time.perf_counter()
        people = list(parser(candidates, skeleton))
        seconds = time.perf_counter() - start
        value = objective(_assignment_from_people(people, candidates), candidates, skeleton)
        status = "heuristic"
    K = skeleton.num_keypoints
    kp = np.stack([p.keypoints for p in people]) if people else np.zeros((0, K, 3))
    scores = np.array([p.score for p in people], dtype=np.float64)
    return ParserRecord(kp, scores, float(value), str(status), float(seconds))


# ---------------------------------------------------------------------- worker state
_STATE: dict[str, Any] = {}


def _init(skeleton: Skeleton, config: CompareConfig) -> None:
    _STATE.clear()
    _STATE["skeleton"] = skeleton
    _STATE["config"] = config
    _STATE["parsers"] = make_parsers(config.parsers, config.time_limit, config.solver)
    if config.weights:
        _STATE["estimator"] = _estimator(skeleton, config)
    _warm_up(skeleton)


def _init_worker(skeleton: Skeleton, config: CompareConfig) -> None:
    """A worker process's :func:`_init`; Ctrl-C is the main process's to handle (it
    stops the pool), so workers ignore it instead of each printing a traceback."""
    import signal

    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _init(skeleton, config)


def _warm_up(skeleton: Skeleton) -> None:
    """Solve one small clean scene with every parser, untimed, so that the first timed
    scene does not pay for lazy imports and solver start-up."""
    from posekit.compare.scenes import synthetic_scenes
    from posekit.decode import build_candidates

    scene = synthetic_scenes(skeleton, [2], 1, seed=0, truncation=0.0)[0]
    heat, paf = render_maps(skeleton, scene.keypoints, scene.image_size, NoiseModel(0.0),
                            np.random.default_rng(0))
    candidates = build_candidates(heat, paf, skeleton, image_size=scene.image_size)
    for parser in _STATE["parsers"].values():
        _solve(parser, candidates, skeleton)


def _estimator(skeleton: Skeleton, config: CompareConfig) -> Any:
    try:
        from posekit.inference import PoseEstimator
    except ImportError as exc:
        raise PosekitError(
            f"--weights needs posekit's network stage, which could not be imported ({exc}); "
            "install torch (pip install torch) or leave out --weights to render maps"
        ) from None
    return PoseEstimator(skeleton, weights=config.weights, parser=config.parsers[0],
                         device=config.device, warn_demo=False)


def _maps(scene: Scene, noise: float) -> tuple[np.ndarray, np.ndarray, tuple[int, int],
                                                 tuple[float, float]]:
    """(heatmaps, pafs, size the maps cover, scale back to the scene's pixels)."""
    skeleton: Skeleton = _STATE["skeleton"]
    config: CompareConfig = _STATE["config"]
    if scene.source == "network":
        from posekit.compare.scenes import image_file

        est = _STATE["estimator"]
        loaded = est.load(image_file(scene))
        heat, paf = est.maps([loaded])[0]
        return heat, paf, loaded.working_size, loaded.scale
    from posekit.compare.ideal import smooth_maps

    rng = np.random.default_rng([int(config.seed), int(scene.index), int(round(noise * 1e6))])
    heat, paf = render_maps(skeleton, scene.keypoints, scene.image_size, NoiseModel(noise), rng,
                            field=config.field)
    heat, paf = smooth_maps(heat, paf, config.smooth)
    return heat, paf, scene.image_size, (1.0, 1.0)


def _run_unit(unit: tuple[Scene, float]) -> SceneRecord:
    from posekit.decode import build_candidates

    scene, noise = unit
    skeleton: Skeleton = _STATE["skeleton"]
    heat, paf, size, (sx, sy) = _maps(scene, noise)
    # rendered maps are at exactly STRIDE (the last map pixel may run past the image's
    # edge when a side is not a multiple of it); a network's maps cover its input exactly
    stride = None if scene.source == "network" else STRIDE
    start = time.perf_counter()
    candidates = build_candidates(heat, paf, skeleton, image_size=size, stride=stride)
    decode = time.perf_counter() - start
    rec = SceneRecord(scene.index, noise, scene.num_people, decode, candidates.num_candidates)
    if noise == _STATE["config"].noise:  # the report describes the main level's maps
        rec.maps = measure_maps(skeleton, candidates, paf, scene.keypoints, size, (sx, sy))
    for name, parser in _STATE["parsers"].items():
        r = _solve(parser, candidates, skeleton)
        if (sx, sy) != (1.0, 1.0) and len(r.keypoints):
            found = r.keypoints[..., 2] > 0
            r.keypoints[..., 0] = np.where(found, (r.keypoints[..., 0] + 0.5) * sx - 0.5, 0)
            r.keypoints[..., 1] = np.where(found, (r.keypoints[..., 1] + 0.5) * sy - 0.5, 0)
        rec.parsers[name] = r
    return rec


def run_units(skeleton: Skeleton, config: CompareConfig, units: Sequence[tuple[Scene, float]],
              progress: Callable[[int], None] | None = None) -> list[SceneRecord]:
    """Run every (scene, noise) unit, in order; ``progress(1)`` after each."""
    jobs = max(1, min(int(config.jobs), len(units)))
    out: list[SceneRecord | None] = [None] * len(units)
    if jobs == 1:
        _init(skeleton, config)
        try:
            for i, unit in enumerate(units):
                out[i] = _run_unit(unit)
                if progress:
                    progress(1)
        finally:
            _STATE.clear()
        return out  # type: ignore[return-value]
    import multiprocessing

    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(max_workers=jobs, mp_context=ctx, initializer=_init_worker,
                             initargs=(skeleton, config)) as pool:
        futures = {pool.submit(_run_unit, unit): i for i, unit in enumerate(units)}
        try:
            for fut in as_completed(futures):
                out[futures[fut]] = fut.result()
                if progress:
                    progress(1)
        except BaseException:
            for fut in futures:
                fut.cancel()
            raise
    return out  # type: ignore[return-value]
