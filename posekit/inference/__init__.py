"""Inference: images and videos in, people out (network -> maps -> parser -> people).

:class:`PoseEstimator` is the whole pipeline in one object; :func:`load_image` reads any
image robustly; :func:`render_people` draws overlays; :mod:`posekit.inference.video` reads
video frames with whichever reader is installed (imageio, PyAV or OpenCV).
"""

from posekit.inference.estimator import (
    DEMO_WEIGHTS_NOTE,
    DemoWeightsWarning,
    PoseEstimator,
    bundled_weights,
    example_image,
)
from posekit.inference.images import IMAGE_SUFFIXES, LoadedImage, load_image
from posekit.inference.render import render_people

__all__ = [
    "PoseEstimator", "DemoWeightsWarning", "DEMO_WEIGHTS_NOTE", "bundled_weights",
    "example_image", "LoadedImage", "load_image", "IMAGE_SUFFIXES", "render_people",
]
