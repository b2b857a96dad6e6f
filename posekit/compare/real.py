"""Real human poses as a measuring ground: the bundled real set, its scenes, bad input.

Synthetic figures are too kind to parsers: real people lack parts (an unlabelled ear, a
hidden arm), stand close together and take poses no rest pose suggests. This module turns
COCO-format person keypoint annotations (the bundled set, :data:`REAL_SET`: real people of
COCO val2017 images, keypoints only, CC BY 4.0; see ``posekit/data/real/README.md``, or a
user's file) into scenes whose ideal maps (:mod:`posekit.compare.ideal`) any parser can be
measured on with the count metric (:mod:`posekit.compare.count`) and AP:

- :meth:`RealSet.photos`: the people of each real image at their real positions, at the
  image's size (or scaled to fit a ``canvas``; scaling down shrinks small people below
  what stride-8 maps resolve, which no parser can undo);
- :meth:`RealSet.crowds`: grid crowds of N real poses on the canvas (seeded: which poses,
  mirrored or not, how large within their cell, where in it).

Annotation files are cleaned first (:func:`clean_coco`) and what was wrong is counted in
an :class:`InputReport` for the run's summary, never raised: people with no or fewer than
``min_parts`` labelled parts, labelled parts outside the image (dropped), duplicate people
(the same labelled parts within 2 pixels), people most of whose parts coincide with
another person's same parts (within one map pixel, 8 image pixels: one peak serves both, so
no map tells them apart) and people whose labelled parts the skeleton's limbs do not join
(no parser can assemble them from any maps) are left out of the scenes, and marked
unlabelled in the ground truth, which COCO's evaluation then ignores.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, fields, replace
from pathlib import Path

import numpy as np

from posekit.coco import CocoKeypoints, load_coco_keypoints
from posekit.compare.count import PeopleCount, count_people
from posekit.compare.ideal import STRIDE, ideal_maps
from posekit.compare.scenes import Scene
from posekit.errors import PosekitError
from posekit.skeleton import Skeleton, load_skeleton

__all__ = ["REAL_SET", "CANVAS", "MIN_PARTS", "CROWD_SIZES", "SEEDS", "InputReport",
           "RealSet", "clean_coco", "load_real", "resolve_data", "parse_scene",
           "count_scenes", "evaluate_scenes"]

REAL_SET = Path(__file__).resolve().parents[1] / "data" / "real" / "coco17_real.json"
CANVAS = (656, 368)
MIN_PARTS = 3
CROWD_SIZES = (10, 20, 40)
SEEDS = (0, 1, 2)
DUPLICATE_PX = 2.0
COINCIDE_PX = 8.0  # one map pixel at stride 8


@dataclass(frozen=True)
class InputReport:
    """What an annotation file held, and what was left out or dropped (module docstring)."""

    annotations: int = 0  # non-crowd annotations read
    people: int = 0  # people kept
    unlabelled: int = 0  # no labelled part (box-only annotations)
    few_parts: int = 0  # 1 .. min_parts - 1 labelled parts
    outside_parts: int = 0  # labelled parts outside the image, dropped
    outside_people: int = 0  # people who had such parts
    duplicates: int = 0
    coincident: int = 0  # most parts on another person's same parts
    disconnected: int = 0  # labelled parts not joined by the skeleton's limbs
    min_parts: int = MIN_PARTS

    @property
    def left_out(self) -> int:
        """People left out for bad input (box-only annotations not counted)."""
        return self.few_parts + self.duplicates + self.coincident + self.disconnected

    def to_dict(self) -> dict[str, int]:
        return {f.name: getattr(self, f.name) for f in fields(self)}

    def line(self) -> str:
        """One line for a run's summary."""
        text = (f"input: {self.people} people kept of {self.annotations} annotations; "
                f"left out: {self.unlabelled} with no labelled part, {self.few_parts} with "
                f"1-{self.min_parts - 1} parts, {self.duplicates} duplicates, "
                f"{self.coincident} on top of another person, "
                f"{self.disconnected} whose parts the skeleton's limbs do not join")
        if self.outside_parts:
            text += (f"; {self.outside_parts} parts outside the image dropped "
                     f"({self.outside_people} people)")
        return text


