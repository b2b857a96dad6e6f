"""Inference: image -> network -> maps -> parser -> people, in one object.

:class:`PoseEstimator` runs the whole pipeline on images (paths, PIL images or (H, W, 3)
uint8 RGB arrays). For each scale s the working image (h0, w0) is resized to height
``input_height * s`` (both sides rounded to the stride, so the maps (h, w) = (H/8, W/8)
cover the image exactly), normalised per the checkpoint's :class:`Preprocess`, and run
through the network in batches (images of one batch padded on the right to a common
width). Each image's maps are cropped, resized to the grid of the largest scale and
averaged over scales, as OpenPose does, then turned into numpy (heatmaps (h, w, K+1), PAFs
(h, w, 2L)) by ``maps_to_numpy`` and parsed with ``parse_maps`` at the working-image size.
Keypoints are returned in original image coordinates.
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Sequence
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torch.nn.functional as F
from PIL import Image

from posekit.errors import PosekitError
from posekit.inference.images import MAX_PIXELS, MAX_SIDE, ImageLike, LoadedImage, load_image
from posekit.people import Person, rescale_people
from posekit.skeleton import Skeleton, load_skeleton

__all__ = [
    "PoseEstimator", "DemoWeightsWarning", "bundled_weights", "example_image",
    "DEMO_WEIGHTS_NOTE",
]

# skeleton name -> file in posekit/data
_BUNDLED = {"coco18": "coco18-demo.pt"}
_EXAMPLE = "example.png"
# an image may be at most this many times wider (or taller) than the network input height
MAX_ASPECT = 4.0

DEMO_WEIGHTS_NOTE = (
    "posekit's bundled demo weights were trained on synthetic figures (shaded body "
    "parts), not photographs; for real photos convert OpenPose's weights (`posekit "
    "weights import --from pytorch-openpose SRC.pth --out coco18.pt`) or train your own "
    "(`posekit train`), then pass --weights"
)


class DemoWeightsWarning(UserWarning):
    """The bundled demo weights are being used on an image of the user's."""


def _data_file(name: str) -> Path:
    return Path(str(resources.files("posekit") / "data" / name))


def bundled_weights(skeleton: str) -> Path | None:
    """Path of the bundled demo weights for ``skeleton`` (None if posekit has none)."""
    name = _BUNDLED.get(skeleton)
    return None if name is None else _data_file(name)


def example_image() -> Path:
    """Path of the bundled example image."""
    return _data_file(_EXAMPLE)


def _resolve_weights(sk: Skeleton, weights: str | Path | None) -> tuple[Path, bool]:
    if weights is not None:
        return Path(weights), False
    path = bundled_weights(sk.name)
    if path is None:
        raise PosekitError(
            f"posekit bundles no weights for skeleton {sk.name!r}: pass --weights W (weights="
            f"...), a checkpoint from `posekit train --skeleton {sk.name}` or "
            "`posekit weights import`"
        )
    if not path.is_file():
        raise PosekitError(
            f"the bundled demo weights {str(path)!r} are missing from this installation; "
            "reinstall posekit or pass --weights"
        )
    return path, True


