"""``posekit train``: train a network on a COCO-format dataset (also under torchrun)."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Annotated, Any

import typer

from posekit.cli.common import DEFAULT_PARSER, SkeletonOpt, check_output

_ARCH = "Architecture"
_OPT = "Optimisation"
_DATA = "Data"
_RUN = "Run"


def _opt(*names: str, help: str, panel: str) -> Any:
    return typer.Option(*names, help=help, rich_help_panel=panel, show_default=False)


def register(app: typer.Typer) -> None:
    @app.command("train")
    def train(
        skeleton: SkeletonOpt,
        data: Annotated[Path, typer.Option(
            "--data", help="COCO-format dataset folder (annotations.json + images/).")],
        out: Annotated[Path, typer.Option("--out", "-o", help="Run folder (new, or with "
                                          "--resume an existing run).")],
        resume: Annotated[bool, typer.Option(
            "--resume", help="Continue the run in --out from its last checkpoint.")] = False,
        val_data: Annotated[Path | None, _opt(
            "--val-data", help="Validation dataset (default: hold out 10% of --data).",
            panel=_DATA)] = None,
        images: Annotated[Path | None, _opt(
            "--images", help="Image folder of --data (default: images/ beside the "
            "annotations).", panel=_DATA)] = None,
        val_images: Annotated[Path | None, _opt(
            "--val-images", help="Image folder of --val-data.", panel=_DATA)] = None,
        epochs: Annotated[int | None, _opt("--epochs", help="Epochs (default: 10).",
                                           panel=_OPT)] = None,
        batch_size: Annotated[int | None, _opt(
            "--batch-size", help="Images per step and process (default: 8).", panel=_OPT)] = None,
        lr: Annotated[float | None, _opt("--lr", help="Peak Adam learning rate (default: 1e-3).",
                                         panel=_OPT)] = None,
        schedule: Annotated[str | None, _opt(
            "--schedule", help="cosine | step | constant, after warm-up (default: cosine).",
            panel=_OPT)] = None,
        input_size: Annotated[int | None, _opt(
            "--input-size", help="Square training crop in pixels, multiple of 8 "
            "(default: 256).", panel=_DATA)] = None,
        sigma: Annotated[float | None, _opt(
            "--sigma", help="Confidence-map sigma in input pixels (default: 7).",
            panel=_DATA)] = None,
        no_augment: Annotated[bool, typer.Option(
            "--no-augment", help="No scale/rotation/crop/flip augmentation.",
            rich_help_panel=_DATA)] = False,
        backbone: Annotated[str | None, _opt("--backbone", help="vgg19 | light (default: light).",
                                             panel=_ARCH)] = None,
        paf_stages: Annotated[int | None, _opt("--paf-stages", help="PAF stages (default: 2).",
                                               panel=_ARCH)] = None,
        cm_stages: Annotated[int | None, _opt(
            "--cm-stages", help="Confidence-map stages (default: 1).", panel=_ARCH)] = None,
        block: Annotated[str | None, _opt("--block", help="3x3 | 7x7 (default: 3x3).",
                                          panel=_ARCH)] = None,
        order: Annotated[str | None, _opt("--order", help="paf-first | cm-first "
                                          "(default: paf-first).", panel=_ARCH)] = None,
        width: Annotated[int | None, _opt("--width", help="Channels per stage conv "
                                          "(default: 64).", panel=_ARCH)] = None,
        workers: Annotated[int | None, _opt(
            "--workers", help="Data-loading processes (default: 0).", panel=_RUN)] = None,
        device: Annotated[str | None, _opt("--device", help="auto | cpu | cuda (default: auto).",
                                           panel=_RUN)] = None,
        amp: Annotated[bool | None, _opt("--amp/--no-amp", help="bf16 autocast on CUDA.",
                                         panel=_RUN)] = None,
        seed: Annotated[int | None, _opt("--seed", help="Random seed (default: 0).",
                                         panel=_RUN)] = None,
        parser: Annotated[str | None, _opt(
            "--parser", help=f"Parser for validation AP (default: {DEFAULT_PARSER}).",
            panel=_RUN)] = None,
        save_every: Annotated[int | None, _opt(
            "--save-every", help="Also checkpoint every N steps (default: each epoch).",
            panel=_RUN)] = None,
        time_limit: Annotated[float | None, _opt(
            "--time-limit", help="Stop with a checkpoint after this many minutes.",
            panel=_RUN)] = None,
        threads: Annotated[int | None, _opt(
            "--threads", help="CPU threads per process (default: cores / processes).",
            panel=_RUN)] = None,
        max_val_images: Annotated[int | None, _opt(
            "--max-val-images", help="Validate on at most N images.", panel=_RUN)] = None,
    ) -> None:
        """Train a network: staged masked L2 loss, Adam, validation OKS AP every epoch,
        metrics.csv/json, loss.png, last.pt/best.pt checkpoints. Multi-GPU / multi-machine:
        torchrun --nproc_per_node N -m posekit train ..."""
        from posekit.cli.common import console
        from posekit.training.augment import AugmentConfig
        from posekit.training.config import TrainConfig
        from posekit.training.loop import resume as resume_run
        from posekit.training.loop import train as train_run

        check_output(out, "--out", folder=True)
        sk_name = str(Path(skeleton).resolve()) if skeleton.lower().endswith(".toml") else skeleton
        options = {
            "data": str(data.resolve()), "val_data": str(val_data.resolve()) if val_data else None,
            "images": str(images.resolve()) if images else None,
            "val_images": str(val_images.resolve()) if val_images else None,
            "epochs": epochs, "batch_size": batch_size, "lr": lr, "schedule": schedule,
            "input_size": input_size, "sigma": sigma, "backbone": backbone,
            "paf_stages": paf_stages, "cm_stages": cm_stages, "block": block, "order": order,
            "width": width, "workers": workers, "device": device, "amp": amp, "seed": seed,
            "parser": parser, "save_every": save_every, "time_limit": time_limit,
            "threads": threads, "max_val_images": max_val_images,
        }
        given = {k: v for k, v in options.items() if v is not None}
        if no_augment:
            given["augment"] = AugmentConfig(enabled=False)
        out_console = console() if os.environ.get("RANK", "0") == "0" else None
        if resume:
            result = resume_run(out, given, skeleton=sk_name, console=out_console)
        else:
            config = TrainConfig(skeleton=sk_name, out=str(out), **given)
            result = train_run(config, console=out_console)
        if out_console is None:
            return
        best = "-" if result.best_ap is None else f"{result.best_ap:.3f}"
        out_console.print(f"{'stopped' if not result.finished else 'done'} after "
                          f"{len(result.step_losses)} steps in {result.seconds / 60:.1f} min; "
                          f"best validation AP {best}")
        if result.best_checkpoint is not None:
            out_console.print(f"weights: {result.best_checkpoint} (best), "
                              f"{result.last_checkpoint} (last)")
        if result.images_skipped or result.missing_images:
            out_console.print(f"images skipped: {result.images_skipped} unreadable, "
                              f"{len(result.missing_images)} missing")
