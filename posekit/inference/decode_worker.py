"""Decode + parse of one image's maps, in a worker process (or in the calling thread).

The work that follows the network: heatmaps (h, w, K+1) + PAFs (h, w, 2L), or peaks
already found on the GPU + PAFs, -> candidate graph -> parser -> people in original image
coordinates. It is numpy and holds the GIL, so :mod:`posekit.inference.pipeline` runs it in
a small process pool. This module imports no torch: a spawned worker starts in about the
time numpy and the parsers take to import.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np

from posekit.errors import PosekitError
from posekit.people import Person, rescale_people
from posekit.skeleton import Skeleton

__all__ = ["DecodeSetup", "DecodeTask", "decode", "init_worker", "decode_in_worker"]


@dataclass(frozen=True)
class DecodeSetup:
    """Everything a worker needs, sent once when it starts."""

    skeleton: Skeleton
    parser: Any  # a built (picklable) parser
    decode_options: dict[str, Any]  # DecodeConfig fields, ``config`` or ``stride``


@dataclass(frozen=True, eq=False)
class DecodeTask:
    """One image: its maps (or GPU peaks + PAFs) and the geometry to map people back."""

    pafs: np.ndarray  # (h, w, 2L) float32
    heatmaps: np.ndarray | None  # (h, w, K+1) float32; None when ``peaks`` is given
    peaks: tuple[np.ndarray, ...] | None  # per keypoint (n_k, 3) [x, y, score], image pixels
    working_size: tuple[int, int]  # (W, H) the maps cover
    scale: tuple[float, float]  # working pixels -> original pixels


class _Decoder:
    """Decodes tasks exactly as :meth:`PoseEstimator.people_from_maps` does."""

    def __init__(self, setup: DecodeSetup) -> None:
        self.skeleton = setup.skeleton
        self.parser = setup.parser
        self.options = dict(setup.decode_options)
        self.config = decode_config(self.options)

    def __call__(self, task: DecodeTask) -> list[Person]:
        from posekit.decode import parse_maps

        if task.peaks is not None:
            graph = graph_from_peaks(task.pafs, task.peaks, self.skeleton, task.working_size,
                                     self.config)
            people = list(self.parser(graph, self.skeleton))
        else:
            people = parse_maps(task.heatmaps, task.pafs, skeleton=self.skeleton,
                                parser=self.parser, image_size=task.working_size,
                                **self.options)
        return rescale_people(people, *task.scale)


def decode_config(options: dict[str, Any]) -> Any:
    """The :class:`~posekit.decode.DecodeConfig` that ``parse_maps(**options)`` decodes
    with: a ``decode`` preset's (default ``"posekit"``) or ``config``, fields on top."""
    from posekit.decode import decode_options

    return decode_options(options)[1]


def graph_from_peaks(pafs: np.ndarray, peaks: tuple[np.ndarray, ...], skeleton: Skeleton,
                     size: tuple[int, int], config: Any) -> Any:
    """The candidate graph from peaks found elsewhere (the GPU) and the PAFs: the limb
    half of :func:`posekit.decode.build_candidates` in its default ``upsample="patch"``
    mode (PAFs read between map pixels with the upsampling kernel)."""
    from posekit.decode import CandidateGraph
    from posekit.decode.limbs import score_limbs
    from posekit.decode.resize import resolve_geometry

    h, w = pafs.shape[:2]
    size, scale = resolve_geometry((h, w), size)
    pairs, scores = score_limbs(pafs, list(peaks), skeleton, image_height=size[1],
                                scale=scale, rule=config.scoring,
                                interpolation="cubic" if config.kernel == "cubic"
                                else "bilinear")
    return CandidateGraph(tuple(peaks), pairs, scores, size)


_WORKER: _Decoder | None = None


def init_worker(setup: DecodeSetup) -> None:
    """Process-pool initializer: build the decoder once per worker.

    Ctrl-C reaches the whole process group; workers ignore it and end when the parent,
    which handles it, closes the pool (so nothing is printed from them).
    """
    import signal

    global _WORKER
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    _WORKER = _Decoder(setup)


def decode_in_worker(task: DecodeTask) -> list[Person]:
    if _WORKER is None:  # pragma: no cover - the pool always runs init_worker first
        raise RuntimeError("decode worker used before init_worker")
    return _WORKER(task)


def decode(setup: DecodeSetup) -> _Decoder:
    """A decoder for the calling thread (``workers=0``)."""
    try:
        return _Decoder(setup)
    except TypeError as exc:
        raise PosekitError(f"bad parser or decode options: {exc}") from None