def _connected(labelled: np.ndarray, limbs: np.ndarray) -> bool:
    """Whether the labelled parts form one piece through the limbs between them."""
    nodes = np.flatnonzero(labelled)
    if len(nodes) <= 1:
        return True
    parent = {int(k): int(k) for k in nodes}

    def root(k: int) -> int:
        while parent[k] != k:
            parent[k] = parent[parent[k]]
            k = parent[k]
        return k

    for a, b in limbs.tolist():
        if labelled[a] and labelled[b]:
            parent[root(a)] = root(b)
    return len({root(int(k)) for k in nodes}) == 1


def _duplicate(person: np.ndarray, kept: list[np.ndarray]) -> bool:
    on = person[:, 2] > 0
    for other in kept:
        if np.array_equal(on, other[:, 2] > 0) and \
                np.abs(person[on, :2] - other[on, :2]).max(initial=0.0) <= DUPLICATE_PX:
            return True
    return False


def _coincident(person: np.ndarray, kept: list[np.ndarray]) -> bool:
    """Whether at least half of the person's parts sit on another person's same parts."""
    on = person[:, 2] > 0
    for other in kept:
        both = on & (other[:, 2] > 0)
        near = np.hypot(*(person[:, :2] - other[:, :2]).T) <= COINCIDE_PX
        if 2 * (both & near).sum() >= on.sum():
            return True
    return False


def clean_coco(coco: CocoKeypoints, min_parts: int = MIN_PARTS
               ) -> tuple[CocoKeypoints, InputReport]:
    """The file with its bad input left out (module docstring), and what that was.

    Raises :class:`PosekitError` only when no usable person remains.
    """
    if min_parts < 1:
        raise PosekitError(f"min_parts must be at least 1, got {min_parts}")
    limbs = coco.skeleton.limb_index
    counts = dict.fromkeys(("annotations", "people", "unlabelled", "few_parts",
                            "outside_parts", "outside_people", "duplicates", "coincident",
                            "disconnected"), 0)
    by_image: dict[int, list[dict]] = {}
    for ann in coco.data["annotations"]:
        by_image.setdefault(ann["image_id"], []).append(ann)
    keypoints, annotations = [], []
    for img, kp, crowd in zip(coco.images, coco.keypoints, coco.iscrowd, strict=True):
        kp = kp.copy()
        anns = by_image.get(img.id, [])
        kept: list[np.ndarray] = []
        for p in range(len(kp)):
            if crowd[p]:
                continue
            counts["annotations"] += 1
            on = kp[p, :, 2] > 0
            if not on.any():
                counts["unlabelled"] += 1
                continue
            x, y = kp[p, :, 0], kp[p, :, 1]
            out = on & ((x < 0) | (y < 0) | (x > img.width) | (y > img.height))
            if out.any():
                counts["outside_parts"] += int(out.sum())
                counts["outside_people"] += 1
                kp[p, out] = 0.0
                on &= ~out
            reason = None
            if on.sum() < min_parts:
                reason = "few_parts"
            elif not _connected(on, limbs):
                reason = "disconnected"
            elif _duplicate(kp[p], kept):
                reason = "duplicates"
            elif _coincident(kp[p], kept):
                reason = "coincident"
            if reason:
                counts[reason] += 1
                kp[p] = 0.0
            else:
                counts["people"] += 1
                kept.append(kp[p])
        keypoints.append(kp)
        for ann, person in zip(anns, kp, strict=True):
            annotations.append({**ann, "keypoints": [float(v) for v in person.reshape(-1)],
                                "num_keypoints": int((person[:, 2] > 0).sum())})
    report = InputReport(**counts, min_parts=int(min_parts))
    if report.people == 0:
        raise PosekitError(f"{coco.path}: no usable person ({report.line()}); annotate people "
                           f"with at least {min_parts} labelled, connected parts")
    data = {**coco.data, "annotations": annotations}
    return replace(coco, keypoints=keypoints, data=data), report


