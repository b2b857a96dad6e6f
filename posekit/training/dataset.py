"""Training data: a COCO-format keypoint dataset as augmented crops and their target maps.

:func:`load_dataset` reads ``annotations.json`` (via :func:`posekit.coco.load_coco_keypoints`;
COCO-17 person files work for coco18) and finds each image in the ``images/`` folder beside
it; missing image files are dropped with a warning. :class:`PoseDataset` turns entry ``i``
of epoch ``e`` into one training sample: the image warped into a square crop (h, w, 3)
uint8 (:mod:`posekit.training.augment`, random but fixed by ``(seed, e, i)``), heatmaps
(K+1, h/8, w/8), PAFs (2L, h/8, w/8) and the loss mask W (1, h/8, w/8) from
:func:`posekit.targets.render_targets`. W is 0 over crowd regions and people without
keypoints (their segmentation via pycocotools, else their box). An image that cannot be
read becomes a :class:`Skipped` marker that :func:`collate` drops and counts, so a bad file
never stops an epoch.
"""

from __future__ import annotations

import json
import math
import warnings
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch
from PIL import Image
from torch.utils.data import Dataset, DistributedSampler

from posekit.errors import PosekitError
from posekit.skeleton import Skeleton
from posekit.training.augment import AugmentConfig, Sample, warp_sample

__all__ = ["ImageEntry", "DatasetIndex", "load_dataset", "split_entries", "read_image",
           "PoseDataset", "Skipped", "Batch", "collate", "EpochSampler", "ignore_mask"]

# an ignore region: ("segmentation", polygons or RLE) or ("bbox", [x, y, w, h])
Region = tuple[str, Any]


@dataclass(frozen=True)
class ImageEntry:
    """One image of a dataset and what training needs of its annotations."""

    image_id: int
    path: Path
    width: int
    height: int
    keypoints: np.ndarray  # (P, K, 3) labelled, non-crowd people
    ignore: tuple[Region, ...] = ()  # crowd regions and people without keypoints


@dataclass(frozen=True)
class DatasetIndex:
    """The images of a dataset that exist, plus the COCO dict for evaluation."""

    annotations: Path
    entries: list[ImageEntry]
    coco: Any  # posekit.coco.CocoKeypoints
    missing: list[str]  # image files named by the annotations but not found


def _find_image(bases: tuple[Path, ...], file_name: str) -> Path | None:
    for base in bases:
        candidate = base / file_name
        if candidate.is_file():
            return candidate
    return None


def load_dataset(path: str | Path, skeleton: Skeleton, *, images: str | Path | None = None,
                 warn: bool = True) -> DatasetIndex:
    """Read a COCO keypoint dataset (folder with ``annotations.json``, or the file itself).

    Images are looked up in ``images`` when given (e.g. COCO's ``val2017/``), else in the
    ``images/`` folder beside the annotation file, then beside the file itself.
    """
    from posekit.coco import load_coco_keypoints

    coco = load_coco_keypoints(path, skeleton)
    ann_path = coco.path
    root = ann_path.parent
    bases = (Path(images),) if images is not None else (root / "images", root)
    if images is not None and not bases[0].is_dir():
        raise PosekitError(f"image folder {str(images)!r} does not exist; check --images")
    regions = _ignore_regions(coco)
    entries, missing = [], []
    for i, im in enumerate(coco.images):
        found = _find_image(bases, im.file_name) if im.file_name else None
        if found is None:
            missing.append(im.file_name or f"<image {im.id} without file_name>")
            continue
        entries.append(ImageEntry(im.id, found, im.width, im.height, coco.people(i),
                                  regions.get(i, ())))
    if missing and warn:
        shown = ", ".join(missing[:3]) + (" ..." if len(missing) > 3 else "")
        warnings.warn(f"{ann_path}: skipping {len(missing)} image(s) not found under "
                      f"{bases[0]}: {shown}", stacklevel=2)
    if not entries:
        raise PosekitError(f"{ann_path}: none of its {len(coco.images)} images was found under "
                           f"{bases[0]}; put the images there (or pass --images DIR)")
    return DatasetIndex(ann_path, entries, coco, missing)


