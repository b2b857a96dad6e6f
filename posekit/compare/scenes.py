"""Scenes for ``compare-parsers``: ground-truth people (P, K, 3) and where their maps come from.

Four sources, one :class:`Scene` type:

1. ``synthetic``: people of any skeleton from :func:`posekit.synth.sample_poses`, seeded per
   (seed, number of people, scene number), so a scene never changes when other scenes are
   added. People are sized so that clean maps resolve every limb of the skeleton, and
   images grow with the number of people so that crowds keep the same density.
2. ``coco``: the labelled, non-crowd people of images from a COCO keypoint file.
3. ``network``: the same images, but maps come from a trained network instead of being
   rendered from the ground truth.
4. ``real``: grid crowds of real people from a COCO keypoint file
   (:mod:`posekit.compare.real`).

For 1, 2 and 4 the maps are rendered from the ground truth by :mod:`posekit.compare.noise`.
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
           "synthetic_image_size", "person_size_range", "parse_people"]

Source = Literal["synthetic", "coco", "network", "real"]
BASE_SIZE = (640, 480)  # smallest synthetic image
FILL = 0.3  # fraction of a synthetic image that people's boxes cover, on average
MIN_LIMB = 8.0  # pixels: the shortest limb of the smallest synthetic person
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
    name: str = ""  # what the scene is, for reports ("image 785", "crowd 20 seed 1")
    areas: np.ndarray | None = None  # (P,) OKS scale of the people (None: keypoint boxes)

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


def person_size_range(skeleton: Skeleton, min_limb: float = MIN_LIMB) -> tuple[float, float]:
    """(smallest, largest) person size in pixels (longer side of the box) for synthetic
    scenes: the smallest keeps the skeleton's shortest limb (tree or redundant, at its most
    shrunk) ``min_limb`` pixels long, so that clean maps at stride 8 resolve every limb."""
    rest = skeleton.rest_pose_array
    extent = float(np.ptp(rest, axis=0).max()) or 1.0
    a, b = skeleton.limb_index[:, 0], skeleton.limb_index[:, 1]
    shortest = float(np.linalg.norm(rest[a] - rest[b], axis=1).min()) / extent
    lo = max(min_limb / (0.9 * max(shortest, 1e-3)), 96.0)
    return lo, 2 * lo


def synthetic_image_size(skeleton: Skeleton, num_people: int,
                         size_range: tuple[float, float]) -> tuple[int, int]:
    """(W, H) of a synthetic scene: 4:3, at least 640x480, large enough that people of
    average size cover about ``FILL`` of it (sides rounded to multiples of 8)."""
    rest = skeleton.rest_pose_array
    span = np.ptp(rest, axis=0)
    aspect = float(span[0] * span[1] / max(span.max(), 1e-6) ** 2)  # box area / side^2
    mean = (size_range[0] + size_range[1]) / 2
    area = max(BASE_SIZE[0] * BASE_SIZE[1], num_people * aspect * mean**2 / FILL)
    g = math.sqrt(area / (BASE_SIZE[0] * BASE_SIZE[1]))
    return (int(round(BASE_SIZE[0] * g / 8)) * 8, int(round(BASE_SIZE[1] * g / 8)) * 8)


def synthetic_scenes(skeleton: Skeleton, people: Sequence[int], scenes: int, seed: int,
                     **pose_options: Any) -> list[Scene]:
    """``scenes`` synthetic scenes for each count in ``people`` (any skeleton).

    People's size is drawn from :func:`person_size_range`; the image grows with the count
    (:func:`synthetic_image_size`); by default at most 0.3 box IoU between two people, 10%
    may run over the border (never their root keypoint), 5% of parts labelled occluded,
    and people who are not truncated keep 16 pixels (two map pixels) from the border (see
    :func:`~posekit.synth.sample_poses`; ``pose_options`` override its keywords).
    """
    if scenes < 1:
        raise PosekitError(f"--scenes must be at least 1, got {scenes}")
    lo, hi = person_size_range(skeleton)
    out = []
    for count in people:
        size = synthetic_image_size(skeleton, count, (lo, hi))
        short = min(size)
        options = {"scale_range": (lo / short, hi / short), "margin": 16.0, **pose_options}
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
        path = ""
        if source == "network":
            path = str(coco.image_dir() / im.file_name)
            beside = coco.path.parent / im.file_name
            if not Path(path).is_file() and beside.is_file():
                path = str(beside)
        out.append(Scene(len(out), im.id, (im.width, im.height), coco.people(i), source, path,
                         name=f"image {im.id}", areas=coco.areas[i][coco.people_mask(i)]))
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
        from posekit.compare.count import keypoint_areas

        images = [{"id": s.image_id, "file_name": "", "width": s.image_size[0],
                   "height": s.image_size[1]} for s in scenes]
        areas = [s.areas if s.areas is not None else keypoint_areas(s.keypoints)
                 for s in scenes]
        return coco_dict(skeleton, images, [s.keypoints for s in scenes], areas=areas)
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
