"""Training data: random affine augmentation of an image, its people and its ignore mask.

One 2x3 matrix ``M`` maps image pixel coordinates (pixel centres at integers) to the
network input crop of size (w, h): ``[x', y'] = M[:, :2] @ [x, y] + M[:, 2]``. It combines
a fit of the whole image into the crop, a random zoom (scale), rotation, shift (crop) and
a horizontal flip. The same matrix warps the image (H, W, 3) uint8, the keypoints
(P, K, 3) ``[x, y, v]`` and the ignore mask (H, W); a flip also renames the keypoints
through the skeleton's flip pairs so that a left wrist stays a left wrist. Colour jitter
changes the image only. numpy and PIL only.
"""

from __future__ import annotations

import math
from dataclasses import asdict, dataclass
from typing import Any

import numpy as np
from PIL import Image

from posekit.errors import PosekitError
from posekit.skeleton import Skeleton

__all__ = ["AugmentConfig", "Sample", "sample_matrix", "fit_matrix", "warp_sample",
           "warp_image", "warp_mask", "warp_keypoints", "jitter_colours"]


@dataclass(frozen=True)
class AugmentConfig:
    """Ranges of the random augmentation (``enabled=False``: only fit into the crop).

    Args:
        scale: zoom factor range relative to fitting the whole image in the crop.
        rotation: largest rotation in degrees (uniform in ``[-rotation, rotation]``).
        shift: largest shift of the crop centre, as a fraction of the crop size.
        flip: probability of a horizontal flip.
        colour: largest relative change of brightness/contrast/per-channel gain.
    """

    scale: tuple[float, float] = (0.75, 1.25)
    rotation: float = 30.0
    shift: float = 0.15
    flip: float = 0.5
    colour: float = 0.2
    enabled: bool = True

    def __post_init__(self) -> None:
        lo, hi = (float(v) for v in self.scale)
        if not 0 < lo <= hi:
            raise PosekitError(f"augmentation scale range must satisfy 0 < low <= high, "
                               f"got {self.scale}")
        object.__setattr__(self, "scale", (lo, hi))
        for name in ("flip",):
            if not 0 <= getattr(self, name) <= 1:
                raise PosekitError(f"augmentation {name} must be a probability in [0, 1]")
        for name in ("rotation", "shift", "colour"):
            if getattr(self, name) < 0:
                raise PosekitError(f"augmentation {name} must be >= 0")

    def to_dict(self) -> dict[str, Any]:
        data = asdict(self)
        data["scale"] = list(self.scale)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> AugmentConfig:
        data = dict(data)
        if "scale" in data:
            data["scale"] = tuple(data["scale"])
        return cls(**data)


@dataclass
class Sample:
    """An image with its people and ignore mask, in one coordinate frame."""

    image: np.ndarray  # (H, W, 3) uint8 RGB
    keypoints: np.ndarray  # (P, K, 3) [x, y, v]
    ignore: np.ndarray | None = None  # (H, W) bool: regions not to train on


def fit_matrix(image_size: tuple[int, int], out_size: tuple[int, int]) -> np.ndarray:
    """(2, 3) matrix scaling the whole image into the crop, top-left aligned (no randomness).

    The same letterboxing the validation and inference use: the image keeps its aspect
    ratio and the rest of the crop is padding on the right or bottom.
    """
    W, H = image_size
    w, h = out_size
    s = min(w / W, h / H)
    # pixel centres: the image's extent [-0.5, W - 0.5] maps to [-0.5, sW - 0.5]
    return np.array([[s, 0.0, 0.5 * s - 0.5], [0.0, s, 0.5 * s - 0.5]])


def sample_matrix(rng: np.random.Generator, image_size: tuple[int, int],
                  out_size: tuple[int, int], config: AugmentConfig) -> tuple[np.ndarray, bool]:
    """A random (2, 3) matrix image -> crop, and whether it flips horizontally."""
    if not config.enabled:
        return fit_matrix(image_size, out_size), False
    W, H = image_size
    w, h = out_size
    base = min(w / W, h / H)
    zoom = base * rng.uniform(*config.scale)
    theta = math.radians(rng.uniform(-config.rotation, config.rotation))
    flip = bool(rng.random() < config.flip)
    c, s = math.cos(theta) * zoom, math.sin(theta) * zoom
    A = np.array([[c, -s], [s, c]])
    if flip:
        A = np.array([[-1.0, 0.0], [0.0, 1.0]]) @ A
    src_centre = np.array([(W - 1) / 2, (H - 1) / 2])
    dst_centre = np.array([(w - 1) / 2, (h - 1) / 2])
    dst_centre = dst_centre + rng.uniform(-config.shift, config.shift, size=2) * np.array([w, h])
    t = dst_centre - A @ src_centre
    return np.concatenate([A, t[:, None]], axis=1), flip


