"""Training: the settings of a run (a frozen dataclass stored in every checkpoint).

The network settings map onto :class:`posekit.network.NetworkConfig`; the data settings
fix the square input crop (``input_size`` pixels, maps of ``input_size / 8``), the
Gaussian ``sigma`` of the confidence maps and the PAF half-width, both in input pixels.
"""

from __future__ import annotations

import dataclasses
import math
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from posekit.errors import PosekitError
from posekit.training.augment import AugmentConfig

__all__ = ["TrainConfig", "RESUMABLE_OVERRIDES", "SCHEDULES"]

SCHEDULES = ("cosine", "step", "constant")
# settings that may change when a run is resumed (the rest must stay as they were)
RESUMABLE_OVERRIDES = ("epochs", "workers", "device", "threads", "save_every", "time_limit")


@dataclass(frozen=True)
class TrainConfig:
    """Everything that defines a training run.

    Args:
        skeleton: skeleton name or ``.toml`` path.
        data: COCO-format dataset folder (``annotations.json`` + ``images/``) or the
            annotations file itself.
        out: run folder (checkpoints, metrics, plot).
        val_data: validation dataset; ``None`` = hold out ``val_fraction`` of ``data``.
        images, val_images: image folders of ``data`` / ``val_data`` when not the
            ``images/`` folder beside the annotations (e.g. COCO's ``train2017/``).
        epochs, batch_size, lr: optimisation (Adam); ``lr`` is the peak learning rate.
        schedule: ``"cosine"`` (warm-up then cosine decay to 5 %), ``"step"`` (x0.1 at
            2/3 of the run) or ``"constant"`` (after warm-up).
        warmup: warm-up steps (linear from 0); ``None`` = 3 % of the run, at most 200.
        input_size: side of the square training crop (a multiple of 8).
        backbone, paf_stages, cm_stages, block, order, width: the architecture.
        sigma: confidence-map Gaussian sigma in input pixels; ``None`` = OpenPose's 7
            (for stride 8: a smaller sigma makes peaks too sharp to locate between map
            pixels, whatever the input size).
        paf_width: PAF half-width in map pixels.
        augment: random augmentation ranges.
        workers: data-loading processes (0 = in the training process).
        device: ``"auto"``, ``"cpu"`` or ``"cuda"``; amp: bf16 autocast on CUDA.
        seed: seeds initialisation, data order, augmentation and the held-out split.
        parser: multi-person parser used for validation AP.
        save_every: also checkpoint every this many steps (0 = at the end of each epoch).
        time_limit: stop (with a checkpoint) after this many minutes (None = no limit).
        threads: torch CPU threads per process; ``None`` = CPU cores / local processes.
        max_val_images: evaluate on at most this many validation images (None = all).
    """

    skeleton: str
    data: str
    out: str
    val_data: str | None = None
    images: str | None = None
    val_images: str | None = None
    val_fraction: float = 0.1
    epochs: int = 10
    batch_size: int = 8
    lr: float = 1e-3
    weight_decay: float = 0.0
    schedule: str = "cosine"
    warmup: int | None = None
    grad_clip: float | None = 100.0
    input_size: int = 256
    backbone: str = "light"
    paf_stages: int = 2
    cm_stages: int = 1
    block: str = "3x3"
    order: str = "paf-first"
    width: int = 64
    sigma: float | None = None
    paf_width: float = 1.0
    augment: AugmentConfig = field(default_factory=AugmentConfig)
    workers: int = 0
    device: str = "auto"
    amp: bool = False
    seed: int = 0
    parser: str = "hungarian"
    save_every: int = 0
    time_limit: float | None = None
    threads: int | None = None
    max_val_images: int | None = None

    def __post_init__(self) -> None:
        set_ = object.__setattr__
        set_(self, "data", str(self.data))
        set_(self, "out", str(self.out))
        for name in ("val_data", "images", "val_images"):
            if getattr(self, name) is not None:
                set_(self, name, str(getattr(self, name)))
        if isinstance(self.augment, dict):
            set_(self, "augment", AugmentConfig.from_dict(self.augment))
        positive = ("epochs", "batch_size", "input_size", "paf_stages", "cm_stages", "width")
        for name in positive:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise PosekitError(f"--{name.replace('_', '-')} must be a positive integer, "
                                   f"got {value!r}")
        if self.input_size % 8:
            raise PosekitError(f"--input-size must be a multiple of 8, got {self.input_size}")
        for name in ("workers", "save_every"):
            if getattr(self, name) < 0:
                raise PosekitError(f"--{name.replace('_', '-')} must be >= 0")
        if not (math.isfinite(self.lr) and self.lr > 0):
            raise PosekitError(f"--lr must be a positive number, got {self.lr!r}")
        if not 0 < self.val_fraction < 1:
            raise PosekitError(f"validation fraction must be in (0, 1), got {self.val_fraction}")
        if self.schedule not in SCHEDULES:
            raise PosekitError(f"schedule {self.schedule!r} is not one of {', '.join(SCHEDULES)}")
        if self.sigma is not None and not self.sigma > 0:
            raise PosekitError(f"--sigma must be positive, got {self.sigma!r}")
        if self.threads is not None and self.threads < 1:
            raise PosekitError(f"--threads must be a positive integer, got {self.threads!r}")
        if self.time_limit is not None and not self.time_limit > 0:
            raise PosekitError(f"--time-limit must be positive minutes, got {self.time_limit!r}")
        # fails early, with the network's own message, on an unknown backbone/block/order
        self.network_config()

    @property
    def target_sigma(self) -> float:
        """Confidence-map sigma in input pixels (OpenPose's 7 unless set)."""
        return self.sigma if self.sigma is not None else 7.0

    @property
    def run_dir(self) -> Path:
        return Path(self.out)

    def network_config(self) -> Any:
        from posekit.network.config import NetworkConfig

        return NetworkConfig(backbone=self.backbone, paf_stages=self.paf_stages,  # type: ignore[arg-type]
                             cm_stages=self.cm_stages, block=self.block,  # type: ignore[arg-type]
                             order=self.order, width=self.width)  # type: ignore[arg-type]

    def to_dict(self) -> dict[str, Any]:
        data = dataclasses.asdict(self)
        data["augment"] = self.augment.to_dict()
        return data

    @classmethod
    def from_dict(cls, data: dict[str, Any]) -> TrainConfig:
        names = {f.name for f in dataclasses.fields(cls)}
        unknown = sorted(set(data) - names)
        if unknown:
            raise PosekitError(f"training settings: unknown field {unknown[0]!r}")
        return cls(**data)

    def with_overrides(self, overrides: dict[str, Any]) -> TrainConfig:
        """This run's settings with the ones a resumed run may change replaced.

        Any other setting that differs is refused: a resumed run continues the same run.
        """
        changes = {}
        for key, value in overrides.items():
            if value is None or getattr(self, key) == value:
                continue
            if key not in RESUMABLE_OVERRIDES:
                raise PosekitError(
                    f"--{key.replace('_', '-')} {value} differs from the run's "
                    f"{getattr(self, key)!r}; a resumed run keeps its settings (only "
                    f"{', '.join('--' + k.replace('_', '-') for k in RESUMABLE_OVERRIDES)} "
                    "may change) - drop the option or start a new run"
                )
            changes[key] = value
        return dataclasses.replace(self, **changes)
