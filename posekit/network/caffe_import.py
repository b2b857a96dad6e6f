"""Network stage, import side: OpenPose's own Caffe models -> posekit checkpoints.

``import_caffe_weights(MODEL.caffemodel, OUT.pt, skeleton="body25")`` reads OpenPose's
trained net (a binary Caffe ``NetParameter``, decoded by the protobuf library with the
message subset of :mod:`posekit.network.caffe_proto`; no Caffe needed), checks it layer by
layer against posekit's description of the same network (:mod:`posekit.network.caffe_graph`:
every weighted layer present, with blobs of the right shapes; no unknown weighted layer;
the model is the one ``skeleton`` belongs to), optionally checks OpenPose's deploy
``.prototxt`` the same way, and writes a checkpoint recording the source, OpenPose's
preprocessing and CMU's license. Anything wrong raises PosekitError in one line and
writes nothing. A ``.caffemodel`` saved from Caffe's training net also holds layers
without weights (data, loss, slicing); those are ignored.
"""

from __future__ import annotations

import hashlib
import math
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import torch

from posekit.errors import PosekitError
from posekit.network.caffe_graph import CaffeLayer, caffe_layers
from posekit.network.caffe_proto import V1_TYPES, caffe_messages
from posekit.network.checkpoint import save_checkpoint
from posekit.network.config import NetworkConfig, Preprocess
from posekit.network.model import PoseNetwork, empty_network
from posekit.network.openpose_models import (
    LICENSE_NOTE,
    OPENPOSE_MODELS,
    OpenPoseModel,
    network_skeleton,
    openpose_model,
)
from posekit.skeleton import Skeleton, load_skeleton

__all__ = ["import_caffe_weights", "network_from_caffe", "read_net_parameter",
           "read_prototxt", "check_prototxt", "openpose_network"]


@dataclass(frozen=True)
class _Layer:
    """A Caffe layer as read from a file, whichever layer message it used."""

    name: str
    type: str
    bottoms: tuple[str, ...]
    tops: tuple[str, ...]
    msg: Any


def _layers(net: Any) -> list[_Layer]:
    """The layers of a NetParameter (current ``layer`` or legacy ``layers`` field)."""
    out = [_Layer(x.name, x.type, tuple(x.bottom), tuple(x.top), x) for x in net.layer]
    if not out:
        enum = type(net).DESCRIPTOR.fields_by_name["layers"].message_type.enum_types_by_name[
            "LayerType"]
        for x in net.layers:
            kind = enum.values_by_number[x.type].name if x.type in enum.values_by_number else ""
            out.append(_Layer(x.name, V1_TYPES.get(kind, kind.title()), tuple(x.bottom),
                              tuple(x.top), x))
    return out


def read_net_parameter(path: str | Path) -> Any:
    """Parse a binary ``.caffemodel``; unreadable or non-Caffe files raise PosekitError."""
    from google.protobuf.message import DecodeError

    path = Path(path)
    shown = repr(str(path))
    if not path.exists():
        raise PosekitError(f"caffemodel {shown} does not exist; check the path")
    if path.is_dir():
        raise PosekitError(f"caffemodel {shown} is a folder; pass the .caffemodel file")
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise PosekitError(f"caffemodel {shown} cannot be read ({exc.strerror})") from None
    net = caffe_messages()["NetParameter"]()
    try:
        net.ParseFromString(raw)
    except (DecodeError, RuntimeError, ValueError):
        raise PosekitError(
            f"caffemodel {shown} is not a Caffe model (protobuf decoding failed); it may be "
            "truncated - download it again with OpenPose's models/getModels script"
        ) from None
    del raw
    if not any(layer.msg.blobs for layer in _layers(net)):
        raise PosekitError(
            f"caffemodel {shown} holds no trained weights (no layer has blobs); pass the "
            ".caffemodel file, not a prototxt or another file"
        )
    return net


def read_prototxt(path: str | Path) -> list[_Layer]:
    """Parse a deploy ``.prototxt`` (protobuf text format) into its layers."""
    from google.protobuf import text_format

    path = Path(path)
    shown = repr(str(path))
    if not path.is_file():
        what = "is a folder" if path.is_dir() else "does not exist"
        raise PosekitError(f"prototxt {shown} {what}; pass OpenPose's pose_deploy*.prototxt")
    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        reason = exc.strerror if isinstance(exc, OSError) else "not UTF-8 text"
        raise PosekitError(f"prototxt {shown} cannot be read ({reason})") from None
    net = caffe_messages()["NetParameter"]()
    try:
        text_format.Parse(text, net, allow_unknown_field=True)
    except text_format.ParseError as exc:
        raise PosekitError(f"prototxt {shown} is not a Caffe net definition ({exc})") from None
    layers = _layers(net)
    if not layers:
        raise PosekitError(f"prototxt {shown} defines no layers")
    return layers


