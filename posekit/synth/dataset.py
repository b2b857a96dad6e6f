"""Synthetic data: a whole COCO-format dataset of rendered scenes (``posekit synth``).

Image ``i`` is made from its own generator, ``numpy.random.default_rng([seed, i])``, so a
dataset is reproducible and its first n images do not depend on how many are made. Writes
``DIR/images/000001.png`` ... and, last, ``DIR/annotations.json`` (atomic), whose
annotations carry each person's keypoints (P, K, 3), the box and area of its visible pixels.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from PIL import Image

from posekit._atomic import atomic_path
from posekit._version import __version__
from posekit.errors import PosekitError
from posekit.skeleton import Skeleton
from posekit.synth.render import BACKGROUNDS, Scene, synth_scene

__all__ = ["SynthSpec", "write_synth_dataset", "synth_image", "parse_people", "parse_size",
           "prepare_out", "IMAGE_FORMATS"]

IMAGE_FORMATS = ("png", "jpg")
_OWN_FILE = re.compile(r"^\d{6}\.(png|jpg)$")


@dataclass(frozen=True)
class SynthSpec:
    """What to render: ``images`` scenes of ``people`` (min, max) people at ``size`` (W, H)."""

    images: int = 100
    people: tuple[int, int] = (1, 4)
    size: tuple[int, int] = (256, 256)
    seed: int = 0
    fmt: str = "png"
    occluders: float = 0.3
    scale_range: tuple[float, float] = (0.35, 0.8)
    overlap: float = 0.3
    background: str = "varied"

    def __post_init__(self) -> None:
        if self.images < 1:
            raise PosekitError(f"--images must be at least 1, got {self.images}")
        lo, hi = self.people
        if not 0 <= lo <= hi:
            raise PosekitError(f"--people must be A:B with 0 <= A <= B, got {lo}:{hi}")
        if min(self.size) < 16 or max(self.size) > 4096:
            raise PosekitError(f"--size must be between 16 and 4096 pixels a side, got "
                               f"{self.size[0]}x{self.size[1]}")
        if not 0 <= self.overlap <= 1:
            raise PosekitError(f"--overlap must be in [0, 1], got {self.overlap}")
        if self.occluders < 0:
            raise PosekitError(f"--occluders must be >= 0, got {self.occluders}")
        if self.background not in BACKGROUNDS:
            raise PosekitError(f"--background must be one of {', '.join(BACKGROUNDS)}, got "
                               f"{self.background!r}")
        if self.fmt not in IMAGE_FORMATS:
            raise PosekitError(f"--format must be one of {', '.join(IMAGE_FORMATS)}, got "
                               f"{self.fmt!r}")


def parse_people(text: str) -> tuple[int, int]:
    """``"A:B"``, ``"A-B"`` or ``"N"`` -> (A, B).

    Ranges are written ``A:B`` or ``A-B`` in every command (``compare-parsers --people``
    takes a list of them), so either form works here too.
    """
    text = text.strip()
    sep = ":" if ":" in text else "-" if "-" in text.lstrip("-") else None
    try:
        parts = [int(p) for p in (text.split(sep) if sep else [text])]
    except ValueError:
        parts = []
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2:
        raise PosekitError(f"--people must be a count or a range, e.g. 3, 1:4 or 1-4; got "
                           f"{text!r}")
    return parts[0], parts[1]


def parse_size(text: str) -> tuple[int, int]:
    """``"WxH"`` or ``"N"`` -> (W, H)."""
    try:
        parts = [int(p) for p in text.lower().split("x")]
    except ValueError:
        parts = []
    if len(parts) == 1:
        parts = parts * 2
    if len(parts) != 2:
        raise PosekitError(f"--size must look like 256x256 or 256, got {text!r}")
    return parts[0], parts[1]


def synth_image(skeleton: Skeleton, spec: SynthSpec, index: int) -> Scene:
    """Scene ``index`` (0-based) of the dataset ``spec`` describes."""
    rng = np.random.default_rng([spec.seed, index])
    people = int(rng.integers(spec.people[0], spec.people[1] + 1))
    return synth_scene(skeleton, rng, spec.size, people, occluders=spec.occluders,
                       background=spec.background, scale_range=spec.scale_range,
                       overlap=spec.overlap)


def prepare_out(out: Path, force: bool) -> None:
    """Refuse a non-empty ``out`` unless ``force`` (then clear our own earlier files)."""
    if out.exists() and not out.is_dir():
        raise PosekitError(f"--out {str(out)!r} is a file; pass a folder")
    if out.is_dir() and any(out.iterdir()):
        if not force:
            raise PosekitError(f"--out {str(out)!r} exists and is not empty; pass --force to "
                               "write into it or choose a new folder")
        (out / "annotations.json").unlink(missing_ok=True)
        images = out / "images"
        if images.is_dir():
            for f in images.iterdir():
                if f.is_file() and _OWN_FILE.match(f.name):
                    f.unlink()


def _save_image(path: Path, pixels: np.ndarray, fmt: str) -> None:
    with atomic_path(path) as tmp:
        if fmt == "jpg":
            Image.fromarray(pixels).save(tmp, format="JPEG", quality=92)
        else:
            Image.fromarray(pixels).save(tmp, format="PNG", compress_level=1)


def write_synth_dataset(out: str | Path, skeleton: Skeleton, spec: SynthSpec, *,
                        force: bool = False,
                        progress: Callable[[int], None] | None = None) -> Path:
    """Render the dataset into ``out``; returns the annotation file (written last)."""
    from posekit.coco import write_coco_keypoints

    out = Path(out)
    prepare_out(out, force)
    image_dir = out / "images"
    image_dir.mkdir(parents=True, exist_ok=True)
    images, keypoints, boxes, areas = [], [], [], []
    W, H = spec.size
    for i in range(spec.images):
        scene = synth_image(skeleton, spec, i)
        name = f"{i + 1:06d}.{spec.fmt}"
        _save_image(image_dir / name, scene.image, spec.fmt)
        images.append({"id": i + 1, "file_name": name, "width": W, "height": H})
        kp = scene.keypoints.copy()
        kp[~(kp[:, :, 2] >= 2).any(axis=1)] = 0.0  # nobody can see them: not annotated
        keypoints.append(kp)
        boxes.append(scene.boxes)
        areas.append(scene.areas)
        if progress is not None:
            progress(i + 1)
    info = {"description": f"posekit synth: {skeleton.name}", "version": __version__,
            "skeleton": skeleton.name, "layout_hash": skeleton.layout_hash,
            "seed": spec.seed, "people": list(spec.people), "size": list(spec.size),
            "occluders": spec.occluders, "overlap": spec.overlap, "background": spec.background}
    return write_coco_keypoints(out / "annotations.json", skeleton, images, keypoints,
                                bboxes=boxes, areas=areas, info=info)