def resolve_data(data: str | Path | None) -> Path:
    """``None`` or ``"real"``: the bundled real set; else the path as given."""
    if data is None or str(data) == "real":
        return REAL_SET
    return Path(data)


@dataclass(eq=False)
class RealSet:
    """Cleaned real people of one skeleton, and the scenes made of them."""

    skeleton: Skeleton
    coco: CocoKeypoints
    report: InputReport

    @property
    def path(self) -> Path:
        return self.coco.path

    def people(self) -> np.ndarray:
        """(N, K, 3) every kept person, in file order."""
        rows = [self.coco.people(i) for i in range(len(self.coco.images))]
        K = self.skeleton.num_keypoints
        return np.concatenate(rows) if rows else np.zeros((0, K, 3))

    def areas(self) -> np.ndarray:
        """(N,) their areas (the file's, else their box's): COCO's OKS scale."""
        rows = [self.coco.areas[i][self.coco.people_mask(i)]
                for i in range(len(self.coco.images))]
        return np.concatenate(rows) if rows else np.zeros(0)

    def photos(self, canvas: tuple[int, int] | None = None) -> list[Scene]:
        """One scene per image with people, at its size or scaled to fit ``canvas``."""
        out = []
        for i, im in enumerate(self.coco.images):
            kp = self.coco.people(i).copy()
            if not len(kp):
                continue
            scale = 1.0 if canvas is None else min(canvas[0] / im.width, canvas[1] / im.height)
            size = (max(1, round(im.width * scale)), max(1, round(im.height * scale)))
            kp[..., :2] *= scale
            kp[kp[..., 2] <= 0] = 0.0
            areas = self.coco.areas[i][self.coco.people_mask(i)] * scale ** 2
            out.append(Scene(len(out), im.id, size, kp, "real", name=f"image {im.id}",
                             areas=areas))
        return out

    def crowd(self, count: int, seed: int, canvas: tuple[int, int] = CANVAS,
              index: int = 0) -> Scene:
        """A grid crowd of ``count`` real poses on ``canvas`` (module docstring)."""
        pool, pool_areas = self.people(), self.areas()
        if count < 1:
            raise PosekitError(f"a crowd needs at least 1 person, got {count}")
        W, H = (int(v) for v in canvas)
        rng = np.random.default_rng([int(seed), int(count)])
        cols = max(1, math.ceil(math.sqrt(count * W / H)))
        rows = math.ceil(count / cols)
        cw, ch = W / cols, H / rows
        pick = rng.choice(len(pool), size=count, replace=count > len(pool))
        cells = rng.permutation(rows * cols)[:count]
        flip = self.skeleton.flip_permutation
        people = np.zeros((count, self.skeleton.num_keypoints, 3))
        areas = np.zeros(count)
        for n, (p, cell) in enumerate(zip(pick, cells, strict=True)):
            person = pool[p].copy()
            if rng.random() < 0.5:  # mirror: x -> -x, left and right swapped
                person[:, 0] = -person[:, 0]
                person = person[flip]
            on = person[:, 2] > 0
            lo, hi = person[on, :2].min(axis=0), person[on, :2].max(axis=0)
            bw, bh = max(hi[0] - lo[0], 1.0), max(hi[1] - lo[1], 1.0)
            bw, bh = max(bw, 0.25 * bh), max(bh, 0.25 * bw)  # a thin pose is not a giant
            s = rng.uniform(0.75, 0.95) * min(cw / bw, ch / bh)
            r, c = divmod(int(cell), cols)
            x0 = c * cw + rng.uniform(0, cw - s * bw)
            y0 = r * ch + rng.uniform(0, ch - s * bh)
            person[on, 0] = (person[on, 0] - lo[0]) * s + x0 + (s * bw - s * (hi[0] - lo[0])) / 2
            person[on, 1] = (person[on, 1] - lo[1]) * s + y0 + (s * bh - s * (hi[1] - lo[1])) / 2
            person[~on] = 0.0
            people[n] = person
            areas[n] = pool_areas[p] * s ** 2
        return Scene(index, index + 1, (W, H), people, "real",
                     name=f"crowd {count} seed {seed}", areas=areas)

    def crowds(self, sizes: tuple[int, ...] = CROWD_SIZES, seeds: tuple[int, ...] = SEEDS,
               canvas: tuple[int, int] = CANVAS) -> list[Scene]:
        """A crowd for every (size, seed)."""
        out: list[Scene] = []
        for n in sizes:
            for seed in seeds:
                out.append(self.crowd(n, seed, canvas, index=len(out)))
        return out


