"""Maps: the network's output as numpy arrays, checked, and the maps file ``posekit parse`` reads.

Shapes: heatmaps (h, w, K+1) float32 (last channel background), PAFs (h, w, 2L) float32 in
the skeleton's channel layout (``skeleton.paf_channels``). The maps file is an ``.npz``
holding ``heatmaps``, ``pafs`` and optionally ``image_size = [width, height]``, the size of
the image the maps cover (without it the maps are at image resolution).

``image_size`` is bounded (:data:`MAX_UPSCALE` times the maps per side, at most
:data:`MAX_IMAGE_PIXELS` pixels): decoding works at image resolution, so a corrupt or
hostile size would otherwise ask for terabytes of memory.
"""

from __future__ import annotations

import zipfile
from pathlib import Path

import numpy as np

from posekit._atomic import atomic_path
from posekit.errors import PosekitError
from posekit.skeleton import Skeleton

__all__ = ["check_maps", "validate_maps", "load_maps", "save_maps", "check_map_scale",
           "check_full_upsample", "MAX_UPSCALE", "MAX_IMAGE_PIXELS", "MAX_UPSAMPLED_BYTES"]

# Largest image side per map side. A network's stride is 8 and OpenPose shrinks a photo to
# a 368-pixel-high input first, so a 6000-pixel photo gives ~130 image pixels per map pixel.
MAX_UPSCALE = 256
# Largest image the maps may cover: PIL's decompression-bomb limit, as `posekit infer` uses.
MAX_IMAGE_PIXELS = 2 * 89_478_485
# Most memory the whole maps may take once upsampled to the image (``upsample="full"``):
# coco18's 57 channels of a 4K photo take 1.9 GiB.
MAX_UPSAMPLED_BYTES = 8 << 30


def _array(name: str, value: object) -> np.ndarray:
    try:
        arr = np.asarray(value)
    except (TypeError, ValueError) as exc:
        raise PosekitError(f"{name} is not an array ({exc})") from None
    if arr.dtype.kind not in "f":
        raise PosekitError(
            f"{name} must be a float array (float32), got dtype {arr.dtype}; "
            f"convert it with .astype(numpy.float32)"
        )
    if arr.ndim != 3:
        raise PosekitError(
            f"{name} must have 3 dimensions (height, width, channels), got shape {arr.shape}"
        )
    return arr


def check_maps(heatmaps: object, pafs: object) -> tuple[np.ndarray, np.ndarray]:
    """Skeleton-independent checks: float, (h, w, C), same non-empty h x w, all finite.

    Returns both as float32.
    """
    heat, paf = _array("heatmaps", heatmaps), _array("pafs", pafs)
    if heat.shape[:2] != paf.shape[:2]:
        raise PosekitError(
            f"heatmaps are {heat.shape[0]}x{heat.shape[1]} (height x width) but pafs are "
            f"{paf.shape[0]}x{paf.shape[1]}; both must come from one network output"
        )
    if heat.shape[0] == 0 or heat.shape[1] == 0:
        raise PosekitError(f"maps are empty ({heat.shape[0]}x{heat.shape[1]} pixels)")
    for name, arr in (("heatmaps", heat), ("pafs", paf)):
        bad = arr.size - int(np.count_nonzero(np.isfinite(arr)))
        if bad:
            raise PosekitError(
                f"{name} contain {bad} NaN or infinite value{'s' if bad != 1 else ''}; "
                "check the network output (or replace them with numpy.nan_to_num)"
            )
    return heat.astype(np.float32, copy=False), paf.astype(np.float32, copy=False)


def validate_maps(heatmaps: object, pafs: object,
                  skeleton: Skeleton) -> tuple[np.ndarray, np.ndarray]:
    """:func:`check_maps` plus channel counts for ``skeleton``; float32 arrays."""
    heat, paf = _array("heatmaps", heatmaps), _array("pafs", pafs)
    K, L = skeleton.num_keypoints, skeleton.num_limbs
    for name, arr, want, what in (
        ("heatmaps", heat, K + 1, f"{K} keypoints + background"),
        ("pafs", paf, 2 * L, f"x and y for {L} limbs"),
    ):
        have = arr.shape[2]
        if have != want:
            fix = "use maps made for this skeleton, or the skeleton the maps were made for"
            if arr.shape[0] == want:
                fix = "they look channels-first: use numpy.moveaxis(maps, 0, -1)"
            raise PosekitError(f"{name} have {have} channels but skeleton {skeleton.name!r} "
                               f"needs {want} ({what}); {fix}")
    return check_maps(heat, paf)


