"""Inference: image -> network -> maps -> parser -> people, in one object.

:class:`PoseEstimator` runs the whole pipeline on images (paths, PIL images or (H, W, 3)
uint8 RGB arrays). For each scale s the working image (h0, w0) is resized to height
``input_height * s`` (both sides rounded to the stride, so the maps (h, w) = (H/8, W/8)
cover the image exactly), normalised per the checkpoint's :class:`Preprocess`, and run
through the network in batches. Only images of the same input size share a forward pass:
padding a smaller image to a larger one's size would let the padding reach its maps
through the network's receptive field, so results would depend on the batch size and on
the neighbours in a batch. Each image's maps are resized to the grid of the largest scale
and averaged over scales, as OpenPose does, then turned into numpy (heatmaps (h, w, K+1),
PAFs (h, w, 2L)) by ``maps_to_numpy`` and parsed with ``parse_maps`` at the working-image
size. Keypoints are returned in original image coordinates.

:meth:`PoseEstimator.stream` runs loading, the network and decoding concurrently
(:mod:`posekit.inference.pipeline`).
"""

from __future__ import annotations

import math
import warnings
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
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


@dataclass(frozen=True, eq=False)
class NetInput:
    """An image resized for the network: one (H_s, W_s, 3) uint8 array per scale.

    Made by :meth:`PoseEstimator.prepare` (in loader threads, off the network's thread).
    """

    image: LoadedImage
    pixels: tuple[np.ndarray, ...]

    @property
    def key(self) -> tuple[tuple[int, ...], ...]:
        """Inputs with equal keys can share a forward pass."""
        return tuple(p.shape for p in self.pixels)


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


def _parser_options(parser: Any, options: dict[str, Any] | None,
                    decode_options: dict[str, Any]) -> dict[str, Any]:
    """The parser factory's options: the decode preset's post-rules (fragment stage, people
    filters) for a parser given by name, unless the caller chose rules itself."""
    from posekit.decode import decode_preset, with_preset_rules

    rules = decode_preset(decode_options.get("decode") or "posekit").rules
    return with_preset_rules(parser, dict(options or {}), rules)


