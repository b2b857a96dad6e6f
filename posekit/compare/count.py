"""The count metric: how many true people a parser recovered, missed, and added.

AP rewards good people and forgives a few stray ones; a parser that splits a person into a
body and an arm, or leaves a lone head behind, loses little AP but hands the user a person
who does not exist. So next to AP every comparison counts people: found people (D, K, 3)
are matched one-to-one to the ground truth (P, K, 3) by object keypoint similarity (COCO's
OKS with the skeleton's sigmas, the person's area as scale), a pair counting when its OKS
is at least 0.5, and the matching taking as many such pairs as possible (then the highest
total OKS). Then

- ``recovered``: matched true people,
- ``missed``: true people with no match (``people - recovered``),
- ``extra``: found people with no match (``found - recovered``): fragments of true people
  (a head, an arm) and people made of parts of several.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass

import numpy as np
from scipy.optimize import linear_sum_assignment

from posekit.errors import PosekitError
from posekit.skeleton import Skeleton

__all__ = ["PeopleCount", "count_people", "oks", "keypoint_areas", "MATCH_OKS"]

MATCH_OKS = 0.5


@dataclass(frozen=True)
class PeopleCount:
    """People recovered, missed and added on one or more scenes (they add up)."""

    people: int = 0
    found: int = 0
    recovered: int = 0

    @property
    def missed(self) -> int:
        return self.people - self.recovered

    @property
    def extra(self) -> int:
        return self.found - self.recovered

    @property
    def recall(self) -> float:
        return self.recovered / self.people if self.people else 1.0

    @property
    def extra_rate(self) -> float:
        """Extra people per true person."""
        return self.extra / self.people if self.people else float(self.extra > 0)

    def __add__(self, other: PeopleCount) -> PeopleCount:
        return PeopleCount(self.people + other.people, self.found + other.found,
                           self.recovered + other.recovered)

    def to_dict(self) -> dict[str, int]:
        return {"people": self.people, "found": self.found, "recovered": self.recovered,
                "missed": self.missed, "extra": self.extra}

    @staticmethod
    def total(counts: Iterable[PeopleCount]) -> PeopleCount:
        return sum(counts, PeopleCount())

    def __str__(self) -> str:
        return f"{self.recovered}/{self.people} +{self.extra}"


def keypoint_areas(keypoints: np.ndarray) -> np.ndarray:
    """(P,) area of each person's labelled-keypoint box (at least 1), the OKS scale COCO
    files without an ``area`` get (see :mod:`posekit.coco`)."""
    kp = np.asarray(keypoints, dtype=np.float64)
    out = np.ones(len(kp))
    for p, person in enumerate(kp):
        ok = person[:, 2] > 0
        if ok.any():
            span = person[ok, :2].max(axis=0) - person[ok, :2].min(axis=0)
            out[p] = max(float(span[0] * span[1]), 1.0)
    return out


def oks(truth: np.ndarray, found: np.ndarray, skeleton: Skeleton,
        areas: np.ndarray | None = None) -> np.ndarray:
    """(P, D) object keypoint similarity of true people (P, K, 3) to found people (D, K, 3).

    COCO's definition: over the true person's labelled parts, the mean of
    ``exp(-d^2 / (2 area (2 sigma_k)^2))``, a part the found person lacks counting 0.
    """
    K = skeleton.num_keypoints
    gt = np.asarray(truth, dtype=np.float64).reshape(-1, K, 3)
    dt = np.asarray(found, dtype=np.float64).reshape(-1, K, 3)
    if not len(gt) or not len(dt):
        return np.zeros((len(gt), len(dt)))
    area = keypoint_areas(gt) if areas is None else np.maximum(np.asarray(areas, float), 1.0)
    if area.shape != (len(gt),):
        raise PosekitError(f"areas must hold one value per true person ({len(gt)}), got "
                           f"shape {area.shape}")
    var = (2.0 * skeleton.sigma_array) ** 2
    d2 = ((gt[:, None, :, :2] - dt[None, :, :, :2]) ** 2).sum(-1)
    e = d2 / (2.0 * var[None, None] * area[:, None, None])
    labelled = (gt[:, :, 2] > 0)[:, None, :]
    has = (dt[:, :, 2] > 0)[None, :, :]
    sim = np.where(labelled & has, np.exp(-e), 0.0).sum(-1)
    return sim / np.maximum(labelled.sum(-1), 1)


def count_people(found: np.ndarray | Sequence, truth: np.ndarray, skeleton: Skeleton, *,
                 areas: np.ndarray | None = None, threshold: float = MATCH_OKS
                 ) -> PeopleCount:
    """Match found people to the true ones of one scene (module docstring) and count.

    ``found``: (D, K, 3) keypoints or a list of :class:`~posekit.people.Person`;
    ``truth``: (P, K, 3); ``areas``: the true people's OKS scale (default: the area of
    their labelled-keypoint box).
    """
    K = skeleton.num_keypoints
    if len(found) and not isinstance(found, np.ndarray) and hasattr(found[0], "keypoints"):
        found = np.stack([p.keypoints for p in found])
    dt = np.asarray(found, dtype=np.float64).reshape(-1, K, 3)
    gt = np.asarray(truth, dtype=np.float64).reshape(-1, K, 3)
    if not len(gt) or not len(dt):
        return PeopleCount(len(gt), len(dt), 0)
    sim = oks(gt, dt, skeleton, areas)
    ok = sim >= threshold
    # as many pairs as possible first, then the most similar: 1 + OKS for a pair that counts
    rows, cols = linear_sum_assignment(np.where(ok, 1.0 + sim, 0.0), maximize=True)
    return PeopleCount(len(gt), len(dt), int(ok[rows, cols].sum()))