def _ignore_regions(coco: Any) -> dict[int, tuple[Region, ...]]:
    """Per image index: crowd annotations and people without keypoints, as regions."""
    wanted = {}
    for i in range(len(coco.images)):
        ignored = ~coco.people_mask(i)
        if ignored.any():
            wanted[i] = np.flatnonzero(ignored)
    if not wanted:
        return {}
    # segmentations are not kept by the loader: read them from the raw file for these only
    raw = json.loads(coco.path.read_text(encoding="utf-8"))
    by_id = {a.get("id"): a for a in raw.get("annotations", []) if isinstance(a, dict)}
    out: dict[int, tuple[Region, ...]] = {}
    for i, rows in wanted.items():
        regions: list[Region] = []
        for r in rows:
            ann = by_id.get(int(coco.annotation_ids[i][r]), {})
            seg = ann.get("segmentation")
            if isinstance(seg, (list, dict)) and seg:
                regions.append(("segmentation", seg))
            else:
                regions.append(("bbox", [float(v) for v in coco.bboxes[i][r]]))
        out[i] = tuple(regions)
    return out


def ignore_mask(regions: Sequence[Region], width: int, height: int) -> np.ndarray | None:
    """(H, W) bool union of the regions (pycocotools for segmentations), None if none."""
    if not regions:
        return None
    from pycocotools import mask as mask_utils

    mask = np.zeros((height, width), dtype=bool)
    for kind, value in regions:
        if kind == "segmentation":
            try:
                if isinstance(value, list):
                    rles = mask_utils.frPyObjects(value, height, width)
                    rle = mask_utils.merge(rles)
                elif isinstance(value.get("counts"), list):
                    rle = mask_utils.frPyObjects(value, height, width)
                else:
                    rle = value
                with warnings.catch_warnings():  # pycocotools' numpy-2 deprecation notice
                    warnings.simplefilter("ignore", DeprecationWarning)
                    decoded = mask_utils.decode(rle)
                mask |= decoded.astype(bool)[:height, :width]
                continue
            except (TypeError, ValueError, KeyError, IndexError):
                pass  # a malformed segmentation falls back to nothing but stays harmless
        else:
            x, y, w, h = value
            c0, r0 = max(int(math.floor(x)), 0), max(int(math.floor(y)), 0)
            c1, r1 = min(int(math.ceil(x + w)), width), min(int(math.ceil(y + h)), height)
            mask[r0:r1, c0:c1] = True
    return mask


def split_entries(entries: Sequence[ImageEntry], fraction: float,
                  seed: int) -> tuple[list[ImageEntry], list[ImageEntry]]:
    """(train, held-out) split by image, fixed by ``seed``; at least one image each."""
    n = len(entries)
    if n < 2:
        raise PosekitError(f"the dataset has {n} readable image(s); a held-out split needs at "
                           "least 2 (or pass --val-data)")
    n_val = min(max(1, round(n * fraction)), n - 1)
    order = np.random.default_rng([seed, 7919]).permutation(n)
    val = sorted(int(i) for i in order[:n_val])
    val_set = set(val)
    return ([e for i, e in enumerate(entries) if i not in val_set], [entries[i] for i in val])


def read_image(path: Path) -> np.ndarray:
    """(H, W, 3) uint8 RGB pixels; OSError/ValueError for unreadable files."""
    with Image.open(path) as img:
        img.load()
        return np.asarray(img.convert("RGB"))


@dataclass(frozen=True)
class Skipped:
    """An image that could not be used, and why."""

    path: str
    reason: str


