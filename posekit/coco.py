"""COCO keypoint annotation files: read, validate and write them for a skeleton.

A file holds ``images`` (id, file_name, width, height), ``annotations`` (image_id,
``keypoints`` ``[x, y, v] * K``, num_keypoints, bbox, area, iscrowd) and ``categories``
(``keypoints`` names and 1-based ``skeleton`` pairs). :func:`load_coco_keypoints` returns,
per image, the people as a (P, K, 3) float64 ``[x, y, v]`` array in the skeleton's keypoint
order, with their boxes (P, 4), areas (P,) and crowd flags (P,), plus a COCO dict in the
skeleton's order ready for pycocotools. COCO-17 person files are accepted for ``coco18``
(Neck added as the midpoint of the shoulders when both are labelled, keypoints reordered).

A file is matched to the skeleton by keypoint *names* (``categories[].keypoints``; case,
``_``, ``-`` and spaces ignored), never by count alone: a file naming the same keypoints in
another order is reordered, and one naming other keypoints (an AP-10K file given for
``coco18``) is refused with the names that differ. Every category whose names match is
read (AP-10K files repeat one keypoint list over many animal categories).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np

from posekit.errors import PosekitError
from posekit.people import write_json_atomic
from posekit.skeleton import Skeleton

__all__ = [
    "CocoImage", "CocoKeypoints", "load_coco_keypoints", "write_coco_keypoints",
    "coco_dict", "COCO17_KEYPOINTS", "coco17_to_coco18",
]

COCO17_KEYPOINTS = (
    "nose", "left_eye", "right_eye", "left_ear", "right_ear", "left_shoulder",
    "right_shoulder", "left_elbow", "right_elbow", "left_wrist", "right_wrist", "left_hip",
    "right_hip", "left_knee", "right_knee", "left_ankle", "right_ankle",
)
# coco18 keypoint -> COCO-17 index (Neck is made from the shoulders)
_COCO18_FROM_17 = {
    "Nose": 0, "RShoulder": 6, "RElbow": 8, "RWrist": 10, "LShoulder": 5, "LElbow": 7,
    "LWrist": 9, "RHip": 12, "RKnee": 14, "RAnkle": 16, "LHip": 11, "LKnee": 13,
    "LAnkle": 15, "REye": 2, "LEye": 1, "REar": 4, "LEar": 3,
}
_COCO18 = ("Nose", "Neck", "RShoulder", "RElbow", "RWrist", "LShoulder", "LElbow", "LWrist",
           "RHip", "RKnee", "RAnkle", "LHip", "LKnee", "LAnkle", "REye", "LEye", "REar", "LEar")


@dataclass(frozen=True)
class CocoImage:
    id: int
    file_name: str
    width: int
    height: int


@dataclass(eq=False)
class CocoKeypoints:
    """A validated COCO keypoint file, per image, in the skeleton's keypoint order."""

    path: Path
    skeleton: Skeleton
    images: list[CocoImage]
    keypoints: list[np.ndarray]  # per image (P, K, 3) [x, y, v]
    bboxes: list[np.ndarray]  # per image (P, 4) [x, y, w, h]
    areas: list[np.ndarray]  # per image (P,)
    iscrowd: list[np.ndarray]  # per image (P,) bool
    data: dict[str, Any]  # COCO dict in the skeleton's order (for pycocotools)
    converted_from: str | None = None  # "coco17" when a COCO-17 file was converted
    annotation_ids: list[np.ndarray] = field(default_factory=list)
    image_root: Path | None = None  # the image folder, when not images/ beside the file

    def __len__(self) -> int:
        return len(self.images)

    @property
    def num_people(self) -> int:
        """Labelled, non-crowd people over all images."""
        return sum(int(self.people_mask(i).sum()) for i in range(len(self.images)))

    def people_mask(self, index: int) -> np.ndarray:
        """(P,) bool: annotations of image ``index`` that are people (labelled, not crowd)."""
        return (self.keypoints[index][:, :, 2] > 0).any(axis=1) & ~self.iscrowd[index]

    def people(self, index: int) -> np.ndarray:
        """(P, K, 3) labelled, non-crowd people of image ``index``."""
        return self.keypoints[index][self.people_mask(index)]

    def image_dir(self) -> Path:
        """``image_root`` when set (COCO's own ``val2017/``), else ``images/`` beside the file."""
        return self.image_root if self.image_root is not None else self.path.parent / "images"


