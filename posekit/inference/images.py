"""Inference input: any image a user may have, as an (h, w, 3) uint8 RGB array.

:func:`load_image` accepts a path, a PIL image or a numpy array and returns a
:class:`LoadedImage`: ``pixels`` (h, w, 3) uint8 RGB, the *working copy*, and ``size``, the
original (W, H) after EXIF rotation. Keypoints found on the working copy are mapped back to
original coordinates by the estimator (multiply by ``W / w``).

- EXIF orientation is applied (``ImageOps.exif_transpose``); grayscale, 16-bit, RGBA,
  palette, CMYK and other modes become RGB (transparency is composited over white).
- Progressive JPEGs load like any other; truncated or corrupt files, zero-byte files and
  files that are not images raise :class:`~posekit.errors.PosekitError` naming the file.
- Images above ``max_pixels`` are refused. Images whose longer side exceeds ``max_side`` are
  downscaled on load (JPEGs decode directly at reduced size), since the network sees them at
  its input height anyway.
"""

from __future__ import annotations

import warnings
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
from PIL import Image, ImageOps, UnidentifiedImageError

from posekit.errors import PosekitError

__all__ = [
    "LoadedImage", "load_image", "ImageLike", "MAX_PIXELS", "MAX_SIDE", "IMAGE_SUFFIXES",
]

ImageLike = Any  # str | Path | PIL.Image.Image | np.ndarray

# Refusal limit: PIL's own decompression-bomb limit (twice MAX_IMAGE_PIXELS, ~179 MP).
MAX_PIXELS = 2 * 89_478_485
# Longer side of the working copy; the network sees images only at ~368 pixels high.
MAX_SIDE = 2048

IMAGE_SUFFIXES = frozenset({
    ".jpg", ".jpeg", ".jpe", ".jfif", ".png", ".bmp", ".gif", ".tif", ".tiff", ".webp",
    ".ppm", ".pgm", ".pbm", ".pnm", ".tga", ".dib", ".ico", ".jp2", ".j2k", ".pcx",
})


@dataclass(frozen=True, eq=False)
class LoadedImage:
    """An image ready for the network."""

    pixels: np.ndarray  # (h, w, 3) uint8 RGB working copy
    size: tuple[int, int]  # original (W, H), after EXIF rotation
    name: str = "<image>"

    @property
    def working_size(self) -> tuple[int, int]:
        return int(self.pixels.shape[1]), int(self.pixels.shape[0])

    @property
    def scale(self) -> tuple[float, float]:
        """(sx, sy) from working-copy pixels to original pixels."""
        w, h = self.working_size
        return self.size[0] / w, self.size[1] / h


def load_image(source: ImageLike, *, max_pixels: int = MAX_PIXELS,
               max_side: int | None = MAX_SIDE, name: str | None = None) -> LoadedImage:
    """Load a path, PIL image or (H, W, 3) uint8 RGB array (see the module docstring)."""
    if isinstance(source, LoadedImage):
        return source
    if isinstance(source, np.ndarray):
        return _from_array(source, max_side, name or "<array>")
    if isinstance(source, Image.Image):
        label = name or getattr(source, "filename", "") or "<PIL image>"
        _check_pixels(source.size, max_pixels, label)
        return _finish(source, max_side, label)
    if isinstance(source, (str, Path)):
        return _from_path(Path(source), max_pixels, max_side, name)
    raise PosekitError(
        f"cannot use {type(source).__name__} as an image: pass a file path, a PIL image or an "
        "(H, W, 3) uint8 RGB numpy array"
    )


def _from_path(path: Path, max_pixels: int, max_side: int | None,
               name: str | None) -> LoadedImage:
    label = name or str(path)
    if not path.exists():
        raise PosekitError(f"{label}: no such file")
    if path.is_dir():
        raise PosekitError(f"{label}: is a folder, not an image")
    try:
        nbytes = path.stat().st_size
    except OSError as exc:
        raise PosekitError(f"{label}: cannot read it ({exc.strerror or exc})") from None
    if nbytes == 0:
        raise PosekitError(f"{label}: empty file (0 bytes), not an image")
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", Image.DecompressionBombWarning)
            im = Image.open(path)
    except UnidentifiedImageError:
        raise PosekitError(
            f"{label}: not an image (or a format Pillow cannot read)"
        ) from None
    except Image.DecompressionBombError:
        raise PosekitError(
            f"{label}: too large to load safely (more than {MAX_PIXELS / 1e6:.0f} megapixels, "
            "Pillow's limit); downscale it first"
        ) from None
    except OSError as exc:
        raise PosekitError(f"{label}: cannot read it ({exc.strerror or exc})") from None
    with im:
        _check_pixels(im.size, max_pixels, label)
        full_size = im.size
        if max_side is not None and im.format == "JPEG":
            # decode at 1/2, 1/4 or 1/8 scale when that still leaves >= max_side pixels
            bound = (min(max_side, im.size[0]), min(max_side, im.size[1]))
            im.draft("RGB", bound)
        try:
            im.load()
        except (OSError, SyntaxError, ValueError, EOFError) as exc:
            reason = "truncated or corrupt" if "truncat" in str(exc).lower() else "corrupt"
            raise PosekitError(f"{label}: {reason} image file ({exc}); re-export it") from None
        return _finish(im, max_side, label, full_size)