class PoseDataset(Dataset):
    """Entries -> (image crop, heatmaps, PAFs, mask); index with ``(i, epoch)`` or ``i``."""

    def __init__(self, entries: Sequence[ImageEntry], skeleton: Skeleton, input_size: int, *,
                 sigma: float, paf_width: float = 1.0, stride: int = 8,
                 augment: AugmentConfig | None = None, seed: int = 0,
                 pad_value: int = 128) -> None:
        self.entries = list(entries)
        self.skeleton = skeleton
        self.input_size = int(input_size)
        self.sigma = float(sigma)
        self.paf_width = float(paf_width)
        self.stride = int(stride)
        self.augment = augment if augment is not None else AugmentConfig(enabled=False)
        self.seed = int(seed)
        self.pad_value = int(pad_value)

    def __len__(self) -> int:
        return len(self.entries)

    def __getitem__(self, key: int | tuple[int, int]) -> dict[str, Any] | Skipped:
        index, epoch = key if isinstance(key, tuple) else (key, 0)
        entry = self.entries[index]
        try:
            pixels = read_image(entry.path)
        except (OSError, ValueError, SyntaxError, Image.DecompressionBombError) as exc:
            reason = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
            return Skipped(str(entry.path), reason[:160])
        H, W = pixels.shape[:2]
        ignore = ignore_mask(entry.ignore, W, H)
        rng = np.random.default_rng([self.seed, int(epoch), int(index)])
        size = (self.input_size, self.input_size)
        sample, _ = warp_sample(Sample(pixels, entry.keypoints, ignore), self.skeleton, rng,
                                size, self.augment, fill=self.pad_value)
        return self.targets(sample, index)

    def targets(self, sample: Sample, index: int) -> dict[str, Any]:
        from posekit.targets import render_targets

        t = render_targets(sample.keypoints, self.skeleton, (self.input_size, self.input_size),
                           stride=self.stride, sigma=self.sigma, width=self.paf_width,
                           ignore=sample.ignore)
        return {
            "image": torch.from_numpy(np.ascontiguousarray(sample.image)),
            "heatmaps": torch.from_numpy(np.ascontiguousarray(t.heatmaps.transpose(2, 0, 1))),
            "pafs": torch.from_numpy(np.ascontiguousarray(t.pafs.transpose(2, 0, 1))),
            "mask": torch.from_numpy(np.ascontiguousarray(t.mask, dtype=np.float32)[None]),
            "index": index,
        }


@dataclass
class Batch:
    """Stacked samples: images (N, h, w, 3) uint8, maps (N, C, h/8, w/8), mask (N, 1, ...)."""

    images: torch.Tensor
    heatmaps: torch.Tensor
    pafs: torch.Tensor
    mask: torch.Tensor
    indices: list[int]
    skipped: list[Skipped]

    def __len__(self) -> int:
        return len(self.indices)


def collate(items: Sequence[dict[str, Any] | Skipped]) -> Batch:
    """Stack the usable samples; unreadable images are listed in ``skipped``."""
    good = [x for x in items if not isinstance(x, Skipped)]
    skipped = [x for x in items if isinstance(x, Skipped)]
    if not good:
        empty = torch.zeros(0)
        return Batch(empty, empty, empty, empty, [], skipped)
    return Batch(images=torch.stack([x["image"] for x in good]),
                 heatmaps=torch.stack([x["heatmaps"] for x in good]),
                 pafs=torch.stack([x["pafs"] for x in good]),
                 mask=torch.stack([x["mask"] for x in good]),
                 indices=[int(x["index"]) for x in good], skipped=skipped)


class EpochSampler(DistributedSampler):
    """torch's DistributedSampler that yields ``(index, epoch)`` and can resume mid-epoch.

    With one process it is a seeded shuffle; ``set_position(epoch, start)`` makes the next
    iteration skip the first ``start`` samples of this process's share of the epoch.
    """

    def __init__(self, length: int, *, num_replicas: int = 1, rank: int = 0,
                 shuffle: bool = True, seed: int = 0) -> None:
        super().__init__(range(length), num_replicas=num_replicas, rank=rank,
                         shuffle=shuffle, seed=seed, drop_last=False)
        self.start = 0

    def set_position(self, epoch: int, start: int = 0) -> None:
        self.set_epoch(epoch)
        self.start = int(start)

    def __iter__(self) -> Iterator[tuple[int, int]]:  # type: ignore[override]
        indices = list(super().__iter__())[self.start:]
        epoch = self.epoch
        return iter([(int(i), epoch) for i in indices])

    def __len__(self) -> int:
        return max(self.num_samples - self.start, 0)
