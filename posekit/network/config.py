"""Network stage: the architecture and input-preprocessing configuration.

Both are frozen dataclasses with ``to_dict()`` / ``from_dict()`` so checkpoints can store
them as plain data. :meth:`Preprocess.normalize` turns uint8 images (N, H, W, 3) RGB into the
float tensor (N, 3, H, W) the network takes.
"""

from __future__ import annotations

import dataclasses
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import numpy as np

from posekit.errors import PosekitError

if TYPE_CHECKING:  # pragma: no cover
    import torch

__all__ = ["NetworkConfig", "Preprocess", "BACKBONES", "BLOCKS", "ORDERS", "LAYOUTS"]

BACKBONES = ("vgg19", "light")
BLOCKS = ("3x3", "7x7")
ORDERS = ("paf-first", "cm-first")
LAYOUTS = ("pami", "cvpr2017", "body25")

# The CVPR 2017 network: six stages, both branches in every stage.
CVPR2017_STAGES = 6
# OpenPose's BODY_25 network: four PAF stages, then two heatmap stages.
BODY25_STAGES = (4, 2)


@dataclass(frozen=True)
class NetworkConfig:
    """Architecture of a staged PAF network (the heads are sized from the skeleton).

    Args:
        backbone: ``"vgg19"`` (first 10 VGG-19 convs + conv4_3_CPM/conv4_4_CPM) or
            ``"light"`` (depthwise-separable MobileNet-like front, for CPU use).
        paf_stages: number of PAF stages T_P.
        cm_stages: number of confidence-map stages T_C.
        block: ``"3x3"`` (three chained 3x3 convs, outputs concatenated; PAMI 2019) or
            ``"7x7"`` (one 7x7 conv; CVPR 2017).
        order: ``"paf-first"`` (PAMI 2019) or ``"cm-first"`` (the Table 5 ablation).
        layout: ``"pami"`` (sequential PAF then CM stages), ``"cvpr2017"`` (two branches
            in each of six stages, as OpenPose's COCO and MPI models; fixes stages to 6 + 6,
            block to 7x7 and backbone to vgg19) or ``"body25"`` (OpenPose's BODY_25 network
            exactly, see :mod:`posekit.network.body25`; fixes stages to 4 + 2, block to 3x3,
            width to 128 and backbone to vgg19).
        width: channels of the backbone features and of every stage conv.
        stage_blocks: conv blocks per stage; ``None`` = 5 for vgg19, 3 for light.
    """

    backbone: Literal["vgg19", "light"] = "vgg19"
    paf_stages: int = 4
    cm_stages: int = 2
    block: Literal["3x3", "7x7"] = "3x3"
    order: Literal["paf-first", "cm-first"] = "paf-first"
    layout: Literal["pami", "cvpr2017", "body25"] = "pami"
    width: int = 128
    stage_blocks: int | None = None

    def __post_init__(self) -> None:
        for name, allowed in (("backbone", BACKBONES), ("block", BLOCKS), ("order", ORDERS),
                              ("layout", LAYOUTS)):
            value = getattr(self, name)
            if value not in allowed:
                raise PosekitError(
                    f"network config: {name} {value!r} is not one of {', '.join(allowed)}"
                )
        for name in ("paf_stages", "cm_stages", "width"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise PosekitError(
                    f"network config: {name} must be a positive integer, got {value!r}"
                )
        blocks = self.stage_blocks
        if blocks is not None and (isinstance(blocks, bool) or not isinstance(blocks, int)
                                   or blocks < 1):
            raise PosekitError(
                f"network config: stage_blocks must be a positive integer or None, got {blocks!r}"
            )
        if self.layout in ("cvpr2017", "body25") and self.backbone != "vgg19":
            raise PosekitError(
                f"network config: layout {self.layout!r} needs backbone 'vgg19' "
                f"(got {self.backbone!r}); use layout 'pami' for the light backbone"
            )
        if self.layout == "cvpr2017":
            # the CVPR 2017 structure is fixed; record what is actually built
            set_ = object.__setattr__
            set_(self, "paf_stages", CVPR2017_STAGES)
            set_(self, "cm_stages", CVPR2017_STAGES)
            set_(self, "block", "7x7")
            set_(self, "order", "paf-first")
            set_(self, "stage_blocks", 5)
        elif self.layout == "body25":
            set_ = object.__setattr__
            set_(self, "paf_stages", BODY25_STAGES[0])
            set_(self, "cm_stages", BODY25_STAGES[1])
            set_(self, "block", "3x3")
            set_(self, "order", "paf-first")
            set_(self, "width", 128)
            set_(self, "stage_blocks", 5)

    @property
    def num_blocks(self) -> int:
        """Conv blocks per stage (``stage_blocks`` resolved)."""
        if self.stage_blocks is not None:
            return self.stage_blocks
        return 3 if self.backbone == "light" else 5

    @classmethod
    def light(cls, **overrides: Any) -> NetworkConfig:
        """The small CPU model: light backbone, 2 PAF + 1 CM stages, width 64."""
        return cls(**{"backbone": "light", "paf_stages": 2, "cm_stages": 1, "width": 64,
                      **overrides})

    @classmethod
    def cvpr2017(cls) -> NetworkConfig:
        """OpenPose's CVPR 2017 network of its COCO and MPI models (for imported weights)."""
        return cls(layout="cvpr2017")

    @classmethod
    def body25(cls) -> NetworkConfig:
        """OpenPose's BODY_25 network (for imported weights)."""
        return cls(layout="body25")

    def to_dict(self) -> dict[str, Any]:
        return dataclasses.asdict(self)

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> NetworkConfig:
        return cls(**_checked_fields(cls, data, "network config"))


@dataclass(frozen=True)
class Preprocess:
    """How images become network input; stored in every checkpoint.

    ``normalize`` computes ``(pixel - mean) / std`` per channel on 0..255 values after
    reordering to ``channel_order``. OpenPose's ``x / 256 - 0.5`` on BGR is
    ``Preprocess.openpose()`` (mean 128, std 256). Images are padded (right and bottom) to
    a multiple of ``stride`` with ``pad_value`` and scaled to ``input_height`` by the
    inference code.
    """

    channel_order: Literal["RGB", "BGR"] = "RGB"
    mean: tuple[float, float, float] = (123.675, 116.28, 103.53)
    std: tuple[float, float, float] = (58.395, 57.12, 57.375)
    stride: int = 8
    pad_value: int = 128
    input_height: int = 368

    def __post_init__(self) -> None:
        if self.channel_order not in ("RGB", "BGR"):
            raise PosekitError(
                f"preprocess: channel_order must be 'RGB' or 'BGR', got {self.channel_order!r}"
            )
        for name in ("mean", "std"):
            value = getattr(self, name)
            try:
                vals = tuple(float(v) for v in value)
            except (TypeError, ValueError):
                vals = ()
            if len(vals) != 3 or not all(np.isfinite(vals)):
                raise PosekitError(f"preprocess: {name} must be three numbers, got {value!r}")
            if name == "std" and min(vals) <= 0:
                raise PosekitError(f"preprocess: std must be positive, got {value!r}")
            object.__setattr__(self, name, vals)
        for name in ("stride", "input_height"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise PosekitError(f"preprocess: {name} must be a positive integer, got {value!r}")
        if (isinstance(self.pad_value, bool) or not isinstance(self.pad_value, int)
                or not 0 <= self.pad_value <= 255):
            raise PosekitError(
                f"preprocess: pad_value must be an integer 0..255, got {self.pad_value!r}"
            )

    @classmethod
    def openpose(cls) -> Preprocess:
        """OpenPose's: BGR, x/256 - 0.5, padded with 128 to stride 8, 368 pixels high."""
        return cls(channel_order="BGR", mean=(128.0, 128.0, 128.0), std=(256.0, 256.0, 256.0),
                   stride=8, pad_value=128, input_height=368)

    def normalize(self, images: Any) -> torch.Tensor:
        """uint8 RGB images (N, H, W, 3) or (H, W, 3), numpy or tensor -> float (N, 3, H, W)."""
        import torch

        x = torch.as_tensor(images)
        if x.ndim == 3:
            x = x.unsqueeze(0)
        if x.ndim != 4 or x.shape[-1] != 3:
            raise PosekitError(
                f"preprocess: expected RGB images of shape (N, H, W, 3), got {tuple(x.shape)}"
            )
        x = x.permute(0, 3, 1, 2).float()
        if self.channel_order == "BGR":
            x = x.flip(1)
        mean = torch.tensor(self.mean, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        std = torch.tensor(self.std, dtype=x.dtype, device=x.device).view(1, 3, 1, 1)
        return ((x - mean) / std).contiguous()

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["mean"] = list(self.mean)
        data["std"] = list(self.std)
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> Preprocess:
        return cls(**_checked_fields(cls, data, "preprocess"))


def _checked_fields(cls: type, data: Any, what: str) -> dict[str, Any]:
    if not isinstance(data, dict):
        raise PosekitError(f"{what}: expected a mapping of fields, got {type(data).__name__}")
    names = [f.name for f in dataclasses.fields(cls)]
    unknown = sorted(set(data) - set(names))
    if unknown:
        raise PosekitError(
            f"{what}: unknown field {unknown[0]!r}; valid fields: {', '.join(names)}"
        )
    return dict(data)
