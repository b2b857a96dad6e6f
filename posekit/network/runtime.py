"""Network stage, at run time: devices, mixed precision, and tensors -> numpy maps.

:func:`maps_to_numpy` is the one place where network output for one image, PAFs
(1, 2L, h, w) and heatmaps (1, K+1, h, w), becomes the numpy maps the decoder takes:
heatmaps (h, w, K+1) float32 and PAFs (h, w, 2L) float32.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator

import numpy as np
import torch
from torch import nn

from posekit.errors import PosekitError

__all__ = ["resolve_device", "maps_to_numpy", "autocast", "prepare_network"]

DEVICES = ("auto", "cpu", "cuda")


def resolve_device(device: str | torch.device = "auto") -> torch.device:
    """``"auto"`` (CUDA when present, else CPU), ``"cpu"``, ``"cuda"`` or ``"cuda:N"``."""
    if isinstance(device, torch.device):
        name = str(device)
    elif isinstance(device, str):
        name = device.strip().lower()
    else:
        raise PosekitError(f"device must be one of {', '.join(DEVICES)}, got {device!r}")
    if name == "auto":
        return torch.device("cuda" if torch.cuda.is_available() else "cpu")
    if name == "cpu":
        return torch.device("cpu")
    if name == "cuda" or name.startswith("cuda:"):
        if not torch.cuda.is_available():
            raise PosekitError(
                f"device {name!r} requested but CUDA is not available to this torch "
                f"({torch.__version__}); use --device cpu or --device auto"
            )
        try:
            dev = torch.device(name)
        except RuntimeError:
            raise PosekitError(f"device {name!r} is not a valid CUDA device name") from None
        if dev.index is not None and dev.index >= torch.cuda.device_count():
            raise PosekitError(
                f"device {name!r} requested but only {torch.cuda.device_count()} CUDA "
                "device(s) are visible; use cuda:0"
            )
        return dev
    raise PosekitError(f"unknown device {device!r}; use one of {', '.join(DEVICES)}")


@contextlib.contextmanager
def autocast(device: torch.device, enabled: bool = True) -> Iterator[None]:
    """bf16 autocast on CUDA when ``enabled``; a no-op on CPU."""
    if enabled and device.type == "cuda":
        with torch.autocast(device_type="cuda", dtype=torch.bfloat16):
            yield
    else:
        yield


def prepare_network(net: nn.Module, device: torch.device,
                    channels_last: bool = False) -> nn.Module:
    """Move ``net`` to ``device``, optionally in channels-last memory format (CUDA)."""
    net = net.to(device)
    if channels_last:
        net = net.to(memory_format=torch.channels_last)
    return net


def maps_to_numpy(pafs: torch.Tensor, heatmaps: torch.Tensor) -> tuple[np.ndarray, np.ndarray]:
    """One image's network output -> (heatmaps (h, w, K+1), pafs (h, w, 2L)) float32.

    Takes (1, C, h, w) or (C, h, w) tensors on any device and dtype (bf16 included).
    """
    out = []
    for name, t in (("heatmaps", heatmaps), ("pafs", pafs)):
        if not isinstance(t, torch.Tensor):
            raise PosekitError(f"maps_to_numpy: {name} must be a tensor, got {type(t).__name__}")
        if t.ndim == 4:
            if t.shape[0] != 1:
                raise PosekitError(
                    f"maps_to_numpy: {name} holds {t.shape[0]} images; pass one at a time "
                    "(index the batch: pafs[i], heatmaps[i])"
                )
            t = t[0]
        if t.ndim != 3:
            raise PosekitError(
                f"maps_to_numpy: {name} must be (1, C, h, w) or (C, h, w), got {tuple(t.shape)}"
            )
        arr = t.detach().to("cpu", torch.float32).permute(1, 2, 0).contiguous().numpy()
        out.append(arr)
    heat, paf = out
    if heat.shape[:2] != paf.shape[:2]:
        raise PosekitError(
            f"maps_to_numpy: heatmaps {heat.shape[:2]} and PAFs {paf.shape[:2]} differ in size"
        )
    return heat, paf