class PoseEstimator:
    """Multi-person pose estimation with a trained network and a parser.

    Args:
        skeleton: skeleton name, ``.toml`` path or :class:`Skeleton`.
        weights: a posekit checkpoint; ``None`` = the bundled demo weights (coco18 only).
        parser: parser name (see ``posekit parsers``) or parser object.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        scales: network input heights as multiples of the checkpoint's ``input_height``;
            maps are averaged over scales.
        batch_size: images per forward pass (default 8 on CUDA, 1 on CPU).
        input_height: override the checkpoint's input height (pixels).
        max_pixels: refuse larger images. max_side: downscale larger images on load.
        parser_options / decode_options: passed to the parser / ``parse_maps``.
        warn_demo: warn (once per call site) when demo weights meet a user's image.
    """

    def __init__(self, skeleton: str | Path | Skeleton = "coco18",
                 weights: str | Path | None = None, parser: Any = "hungarian",
                 device: str = "auto", *, scales: Sequence[float] = (1.0,),
                 batch_size: int | None = None, input_height: int | None = None,
                 max_pixels: int = MAX_PIXELS, max_side: int | None = MAX_SIDE,
                 parser_options: dict[str, Any] | None = None,
                 decode_options: dict[str, Any] | None = None,
                 warn_demo: bool = True) -> None:
        from posekit.network import load_checkpoint, prepare_network, resolve_device
        from posekit.parsers import get_parser

        self.skeleton = load_skeleton(skeleton)
        self.weights, self.uses_demo_weights = _resolve_weights(self.skeleton, weights)
        self.device = resolve_device(device)
        self.scales = _check_scales(scales)
        self.parser = get_parser(parser, **(parser_options or {}))
        self.parser_name = parser if isinstance(parser, str) else type(parser).__name__
        net, meta = load_checkpoint(self.weights, skeleton=self.skeleton, map_location="cpu")
        self.checkpoint = meta
        self.net = prepare_network(net.eval(), self.device)
        self.preprocess = meta.preprocess
        self.stride = int(getattr(net, "stride", self.preprocess.stride))
        self.input_height = int(input_height or self.preprocess.input_height)
        if self.input_height < self.stride:
            raise PosekitError(f"input height {self.input_height} is below the network "
                               f"stride {self.stride}")
        if batch_size is not None and batch_size < 1:
            raise PosekitError(f"batch size must be at least 1, got {batch_size}")
        self.batch_size = batch_size or (8 if self.device.type == "cuda" else 1)
        self.max_pixels = max_pixels
        self.max_side = max_side
        self.decode_options = dict(decode_options or {})
        self.warn_demo = warn_demo

    def __repr__(self) -> str:
        return (f"PoseEstimator(skeleton={self.skeleton.name!r}, weights={str(self.weights)!r}, "
                f"parser={self.parser_name!r}, device={str(self.device)!r}, "
                f"scales={list(self.scales)})")

    # ------------------------------------------------------------------ public API
    def __call__(self, image: ImageLike) -> list[Person]:
        """People in one image, keypoints in its original pixel coordinates."""
        return self.predict([image])[0]

    def load(self, image: ImageLike, name: str | None = None) -> LoadedImage:
        """Load an image the way this estimator would (see :func:`load_image`)."""
        return load_image(image, max_pixels=self.max_pixels, max_side=self.max_side, name=name)

    def predict(self, images: Iterable[ImageLike]) -> list[list[Person]]:
        """People for each image, in order; batches of ``batch_size`` share a forward pass."""
        loaded = [self.load(im) for im in images]
        if self.warn_demo and self.uses_demo_weights and any(
                not _is_example(im) for im in loaded):
            warnings.warn(DEMO_WEIGHTS_NOTE, DemoWeightsWarning, stacklevel=3)
        out: list[list[Person]] = []
        for start in range(0, len(loaded), self.batch_size):
            batch = loaded[start:start + self.batch_size]
            for im, (heat, paf) in zip(batch, self.maps(batch), strict=True):
                out.append(self.people_from_maps(heat, paf, im))
        return out

    def maps(self, images: Sequence[LoadedImage]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Scale-averaged (heatmaps (h, w, K+1), PAFs (h, w, 2L)) per image.

        The maps cover each working image exactly: map pixel (i, j) is centred at working
        pixel ((j + 0.5) w0 / w - 0.5, (i + 0.5) h0 / h - 0.5).
        """
        from posekit.network import maps_to_numpy

        if not images:
            return []
        with torch.inference_mode():
            per_scale = [self._forward(images, s) for s in self.scales]
            out = []
            for i in range(len(images)):
                pafs = [ps[i][0] for ps in per_scale]
                heats = [ps[i][1] for ps in per_scale]
                size = max((h.shape[-2:] for h in heats), key=lambda hw: hw[0] * hw[1])
                out.append(maps_to_numpy(_average(pafs, size), _average(heats, size)))
        return out

    def people_from_maps(self, heatmaps: np.ndarray, pafs: np.ndarray,
                         image: LoadedImage) -> list[Person]:
        """Parse one image's maps and return people in original image coordinates."""
        from posekit.decode import parse_maps

        people = parse_maps(heatmaps, pafs, skeleton=self.skeleton, parser=self.parser,
                            image_size=image.working_size, **self.decode_options)
        return rescale_people(people, *image.scale)

    # ------------------------------------------------------------------ internals
    def input_size(self, working_size: tuple[int, int], scale: float) -> tuple[int, int]:
        """Network input (W, H) for a working image at ``scale``: multiples of the stride."""
        s = self.stride
        w0, h0 = working_size
        height = self.input_height * scale
        width = height * w0 / h0
        limit = MAX_ASPECT * height  # very wide or tall images are fitted into this box
        if width > limit:
            height, width = height * limit / width, limit
        elif width * MAX_ASPECT < height:
            height = width * MAX_ASPECT
        return max(s, round(width / s) * s), max(s, round(height / s) * s)

    def _forward(self, images: Sequence[LoadedImage],
                 scale: float) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Network output for each image at one scale, cropped to its own size."""
        from posekit.network import autocast

        sizes = [self.input_size(im.working_size, scale) for im in images]
        width = max(w for w, _ in sizes)
        height = max(h for _, h in sizes)
        batch = np.full((len(images), height, width, 3), self.preprocess.pad_value, np.uint8)
        for b, (im, (w, h)) in enumerate(zip(images, sizes, strict=True)):
            batch[b, :h, :w] = _resize(im.pixels, (w, h))
        x = torch.from_numpy(batch)
        if self.device.type == "cuda":
            x = x.pin_memory().to(self.device, non_blocking=True)
        with autocast(self.device):
            pafs, heats = self.net(self.preprocess.normalize(x))
        s = self.stride
        return [(pafs[b, :, : h // s, : w // s], heats[b, :, : h // s, : w // s])
                for b, (w, h) in enumerate(sizes)]


def _resize(pixels: np.ndarray, size: tuple[int, int]) -> np.ndarray:
    h, w = pixels.shape[:2]
    if (w, h) == size:
        return pixels
    return np.asarray(Image.fromarray(pixels).resize(size, Image.Resampling.BICUBIC))


def _average(maps: list[torch.Tensor], size: tuple[int, int]) -> torch.Tensor:
    """Mean of (C, h_s, w_s) maps after bilinear resizing each to ``size`` (h, w)."""
    resized = [
        m.float() if tuple(m.shape[-2:]) == tuple(size)
        else F.interpolate(m.float()[None], size=tuple(size), mode="bilinear",
                           align_corners=False)[0]
        for m in maps
    ]
    return resized[0] if len(resized) == 1 else torch.stack(resized).mean(0)


def _check_scales(scales: Sequence[float]) -> tuple[float, ...]:
    try:
        out = tuple(float(s) for s in scales)
    except (TypeError, ValueError):
        raise PosekitError(f"scales must be numbers, got {scales!r}") from None
    if not out or not all(math.isfinite(s) and 0.1 <= s <= 4.0 for s in out):
        raise PosekitError(
            f"scales must be one or more numbers between 0.1 and 4, got {list(scales)}"
        )
    return out


def _is_example(image: LoadedImage) -> bool:
    try:
        return Path(image.name).resolve() == example_image().resolve()
    except (OSError, ValueError):
        return False
