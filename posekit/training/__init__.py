"""Training: COCO-format data -> augmented crops + target maps -> staged loss -> Adam.

``train(TrainConfig(...))`` starts a run, ``resume(run_dir)`` continues one exactly; the
modules follow the data: :mod:`~posekit.training.dataset` (loading, sampler),
:mod:`~posekit.training.augment`, :mod:`~posekit.training.loss`,
:mod:`~posekit.training.loop`, :mod:`~posekit.training.validate`,
:mod:`~posekit.training.distributed` and :mod:`~posekit.training.log`. Names are imported
lazily, so importing this package does not import torch.
"""

from __future__ import annotations

import importlib
from typing import Any

__all__ = ["TrainConfig", "AugmentConfig", "train", "resume", "TrainResult",
           "TrainingDiverged", "staged_loss", "PoseDataset", "load_dataset"]

_LAZY = {
    "TrainConfig": "posekit.training.config",
    "AugmentConfig": "posekit.training.augment",
    "train": "posekit.training.loop",
    "resume": "posekit.training.loop",
    "TrainResult": "posekit.training.loop",
    "TrainingDiverged": "posekit.training.loop",
    "staged_loss": "posekit.training.loss",
    "PoseDataset": "posekit.training.dataset",
    "load_dataset": "posekit.training.dataset",
}


def __getattr__(name: str) -> Any:
    module = _LAZY.get(name)
    if module is None:
        raise AttributeError(f"module 'posekit.training' has no attribute {name!r}")
    return getattr(importlib.import_module(module), name)
