"""Evaluation of a trained network on a COCO keypoint dataset: people -> OKS metrics.

:func:`evaluate_estimator` runs a :class:`PoseEstimator` over every image of a
:class:`~posekit.coco.CocoKeypoints` set and scores the people with
:func:`posekit.evaluation.evaluate_oks` (pycocotools OKS AP / AP50 / AP75 / AR).
:func:`keypoint_errors` adds per-keypoint errors: ground-truth people (P, K, 3) are matched
one-to-one to detections (K, 3) by OKS (Hungarian, OKS >= 0.5), and for each keypoint the
pixel error, the error relative to the person's size (sqrt of its area) and the fraction of
labelled keypoints that were found are reported.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np
from scipy.optimize import linear_sum_assignment

from posekit.errors import PosekitError
from posekit.people import Person
from posekit.skeleton import Skeleton

__all__ = ["evaluate_estimator", "keypoint_errors", "oks_matrix", "MATCH_OKS"]

MATCH_OKS = 0.5


def oks_matrix(gt: np.ndarray, areas: np.ndarray, det: np.ndarray,
               sigmas: np.ndarray) -> np.ndarray:
    """(G, D) object keypoint similarity of ground truth (G, K, 3) to detections (D, K, 3)."""
    G, D = len(gt), len(det)
    if G == 0 or D == 0:
        return np.zeros((G, D))
    var = (2.0 * np.asarray(sigmas, dtype=np.float64)) ** 2  # (K,)
    d2 = ((gt[:, None, :, :2] - det[None, :, :, :2]) ** 2).sum(-1)  # (G, D, K)
    scale = np.maximum(np.asarray(areas, dtype=np.float64), 1.0)[:, None, None]
    e = d2 / (2.0 * var[None, None] * scale)
    labelled = (gt[:, :, 2] > 0)[:, None, :]  # (G, 1, K)
    found = (det[:, :, 2] > 0)[None, :, :]
    sim = np.where(labelled & found, np.exp(-e), 0.0)
    n = np.maximum(labelled.sum(-1), 1)
    return sim.sum(-1) / n


def keypoint_errors(gt: Sequence[np.ndarray], areas: Sequence[np.ndarray],
                    detections: Sequence[Sequence[Person]],
                    skeleton: Skeleton) -> list[dict[str, Any]]:
    """Per-keypoint errors over matched people (see the module docstring)."""
    K = skeleton.num_keypoints
    errors: list[list[float]] = [[] for _ in range(K)]
    relative: list[list[float]] = [[] for _ in range(K)]
    labelled = np.zeros(K, dtype=np.int64)
    found = np.zeros(K, dtype=np.int64)
    for people, area, dets in zip(gt, areas, detections, strict=True):
        people = np.asarray(people, dtype=np.float64).reshape(-1, K, 3)
        det = np.asarray([p.keypoints for p in dets], dtype=np.float64).reshape(-1, K, 3)
        labelled += (people[:, :, 2] > 0).sum(0)
        if not len(people) or not len(det):
            continue
        sim = oks_matrix(people, np.asarray(area), det, skeleton.sigma_array)
        rows, cols = linear_sum_assignment(-sim)
        for g, d in zip(rows, cols, strict=True):
            if sim[g, d] < MATCH_OKS:
                continue
            ok = (people[g, :, 2] > 0) & (det[d, :, 2] > 0)
            found += ok
            dist = np.hypot(*(people[g, :, :2] - det[d, :, :2]).T)
            size = max(float(np.sqrt(max(area[g], 1.0))), 1.0)
            for k in np.flatnonzero(ok):
                errors[k].append(float(dist[k]))
                relative[k].append(float(dist[k]) / size)
    out = []
    for k, name in enumerate(skeleton.keypoints):
        e = np.asarray(errors[k])
        out.append({
            "keypoint": name,
            "labelled": int(labelled[k]),
            "found": int(found[k]),
            "found_fraction": float(found[k] / labelled[k]) if labelled[k] else None,
            "mean_px": float(e.mean()) if e.size else None,
            "median_px": float(np.median(e)) if e.size else None,
            "mean_relative": float(np.mean(relative[k])) if e.size else None,
        })
    return out


def evaluate_estimator(est: Any, data: Any, *, limit: int | None = None,
                       report: Callable[[str, str, bool], None] | None = None,
                       advance: Callable[[int], None] | None = None) -> dict[str, Any]:
    """Run ``est`` on the images of ``data`` (CocoKeypoints) and score the people.

    Images that cannot be read are reported (``report(file, message, True)``) and left out
    of the metrics; images whose size differs from the annotations' are reported with
    ``False`` (a warning). Returns ``metrics`` (evaluate_oks), ``per_keypoint``, ``images``,
    ``failed`` (file names), ``seconds`` and ``images_per_second``.
    """
    from posekit.evaluation import evaluate_oks

    folder = data.image_dir()
    indices = list(range(len(data.images)))[: limit if limit else None]
    if not indices:
        raise PosekitError(f"{data.path}: holds no images to evaluate")
    detections: list[list[Person]] = [[] for _ in data.images]
    used: list[int] = []
    failed: list[str] = []
    seconds = 0.0
    batch: list[tuple[int, Any]] = []

    def flush() -> None:
        nonlocal seconds
        if not batch:
            return
        start = time.perf_counter()
        maps = est.maps([im for _, im in batch])
        for (i, im), (heat, paf) in zip(batch, maps, strict=True):
            detections[i] = est.people_from_maps(heat, paf, im)
            used.append(i)
        seconds += time.perf_counter() - start
        if advance:
            advance(len(batch))
        batch.clear()

    for i in indices:
        image = data.images[i]
        path = folder / image.file_name
        try:
            loaded = est.load(path, name=str(path))
        except PosekitError as exc:
            failed.append(image.file_name)
            if report:
                report(image.file_name, str(exc), True)
            if advance:
                advance(1)
            continue
        if loaded.size != (image.width, image.height) and report:
            report(image.file_name,
                   f"is {loaded.size[0]}x{loaded.size[1]}, the annotations say "
                   f"{image.width}x{image.height}; keypoints may not line up", False)
        batch.append((i, loaded))
        if len(batch) >= est.batch_size:
            flush()
    flush()
    if not used:
        raise PosekitError(f"{data.path}: none of its images could be read from {folder}")
    used.sort()
    metrics = evaluate_oks(data, detections, data.skeleton,
                           image_ids=[data.images[i].id for i in used])
    per_keypoint = keypoint_errors([data.people(i) for i in used],
                                   [data.areas[i][data.people_mask(i)] for i in used],
                                   [detections[i] for i in used], data.skeleton)
    return {
        "metrics": metrics,
        "per_keypoint": per_keypoint,
        "images": len(used),
        "failed": failed,
        "seconds": seconds,
        "images_per_second": len(used) / seconds if seconds > 0 else None,
    }