def coco17_to_coco18(keypoints: np.ndarray) -> np.ndarray:
    """(..., 17, 3) COCO-17 keypoints -> (..., 18, 3) coco18 (Neck = shoulder midpoint)."""
    kp = np.asarray(keypoints, dtype=np.float64)
    out = np.zeros((*kp.shape[:-2], 18, 3))
    for j, name in enumerate(_COCO18):
        if name != "Neck":
            out[..., j, :] = kp[..., _COCO18_FROM_17[name], :]
    ls, rs = kp[..., 5, :], kp[..., 6, :]
    both = (ls[..., 2] > 0) & (rs[..., 2] > 0)
    neck = np.zeros(ls.shape)
    neck[..., :2] = (ls[..., :2] + rs[..., :2]) / 2
    neck[..., 2] = np.minimum(ls[..., 2], rs[..., 2])
    out[..., 1, :] = np.where(both[..., None], neck, 0.0)
    return out


def _fail(path: Path, message: str) -> PosekitError:
    return PosekitError(f"{path}: {message}")


def _is_coco18(skeleton: Skeleton) -> bool:
    return tuple(skeleton.keypoints) == _COCO18


def load_coco_keypoints(path: str | Path, skeleton: Skeleton) -> CocoKeypoints:
    """Read and validate a COCO keypoint annotation file for ``skeleton``.

    Raises :class:`PosekitError` (naming the file and the fix) for a missing file, a file
    that is not JSON or not COCO keypoint format, a keypoint count that does not match the
    skeleton, or a file with no labelled people.
    """
    path = Path(path)
    if path.is_dir():
        path = path / "annotations.json"
    if not path.is_file():
        raise _fail(path, "no such annotation file; pass a COCO keypoint annotations.json")
    try:
        raw = json.loads(path.read_text(encoding="utf-8"))
    except (json.JSONDecodeError, UnicodeDecodeError) as exc:
        raise _fail(path, f"not JSON ({exc}); pass a COCO keypoint annotations.json") from None
    except OSError as exc:
        raise _fail(path, f"cannot be read ({exc.strerror or exc}); check its permissions"
                    ) from None
    fix = "a COCO keypoint file has 'images', 'annotations' and 'categories' (with 'keypoints')"
    if not isinstance(raw, dict):
        raise _fail(path, f"not COCO keypoint format (top level is not an object); {fix}")
    missing = [k for k in ("images", "annotations", "categories")
               if not isinstance(raw.get(k), list)]
    if missing:
        raise _fail(path, f"not COCO keypoint format: missing {', '.join(map(repr, missing))}; "
                          f"{fix}")
    K = skeleton.num_keypoints
    layouts = _match_categories(path, raw["categories"], skeleton)
    convert = any(layout.convert for layout in layouts.values())
    default = next(iter(layouts.values()))

    images, index = [], {}
    for n, im in enumerate(raw["images"]):
        try:
            img = CocoImage(int(im["id"]), str(im.get("file_name", "")), int(im["width"]),
                            int(im["height"]))
        except (KeyError, TypeError, ValueError):
            raise _fail(path, f"images[{n}] needs 'id', 'width' and 'height' numbers") from None
        if img.id in index:
            raise _fail(path, f"image id {img.id} appears twice in 'images'")
        if img.width < 1 or img.height < 1:
            raise _fail(path, f"image {img.id} has size {img.width}x{img.height}")
        index[img.id] = len(images)
        images.append(img)

    per = [[] for _ in images]
    for n, ann in enumerate(raw["annotations"]):
        if not isinstance(ann, dict):
            raise _fail(path, f"annotations[{n}] is not an object; {fix}")
        cid = ann.get("category_id")
        layout = (default if "category_id" not in ann
                  else layouts.get(cid) if isinstance(cid, (int, float, str)) else None)
        if layout is None:  # another category (other keypoints, or none)
            continue
        file_k = len(layout.order)
        values = ann.get("keypoints")
        if not isinstance(values, list):
            raise _fail(path, f"annotations[{n}] has no 'keypoints' list; not COCO keypoint "
                              "format")
        if len(values) != 3 * file_k:
            got = len(values) / 3
            raise _fail(path, f"annotation {ann.get('id', n)} has {len(values)} keypoint values "
                              f"({got:g} keypoints), skeleton {skeleton.name!r} has {K}; pass "
                              "--skeleton with the file's keypoints")
        image_id = ann.get("image_id")
        if image_id not in index:
            raise _fail(path, f"annotation {ann.get('id', n)} refers to image_id {image_id!r}, "
                              "which is not in 'images'")
        try:
            kp = np.asarray(values, dtype=np.float64).reshape(file_k, 3)
        except (TypeError, ValueError):
            raise _fail(path, f"annotation {ann.get('id', n)} has non-numeric keypoints") from None
        if not np.isfinite(kp).all():
            raise _fail(path, f"annotation {ann.get('id', n)} has NaN or infinite keypoints")
        kp = kp[layout.order]
        per[index[image_id]].append((n, ann, coco17_to_coco18(kp) if layout.convert else kp))

    kps, boxes, areas, crowd, ids = [], [], [], [], []
    anns_out = []
    for img, entries in zip(images, per, strict=True):
        arr = np.zeros((len(entries), K, 3))
        box = np.zeros((len(entries), 4))
        area = np.zeros(len(entries))
        isc = np.zeros(len(entries), dtype=bool)
        aid = np.zeros(len(entries), dtype=np.int64)
        for p, (n, ann, kp) in enumerate(entries):
            kp[kp[:, 2] <= 0] = 0.0
            arr[p] = kp
            box[p] = _bbox(ann.get("bbox"), kp)
            area[p] = float(ann["area"]) if _number(ann.get("area")) else box[p, 2] * box[p, 3]
            isc[p] = bool(ann.get("iscrowd", 0))
            aid[p] = int(ann["id"]) if _number(ann.get("id")) else n + 1
            anns_out.append({
                "id": int(aid[p]), "image_id": img.id, "category_id": 1,
                "keypoints": [float(v) for v in kp.reshape(-1)],
                "num_keypoints": int((kp[:, 2] > 0).sum()),
                "bbox": [float(v) for v in box[p]], "area": float(area[p]),
                "iscrowd": int(isc[p]),
            })
        kps.append(arr)
        boxes.append(box)
        areas.append(area)
        crowd.append(isc)
        ids.append(aid)
    data = {
        "images": [{"id": im.id, "file_name": im.file_name, "width": im.width,
                    "height": im.height} for im in images],
        "annotations": anns_out,
        "categories": [_category(skeleton)],
    }
    out = CocoKeypoints(path, skeleton, images, kps, boxes, areas, crowd, data,
                        "coco17" if convert else None, ids)
    if out.num_people == 0:
        raise _fail(path, "holds no people (no non-crowd annotation with a labelled keypoint); "
                          "annotate people or pass another file")
    return out