def check_map_scale(map_shape: tuple[int, ...], image_size: tuple[int, int]) -> None:
    """Refuse an ``image_size`` (W, H) no network could have made (h, w, ...) maps for."""
    h, w = int(map_shape[0]), int(map_shape[1])
    W, H = image_size
    if W > MAX_UPSCALE * w or H > MAX_UPSCALE * h or W * H > MAX_IMAGE_PIXELS:
        raise PosekitError(
            f"image_size {W}x{H} is too large for {w}x{h} maps (at most {MAX_UPSCALE} times "
            f"the maps per side and {MAX_IMAGE_PIXELS} pixels); give the width and height "
            "of the image the maps were made from")


def check_full_upsample(heatmaps: np.ndarray, pafs: np.ndarray,
                        image_size: tuple[int, int] | None) -> None:
    """Refuse upsampling whole maps to an image so large they would not fit in memory."""
    h, w = heatmaps.shape[:2]
    W, H = image_size if image_size is not None else (w, h)
    need = W * H * (heatmaps.shape[2] + pafs.shape[2]) * 4
    if need > MAX_UPSAMPLED_BYTES:
        raise PosekitError(
            f"upsampling the whole maps to {W}x{H} would take {need / 2**30:.1f} GiB (at most "
            f"{MAX_UPSAMPLED_BYTES / 2**30:.0f}); use --upsample patch, which upsamples only "
            "around the peaks")


def load_maps(path: str | Path) -> tuple[np.ndarray, np.ndarray, tuple[int, int] | None]:
    """Read a maps file: ``(heatmaps, pafs, image_size or None)`` (module docstring)."""
    from posekit.decode.resize import check_image_size

    path = Path(path)
    if not path.is_file():
        what = "is a directory" if path.is_dir() else "does not exist"
        raise PosekitError(f"maps file {str(path)!r} {what}; give an .npz with heatmaps and pafs")
    try:
        data = np.load(path, allow_pickle=False)
        if not isinstance(data, np.lib.npyio.NpzFile):
            raise ValueError("it holds a single array, not named arrays")
        with data:
            arrays = {key: data[key] for key in data.files}
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as exc:
        raise PosekitError(f"maps file {str(path)!r} is not a readable .npz ({exc}); save "
                           "maps with numpy.savez(path, heatmaps=..., pafs=...)") from None
    missing = [k for k in ("heatmaps", "pafs") if k not in arrays]
    if missing:
        found = ", ".join(sorted(arrays)) or "none"
        raise PosekitError(f"maps file {str(path)!r} has no {' or '.join(missing)} "
                           f"(keys found: {found}); it needs 'heatmaps' and 'pafs'")
    try:
        heat, paf = check_maps(arrays["heatmaps"], arrays["pafs"])
    except PosekitError as exc:
        raise PosekitError(f"maps file {str(path)!r}: {exc}") from None
    size = None
    if "image_size" in arrays:
        raw = arrays["image_size"]
        try:
            if raw.dtype.kind not in "iuf" or raw.shape != (2,):
                raise PosekitError("")
            size = check_image_size(raw.tolist())
        except PosekitError:
            raise PosekitError(
                f"maps file {str(path)!r}: image_size must be [width, height], two positive "
                f"integers, got {raw.tolist()!r}") from None
        try:
            check_map_scale(heat.shape, size)
        except PosekitError as exc:
            raise PosekitError(f"maps file {str(path)!r}: {exc}") from None
    return heat, paf, size


def save_maps(path: str | Path, heatmaps: np.ndarray, pafs: np.ndarray,
              image_size: tuple[int, int] | None = None) -> Path:
    """Write a maps file atomically (temporary file beside it, then rename); returns the path."""
    from posekit.decode.resize import check_image_size

    heat, paf = check_maps(heatmaps, pafs)
    arrays = {"heatmaps": heat, "pafs": paf}
    if image_size is not None:
        size = check_image_size(image_size)
        check_map_scale(heat.shape, size)
        arrays["image_size"] = np.asarray(size, dtype=np.int64)
    path = Path(path)
    with atomic_path(path) as tmp, open(tmp, "wb") as fh:
        np.savez_compressed(fh, **arrays)
    return path