class PoseEstimator:
    """Multi-person pose estimation with a trained network and a parser.

    Args:
        skeleton: skeleton name, ``.toml`` path or :class:`Skeleton`.
        weights: a posekit checkpoint; ``None`` = the bundled demo weights (coco18 only).
        parser: parser name (see ``posekit parsers``) or parser object.
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``.
        scales: network input heights as multiples of the checkpoint's ``input_height``;
            maps are averaged over scales.
        batch_size: images per forward pass (default 8 on CUDA, 1 on CPU); only images of
            one input size share a pass, so results do not depend on it.
        input_height: override the checkpoint's input height (pixels).
        max_pixels: refuse larger images. max_side: downscale larger images on load.
        parser_options / decode_options: passed to the parser / ``parse_maps``.
        warn_demo: warn (once per call site) when demo weights meet a user's image.
        workers: decode + parse processes for :meth:`stream` (0: in the thread that ran
            the network; default: none on a CPU, one less than the cores, at most 4, on
            CUDA).
        streams: concurrent network passes for :meth:`stream` (default: on a CPU one per
            torch thread, at most 4; one on CUDA or with ``compile``); see
            :class:`~posekit.inference.pipeline.Pipeline`.
        compile: run the network through ``torch.compile`` (worth it on long CUDA runs).
    """

    def __init__(self, skeleton: str | Path | Skeleton = "coco18",
                 weights: str | Path | None = None, parser: Any = "hungarian",
                 device: str = "auto", *, scales: Sequence[float] = (1.0,),
                 batch_size: int | None = None, input_height: int | None = None,
                 max_pixels: int = MAX_PIXELS, max_side: int | None = MAX_SIDE,
                 parser_options: dict[str, Any] | None = None,
                 decode_options: dict[str, Any] | None = None,
                 warn_demo: bool = True, workers: int | None = None,
                 streams: int | None = None, compile: bool = False) -> None:
        from posekit.network import load_checkpoint, prepare_network, resolve_device
        from posekit.parsers import get_parser

        self.skeleton = load_skeleton(skeleton)
        self.weights, self.uses_demo_weights = _resolve_weights(self.skeleton, weights)
        self.device = resolve_device(device)
        self.scales = _check_scales(scales)
        self.decode_options = dict(decode_options or {})
        self.parser = get_parser(parser, **_parser_options(parser, parser_options,
                                                            self.decode_options))
        self.parser_name = parser if isinstance(parser, str) else type(parser).__name__
        net, meta = load_checkpoint(self.weights, skeleton=self.skeleton, map_location="cpu")
        # decode with the limbs the network predicts (OpenPose's MPI model: tree limbs only)
        self.skeleton = meta.skeleton
        self.checkpoint = meta
        self.channels_last = self.device.type == "cuda"
        self.net = prepare_network(net.eval(), self.device, channels_last=self.channels_last)
        self.compiled = bool(compile)
        if compile:
            self.net = torch.compile(self.net, dynamic=False)
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
        self.warn_demo = warn_demo
        if workers is not None and workers < 0:
            raise PosekitError(f"workers must be 0 or more, got {workers}")
        self.workers = workers
        if streams is not None and streams < 1:
            raise PosekitError(f"streams must be 1 or more, got {streams}")
        self.streams = streams

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

    def stream(self, images: Iterable[ImageLike], *, workers: int | None = None,
               streams: int | None = None
               ) -> Iterator[tuple[int, list[Person] | PosekitError]]:
        """``(index, people)`` per image, in input order, with loading (threads), the
        network (batched; ``streams`` passes at once on a CPU) and decode + parse
        (``workers`` processes, or the thread that ran the network; see
        :class:`~posekit.inference.pipeline.Pipeline`) running at once.

        ``images`` may be any iterable (a generator of video frames, say); it is read a
        few batches ahead. An image that cannot be loaded or decoded gives
        ``(index, PosekitError)`` instead of stopping the stream. Results equal
        :meth:`predict`'s, whatever the batch size and the number of workers (on CUDA
        peaks are found on the GPU: see :mod:`posekit.inference.gpu_peaks`). Scripts
        that use worker processes need the ``if __name__ == "__main__":`` guard.
        """
        from posekit.inference.pipeline import Pipeline

        with Pipeline(self, workers=workers, streams=streams) as pipe:
            for item in pipe.run(enumerate(images)):
                yield item.key, (item.error if item.error is not None else item.people)

    def prepare(self, image: LoadedImage) -> NetInput:
        """Resize an image for every scale (the part of preprocessing done per image)."""
        return NetInput(image, tuple(_resize(image.pixels, self.input_size(
            image.working_size, s)) for s in self.scales))

    def maps(self, images: Sequence[LoadedImage | NetInput]) -> list[tuple[np.ndarray, np.ndarray]]:
        """Scale-averaged (heatmaps (h, w, K+1), PAFs (h, w, 2L)) per image.

        The maps cover each working image exactly: map pixel (i, j) is centred at working
        pixel ((j + 0.5) w0 / w - 0.5, (i + 0.5) h0 / h - 0.5).
        """
        from posekit.network import maps_to_numpy

        return [maps_to_numpy(paf, heat) for paf, heat in self.device_maps(images)]

    def device_maps(self, images: Sequence[LoadedImage | NetInput]
                    ) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """:meth:`maps` as float32 tensors (PAFs (2L, h, w), heatmaps (K+1, h, w)) left on
        the estimator's device (for peak finding there)."""
        if not images:
            return []
        inputs = [im if isinstance(im, NetInput) else self.prepare(im) for im in images]
        with torch.inference_mode():
            per_scale = [self._forward(inputs, i) for i in range(len(self.scales))]
            out = []
            for i in range(len(inputs)):
                pafs = [ps[i][0] for ps in per_scale]
                heats = [ps[i][1] for ps in per_scale]
                size = max((h.shape[-2:] for h in heats), key=lambda hw: hw[0] * hw[1])
                out.append((_average(pafs, size), _average(heats, size)))
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

    def _forward(self, inputs: Sequence[NetInput],
                 scale_index: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
        """Network output (PAFs, heatmaps) for each input at one scale.

        Inputs are grouped by size and each group is one forward pass (at most
        ``batch_size`` images): nothing is padded, so an image's maps never depend on the
        other images of a batch.
        """
        groups: dict[tuple[int, ...], list[int]] = {}
        for i, item in enumerate(inputs):
            groups.setdefault(item.pixels[scale_index].shape, []).append(i)
        out: list[Any] = [None] * len(inputs)
        for members in groups.values():
            for start in range(0, len(members), self.batch_size):
                part = members[start:start + self.batch_size]
                pafs, heats = self._run_network(
                    np.stack([inputs[i].pixels[scale_index] for i in part]))
                for b, i in enumerate(part):
                    out[i] = (pafs[b], heats[b])
        return out

    def _run_network(self, batch: np.ndarray) -> tuple[torch.Tensor, torch.Tensor]:
        """(N, H, W, 3) uint8 -> the network's (PAFs, heatmaps), on the device."""
        from posekit.network import autocast

        x = torch.from_numpy(batch)
        if self.device.type == "cuda":
            x = x.pin_memory().to(self.device, non_blocking=True)
        x = self.preprocess.normalize(x)
        if self.channels_last:
            x = x.contiguous(memory_format=torch.channels_last)
        with autocast(self.device):
            return self.net(x)


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
