"""Metrics: OKS average precision of detected people against ground truth (pycocotools).

Ground truth is a COCO keypoint dict (e.g. ``CocoKeypoints.data``), a
:class:`~posekit.coco.CocoKeypoints`, or one (P, K, 3) ``[x, y, v]`` array per image.
Detections are one ``list[Person]`` per image, in the ground truth's image order. The
evaluation is COCO's keypoint evaluation with the skeleton's OKS sigmas
(``params.kpt_oks_sigmas = skeleton.sigma_array``), so it works for any K; pycocotools'
printing is silenced. Metrics are read from the accumulated precision/recall directly, so
the number of detections kept per image can be raised above COCO's 20 for crowded scenes.
"""

from __future__ import annotations

import contextlib
import io
from collections.abc import Sequence
from typing import Any

import numpy as np

from posekit.errors import PosekitError
from posekit.people import Person
from posekit.skeleton import Skeleton

__all__ = ["evaluate_oks", "METRICS"]

METRICS = ("ap", "ap50", "ap75", "ap_medium", "ap_large", "ar", "ar50", "ar75")


def _gt_dict(gt: Any, skeleton: Skeleton) -> dict[str, Any]:
    from posekit.coco import CocoKeypoints, coco_dict

    if isinstance(gt, CocoKeypoints):
        return gt.data
    if isinstance(gt, dict):
        if not all(isinstance(gt.get(k), list) for k in ("images", "annotations")):
            raise PosekitError("ground truth dict is not COCO keypoint format: it needs "
                               "'images' and 'annotations' lists")
        return gt
    arrays = [np.asarray(a, dtype=np.float64).reshape(-1, skeleton.num_keypoints, 3)
              for a in gt]
    images = []
    for kp in arrays:
        ok = kp[..., 2] > 0
        xmax = float(kp[..., 0][ok].max()) if ok.any() else 0.0
        ymax = float(kp[..., 1][ok].max()) if ok.any() else 0.0
        images.append({"file_name": "", "width": int(xmax) + 1, "height": int(ymax) + 1})
    return coco_dict(skeleton, images, arrays)


def evaluate_oks(gt: Any, detections: Sequence[Sequence[Person]], skeleton: Skeleton, *,
                 image_ids: Sequence[int] | None = None,
                 max_detections: int | None = None) -> dict[str, float | int | None]:
    """OKS AP of ``detections`` against ``gt`` (see the module docstring).

    Args:
        gt: COCO keypoint dict, ``CocoKeypoints``, or per-image (P, K, 3) arrays.
        detections: one list of people per ground-truth image, same order.
        image_ids: evaluate only these images (ids of the COCO dict).
        max_detections: people kept per image, best score first (default: the larger of
            COCO's 20 and twice the most ground-truth people in one image).

    Returns ``ap`` (OKS 0.50:0.95), ``ap50``, ``ap75``, ``ap_medium``, ``ap_large``,
    ``ar``, ``ar50``, ``ar75`` (``None`` where undefined, e.g. no medium people), and the
    counts ``images``, ``gt_people`` and ``detections``. With no detections every metric
    is 0.
    """
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    data = _gt_dict(gt, skeleton)
    all_ids = [int(im["id"]) for im in data["images"]]
    if len(detections) != len(all_ids):
        raise PosekitError(f"{len(detections)} detection lists for {len(all_ids)} ground-truth "
                           "images; give one list of people per image")
    ids = all_ids if image_ids is None else [int(i) for i in image_ids]
    wanted = set(ids)
    cat = int(data["categories"][0]["id"]) if data.get("categories") else 1
    K = skeleton.num_keypoints
    results = []
    for image_id, people in zip(all_ids, detections, strict=True):
        if image_id not in wanted:
            continue
        for p in people:
            kp = np.asarray(p.keypoints, dtype=np.float64)
            if kp.shape != (K, 3):
                raise PosekitError(f"a detected person has keypoints {kp.shape}, skeleton "
                                   f"{skeleton.name!r} needs ({K}, 3)")
            results.append({"image_id": image_id, "category_id": cat,
                            "keypoints": [float(v) for v in kp.reshape(-1)],
                            "score": float(p.score)})
    gt_people = sum(1 for a in data["annotations"] if a["image_id"] in wanted
                    and not a.get("iscrowd", 0) and a.get("num_keypoints", 1) > 0)
    counts = {"images": len(ids), "gt_people": gt_people, "detections": len(results)}
    if gt_people == 0:
        return {**dict.fromkeys(METRICS), **counts}
    if not results:
        return {**dict.fromkeys(METRICS, 0.0), **counts}

    per_image: dict[int, int] = {}
    for a in data["annotations"]:
        per_image[a["image_id"]] = per_image.get(a["image_id"], 0) + 1
    most = max((per_image.get(i, 0) for i in ids), default=0)
    max_det = int(max_detections or max(20, 2 * most))
    data = {**data, "categories": data.get("categories") or [{"id": cat, "name": "object"}]}
    with contextlib.redirect_stdout(io.StringIO()):
        coco_gt = COCO()
        coco_gt.dataset = data
        coco_gt.createIndex()
        coco_dt = coco_gt.loadRes(results)
        ev = COCOeval(coco_gt, coco_dt, "keypoints")
        ev.params.kpt_oks_sigmas = np.asarray(skeleton.sigma_array, dtype=np.float64)
        ev.params.imgIds = ids
        ev.params.maxDets = [max_det]
        ev.evaluate()
        ev.accumulate()
    return {**_stats(ev), **counts}


def _stats(ev: Any) -> dict[str, float | None]:
    """COCO's keypoint summary numbers from ``ev.eval`` (area ranges all/medium/large)."""
    precision = ev.eval["precision"]  # (T, R, K, A, M)
    recall = ev.eval["recall"]  # (T, K, A, M)
    thresholds = ev.params.iouThrs

    def mean(values: np.ndarray) -> float | None:
        values = values[values > -1]
        return float(values.mean()) if values.size else None

    def at(iou: float) -> int:
        return int(np.flatnonzero(np.isclose(thresholds, iou))[0])

    return {
        "ap": mean(precision[:, :, :, 0, -1]),
        "ap50": mean(precision[at(0.5), :, :, 0, -1]),
        "ap75": mean(precision[at(0.75), :, :, 0, -1]),
        "ap_medium": mean(precision[:, :, :, 1, -1]),
        "ap_large": mean(precision[:, :, :, 2, -1]),
        "ar": mean(recall[:, :, 0, -1]),
        "ar50": mean(recall[at(0.5), :, 0, -1]),
        "ar75": mean(recall[at(0.75), :, 0, -1]),
    }