def _conv_settings(msg: Any) -> tuple[int, int, int, int]:
    p = msg.convolution_param
    kernel = p.kernel_size[0] if len(p.kernel_size) else p.kernel_h
    pad = p.pad[0] if len(p.pad) else p.pad_h
    stride = p.stride[0] if len(p.stride) else (p.stride_h or 1)
    return p.num_output, kernel, pad, stride


def _describe_conv(num_output: int, kernel: int, pad: int, stride: int) -> str:
    return f"num_output {num_output}, kernel {kernel}, pad {pad}, stride {stride}"


def _detect_prototxt(layers: list[_Layer]) -> OpenPoseModel | None:
    """The OpenPose body network a prototxt defines, by the width of its heatmap head."""
    convs = {x.name: x.msg.convolution_param.num_output for x in layers
             if x.type == "Convolution"}
    for model in OPENPOSE_MODELS.values():
        head = "Mconv7_stage1_L1" if model.layout == "body25" else "Mconv7_stage6_L2"
        if convs.get(head) == model.num_heatmaps:
            return model
    return None


def check_prototxt(path: str | Path, expected: list[CaffeLayer], model: OpenPoseModel) -> None:
    """Check a deploy prototxt against posekit's description of ``model``'s network."""
    layers = read_prototxt(path)
    shown = f"prototxt {str(path)!r}"
    found = _detect_prototxt(layers)
    if found is not None and found is not model:
        raise PosekitError(
            f"{shown} defines OpenPose's {found.name} network, not {model.name}; use "
            f"--skeleton {found.skeleton} (with its caffemodel) or {model.folder}/"
            f"{model.prototxt}"
        )
    by_name = {layer.name: layer for layer in expected}
    seen = set()
    for layer in layers:
        want = by_name.get(layer.name)
        if want is None:
            raise PosekitError(
                f"{shown}: unknown layer {layer.name!r} ({layer.type}); OpenPose's "
                f"{model.name} network has no such layer - is this {model.folder}/"
                f"{model.prototxt}?"
            )
        seen.add(layer.name)
        problem = None
        if layer.type != want.type:
            problem = f"is a {layer.type} layer, expected {want.type}"
        elif layer.bottoms != want.bottoms or layer.tops != want.tops:
            problem = (f"connects {list(layer.bottoms)} -> {list(layer.tops)}, expected "
                       f"{list(want.bottoms)} -> {list(want.tops)}")
        elif want.type == "Convolution":
            got = _conv_settings(layer.msg)
            if got != (want.num_output, want.kernel, want.pad, want.stride):
                problem = (f"has {_describe_conv(*got)}, expected "
                           f"{_describe_conv(want.num_output, want.kernel, want.pad, want.stride)}")
        elif want.type == "Pooling":
            p = layer.msg.pooling_param
            if (p.pool, p.kernel_size, p.stride or 1) != (0, want.kernel, want.stride):
                problem = f"is not a {want.kernel}x{want.kernel} max-pool with stride {want.stride}"
        elif want.type == "Concat":
            p = layer.msg.concat_param
            axis = p.axis if p.HasField("axis") else (p.concat_dim if p.HasField("concat_dim")
                                                      else 1)
            if axis != 1:
                problem = f"concatenates along axis {axis}, expected 1 (channels)"
        if problem:
            raise PosekitError(f"{shown}: layer {layer.name!r} {problem}")
    missing = [layer for layer in expected if layer.name not in seen]
    if missing:
        raise PosekitError(
            f"{shown}: missing layer {missing[0].name!r} ({missing[0].type}) of OpenPose's "
            f"{model.name} network ({len(missing)} missing in all)"
        )


def _blob_array(blob: Any, where: str) -> tuple[np.ndarray, tuple[int, ...]]:
    if blob.HasField("shape"):
        shape = tuple(int(d) for d in blob.shape.dim)
    else:
        shape = tuple(int(getattr(blob, f)) for f in ("num", "channels", "height", "width"))
    if blob.data:
        if len(blob.data) % 4:
            raise PosekitError(f"{where}: its float data is truncated")
        arr = np.frombuffer(blob.data, dtype="<f4")
    elif blob.double_data:
        if len(blob.double_data) % 8:
            raise PosekitError(f"{where}: its double data is truncated")
        arr = np.frombuffer(blob.double_data, dtype="<f8").astype(np.float32)
    else:
        raise PosekitError(f"{where}: the blob holds no weights")
    if any(d < 0 for d in shape) or arr.size != math.prod(shape):
        raise PosekitError(f"{where}: {arr.size} values for a blob of shape {shape}")
    return arr, shape


def _fit_shape(shape: tuple[int, ...], want: tuple[int, ...]) -> tuple[int, ...]:
    """Caffe's legacy 4-D blob shapes pad biases to (1, 1, 1, C): drop the leading ones."""
    while len(shape) > len(want) and shape[0] == 1:
        shape = shape[1:]
    return shape


