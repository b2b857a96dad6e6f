"""Training: the loop. Data -> network stages -> staged masked L2 loss -> Adam, per epoch.

:func:`train` starts a run in an empty folder, :func:`resume` continues the run of a folder
exactly where its last checkpoint left it (same weights, optimizer, schedule, RNG states
and position in the data, so the next step is the step the first run would have taken).
Batches are (N, h, w, 3) uint8 crops, normalised on the device; the loss sums every PAF
stage (N, 2L, h/8, w/8) and heatmap stage (N, K+1, h/8, w/8). Under torchrun each process
trains on its DistributedSampler share inside DistributedDataParallel; rank 0 validates and
writes the run folder (checkpoints, metrics, plot).
"""

from __future__ import annotations

import dataclasses
import math
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn
from torch.utils.data import DataLoader

from posekit.errors import PosekitError
from posekit.skeleton import Skeleton, load_skeleton
from posekit.training import checkpoints as ckpt
from posekit.training.config import TrainConfig
from posekit.training.dataset import EpochSampler, PoseDataset, collate, load_dataset, split_entries
from posekit.training.distributed import (
    DistContext,
    StagesModule,
    all_reduce_mean,
    barrier,
    blank_batch,
    setup_distributed,
    teardown_distributed,
    threads_per_process,
)
from posekit.training.log import plot_losses, progress_bar, write_metrics
from posekit.training.loss import staged_loss
from posekit.training.state import LRSchedule, capture_rng, restore_rng, seed_everything
from posekit.training.validate import validate

__all__ = ["train", "resume", "TrainResult", "StepInfo", "TrainingDiverged"]


class TrainingDiverged(PosekitError):
    """The loss or the gradients became NaN or infinite."""


@dataclass(frozen=True)
class StepInfo:
    """Passed to ``on_step`` after every optimisation step."""

    epoch: int  # 0-based
    batch: int  # batches done in this epoch
    step: int  # optimisation steps done in the run
    loss: float


@dataclass
class TrainResult:
    run_dir: Path
    epochs: list[dict[str, Any]]
    step_losses: list[float]
    best_ap: float | None
    last_checkpoint: Path
    best_checkpoint: Path | None
    seconds: float
    finished: bool  # False when stopped by the time limit
    images_skipped: int = 0
    missing_images: list[str] = field(default_factory=list)


def train(config: TrainConfig, *, on_step: Callable[[StepInfo], None] | None = None,
          console: Any = None) -> TrainResult:
    """Train a new network as ``config`` says; the run folder must be empty or absent."""
    ckpt.check_new_run_dir(Path(config.out))
    return _Run(config, None, on_step, console).run()


def resume(run_dir: str | Path, overrides: dict[str, Any] | None = None, *,
           skeleton: str | Skeleton | None = None,
           on_step: Callable[[StepInfo], None] | None = None, console: Any = None) -> TrainResult:
    """Continue the run in ``run_dir`` from ``RUN/last.pt``.

    ``overrides`` may change only :data:`~posekit.training.config.RESUMABLE_OVERRIDES`
    (e.g. more ``epochs``); ``skeleton``, when given, must be the run's.
    """
    run_dir = Path(run_dir)
    net, _, state = ckpt.read_resume_state(run_dir, skeleton)
    config = TrainConfig.from_dict(dict(state["config"]))
    if Path(config.out).resolve() != run_dir.resolve():  # the folder was moved
        config = dataclasses.replace(config, out=str(run_dir))
    config = config.with_overrides(dict(overrides or {}))
    run = _Run(config, state, on_step, console)
    run.resumed_net = net
    return run.run()


