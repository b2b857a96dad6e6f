"""Test fixtures: OpenPose-architecture Caffe files with random weights, written at test time.

OpenPose's own prototxt and caffemodel files are under CMU's license and stay out of the
repository; these stand-ins have the same layers, names and blob shapes (from posekit's
description of each architecture) and random weights, serialised with protobuf exactly as
Caffe does (current ``layer`` messages, blob ``shape``, packed float ``data``).
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

import numpy as np

from posekit.network.caffe_graph import caffe_layers, write_prototxt
from posekit.network.caffe_import import openpose_network
from posekit.network.caffe_proto import caffe_messages

Edit = Callable[[object], None]


def random_blobs(skeleton: str, seed: int = 0) -> dict[str, list[np.ndarray]]:
    """Random weights for every weighted layer of OpenPose's net for ``skeleton``.

    He-scaled convolutions (so activations stay O(1) through ~100 layers), small biases,
    PReLU slopes in [0, 0.5).
    """
    rng = np.random.default_rng(seed)
    _, _, net = openpose_network(skeleton)
    out: dict[str, list[np.ndarray]] = {}
    for layer in caffe_layers(net):
        if layer.type == "Convolution":
            w_shape, b_shape = layer.blob_shapes
            fan_in = int(np.prod(w_shape[1:]))
            w = rng.standard_normal(w_shape, dtype=np.float32) * np.float32((2 / fan_in) ** 0.5)
            b = rng.standard_normal(b_shape, dtype=np.float32) * np.float32(0.05)
            out[layer.name] = [w, b]
        elif layer.type == "PReLU":
            out[layer.name] = [rng.random(layer.blob_shapes[0], dtype=np.float32) * 0.5]
    return out


def net_parameter(skeleton: str, blobs: dict[str, list[np.ndarray]], *,
                  legacy_shapes: bool = False, extra_layers: bool = True):
    """A NetParameter message holding ``blobs``, as a trained Caffe net would store it.

    ``extra_layers`` adds weight-less training layers (data, loss), which real
    caffemodels carry; ``legacy_shapes`` stores blob shapes in the old num/channels/
    height/width fields (biases as (1, 1, 1, C)).
    """
    msgs = caffe_messages()
    _, _, net = openpose_network(skeleton)
    param = msgs["NetParameter"](name=f"random {skeleton}")
    if extra_layers:
        param.layer.add(name="data", type="CPMData", top=["data", "label"])
    for layer in caffe_layers(net):
        msg = param.layer.add(name=layer.name, type=layer.type, bottom=layer.bottoms,
                              top=layer.tops)
        for arr in blobs.get(layer.name, []):
            blob = msg.blobs.add()
            if legacy_shapes:
                dims = (1,) * (4 - arr.ndim) + arr.shape
                blob.num, blob.channels, blob.height, blob.width = dims
            else:
                blob.shape.dim.extend(arr.shape)
            blob.data = np.ascontiguousarray(arr, dtype="<f4").tobytes()
    if extra_layers:
        param.layer.add(name="loss_stage1_L1", type="EuclideanLoss", bottom=["a", "b"])
    return param


def write_caffemodel(path: Path, skeleton: str, blobs: dict[str, list[np.ndarray]],
                     edit: Edit | None = None, **options) -> Path:
    """Serialise the net for ``skeleton`` with ``blobs`` to ``path`` (``edit`` may alter it)."""
    param = net_parameter(skeleton, blobs, **options)
    if edit is not None:
        edit(param)
    path.write_bytes(param.SerializeToString())
    return path


def prototxt_text(skeleton: str, input_size: tuple[int, int] = (16, 16)) -> str:
    """A deploy prototxt of OpenPose's net for ``skeleton``."""
    model, _, net = openpose_network(skeleton)
    return write_prototxt(caffe_layers(net), f"OpenPose - {model.name}", input_size)
