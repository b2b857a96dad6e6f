"""Network stage: posekit's OpenPose networks described as Caffe layers.

:func:`caffe_layers` lists, for a network of layout ``cvpr2017`` or ``body25``, every layer
of OpenPose's deploy prototxt for that model: name, type, input and output blobs,
convolution / pooling / concat settings, the shapes of its weight blobs, and which
posekit parameters hold those weights. It is the one description of "OpenPose's net"
used to map a ``.caffemodel``'s blobs to posekit's state dict, to check a user's
``pose_deploy*.prototxt``, and (:func:`write_prototxt`) to write a prototxt of the same
net, e.g. for test fixtures. The network's input blob is ``image``; its output blob
``net_output`` holds the heatmaps (K+1 channels) followed by the PAFs (2L), as OpenPose's.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from torch import nn

from posekit.errors import PosekitError
from posekit.network.body25 import Body25Stage
from posekit.network.model import PoseNetwork

__all__ = ["CaffeLayer", "caffe_layers", "write_prototxt", "INPUT_BLOB", "OUTPUT_BLOB"]

INPUT_BLOB, OUTPUT_BLOB = "image", "net_output"


@dataclass(frozen=True)
class CaffeLayer:
    """One Caffe layer. ``params`` names the posekit state-dict entries of its blobs, in
    Caffe's blob order (weight, bias) with their shapes in ``blob_shapes``."""

    name: str
    type: str                                   # Convolution, ReLU, PReLU, Pooling, Concat
    bottoms: tuple[str, ...]
    tops: tuple[str, ...]
    num_output: int = 0                         # Convolution
    kernel: int = 0                             # Convolution and Pooling
    pad: int = 0                                # Convolution
    stride: int = 1                             # Convolution and Pooling
    params: tuple[str, ...] = ()
    blob_shapes: tuple[tuple[int, ...], ...] = field(default=())


class _Builder:
    def __init__(self, net: PoseNetwork) -> None:
        self.layers: list[CaffeLayer] = []
        self.params = dict(net.named_parameters())

    def module(self, path: str, module: nn.Module, bottom: str, name: str | None = None) -> str:
        """Add the Caffe layer of ``module`` (at state-dict prefix ``path``); return its top."""
        name = name or path.rsplit(".", 1)[-1]
        if isinstance(module, nn.Conv2d):
            cout, _, k, _ = module.weight.shape
            keys = (f"{path}.weight", f"{path}.bias")
            self.layers.append(CaffeLayer(
                name, "Convolution", (bottom,), (name,), num_output=cout, kernel=k,
                pad=int(module.padding[0]), stride=int(module.stride[0]), params=keys,
                blob_shapes=tuple(tuple(self.params[key].shape) for key in keys)))
            return name
        if isinstance(module, nn.PReLU):
            key = f"{path}.weight"
            self.layers.append(CaffeLayer(name, "PReLU", (bottom,), (bottom,), params=(key,),
                                          blob_shapes=(tuple(self.params[key].shape),)))
            return bottom
        if isinstance(module, nn.ReLU):
            self.layers.append(CaffeLayer(name, "ReLU", (bottom,), (bottom,)))
            return bottom
        if isinstance(module, nn.MaxPool2d):
            self.layers.append(CaffeLayer(name, "Pooling", (bottom,), (name,), kernel=2,
                                          stride=2))
            return name
        raise PosekitError(  # pragma: no cover - guards the builders themselves
            f"internal error: no Caffe equivalent for {type(module).__name__} at {path}")

    def concat(self, name: str, bottoms: list[str], top: str | None = None) -> str:
        self.layers.append(CaffeLayer(name, "Concat", tuple(bottoms), (top or name,)))
        return top or name


def _relu_name(conv: str) -> str:
    """OpenPose's name of the ReLU after ``conv``: conv1_1 -> relu1_1, Mconv2_.. -> Mrelu2_.."""
    if conv.startswith("Mconv"):
        return "Mrelu" + conv[len("Mconv"):]
    return "relu" + conv[len("conv"):]


def _backbone(b: _Builder, net: PoseNetwork) -> str:
    blob = INPUT_BLOB
    last_conv = ""
    for name, module in net.backbone.named_children():
        if isinstance(module, nn.Conv2d):
            last_conv = name
        act_name = _relu_name(last_conv) if isinstance(module, nn.ReLU) else name
        blob = b.module(f"backbone.{name}", module, blob, name=act_name)
    return blob