class _Run:
    """One training run (new or resumed); :meth:`run` does the work."""

    def __init__(self, config: TrainConfig, state: dict[str, Any] | None,
                 on_step: Callable[[StepInfo], None] | None, console: Any) -> None:
        self.config = config
        self.state = state
        self.on_step = on_step
        self.console = console
        self.run_dir = Path(config.out)
        self.resumed_net: Any = None
        self._mark = time.monotonic()

    # ------------------------------------------------------------------ setup
    def run(self) -> TrainResult:
        from posekit.network import resolve_device

        device = resolve_device(self.config.device)
        ctx = setup_distributed(device)
        try:
            torch.set_num_threads(self.config.threads or threads_per_process())
            return self._train(ctx)
        finally:
            teardown_distributed(ctx)

    def _print(self, message: str, ctx: DistContext) -> None:
        if ctx.is_main and self.console is not None:
            self.console.print(message, highlight=False)

    def _build(self, ctx: DistContext, sk: Skeleton) -> None:
        from posekit.network import Preprocess, build_network

        c = self.config
        seed_everything(c.seed)
        train_index = load_dataset(c.data, sk, images=c.images, warn=ctx.is_main)
        self.missing = list(train_index.missing)
        if c.val_data is not None:
            val_index = load_dataset(c.val_data, sk, images=c.val_images, warn=ctx.is_main)
            train_entries, val_entries = train_index.entries, val_index.entries
            self.val_coco = val_index.coco
        else:
            train_entries, val_entries = split_entries(train_index.entries, c.val_fraction,
                                                       c.seed)
            self.val_coco = train_index.coco
        self.val_entries = val_entries[: c.max_val_images] if c.max_val_images else val_entries
        preprocess = Preprocess(input_height=c.input_size)
        if self.state is not None:
            net = self.resumed_net
        else:
            net = build_network(sk, c.network_config(), preprocess=preprocess)
        self.net = net.to(ctx.device)
        self.dataset = PoseDataset(train_entries, sk, c.input_size, sigma=c.target_sigma,
                                   paf_width=c.paf_width, stride=net.stride, augment=c.augment,
                                   seed=c.seed, pad_value=net.preprocess.pad_value)
        self.sampler = EpochSampler(len(self.dataset), num_replicas=ctx.world_size,
                                    rank=ctx.rank, shuffle=True, seed=c.seed)
        self.steps_per_epoch = math.ceil(self.sampler.num_samples / c.batch_size)
        model: nn.Module = StagesModule(self.net)
        if ctx.enabled:
            from torch.nn.parallel import DistributedDataParallel

            ids = [ctx.device.index] if ctx.device.type == "cuda" else None
            model = DistributedDataParallel(model, device_ids=ids)
        self.model = model
        self.optimizer = torch.optim.Adam(self.net.parameters(), lr=c.lr,
                                          weight_decay=c.weight_decay)
        total = c.epochs * self.steps_per_epoch
        warmup = c.warmup if c.warmup is not None else min(200, int(0.03 * total))
        self.scheduler = torch.optim.lr_scheduler.LambdaLR(
            self.optimizer, LRSchedule(c.schedule, total, warmup))

    # ------------------------------------------------------------------ state
    def _restore(self, ctx: DistContext) -> dict[str, Any]:
        s = self.state
        if s is None:
            return {"epoch": 0, "batch": 0, "step": 0, "epochs": [], "step_losses": [],
                    "best_ap": None, "acc": _new_acc(), "world_size": ctx.world_size}
        self.optimizer.load_state_dict(s["optimizer"])
        for group in self.optimizer.param_groups:  # moved with the weights
            for p in group["params"]:
                for v in self.optimizer.state.get(p, {}).values():
                    if isinstance(v, torch.Tensor) and v.device != p.device and v.ndim:
                        v.data = v.data.to(p.device)
        self.scheduler.load_state_dict(s["scheduler"])
        # more epochs on resume stretch the schedule over the new length
        self.scheduler.lr_lambdas[0].total_steps = self.config.epochs * self.steps_per_epoch
        restore_rng(s["rng"])
        if int(s.get("world_size", 1)) != ctx.world_size and ctx.is_main:
            warnings.warn(f"the run was started with {s.get('world_size')} process(es) and "
                          f"resumes with {ctx.world_size}: the data order changes", stacklevel=2)
        return {"epoch": int(s["epoch"]), "batch": int(s["batch"]), "step": int(s["step"]),
                "epochs": list(s["epochs"]), "step_losses": [float(v) for v in s["step_losses"]],
                "best_ap": s.get("best_ap"), "acc": dict(s["acc"]),
                "world_size": ctx.world_size}

    def _check_weights(self, pos: dict[str, Any]) -> None:
        if not all(bool(torch.isfinite(p).all()) for p in self.net.parameters()):
            self._diverged("the weights became NaN or infinite", pos, pos["step"])

    def _save(self, pos: dict[str, Any], sk: Skeleton, ctx: DistContext) -> None:
        self._check_weights(pos)
        if not ctx.is_main:
            return
        state = {**pos, "config": self.config.to_dict(), "optimizer": self.optimizer.state_dict(),
                 "scheduler": self.scheduler.state_dict(), "rng": capture_rng(),
                 "val_image_ids": [e.image_id for e in self.val_entries]}
        ckpt.write_checkpoint(self.run_dir / ckpt.LAST, self.net, sk, state)
        self.saved_step = pos["step"]

    # ------------------------------------------------------------------ loop
    def _train(self, ctx: DistContext) -> TrainResult:
        c = self.config
        sk = load_skeleton(c.skeleton)
        if self.state is None:
            ckpt.check_new_run_dir(self.run_dir)
        barrier(ctx)
        self._build(ctx, sk)
        pos = self._restore(ctx)
        self.saved_step = pos["step"] if self.state is not None else None
        if ctx.is_main:
            self.run_dir.mkdir(parents=True, exist_ok=True)
        started = time.monotonic()
        loader = DataLoader(self.dataset, batch_size=c.batch_size, sampler=self.sampler,
                            num_workers=c.workers, collate_fn=collate,
                            pin_memory=ctx.device.type == "cuda")
        finished = True
        self.model.train()
        with progress_bar(ctx.is_main and self.console is not None) as bar:
            while pos["epoch"] < c.epochs:
                epoch = pos["epoch"]
                self.sampler.set_position(epoch, pos["batch"] * c.batch_size)
                self._mark = time.monotonic()
                task = bar.add_task(f"epoch {epoch + 1}/{c.epochs}", total=self.steps_per_epoch,
                                    completed=pos["batch"], status="")
                for batch in loader:
                    self._step(batch, pos, sk, ctx)
                    bar.update(task, completed=pos["batch"],
                               status=f"loss {pos['step_losses'][-1]:.4g}")
                    self._log_text(pos, ctx)
                    if self.on_step is not None:
                        self.on_step(StepInfo(epoch, pos["batch"], pos["step"],
                                              pos["step_losses"][-1]))
                    if self._out_of_time(started, ctx):
                        finished = False
                        break
                    if (c.save_every and pos["step"] % c.save_every == 0
                            and pos["batch"] < self.steps_per_epoch):
                        self._save(pos, sk, ctx)
                if not finished:
                    self._save(pos, sk, ctx)
                    self._print(f"time limit of {c.time_limit:g} min reached at step "
                                f"{pos['step']}; continue with --resume", ctx)
                    break
                self._end_epoch(pos, sk, ctx)
                bar.remove_task(task)
        barrier(ctx)
        run = self.run_dir
        return TrainResult(run_dir=run, epochs=pos["epochs"], step_losses=pos["step_losses"],
                           best_ap=pos["best_ap"], last_checkpoint=run / ckpt.LAST,
                           best_checkpoint=(run / ckpt.BEST) if (run / ckpt.BEST).is_file()
                           else None, seconds=time.monotonic() - started, finished=finished,
                           images_skipped=sum(int(e.get("images_skipped") or 0)
                                              for e in pos["epochs"]),
                           missing_images=self.missing)

    def _log_text(self, pos: dict[str, Any], ctx: DistContext) -> None:
        """A line every 30 s when the console is not a terminal (no live progress bar)."""
        if not ctx.is_main or self.console is None or self.console.is_terminal:
            return
        now = time.monotonic()
        if now - getattr(self, "_last_log", 0.0) < 30.0:
            return
        self._last_log = now
        recent = pos["step_losses"][-20:]
        self._print(f"epoch {pos['epoch'] + 1}/{self.config.epochs} batch {pos['batch']}/"
                    f"{self.steps_per_epoch} step {pos['step']}: loss "
                    f"{sum(recent) / len(recent):.4g}, lr "
                    f"{self.optimizer.param_groups[0]['lr']:.3g}", ctx)

    def _out_of_time(self, started: float, ctx: DistContext) -> bool:
        if self.config.time_limit is None:
            return False
        over = torch.tensor(float(time.monotonic() - started > 60 * self.config.time_limit))
        return bool(all_reduce_mean(over.to(ctx.device), ctx).item() > 0)

    def _step(self, batch: Any, pos: dict[str, Any], sk: Skeleton, ctx: DistContext) -> None:
        from posekit.network import autocast

        acc = pos["acc"]
        for item in batch.skipped:
            if ctx.is_main:
                warnings.warn(f"skipping unreadable image {item.path}: {item.reason}",
                              stacklevel=2)
        acc["skipped"] += len(batch.skipped)
        pos["batch"] += 1
        if len(batch) == 0:
            if not ctx.enabled:
                return
            batch = blank_batch(self.dataset, sk)  # keeps the processes in step
        dev = ctx.device
        images = batch.images.to(dev, non_blocking=True)
        x = self.net.preprocess.normalize(images)
        with autocast(dev, self.config.amp):
            paf_stages, heat_stages = self.model(x)
        loss = staged_loss(paf_stages, heat_stages, batch.pafs.to(dev), batch.heatmaps.to(dev),
                           batch.mask.to(dev))
        value = float(all_reduce_mean(loss.total.detach(), ctx))
        if not math.isfinite(value):
            self._diverged(f"the loss became {value}", pos, pos["step"] + 1)
        self.optimizer.zero_grad(set_to_none=True)
        loss.total.backward()
        if self.config.grad_clip:
            norm = torch.nn.utils.clip_grad_norm_(self.net.parameters(), self.config.grad_clip)
            if not torch.isfinite(norm):
                self._diverged("the gradients became infinite or NaN", pos, pos["step"] + 1)
        self.optimizer.step()
        self.scheduler.step()
        pos["step"] += 1
        pos["step_losses"].append(value)
        acc["loss"] += value
        acc["paf"] += float(all_reduce_mean(loss.paf, ctx))
        acc["heatmap"] += float(all_reduce_mean(loss.heatmap, ctx))
        acc["steps"] += 1
        now = time.monotonic()
        acc["seconds"] += now - self._mark
        self._mark = now

    def _diverged(self, what: str, pos: dict[str, Any], step: int) -> None:
        last = self.run_dir / ckpt.LAST
        kept = (f"the last good checkpoint {str(last)!r} (step {self.saved_step}) is kept; "
                "resume from it with a lower --lr" if self.saved_step is not None
                else "no checkpoint had been written yet; restart with a lower --lr")
        raise TrainingDiverged(f"training stopped: {what} at epoch {pos['epoch'] + 1}, step "
                               f"{step}; {kept}")

    def _end_epoch(self, pos: dict[str, Any], sk: Skeleton, ctx: DistContext) -> None:
        c = self.config
        self._check_weights(pos)
        acc = pos["acc"]
        skipped = int(all_reduce_mean(torch.tensor(float(acc["skipped"]), device=ctx.device),
                                      ctx).item() * ctx.world_size + 0.5)
        row: dict[str, Any] = {
            "epoch": pos["epoch"] + 1, "step": pos["step"],
            "loss": acc["loss"] / max(acc["steps"], 1),
            "paf_loss": acc["paf"] / max(acc["steps"], 1),
            "heatmap_loss": acc["heatmap"] / max(acc["steps"], 1),
            "val_ap": None, "val_ap50": None, "lr": self.optimizer.param_groups[0]["lr"],
            "seconds": acc["seconds"],
            "images_skipped": skipped,
        }
        improved = False
        if ctx.is_main and self.val_entries:
            result = validate(self.net, self.val_coco, self.val_entries, sk, c.input_size,
                              parser=c.parser, device=ctx.device, batch_size=c.batch_size)
            row["val_ap"], row["val_ap50"] = result.metrics.get("ap"), result.metrics.get("ap50")
            row["images_skipped"] += len(result.skipped)
            ap = row["val_ap"]
            if ap is not None and (pos["best_ap"] is None or ap > pos["best_ap"]):
                pos["best_ap"] = float(ap)
                improved = True
        pos["epochs"].append(row)
        pos["epoch"] += 1
        pos["batch"] = 0
        pos["acc"] = _new_acc()
        if ctx.is_main:
            self._save(pos, sk, ctx)
            if improved or not (self.run_dir / ckpt.BEST).is_file():
                summary = {"config": c.to_dict(), "epoch": row["epoch"], "step": row["step"],
                           "val_ap": row["val_ap"], "val_ap50": row["val_ap50"]}
                ckpt.write_checkpoint(self.run_dir / ckpt.BEST, self.net, sk, summary)
            write_metrics(self.run_dir, c.to_dict(), pos["epochs"], pos["step_losses"])
            plot_losses(self.run_dir / "loss.png", pos["step_losses"], pos["epochs"])
            ap = "-" if row["val_ap"] is None else f"{row['val_ap']:.3f}"
            self._print(f"epoch {row['epoch']}/{c.epochs}: loss {row['loss']:.4g}, "
                        f"val AP {ap}{' (best)' if improved else ''}", ctx)
        barrier(ctx)


def _new_acc() -> dict[str, Any]:
    return {"loss": 0.0, "paf": 0.0, "heatmap": 0.0, "steps": 0, "skipped": 0, "seconds": 0.0}