@dataclass(frozen=True)
class _Layout:
    """How one category's keypoints map onto the skeleton's."""

    order: np.ndarray  # file keypoint index for each keypoint of the target order
    convert: bool  # the target order is COCO-17's, converted to coco18 afterwards


def _norm(name: object) -> str:
    return re.sub(r"[\s_\-]+", "", str(name)).lower()


def _order(names: list, wanted: Sequence[str]) -> np.ndarray | None:
    """Indices of ``wanted`` in ``names`` (normalised), or None when the sets differ."""
    keys = [_norm(n) for n in names]
    want = [_norm(n) for n in wanted]
    if len(set(keys)) != len(keys) or sorted(keys) != sorted(want):
        return None
    return np.array([keys.index(w) for w in want], dtype=np.intp)


def _match_categories(path: Path, categories: list, skeleton: Skeleton) -> dict[Any, _Layout]:
    """``{category id: layout}`` for every category whose keypoint names fit ``skeleton``.

    The first matching category comes first (it serves annotations with no category_id).
    """
    with_kp = [c for c in categories
               if isinstance(c, dict) and isinstance(c.get("keypoints"), list)]
    if not with_kp:
        raise _fail(path, "not COCO keypoint format: no category lists 'keypoints'; a COCO "
                          "keypoint file names its keypoints in categories[0]['keypoints']")
    found: dict[Any, _Layout] = {}
    for cat in with_kp:
        order = _order(cat["keypoints"], skeleton.keypoints)
        layout = _Layout(order, False) if order is not None else None
        if layout is None and _is_coco18(skeleton):
            order = _order(cat["keypoints"], COCO17_KEYPOINTS)
            layout = _Layout(order, True) if order is not None else None
        if layout is not None:
            found.setdefault(cat.get("id"), layout)
    if found:
        return found
    names = [str(n) for n in with_kp[0]["keypoints"]]
    K = skeleton.num_keypoints
    if len(names) != K and not (len(names) == 17 and _is_coco18(skeleton)):
        raise _fail(path, f"categories hold {len(names)} keypoints, skeleton {skeleton.name!r} "
                          f"has {K}; pass --skeleton with a {len(names)}-keypoint skeleton")
    wanted = COCO17_KEYPOINTS if len(names) == 17 and _is_coco18(skeleton) else skeleton.keypoints
    what = "COCO-17's" if wanted is COCO17_KEYPOINTS else "its"
    have = {_norm(n) for n in names}
    need = {_norm(n) for n in wanted}
    extra = [n for n in names if _norm(n) not in need]
    missing = [n for n in wanted if _norm(n) not in have]
    detail = (f"file has {_few(extra)} but not {_few(missing)}" if extra or missing
              else "a keypoint name appears twice")
    raise _fail(path, f"keypoint names do not match skeleton {skeleton.name!r} ({what} "
                      f"keypoints): {detail}; pass --skeleton for this file's keypoints")


