"""Training: the state a resumed run needs, as checkpoint-safe plain data.

Random-number generator states (python, numpy, torch, CUDA) become lists and tensors so a
checkpoint still loads with ``torch.load(..., weights_only=True)``. The learning-rate
schedule is a small callable object, so ``LambdaLR.state_dict()`` stores it as numbers.
"""

from __future__ import annotations

import math
import random
from typing import Any

import numpy as np
import torch

__all__ = ["capture_rng", "restore_rng", "LRSchedule", "seed_everything"]


def seed_everything(seed: int) -> None:
    """Seed python's, numpy's and torch's global generators."""
    random.seed(seed)
    np.random.seed(seed % 2**32)
    torch.manual_seed(seed)


def capture_rng() -> dict[str, Any]:
    """Every global generator's state as lists/tensors (weights_only-safe)."""
    version, internal, gauss = random.getstate()
    name, keys, pos, has_gauss, cached = np.random.get_state(legacy=True)
    state: dict[str, Any] = {
        "python": [int(version), [int(v) for v in internal], gauss],
        "numpy": [str(name), torch.from_numpy(np.asarray(keys, dtype=np.int64)), int(pos),
                  int(has_gauss), float(cached)],
        "torch": torch.get_rng_state(),
    }
    if torch.cuda.is_available() and torch.cuda.is_initialized():
        state["cuda"] = [s for s in torch.cuda.get_rng_state_all()]
    return state


def restore_rng(state: dict[str, Any]) -> None:
    """Put back what :func:`capture_rng` recorded."""
    version, internal, gauss = state["python"]
    random.setstate((int(version), tuple(int(v) for v in internal), gauss))
    name, keys, pos, has_gauss, cached = state["numpy"]
    np.random.set_state((str(name), np.asarray(keys, dtype=np.int64).astype(np.uint32),
                         int(pos), int(has_gauss), float(cached)))
    torch.set_rng_state(state["torch"].to(torch.uint8).cpu())
    cuda = state.get("cuda")
    if cuda and torch.cuda.is_available():
        torch.cuda.set_rng_state_all([s.to(torch.uint8).cpu() for s in cuda])


class LRSchedule:
    """Learning-rate factor per step: linear warm-up, then cosine / step / constant.

    A callable object (not a lambda) so that ``LambdaLR`` saves it in its state dict.
    """

    def __init__(self, kind: str, total_steps: int, warmup: int, floor: float = 0.05) -> None:
        self.kind = kind
        self.total_steps = max(int(total_steps), 1)
        self.warmup = max(int(warmup), 0)
        self.floor = float(floor)

    def __call__(self, step: int) -> float:
        if self.warmup and step < self.warmup:
            return (step + 1) / self.warmup
        if self.kind == "constant":
            return 1.0
        if self.kind == "step":
            return 1.0 if step < (2 * self.total_steps) // 3 else 0.1
        span = max(self.total_steps - self.warmup, 1)
        t = min(max(step - self.warmup, 0) / span, 1.0)
        return self.floor + (1.0 - self.floor) * 0.5 * (1.0 + math.cos(math.pi * t))