def _detect(layers: dict[str, _Layer]) -> OpenPoseModel | None:
    """The OpenPose body model these layers come from, by their heatmap head."""
    for model in OPENPOSE_MODELS.values():
        head = "Mconv7_stage1_L1" if model.layout == "body25" else "Mconv7_stage6_L2"
        layer = layers.get(head)
        if layer is None or not layer.msg.blobs:
            continue
        blob = layer.msg.blobs[0]
        n = blob.shape.dim[0] if blob.HasField("shape") and blob.shape.dim else blob.num
        if n == model.num_heatmaps:
            return model
    return None


def openpose_network(skeleton: Skeleton | str, *, initialise: bool = True,
                     ) -> tuple[OpenPoseModel, Skeleton, PoseNetwork]:
    """OpenPose's model for ``skeleton``, the skeleton its maps follow, and a network.

    ``initialise=False`` leaves the weights uninitialised (the importer fills them all).
    """
    sk = load_skeleton(skeleton)
    model = openpose_model(sk.name)
    net_sk = network_skeleton(model, sk)
    config = NetworkConfig.body25() if model.layout == "body25" else NetworkConfig.cvpr2017()
    make = PoseNetwork if initialise else empty_network
    return model, net_sk, make(net_sk, config, Preprocess.openpose())


def network_from_caffe(src: str | Path, skeleton: Skeleton | str,
                       prototxt: str | Path | None = None) -> tuple[PoseNetwork, OpenPoseModel]:
    """The posekit network holding the weights of OpenPose's ``src`` caffemodel."""
    model, _, net = openpose_network(skeleton, initialise=False)
    expected = caffe_layers(net)
    if prototxt is not None:
        check_prototxt(prototxt, expected, model)
    shown = f"caffemodel {str(src)!r}"
    layers = {layer.name: layer for layer in _layers(read_net_parameter(src))}
    found = _detect(layers)
    if found is not None and found is not model:
        raise PosekitError(
            f"{shown} is OpenPose's {found.name} model, not {model.name}; use "
            f"--skeleton {found.skeleton}"
        )
    want = {layer.name: layer for layer in expected if layer.params}
    for name, layer in layers.items():
        if layer.msg.blobs and name not in want:
            raise PosekitError(
                f"{shown}: unknown layer {name!r} ({layer.type or 'no type'}) with weights; "
                f"OpenPose's {model.name} network has no such layer"
            )
    params = dict(net.named_parameters())
    if set(params) != {key for spec in want.values() for key in spec.params}:
        raise PosekitError(  # pragma: no cover - guards caffe_layers itself
            "internal error: the Caffe description does not cover every network parameter")
    with torch.no_grad():
        for name, spec in want.items():
            layer = layers.get(name)
            if layer is None:
                raise PosekitError(
                    f"{shown}: missing layer {name!r} ({spec.type}) of OpenPose's {model.name} "
                    f"model; is this {model.folder}/{model.caffemodel}?"
                )
            if layer.type and layer.type != spec.type:
                raise PosekitError(f"{shown}: layer {name!r} is a {layer.type} layer, "
                                   f"expected {spec.type}")
            if len(layer.msg.blobs) != len(spec.params):
                raise PosekitError(f"{shown}: layer {name!r} has {len(layer.msg.blobs)} blobs, "
                                   f"expected {len(spec.params)}")
            for i, (key, want_shape) in enumerate(zip(spec.params, spec.blob_shapes,
                                                      strict=True)):
                where = f"{shown}: layer {name!r} blob {i}"
                arr, shape = _blob_array(layer.msg.blobs[i], where)
                if _fit_shape(shape, want_shape) != want_shape:
                    raise PosekitError(f"{where} has shape {shape}, OpenPose's {model.name} "
                                       f"model needs {want_shape}")
                if not np.isfinite(arr).all():
                    raise PosekitError(f"{where} holds NaN or infinite values")
                params[key].detach().numpy()[...] = arr.reshape(want_shape)
    return net.eval(), model


def _sha256(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def import_caffe_weights(src: str | Path, dst: str | Path, *, skeleton: Skeleton | str,
                         prototxt: str | Path | None = None) -> Path:
    """Convert OpenPose's ``src`` caffemodel for ``skeleton`` to the checkpoint ``dst``.

    Nothing is written unless the whole conversion succeeds.
    """
    src, dst = Path(src), Path(dst)
    sk = load_skeleton(skeleton)
    net, model = network_from_caffe(src, sk, prototxt)
    extra = {
        "source": "openpose",
        "source_model": model.name,
        "source_file": src.name,
        "source_sha256": _sha256(src),
        "license": LICENSE_NOTE,
    }
    if prototxt is not None:
        extra["prototxt_checked"] = Path(prototxt).name
    return save_checkpoint(dst, net, sk, net.preprocess, extra=extra)