def load_real(skeleton: str | Path | Skeleton, path: str | Path | None = None, *,
              min_parts: int = MIN_PARTS) -> RealSet:
    """The real people of a COCO keypoint file (default: the bundled set), cleaned.

    COCO-17 files are read for ``coco18`` (Neck = midpoint of the shoulders when both are
    labelled) and for any 17-keypoint skeleton in the file's order (``coco17``).
    """
    sk = load_skeleton(skeleton)
    coco, report = clean_coco(load_coco_keypoints(resolve_data(path), sk), min_parts)
    return RealSet(sk, coco, report)


def parse_scene(skeleton: Skeleton, scene: Scene, parser: object, *, field: str = "rect",
                smooth: float = 0.0, decode: object | None = None) -> np.ndarray:
    """(D, K, 3) people ``parser`` (a ready parser) finds on the scene's ideal maps.

    Decoding and parsing are exactly ``compare-parsers``' (``decode``: a
    :class:`~posekit.decode.DecodeConfig`, default the library's).
    """
    from posekit.compare.runner import _solve
    from posekit.decode import DecodeConfig, build_candidates

    heat, paf = ideal_maps(skeleton, scene.keypoints, scene.image_size, field=field,
                           smooth=smooth)
    candidates = build_candidates(heat, paf, skeleton, image_size=scene.image_size,
                                  config=decode if decode is not None else DecodeConfig(),
                                  stride=STRIDE)
    return _solve(parser, candidates, skeleton).keypoints


def count_scenes(skeleton: Skeleton, scenes: list[Scene], parser: object, **options: object
                 ) -> list[PeopleCount]:
    """Per scene: people recovered, missed and added (see :func:`parse_scene` for options)."""
    return [count_people(parse_scene(skeleton, s, parser, **options), s.keypoints, skeleton,
                         areas=s.areas) for s in scenes]


def evaluate_scenes(skeleton: Skeleton, scenes: list[Scene], found: list[np.ndarray]
                    ) -> dict[str, float | int | None]:
    """OKS AP (COCO's evaluation, :func:`posekit.evaluation.evaluate_oks`) and the people
    count of ``found`` (one (D, K, 3) array per scene, best person first) on ``scenes``."""
    from posekit.compare.scenes import scenes_gt
    from posekit.evaluation import evaluate_oks
    from posekit.people import Person

    if len(found) != len(scenes):
        raise PosekitError(f"{len(found)} found-people arrays for {len(scenes)} scenes")
    renumbered = [replace(s, image_id=i + 1) for i, s in enumerate(scenes)]
    people = [[Person(kp, float(len(f) - d)) for d, kp in enumerate(f)] for f in found]
    metrics = evaluate_oks(scenes_gt(skeleton, renumbered), people, skeleton)
    total = PeopleCount.total(count_people(f, s.keypoints, skeleton, areas=s.areas)
                              for f, s in zip(found, scenes, strict=True))
    return {"ap": metrics["ap"], "ap50": metrics["ap50"], **total.to_dict()}
