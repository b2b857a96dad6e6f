"""People: the output of every parser, and OpenPose / COCO JSON for them.

A :class:`Person` holds ``keypoints`` (K, 3) float64 ``[x, y, confidence]`` in image pixels,
with ``(0, 0, 0)`` for a missing keypoint, and a ``score``.
"""

from __future__ import annotations

import json
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from posekit._atomic import atomic_path
from posekit.errors import PosekitError

__all__ = [
    "Person", "people_to_openpose", "people_from_openpose", "people_to_coco",
    "write_json_atomic", "rescale_people", "OPENPOSE_JSON_VERSION",
]

OPENPOSE_JSON_VERSION = 1.3


@dataclass(eq=False)
class Person:
    """One detected person."""

    keypoints: np.ndarray  # (K, 3) x, y, confidence; 0, 0, 0 = missing
    score: float

    def __post_init__(self) -> None:
        kp = np.asarray(self.keypoints, dtype=np.float64)
        if kp.ndim != 2 or kp.shape[1] != 3:
            raise ValueError(f"Person.keypoints must have shape (K, 3), got {kp.shape}")
        self.keypoints = kp
        self.score = float(self.score)

    @property
    def visible(self) -> np.ndarray:
        """(K,) bool: which keypoints were found."""
        return self.keypoints[:, 2] > 0

    @property
    def num_parts(self) -> int:
        return int(self.visible.sum())

    def __repr__(self) -> str:
        return f"Person({self.num_parts}/{len(self.keypoints)} keypoints, score={self.score:.3f})"

    def __eq__(self, other: object) -> bool:
        if not isinstance(other, Person):
            return NotImplemented
        return (self.keypoints.shape == other.keypoints.shape
                and bool(np.array_equal(self.keypoints, other.keypoints))
                and self.score == other.score)


def people_to_openpose(people: Sequence[Person]) -> dict[str, Any]:
    """OpenPose's per-image JSON object."""
    return {
        "version": OPENPOSE_JSON_VERSION,
        "people": [
            {
                "person_id": [-1],
                "pose_keypoints_2d": [_num(v) for v in p.keypoints.reshape(-1)],
                "score": _num(p.score),
            }
            for p in people
        ],
    }


def people_from_openpose(data: dict[str, Any], num_keypoints: int | None = None) -> list[Person]:
    """Read people back from OpenPose's JSON (as written by :func:`people_to_openpose`)."""
    try:
        out = []
        for entry in data["people"]:
            flat = np.asarray(entry["pose_keypoints_2d"], dtype=np.float64)
            kp = flat.reshape(-1, 3)
            if num_keypoints is not None and len(kp) != num_keypoints:
                raise ValueError(f"{len(kp)} keypoints, expected {num_keypoints}")
            out.append(Person(kp, float(entry.get("score", kp[:, 2].mean() if len(kp) else 0))))
        return out
    except (KeyError, TypeError, ValueError) as exc:
        raise PosekitError(f"not an OpenPose people JSON object: {exc}") from None


def people_to_coco(people: Iterable[Person], image_id: int, category_id: int = 1) -> list[dict]:
    """COCO results entries (``image_id``, ``category_id``, ``keypoints``, ``score``).

    COCO's keypoint visibility slot carries the confidence, as OpenPose writes it.
    """
    return [
        {
            "image_id": image_id,
            "category_id": category_id,
            "keypoints": [_num(v) for v in p.keypoints.reshape(-1)],
            "score": _num(p.score),
        }
        for p in people
    ]


def _num(v: float) -> float:
    v = float(v)
    if not math.isfinite(v):
        return 0.0
    return round(v, 4)


def write_json_atomic(path: str | Path, data: Any, indent: int | None = None) -> None:
    """Write JSON to a temporary file beside ``path`` and rename: never half-written."""
    with atomic_path(path) as tmp, open(tmp, "w", encoding="utf-8") as fh:
        json.dump(data, fh, indent=indent)
        fh.write("\n")


def rescale_people(people: Sequence[Person], sx: float, sy: float) -> list[Person]:
    """People in an image scaled by (sx, sy): pixel centres map to pixel centres.

    ``x -> (x + 0.5) * sx - 0.5``; missing keypoints stay (0, 0, 0).
    """
    if sx == 1.0 and sy == 1.0:
        return list(people)
    out = []
    for p in people:
        kp = np.array(p.keypoints, dtype=np.float64)
        found = kp[:, 2] > 0
        kp[found, 0] = (kp[found, 0] + 0.5) * sx - 0.5
        kp[found, 1] = (kp[found, 1] + 0.5) * sy - 0.5
        out.append(Person(kp, p.score))
    return out
