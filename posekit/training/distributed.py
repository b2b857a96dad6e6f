"""Training across processes: torch.distributed set up from torchrun's environment.

``torchrun --nproc_per_node N -m posekit train ...`` sets ``RANK``, ``WORLD_SIZE`` and
``LOCAL_RANK``; :func:`setup_distributed` joins the process group (NCCL on CUDA, gloo on
CPU) and picks each process's device. Without those variables everything runs in one
process and the helpers here are no-ops.
"""

from __future__ import annotations

import math
import os
from dataclasses import dataclass
from typing import Any

import torch
import torch.distributed as dist
from torch import nn

from posekit.errors import PosekitError

__all__ = ["DistContext", "setup_distributed", "teardown_distributed", "all_reduce_mean",
           "broadcast_object", "barrier", "StagesModule", "blank_batch", "threads_per_process"]


@dataclass(frozen=True)
class DistContext:
    """Where this process stands: its rank among ``world_size`` and its device."""

    rank: int = 0
    world_size: int = 1
    local_rank: int = 0
    device: torch.device = torch.device("cpu")
    backend: str | None = None

    @property
    def enabled(self) -> bool:
        return self.world_size > 1

    @property
    def is_main(self) -> bool:
        return self.rank == 0


def _env_int(name: str, default: int) -> int:
    value = os.environ.get(name)
    if value is None:
        return default
    try:
        return int(value)
    except ValueError:
        raise PosekitError(f"environment variable {name}={value!r} is not an integer") from None


def setup_distributed(device: torch.device) -> DistContext:
    """Join torchrun's process group if there is one; ``device`` is the requested kind.

    On CUDA each process takes ``cuda:LOCAL_RANK``.
    """
    world = _env_int("WORLD_SIZE", 1)
    if world <= 1:
        return DistContext(device=device)
    rank = _env_int("RANK", 0)
    local = _env_int("LOCAL_RANK", 0)
    if device.type == "cuda":
        if local >= torch.cuda.device_count():
            raise PosekitError(
                f"LOCAL_RANK {local} but only {torch.cuda.device_count()} CUDA device(s); "
                "lower --nproc_per_node"
            )
        device = torch.device("cuda", local)
        torch.cuda.set_device(device)
        backend = "nccl"
    else:
        backend = "gloo"
    if not dist.is_initialized():
        dist.init_process_group(backend=backend, rank=rank, world_size=world)
    return DistContext(rank=rank, world_size=world, local_rank=local, device=device,
                       backend=backend)


def teardown_distributed(ctx: DistContext) -> None:
    if ctx.enabled and dist.is_initialized():
        dist.destroy_process_group()


def all_reduce_mean(value: torch.Tensor, ctx: DistContext) -> torch.Tensor:
    """The mean of ``value`` over all processes (itself when there is one)."""
    if not ctx.enabled:
        return value
    out = value.detach().clone()
    dist.all_reduce(out, op=dist.ReduceOp.SUM)
    return out / ctx.world_size


def broadcast_object(obj: Any, ctx: DistContext) -> Any:
    """Rank 0's ``obj`` on every process."""
    if not ctx.enabled:
        return obj
    box = [obj]
    dist.broadcast_object_list(box, src=0)
    return box[0]


def barrier(ctx: DistContext) -> None:
    if ctx.enabled:
        dist.barrier()


def threads_per_process() -> int:
    """CPU cores shared evenly by the processes torchrun started on this machine."""
    local = _env_int("LOCAL_WORLD_SIZE", 1)
    return max(1, (os.cpu_count() or 1) // max(local, 1))


class StagesModule(nn.Module):
    """Makes ``forward`` return every stage, so DistributedDataParallel sees the loss path."""

    def __init__(self, net: nn.Module) -> None:
        super().__init__()
        self.module = net

    def forward(self, x: torch.Tensor) -> tuple[list[torch.Tensor], list[torch.Tensor]]:
        return self.module.forward_stages(x)


def blank_batch(dataset: Any, skeleton: Any) -> Any:
    """One padding-only sample with a zero mask: adds nothing but keeps processes in step.

    Used when every image of a process's batch was unreadable, so that its
    DistributedDataParallel step still meets the other processes' gradient exchange.
    """
    from posekit.training.dataset import Batch

    n = dataset.input_size
    h = math.ceil(n / dataset.stride)
    return Batch(images=torch.full((1, n, n, 3), dataset.pad_value, dtype=torch.uint8),
                 heatmaps=torch.zeros(1, skeleton.num_heatmap_channels, h, h),
                 pafs=torch.zeros(1, skeleton.num_paf_channels, h, h),
                 mask=torch.zeros(1, 1, h, h), indices=[], skipped=[])