def warp_keypoints(keypoints: np.ndarray, matrix: np.ndarray, flip: bool,
                   skeleton: Skeleton) -> np.ndarray:
    """(P, K, 3) keypoints through ``matrix``; a flip renames them by the flip pairs.

    Unlabelled keypoints (v = 0) stay at (0, 0, 0). Keypoints moved outside the crop stay
    labelled: their Gaussians and limbs may still reach into it.
    """
    kp = np.array(keypoints, dtype=np.float64, copy=True)
    if kp.size == 0:
        return kp.reshape(0, skeleton.num_keypoints, 3)
    xy = kp[..., :2] @ matrix[:, :2].T + matrix[:, 2]
    labelled = kp[..., 2:3] > 0
    kp[..., :2] = np.where(labelled, xy, 0.0)
    if flip:
        kp = kp[:, skeleton.flip_permutation]
    return kp


def _pil_inverse(matrix: np.ndarray) -> tuple[float, ...]:
    """PIL's AFFINE data (output -> input) for ``matrix`` in the pixel-centre convention.

    PIL samples output pixel (i, j) at continuous point (j + 0.5, i + 0.5) and reads the
    input at continuous coordinates whose pixel centres are at +0.5, hence the shifts.
    """
    A = matrix[:, :2]
    t = matrix[:, 2]
    Ai = np.linalg.inv(A)
    # u_in - 0.5 = Ai (u_out - 0.5 - t)  =>  u_in = Ai u_out + (0.5 - Ai (0.5 + t))
    offset = 0.5 - Ai @ (np.array([0.5, 0.5]) + t)
    return (Ai[0, 0], Ai[0, 1], offset[0], Ai[1, 0], Ai[1, 1], offset[1])


def warp_image(image: np.ndarray, matrix: np.ndarray, out_size: tuple[int, int],
               fill: int = 128) -> np.ndarray:
    """(h, w, 3) uint8 crop of ``image`` through ``matrix`` (bilinear, ``fill`` outside)."""
    img = Image.fromarray(np.ascontiguousarray(image))
    out = img.transform(tuple(int(v) for v in out_size), Image.Transform.AFFINE,
                        data=_pil_inverse(matrix), resample=Image.Resampling.BILINEAR,
                        fillcolor=(fill, fill, fill))
    return np.array(out)


def warp_mask(mask: np.ndarray, matrix: np.ndarray, out_size: tuple[int, int]) -> np.ndarray:
    """(h, w) bool crop of a bool mask through ``matrix`` (False outside the image)."""
    img = Image.fromarray(np.asarray(mask, dtype=np.uint8) * 255)
    out = img.transform(tuple(int(v) for v in out_size), Image.Transform.AFFINE,
                        data=_pil_inverse(matrix), resample=Image.Resampling.BILINEAR,
                        fillcolor=0)
    return np.asarray(out) >= 128


def jitter_colours(image: np.ndarray, rng: np.random.Generator, strength: float) -> np.ndarray:
    """Random brightness, contrast and per-channel gain, each within ``1 ± strength``."""
    if strength <= 0:
        return image
    x = image.astype(np.float32)
    mean = x.mean()
    contrast = rng.uniform(1 - strength, 1 + strength)
    gain = rng.uniform(1 - strength, 1 + strength) * rng.uniform(
        1 - strength / 2, 1 + strength / 2, size=3)
    x = ((x - mean) * contrast + mean) * gain.astype(np.float32)
    return np.clip(x, 0, 255).astype(np.uint8)


def warp_sample(sample: Sample, skeleton: Skeleton, rng: np.random.Generator,
                out_size: tuple[int, int], config: AugmentConfig,
                fill: int = 128) -> tuple[Sample, np.ndarray]:
    """The sample warped into a (w, h) crop, and the (2, 3) matrix that did it."""
    H, W = sample.image.shape[:2]
    matrix, flip = sample_matrix(rng, (W, H), out_size, config)
    image = warp_image(sample.image, matrix, out_size, fill)
    if config.enabled:
        image = jitter_colours(image, rng, config.colour)
    keypoints = warp_keypoints(sample.keypoints, matrix, flip, skeleton)
    ignore = None if sample.ignore is None else warp_mask(sample.ignore, matrix, out_size)
    return Sample(image=image, keypoints=keypoints, ignore=ignore), matrix
