"""Inference output: people -> OpenPose / COCO JSON and overlay images, written atomically.

Every file is first written to a temporary name in its destination folder and renamed
into place only when all files of one input are complete, so an input either has all its
outputs or none. Keypoints are (K, 3) ``[x, y, confidence]`` in original image pixels;
overlays are drawn on the working copy (at most ``MAX_SIDE`` pixels on its longer side).
"""

from __future__ import annotations

import json
import os
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from PIL import Image

from posekit._atomic import temp_beside
from posekit.inference.images import LoadedImage
from posekit.inference.render import render_people
from posekit.people import Person, people_to_coco, people_to_openpose, rescale_people
from posekit.skeleton import Skeleton

__all__ = [
    "commit_files", "json_writer", "png_writer", "people_payload", "overlay_image",
    "to_working",
]

FileWriter = Callable[[Path], None]


def people_payload(people: Sequence[Person], fmt: str, image_id: int) -> Any:
    """The JSON document for one image (``fmt`` "openpose" or "coco")."""
    if fmt == "coco":
        return people_to_coco(people, image_id)
    return people_to_openpose(people)


def json_writer(data: Any) -> FileWriter:
    def write(path: Path) -> None:
        with open(path, "w", encoding="utf-8") as fh:
            json.dump(data, fh)
            fh.write("\n")
    return write


def png_writer(image: Image.Image) -> FileWriter:
    def write(path: Path) -> None:
        image.save(path, format="PNG")
    return write


def commit_files(files: Sequence[tuple[Path, FileWriter]]) -> None:
    """Write every file to a temporary name, then rename all into place (or none)."""
    temps: list[tuple[Path, Path]] = []
    try:
        for dest, write in files:
            tmp = temp_beside(dest, suffix=".tmp")  # the umask's mode, not mkstemp's 0600
            temps.append((tmp, dest))
            write(tmp)
        placed: list[Path] = []
        try:
            for tmp, dest in temps:
                os.replace(tmp, dest)
                placed.append(dest)
        except BaseException:
            for dest in placed:
                dest.unlink(missing_ok=True)
            raise
    finally:
        for tmp, _ in temps:
            tmp.unlink(missing_ok=True)


def to_working(people: Sequence[Person], image: LoadedImage) -> list[Person]:
    """People in original coordinates -> the working copy's coordinates."""
    sx, sy = image.scale
    return rescale_people(people, 1.0 / sx, 1.0 / sy)


def overlay_image(image: LoadedImage, people: Sequence[Person],
                  skeleton: Skeleton) -> Image.Image:
    """The rendered overlay of one image (on its working copy)."""
    return render_people(image.pixels, to_working(people, image), skeleton)
