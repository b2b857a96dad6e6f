"""Inference across processes: which share of the inputs this process takes, under torchrun.

``torchrun --nproc-per-node N -m posekit infer ...`` (or a multi-node torchrun) sets
``RANK``, ``WORLD_SIZE`` and ``LOCAL_RANK``; :func:`join` joins torch.distributed's process
group (gloo on CPU, NCCL on CUDA, each process on ``cuda:LOCAL_RANK``) through
:func:`posekit.training.distributed.setup_distributed`. The group is used only at the end,
to gather the COCO results on rank 0 (``all_gather_object``, so ranks on machines without a
shared folder still merge) and as the final barrier. Without torchrun's variables
everything runs in one process and :data:`SINGLE` is used.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

__all__ = ["Ranks", "SINGLE", "join", "leave"]


@dataclass(frozen=True)
class Ranks:
    """This process's rank among ``world`` (and the device torchrun gives it)."""

    rank: int = 0
    world: int = 1
    device: str | None = None
    context: Any = None  # posekit.training.distributed.DistContext when joined

    @property
    def prefix(self) -> str:
        """``"rank R/W: "`` under torchrun, else empty (the summary line starts with it)."""
        return f"rank {self.rank}/{self.world}: " if self.world > 1 else ""

    def gather(self, obj: Any) -> list[Any]:
        """Every rank's ``obj``, in rank order (``[obj]`` alone)."""
        if self.world <= 1 or self.context is None:
            return [obj]
        import torch.distributed as dist

        out: list[Any] = [None] * self.world
        dist.all_gather_object(out, obj)
        return out

    def barrier(self) -> None:
        if self.world > 1 and self.context is not None:
            import torch.distributed as dist

            dist.barrier()


SINGLE = Ranks()


def join(device: str) -> Ranks:
    """Join torchrun's process group if this process was started by torchrun."""
    import os

    if int(os.environ.get("WORLD_SIZE", "1") or 1) <= 1:
        return SINGLE
    from posekit.network import resolve_device
    from posekit.training.distributed import setup_distributed

    ctx = setup_distributed(resolve_device(device))
    if ctx.device.type == "cpu":  # the processes on one machine share its cores
        import torch

        from posekit.training.distributed import threads_per_process

        torch.set_num_threads(threads_per_process())
    return Ranks(ctx.rank, ctx.world_size, str(ctx.device), ctx)


def leave(ranks: Ranks) -> None:
    """Leave the process group (after the final barrier)."""
    if ranks.context is not None:
        from posekit.training.distributed import teardown_distributed

        teardown_distributed(ranks.context)