def _cvpr2017(b: _Builder, net: PoseNetwork, feats: str) -> None:
    blob_in = feats
    heads: tuple[str, str] = ("", "")
    for t, stage in enumerate(net.stages, start=1):
        outs = []
        for branch_name in ("paf", "heatmap"):
            blob, last_conv = blob_in, ""
            for name, module in getattr(stage, branch_name).named_children():
                path = f"stages.{t - 1}.{branch_name}.{name}"
                if isinstance(module, nn.Conv2d):
                    last_conv = name
                    blob = b.module(path, module, blob)
                else:
                    blob = b.module(path, module, blob, name=_relu_name(last_conv))
            outs.append(blob)
        heads = (outs[0], outs[1])
        if t < len(net.stages):
            blob_in = b.concat(f"concat_stage{t + 1}", [outs[0], outs[1], feats])
    b.concat(f"concat_stage{len(net.stages) + 1}", [heads[1], heads[0]], OUTPUT_BLOB)


def _body25_stage(b: _Builder, stage: Body25Stage, path: str, bottom: str) -> str:
    blob = bottom
    for names in stage.blocks:
        outs = []
        for conv, act in names:
            blob = b.module(f"{path}.{conv}", getattr(stage, conv), blob)
            b.module(f"{path}.{act}", getattr(stage, act), blob)
            outs.append(blob)
        blob = b.concat(f"{names[0][0][:-2]}_concat", outs)
    conv, act = stage.hidden
    blob = b.module(f"{path}.{conv}", getattr(stage, conv), blob)
    b.module(f"{path}.{act}", getattr(stage, act), blob)
    return b.module(f"{path}.{stage.head_name}", stage.head, blob)


def _body25(b: _Builder, net: PoseNetwork, feats: str) -> None:
    paf = _body25_stage(b, net.paf_stages[0], "paf_stages.0", feats)
    for t in range(1, len(net.paf_stages)):
        inp = b.concat(f"concat_stage{t}_L2", [feats, paf])
        paf = _body25_stage(b, net.paf_stages[t], f"paf_stages.{t}", inp)
    heat = ""
    for t in range(len(net.cm_stages)):
        inp = b.concat(f"concat_stage{t}_L1", [feats] + ([heat] if t else []) + [paf])
        heat = _body25_stage(b, net.cm_stages[t], f"cm_stages.{t}", inp)
    b.concat(OUTPUT_BLOB, [heat, paf])


def caffe_layers(net: PoseNetwork) -> list[CaffeLayer]:
    """OpenPose's deploy-prototxt layers of ``net`` (layout cvpr2017 or body25), in order."""
    layout = net.config.layout
    if layout not in ("cvpr2017", "body25"):
        raise PosekitError(
            f"a network of layout {layout!r} has no OpenPose (Caffe) counterpart; "
            "only the cvpr2017 and body25 layouts do"
        )
    b = _Builder(net)
    feats = _backbone(b, net)
    (_cvpr2017 if layout == "cvpr2017" else _body25)(b, net, feats)
    return b.layers


def write_prototxt(layers: list[CaffeLayer], name: str, input_size: tuple[int, int] = (16, 16),
                   ) -> str:
    """A Caffe deploy prototxt (protobuf text format) of ``layers``; input (1, 3, H, W).

    ``input_size`` is (width, height) of the declared input (importers reshape it).
    """
    w, h = input_size
    out = [f'name: "{name}"', f'input: "{INPUT_BLOB}"', "input_dim: 1", "input_dim: 3",
           f"input_dim: {h}", f"input_dim: {w}"]
    for layer in layers:
        out += ["layer {", f'  name: "{layer.name}"', f'  type: "{layer.type}"']
        out += [f'  bottom: "{bottom}"' for bottom in layer.bottoms]
        out += [f'  top: "{top}"' for top in layer.tops]
        if layer.type == "Convolution":
            out += ["  convolution_param {", f"    num_output: {layer.num_output}",
                    f"    pad: {layer.pad}", f"    kernel_size: {layer.kernel}"]
            if layer.stride != 1:
                out.append(f"    stride: {layer.stride}")
            out.append("  }")
        elif layer.type == "Pooling":
            out += ["  pooling_param {", "    pool: MAX", f"    kernel_size: {layer.kernel}",
                    f"    stride: {layer.stride}", "  }"]
        elif layer.type == "Concat":
            out += ["  concat_param {", "    axis: 1", "  }"]
        out.append("}")
    return "\n".join(out) + "\n"
