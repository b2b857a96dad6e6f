"""Network stage: import OpenPose's weights (its Caffe models, or pytorch-openpose's file).

``source_format="openpose"`` reads OpenPose's own ``.caffemodel`` files (BODY_25, COCO,
MPI; see :mod:`posekit.network.caffe_import`). ``"pytorch-openpose"`` reads that project's
conversion of the COCO model, described below.

pytorch-openpose's ``body_pose_model.pth`` is a state dict of the CVPR 2017 two-branch
network keyed by OpenPose's layer names, ``conv1_1.weight`` ... ``Mconv7_stage6_L2.bias``;
the same weights taken from its model object carry the module prefix
(``model0.conv1_1.weight``, ``model1_1.conv5_1_CPM_L1.weight``, ``model6_2.Mconv7_stage6_L2
.bias``), possibly behind ``module.``. Both are accepted. The result is a posekit
checkpoint for the skeleton (``coco18``: PAFs (N, 38, h, w), heatmaps (N, 19, h, w) in
OpenPose's channel order) with layout cvpr2017 and OpenPose's preprocessing (BGR,
x/256 - 0.5, padded with 128 to stride 8, 368 pixels high).

OpenPose's trained weights are under CMU's non-commercial license.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import torch

from posekit.errors import PosekitError
from posekit.network.checkpoint import read_checkpoint_file, save_checkpoint, state_dict_mismatch
from posekit.network.config import NetworkConfig, Preprocess
from posekit.network.model import PoseNetwork, build_network
from posekit.network.openpose_models import LICENSE_NOTE
from posekit.skeleton import Skeleton, load_skeleton

__all__ = ["import_openpose_weights", "network_from_openpose_state", "openpose_module_prefix",
           "SOURCES"]

SOURCES = ("pytorch-openpose", "openpose")

_STAGE1 = re.compile(r"^conv5_\d+_CPM_L(?P<branch>[12])$")
_LATER = re.compile(r"^Mconv\d+_stage(?P<stage>\d+)_L(?P<branch>[12])$")


def openpose_module_prefix(layer: str) -> str:
    """pytorch-openpose's module holding ``layer``: ``model0``, ``model1_2``, ``model4_1``..."""
    m = _STAGE1.match(layer)
    if m:
        return f"model1_{m['branch']}"
    m = _LATER.match(layer)
    if m:
        return f"model{m['stage']}_{m['branch']}"
    return "model0"


def _openpose_name(posekit_key: str) -> str:
    """posekit key ``stages.3.paf.Mconv1_stage4_L1.weight`` -> ``Mconv1_stage4_L1.weight``."""
    return ".".join(posekit_key.split(".")[-2:])


def _as_state_dict(data: Any, src: str) -> dict[str, Any]:
    if isinstance(data, dict) and "state_dict" in data and isinstance(data["state_dict"], dict):
        data = data["state_dict"]
    if not isinstance(data, dict) or not data:
        kind = "an empty mapping" if isinstance(data, dict) else f"a {type(data).__name__}"
        raise PosekitError(
            f"weights file {src!r} holds {kind}, not a state dict; expected pytorch-openpose's "
            "body_pose_model.pth"
        )
    return data


def _normalise_keys(state: dict[str, Any], expected: set[str], src: str) -> dict[str, Any]:
    """Strip pytorch-openpose's module prefixes; a key in the wrong module is unexpected."""
    out: dict[str, Any] = {}
    for key, value in state.items():
        parts = str(key).split(".")
        if parts and parts[0] == "module":
            parts = parts[1:]
        name = ".".join(parts[-2:])
        prefix = parts[:-2]
        if len(parts) < 2 or name not in expected or (
                prefix and prefix != [openpose_module_prefix(parts[-2])]):
            raise PosekitError(
                f"weights file {src!r} does not match OpenPose's COCO body model: "
                f"unexpected key {key!r}"
            )
        if name in out:
            raise PosekitError(
                f"weights file {src!r} holds {name!r} twice (with and without a module prefix)"
            )
        out[name] = value
    return out


def network_from_openpose_state(state: dict[str, Any], skeleton: Skeleton | str = "coco18",
                                source: str = "state dict") -> PoseNetwork:
    """A cvpr2017 network for ``skeleton`` holding the weights of a pytorch-openpose state dict.

    Wrong keys or shapes raise PosekitError naming the first mismatch.
    """
    sk = load_skeleton(skeleton)
    net = build_network(sk, NetworkConfig.cvpr2017(), preprocess=Preprocess.openpose())
    own = net.state_dict()
    names = {_openpose_name(k): k for k in own}
    if len(names) != len(own):  # pragma: no cover - guards the layer naming itself
        raise PosekitError("internal error: OpenPose layer names are not unique")
    state = _as_state_dict(state, source)
    by_name = _normalise_keys(state, set(names), source)
    mismatch = state_dict_mismatch({n: own[k] for n, k in names.items()}, by_name)
    if mismatch:
        raise PosekitError(
            f"weights file {source!r} does not match OpenPose's COCO body model for skeleton "
            f"{sk.name!r}: {mismatch}"
        )
    bad = next((n for n, t in by_name.items() if not t.is_floating_point()
                or not bool(torch.isfinite(t).all())), None)
    if bad is not None:
        raise PosekitError(f"weights file {source!r}: {bad!r} is not finite floating point data")
    net.load_state_dict({k: by_name[n].to(own[k].dtype) for n, k in names.items()})
    return net


def import_openpose_weights(src: str | Path, dst: str | Path, *,
                            source_format: str = "pytorch-openpose",
                            skeleton: Skeleton | str = "coco18",
                            prototxt: str | Path | None = None) -> Path:
    """Convert ``src`` to a posekit checkpoint at ``dst``.

    ``source_format`` ``"pytorch-openpose"``: ``src`` is pytorch-openpose's
    ``body_pose_model.pth``, read with ``torch.load(weights_only=True)``. ``"openpose"``:
    ``src`` is OpenPose's ``.caffemodel`` for ``skeleton`` (body25, coco18 or mpi15), with
    its deploy ``prototxt`` optionally checked too. Nothing is written unless the whole
    conversion succeeds.
    """
    if source_format not in SOURCES:
        raise PosekitError(
            f"unknown weights source {source_format!r}; supported: {', '.join(SOURCES)}"
        )
    if source_format == "openpose":
        from posekit.network.caffe_import import import_caffe_weights

        return import_caffe_weights(src, dst, skeleton=skeleton, prototxt=prototxt)
    if prototxt is not None:
        raise PosekitError("a prototxt goes with OpenPose's Caffe models (--from openpose), "
                           "not with pytorch-openpose's file")
    src, dst = Path(src), Path(dst)
    sk = load_skeleton(skeleton)
    data = read_checkpoint_file(src, "weights file")
    net = network_from_openpose_state(data, sk, source=str(src))
    extra = {"source": source_format, "source_file": src.name, "license": LICENSE_NOTE}
    return save_checkpoint(dst, net, sk, net.preprocess, extra=extra)