def _check_pixels(size: tuple[int, int], max_pixels: int, label: str) -> None:
    w, h = size
    if w < 1 or h < 1:
        raise PosekitError(f"{label}: image has no pixels ({w}x{h})")
    if w * h > max_pixels:
        raise PosekitError(
            f"{label}: {w}x{h} is {w * h / 1e6:.0f} megapixels, above the limit of "
            f"{max_pixels / 1e6:.0f}; downscale it first"
        )


def _finish(im: Image.Image, max_side: int | None, label: str,
            full_size: tuple[int, int] | None = None) -> LoadedImage:
    """EXIF rotation, mode conversion to RGB and downscaling of a loaded PIL image.

    ``full_size`` is the stored (W, H) before any reduced-size JPEG decoding.
    """
    w, h = full_size or im.size
    orientation = _orientation(im)
    try:
        rotated = ImageOps.exif_transpose(im)
    except Exception:  # noqa: BLE001 - a broken EXIF block must not make the image unusable
        rotated, orientation = None, 1
    if rotated is not None:
        im = rotated
    if orientation in (5, 6, 7, 8):  # transposing orientations swap width and height
        w, h = h, w
    rgb = _to_rgb(im, label)
    if max_side is not None and max(rgb.size) > max_side:
        factor = max_side / max(rgb.size)
        target = (max(1, round(rgb.size[0] * factor)), max(1, round(rgb.size[1] * factor)))
        rgb = rgb.resize(target, Image.Resampling.BILINEAR, reducing_gap=2.0)
    pixels = np.asarray(rgb, dtype=np.uint8)
    if pixels.ndim != 3 or pixels.shape[2] != 3:
        raise PosekitError(f"{label}: could not convert the image to RGB")
    return LoadedImage(np.ascontiguousarray(pixels), (int(w), int(h)), label)


def _orientation(im: Image.Image) -> int:
    try:
        value = int(im.getexif().get(0x0112, 1))
    except Exception:  # noqa: BLE001 - unreadable EXIF means no rotation
        return 1
    return value if 1 <= value <= 8 else 1


def _to_rgb(im: Image.Image, label: str) -> Image.Image:
    mode = im.mode
    if mode == "RGB":
        return im
    if mode in ("I;16", "I;16B", "I;16L", "I;16N", "I", "F"):
        arr = np.asarray(im, dtype=np.float64)
        lo, hi = float(np.nanmin(arr)), float(np.nanmax(arr))
        if mode.startswith("I;16") and lo >= 0 and hi > 255:
            lo, hi = 0.0, 65535.0 if hi > 4095 else 4095.0
        span = hi - lo if hi > lo else 1.0
        gray = np.clip((arr - lo) / span * 255.0 + 0.5, 0, 255).astype(np.uint8)
        return Image.fromarray(gray).convert("RGB")
    if mode == "P":
        im = im.convert("RGBA") if "transparency" in im.info else im.convert("RGB")
        mode = im.mode
    if mode in ("RGBA", "LA", "PA", "RGBa", "La"):
        rgba = im.convert("RGBA")
        white = Image.new("RGBA", rgba.size, (255, 255, 255, 255))
        return Image.alpha_composite(white, rgba).convert("RGB")
    try:
        return im.convert("RGB")
    except (ValueError, OSError) as exc:
        raise PosekitError(f"{label}: cannot convert image mode {mode} to RGB ({exc})") from None


def _from_array(arr: np.ndarray, max_side: int | None, label: str) -> LoadedImage:
    a = np.asarray(arr)
    if a.ndim == 2:
        a = np.repeat(a[:, :, None], 3, axis=2)
    if a.ndim != 3 or a.shape[2] not in (3, 4) or a.shape[0] < 1 or a.shape[1] < 1:
        raise PosekitError(
            f"{label}: expected an (H, W, 3) uint8 RGB array, got shape {tuple(a.shape)}"
        )
    if a.dtype != np.uint8:
        raise PosekitError(
            f"{label}: expected a uint8 RGB array (0..255), got dtype {a.dtype}; "
            "convert with (x * 255).astype(np.uint8) for floats in 0..1"
        )
    if a.shape[2] == 4:
        return _finish(Image.fromarray(a, "RGBA"), max_side, label)
    h, w = a.shape[:2]
    if max_side is not None and max(h, w) > max_side:
        return _finish(Image.fromarray(a, "RGB"), max_side, label)
    return LoadedImage(np.ascontiguousarray(a), (w, h), label)

