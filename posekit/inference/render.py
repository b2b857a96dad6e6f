"""Overlays: people drawn over their image (the last stage of the pipeline, for eyes).

Each limb has its own colour (evenly spaced hues over the skeleton's limbs, the same in
every image); each person has its own colour too, drawn as a halo under its limbs, as the
fill of its keypoints and as a numbered label above it, so overlapping people stay
distinguishable. Keypoints are (K, 3) ``[x, y, confidence]`` in image pixels; confidence 0
means missing.
"""

from __future__ import annotations

import colorsys
from collections.abc import Sequence

import numpy as np
from PIL import Image, ImageDraw, ImageFont

from posekit.people import Person
from posekit.skeleton import Skeleton

__all__ = ["render_people", "limb_colors", "person_color"]

# distinct person colours (RGB), cycled
_PERSON_COLORS = (
    (255, 255, 255), (255, 215, 0), (0, 230, 255), (255, 64, 160), (120, 255, 80),
    (255, 140, 0), (170, 120, 255), (0, 160, 90), (255, 90, 70), (80, 140, 255),
)


def limb_colors(num_limbs: int) -> list[tuple[int, int, int]]:
    """One saturated colour per limb, hues evenly spaced."""
    out = []
    for l in range(num_limbs):
        r, g, b = colorsys.hsv_to_rgb(l / max(num_limbs, 1), 0.9, 1.0)
        out.append((round(r * 255), round(g * 255), round(b * 255)))
    return out


def person_color(index: int) -> tuple[int, int, int]:
    return _PERSON_COLORS[index % len(_PERSON_COLORS)]


def render_people(image: Image.Image | np.ndarray, people: Sequence[Person],
                  skeleton: Skeleton, *, scale: float = 1.0,
                  labels: bool = True) -> Image.Image:
    """Draw ``people`` on a copy of ``image`` (RGB).

    ``scale`` multiplies keypoint coordinates first (for drawing on a downscaled copy).
    """
    base = Image.fromarray(np.asarray(image, dtype=np.uint8)) if isinstance(
        image, np.ndarray) else image
    canvas = base.convert("RGB").copy()
    # dim the photo a little so the skeletons stand out
    canvas = Image.blend(canvas, Image.new("RGB", canvas.size, (0, 0, 0)), 0.25)
    draw = ImageDraw.Draw(canvas)
    w, h = canvas.size
    thick = max(2, round(min(w, h) / 120))
    halo = thick + max(2, thick // 2) * 2
    radius = max(2, round(thick * 0.9))
    colors = limb_colors(skeleton.num_limbs)
    font = _font(max(10, thick * 5))

    for p, person in enumerate(people):
        kp = np.asarray(person.keypoints, dtype=np.float64)
        xy = kp[:, :2] * scale
        ok = kp[:, 2] > 0
        pc = person_color(p)
        segments = [(l, a, b) for l, (a, b) in enumerate(skeleton.limb_index) if ok[a] and ok[b]]
        for _, a, b in segments:  # person halo first, so limbs of all colours sit on it
            draw.line([tuple(xy[a]), tuple(xy[b])], fill=pc, width=halo)
        for l, a, b in segments:
            draw.line([tuple(xy[a]), tuple(xy[b])], fill=colors[l], width=thick)
        for k in np.flatnonzero(ok):
            x, y = xy[k]
            draw.ellipse([x - radius, y - radius, x + radius, y + radius], fill=pc,
                         outline=(0, 0, 0))
        if labels and ok.any():
            top = int(np.argmin(np.where(ok, xy[:, 1], np.inf)))
            x, y = xy[top]
            size = max(10, thick * 5)  # keep the label inside the image
            x = min(max(x, size), w - size)
            y = min(max(y - halo - 2, size + 2), h - 2)
            draw.text((x, y), str(p + 1), fill=pc, font=font, anchor="mb",
                      stroke_width=max(1, thick // 2), stroke_fill=(0, 0, 0))
    return canvas


def _font(size: int) -> ImageFont.ImageFont | ImageFont.FreeTypeFont:
    try:
        return ImageFont.load_default(size=size)
    except (TypeError, OSError, ImportError):  # Pillow without FreeType
        return ImageFont.load_default()