def _few(names: Sequence[str], at_most: int = 4) -> str:
    shown = ", ".join(names[:at_most])
    return shown + (f" and {len(names) - at_most} more" if len(names) > at_most else "")


def _number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool) and np.isfinite(v)


def _bbox(value: Any, kp: np.ndarray) -> np.ndarray:
    if (isinstance(value, list) and len(value) == 4 and all(_number(v) for v in value)):
        return np.asarray(value, dtype=np.float64)
    return _keypoint_box(kp)


def _keypoint_box(kp: np.ndarray) -> np.ndarray:
    ok = kp[:, 2] > 0
    if not ok.any():
        return np.zeros(4)
    x0, y0 = kp[ok, :2].min(axis=0)
    x1, y1 = kp[ok, :2].max(axis=0)
    return np.array([x0, y0, x1 - x0, y1 - y0])


def _category(skeleton: Skeleton) -> dict[str, Any]:
    return {
        "id": 1, "name": skeleton.name, "supercategory": skeleton.name,
        "keypoints": list(skeleton.keypoints),
        "skeleton": [[int(a) + 1, int(b) + 1] for a, b in skeleton.limb_index],
    }


def coco_dict(skeleton: Skeleton, images: Sequence[CocoImage | dict[str, Any]],
              keypoints: Sequence[np.ndarray], *, bboxes: Sequence[np.ndarray] | None = None,
              areas: Sequence[np.ndarray] | None = None, min_area: float = 1.0,
              info: dict[str, Any] | None = None) -> dict[str, Any]:
    """A COCO keypoint dict from per-image (P, K, 3) arrays.

    ``images`` entries give ``file_name``, ``width``, ``height`` and optionally ``id``
    (default: position + 1). Boxes default to the labelled keypoints' extent, areas to the
    box area (at least ``min_area``); people with no labelled keypoint are left out.
    """
    if len(images) != len(keypoints):
        raise PosekitError(f"{len(images)} images but {len(keypoints)} keypoint arrays")
    K = skeleton.num_keypoints
    out_images, anns = [], []
    for n, (im, kp) in enumerate(zip(images, keypoints, strict=True)):
        if isinstance(im, CocoImage):
            im = {"id": im.id, "file_name": im.file_name, "width": im.width, "height": im.height}
        image_id = int(im.get("id", n + 1))
        out_images.append({"id": image_id, "file_name": str(im.get("file_name", "")),
                           "width": int(im["width"]), "height": int(im["height"])})
        kp = np.asarray(kp, dtype=np.float64).reshape(-1, K, 3)
        for p in range(len(kp)):
            person = kp[p].copy()
            person[person[:, 2] <= 0] = 0.0
            labelled = int((person[:, 2] > 0).sum())
            if labelled == 0:
                continue
            box = (np.asarray(bboxes[n][p], dtype=np.float64) if bboxes is not None
                   else _keypoint_box(person))
            area = float(areas[n][p]) if areas is not None else float(box[2] * box[3])
            anns.append({
                "id": len(anns) + 1, "image_id": image_id, "category_id": 1,
                "keypoints": [round(float(v), 3) for v in person.reshape(-1)],
                "num_keypoints": labelled,
                "bbox": [round(float(v), 3) for v in box],
                "area": round(max(area, min_area), 3), "iscrowd": 0,
            })
    data: dict[str, Any] = {"images": out_images, "annotations": anns,
                            "categories": [_category(skeleton)]}
    if info is not None:
        data = {"info": dict(info), **data}
    return data


def write_coco_keypoints(path: str | Path, skeleton: Skeleton,
                         images: Sequence[CocoImage | dict[str, Any]],
                         keypoints: Sequence[np.ndarray], *,
                         bboxes: Sequence[np.ndarray] | None = None,
                         areas: Sequence[np.ndarray] | None = None,
                         info: dict[str, Any] | None = None) -> Path:
    """Write a COCO keypoint annotation file atomically (see :func:`coco_dict`)."""
    path = Path(path)
    write_json_atomic(path, coco_dict(skeleton, images, keypoints, bboxes=bboxes, areas=areas,
                                      info=info))
    return path
