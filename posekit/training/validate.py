"""Training: validation OKS AP of the network being trained.

Each validation image is fitted (letterboxed, no randomness) into the square training crop,
run through the network in batches, decoded with :func:`posekit.decode.parse_maps` at crop
size, mapped back to image pixels and scored with :func:`posekit.evaluation.evaluate_oks`
(pycocotools, the skeleton's OKS sigmas) against the dataset's COCO annotations.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
import torch

from posekit.people import Person
from posekit.skeleton import Skeleton
from posekit.training.augment import fit_matrix, warp_image
from posekit.training.dataset import ImageEntry, Skipped, read_image

__all__ = ["ValidationResult", "predict", "validate"]


@dataclass(frozen=True)
class ValidationResult:
    metrics: dict[str, Any]  # evaluate_oks output: ap, ap50, ... and counts
    skipped: list[Skipped]

    @property
    def ap(self) -> float | None:
        value = self.metrics.get("ap")
        return None if value is None else float(value)


@torch.no_grad()
def predict(net: torch.nn.Module, entries: Sequence[ImageEntry], skeleton: Skeleton,
            input_size: int, *, parser: Any = "hungarian", device: torch.device | None = None,
            batch_size: int = 8) -> tuple[dict[int, list[Person]], list[Skipped]]:
    """People per image id (image pixels) for the readable entries, and the skipped ones."""
    from posekit.decode import parse_maps
    from posekit.network import maps_to_numpy

    device = device or next(net.parameters()).device
    preprocess = net.preprocess
    size = (input_size, input_size)
    was_training = net.training
    net.eval()
    out: dict[int, list[Person]] = {}
    skipped: list[Skipped] = []
    try:
        for start in range(0, len(entries), batch_size):
            crops, items = [], []
            for entry in entries[start:start + batch_size]:
                try:
                    pixels = read_image(entry.path)
                except (OSError, ValueError, SyntaxError) as exc:
                    skipped.append(Skipped(str(entry.path), str(exc)[:160]))
                    continue
                H, W = pixels.shape[:2]
                matrix = fit_matrix((W, H), size)
                crops.append(warp_image(pixels, matrix, size, preprocess.pad_value))
                items.append((entry, matrix))
            if not crops:
                continue
            x = preprocess.normalize(torch.from_numpy(np.stack(crops)).to(device))
            pafs, heats = net(x)
            for b, (entry, matrix) in enumerate(items):
                heat, paf = maps_to_numpy(pafs[b:b + 1], heats[b:b + 1])
                people = parse_maps(heat, paf, skeleton=skeleton, parser=parser,
                                    image_size=size)
                out[entry.image_id] = [_to_image(p, matrix) for p in people]
    finally:
        net.train(was_training)
    return out, skipped


def _to_image(person: Person, matrix: np.ndarray) -> Person:
    kp = np.array(person.keypoints, dtype=np.float64)
    found = kp[:, 2] > 0
    A, t = matrix[:, :2], matrix[:, 2]
    kp[found, :2] = (kp[found, :2] - t) @ np.linalg.inv(A).T
    return Person(kp, person.score)


def validate(net: torch.nn.Module, coco: Any, entries: Sequence[ImageEntry],
             skeleton: Skeleton, input_size: int, *, parser: Any = "hungarian",
             device: torch.device | None = None, batch_size: int = 8) -> ValidationResult:
    """OKS AP over ``entries`` (images of the ``coco`` annotations) for the network."""
    from posekit.evaluation import evaluate_oks

    people, skipped = predict(net, entries, skeleton, input_size, parser=parser, device=device,
                              batch_size=batch_size)
    ids = [int(im["id"]) for im in coco.data["images"]]
    detections = [people.get(i, []) for i in ids]
    metrics = evaluate_oks(coco.data, detections, skeleton, image_ids=sorted(people))
    return ValidationResult(metrics=metrics, skipped=skipped)
