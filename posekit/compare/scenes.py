"""Scenes for ``compare-parsers``: ground-truth people (P, K, 3) and where their maps come from.

Three sources, one :class:`Scene` type:

1. ``synthetic``: people of any skeleton from :func:`posekit.synth.sample_poses`, seeded per
   (seed, number of people, scene number), so a scene never changes when other scenes are
   added. Images grow with the number of people (one 640x480 image holds up to 4 people at
   the same density) so that crowds stay parseable rather than piling up.
2. ``coco``: the labelled, non-crowd people of images from a COCO keypoint file.
3. ``network``: the same images, but maps come from a trained network instead of being
   rendered from the ground truth.

For 1 and 2 the maps are rendered from the ground truth by :mod:`posekit.compare.noise`.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import numpy as np

from posekit.coco import CocoKeypoints, coco_dict
from posekit.errors import PosekitError
from posekit.skeleton import Skeleton
from posekit.synth.poses import sample_poses

__all__ = ["Scene", "Source", "synthetic_scenes", "coco_scenes", "scenes_gt",
           "synthetic_image_size", "parse_people"]

Source = Literal["synthetic", "coco", "network"]
BASE_SIZE = (640, 480)  # image of a synthetic scene with up to DENSITY people
DENSITY = 4
MAX_PEOPLE = 64


@dataclass(frozen=True, eq=False)
class Scene:
    """One image: its ground-truth people and what the comparison needs to make its maps."""

    index: int  # position in the run
    image_id: int  # id in the ground truth (COCO image id for file sources)
    image_size: tuple[int, int]  # (W, H)
    keypoints: np.ndarray  # (P, K, 3) [x, y, v] people whose maps are rendered
    source: Source = "synthetic"
    image_path: str = ""  # network source: the image file

    @property
    def num_people(self) -> int:
        return len(self.keypoints)


def parse_people(text: str) -> tuple[int, ...]:
    """``"1,2,4,8"``, ``"1-6"`` or a mix (``"1-4,8"``) -> sorted people counts."""
    out: list[int] = []
    parts = [p.strip() for p in str(text).split(",")]
    if not any(parts):
        raise PosekitError("--people is empty; give counts like '1,2,4,8' or a range '1-6'")
    for part in parts:
        if not part:
            raise PosekitError(f"--people {text!r} has an empty entry; give counts like "
                               "'1,2,4,8' or a range '1-6'")
        lo_s, sep, hi_s = part.partition("-")
        try:
            lo = int(lo_s)
            hi = int(hi_s) if sep else lo
        except ValueError:
            raise PosekitError(f"--people: {part!r} is not a number or a range like '1-6'"
                               ) from None
        if lo < 1:
            raise PosekitError(f"--people: {part!r}: a scene needs at least 1 person")
        if hi < lo:
            raise PosekitError(f"--people: range {part!r} runs backwards; write '{hi}-{lo}'")
        if hi > MAX_PEOPLE:
            raise PosekitError(f"--people: {part!r}: at most {MAX_PEOPLE} people per scene")
        for n in range(lo, hi + 1):
            if n in out:
                raise PosekitError(f"--people {text!r} lists {n} twice")
            out.append(n)
    return tuple(sorted(out))


def synthetic_image_size(num_people: int) -> tuple[int, int]:
    """(W, H) of a synthetic scene: 640x480 grown so that it holds ``DENSITY`` people per
    640x480 (sides rounded to multiples of 8)."""
    g = math.sqrt(max(num_people, DENSITY) / DENSITY)
    return (int(round(BASE_SIZE[0] * g / 8)) * 8, int(round(BASE_SIZE[1] * g / 8)) * 8)


def synthetic_scenes(skeleton: Skeleton, people: Sequence[int], scenes: int, seed: int,
                     **pose_options: Any) -> list[Scene]:
    """``scenes`` synthetic scenes for each count in ``people`` (any skeleton).

    People's size is 25-70% of a 640x480 image's height whatever the image grows to; at
    most 0.3 box IoU between two people, 10% truncated, 5% of parts occluded (see
    :func:`~posekit.synth.sample_poses`; ``pose_options`` override its keywords).
    """
    if scenes < 1:
        raise PosekitError(f"--scenes must be at least 1, got {scenes}")
    out = []
    for count in people:
        size = synthetic_image_size(count)
        shrink = BASE_SIZE[1] / min(size)
        options = {"scale_range": (0.25 * shrink, 0.7 * shrink), **pose_options}
        for j in range(scenes):
            rng = np.random.default_rng([int(seed), int(count), j])
            kp = sample_poses(skeleton, rng, size, count, **options)
            out.append(Scene(len(out), len(out) + 1, size, kp, "synthetic"))
    return out


def coco_scenes(coco: CocoKeypoints, *, scenes: int | None, people: Sequence[int] | None,
                seed: int, source: Source = "coco") -> list[Scene]:
    """Scenes from the images of a COCO keypoint file that hold labelled people.

    ``people`` keeps only images with that many (non-crowd, labelled) people; ``scenes``
    draws that many of the remaining images at random (seeded), in file order.
    """
    keep = [i for i in range(len(coco.images)) if coco.people_mask(i).any()]
    if people:
        wanted = set(people)
        keep = [i for i in keep if int(coco.people_mask(i).sum()) in wanted]
        if not keep:
            raise PosekitError(f"{coco.path}: no image holds {_counts(people)} people; "
                               "choose --people from the counts in the file or leave it out")
    if scenes is not None:
        if scenes < 1:
            raise PosekitError(f"--scenes must be at least 1, got {scenes}")
        if scenes < len(keep):
            rng = np.random.default_rng(int(seed))
            keep = sorted(rng.choice(keep, size=scenes, replace=False).tolist())
    out = []
    for i in keep:
        im = coco.images[i]
        path = str(coco.image_dir() / im.file_name) if source == "network" else ""
        out.append(Scene(len(out), im.id, (im.width, im.height), coco.people(i), source, path))
    return out


def _counts(people: Sequence[int]) -> str:
    return ", ".join(str(p) for p in people) if len(people) < 8 else \
        f"{min(people)}..{max(people)}"


def scenes_gt(skeleton: Skeleton, scenes: Sequence[Scene],
              coco: CocoKeypoints | None = None) -> dict[str, Any]:
    """The COCO ground-truth dict the scenes are evaluated against.

    File sources keep the file's own annotations of the chosen images (crowd regions
    included, so pycocotools ignores detections inside them); synthetic scenes get boxes
    from their keypoints.
    """
    if coco is None:
        images = [{"id": s.image_id, "file_name": "", "width": s.image_size[0],
                   "height": s.image_size[1]} for s in scenes]
        return coco_dict(skeleton, images, [s.keypoints for s in scenes])
    ids = {s.image_id for s in scenes}
    order = {s.image_id: n for n, s in enumerate(scenes)}
    data = coco.data
    return {
        "images": sorted((im for im in data["images"] if im["id"] in ids),
                         key=lambda im: order[im["id"]]),
        "annotations": [a for a in data["annotations"] if a["image_id"] in ids],
        "categories": data["categories"],
    }


def image_file(scene: Scene) -> Path:
    """The image a network scene reads (a clear error if it is missing)."""
    path = Path(scene.image_path)
    if not path.is_file():
        raise PosekitError(f"image {path} (image id {scene.image_id}) is missing; a dataset "
                           "folder holds annotations.json and images/ beside it")
    return path
