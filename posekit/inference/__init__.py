"""Inference: images and videos in, people out (network -> maps -> parser -> people).

:class:`PoseEstimator` is the whole pipeline in one object; :func:`load_image` reads any
image robustly; :func:`render_people` draws overlays; :mod:`posekit.inference.video` reads
video frames (PyAV, the ``video`` extra; OpenCV or imageio also work).

Names are imported lazily, so that the decode workers of
:mod:`posekit.inference.pipeline`, which import :mod:`posekit.inference.decode_worker`,
start without importing torch.
"""

from __future__ import annotations

import importlib
from typing import TYPE_CHECKING, Any

__all__ = [
    "PoseEstimator", "DemoWeightsWarning", "DEMO_WEIGHTS_NOTE", "bundled_weights",
    "example_image", "LoadedImage", "load_image", "IMAGE_SUFFIXES", "render_people",
]

_LAZY = {
    "PoseEstimator": "posekit.inference.estimator",
    "DemoWeightsWarning": "posekit.inference.estimator",
    "DEMO_WEIGHTS_NOTE": "posekit.inference.estimator",
    "bundled_weights": "posekit.inference.estimator",
    "example_image": "posekit.inference.estimator",
    "LoadedImage": "posekit.inference.images",
    "load_image": "posekit.inference.images",
    "IMAGE_SUFFIXES": "posekit.inference.images",
    "render_people": "posekit.inference.render",
}

if TYPE_CHECKING:  # pragma: no cover
    from posekit.inference.estimator import (
        DEMO_WEIGHTS_NOTE,
        DemoWeightsWarning,
        PoseEstimator,
        bundled_weights,
        example_image,
    )
    from posekit.inference.images import IMAGE_SUFFIXES, LoadedImage, load_image
    from posekit.inference.render import render_people


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'posekit.inference' has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(__all__))
