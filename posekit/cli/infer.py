"""``posekit infer``: people in images, folders and videos -> JSON + overlays."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from posekit.cli.common import ParserOpt, SkeletonOpt
from posekit.errors import PosekitError

__all__ = ["register", "parse_scales", "WeightsOpt", "DeviceOpt", "ScalesOpt", "BatchOpt"]


class Format(StrEnum):
    openpose = "openpose"
    coco = "coco"


WeightsOpt = Annotated[Path | None, typer.Option(
    "--weights", "-w", metavar="W.pt",
    help="posekit checkpoint (from `posekit train` or `posekit weights import`). "
         "Default for coco18: the bundled demo weights.")]
DeviceOpt = Annotated[str, typer.Option(
    "--device", "-d", help="auto (CUDA when present), cpu or cuda.")]
ScalesOpt = Annotated[str, typer.Option(
    "--scales", metavar="S[,S...]",
    help="Input heights as multiples of the network's (e.g. 1,0.75,0.5); maps are averaged "
         "over scales as OpenPose does.")]
BatchOpt = Annotated[int | None, typer.Option(
    "--batch-size", min=1, help="Images per forward pass (default 8 on CUDA, 1 on CPU).")]


def parse_scales(text: str) -> tuple[float, ...]:
    """``"1,0.75"`` -> (1.0, 0.75); a clear error for anything else."""
    parts = [p.strip() for p in text.replace(" ", ",").split(",") if p.strip()]
    try:
        scales = tuple(float(p) for p in parts)
    except ValueError:
        raise PosekitError(
            f"--scales {text!r}: expected comma-separated numbers such as 1,0.75,0.5"
        ) from None
    if not scales:
        raise PosekitError("--scales: give at least one scale, e.g. --scales 1")
    return scales


def register(app: typer.Typer) -> None:
    @app.command("infer")
    def infer(
        inputs: Annotated[list[Path], typer.Argument(
            metavar="INPUT",
            help="Images, folders (searched recursively) and videos (with av, opencv-python "
                 "or imageio installed).")],
        skeleton: SkeletonOpt,
        weights: WeightsOpt = None,
        out: Annotated[Path, typer.Option(
            "--out", "-o", help="Output folder.")] = Path("posekit-out"),
        parser: ParserOpt = "hungarian",
        device: DeviceOpt = "auto",
        scales: ScalesOpt = "1",
        fmt: Annotated[Format, typer.Option(
            "--format", "-f",
            help="openpose: OpenPose JSON per image. coco: COCO results per image, plus "
                 "coco_results.json for all (image_id = the file name's number, else its "
                 "position; see coco_image_ids.json).")] = Format.openpose,
        overlay: Annotated[bool, typer.Option(
            "--overlay/--no-overlay", help="Also write <stem>_overlay.png.")] = True,
        overwrite: Annotated[bool, typer.Option(
            "--overwrite", help="Redo inputs whose outputs already exist.")] = False,
        batch_size: BatchOpt = None,
        max_side: Annotated[int, typer.Option(
            "--max-side", min=64,
            help="Downscale images whose longer side exceeds this on load.")] = 2048,
        max_megapixels: Annotated[float, typer.Option(
            "--max-megapixels", min=0.001,
            help="Refuse images larger than this.")] = 178.0,
    ) -> None:
        """Find people in images, folders and videos; write OpenPose JSON and overlays.

        Per image: <stem>_keypoints.json (keypoints in original pixels) and <stem>_overlay.png.

        Folders are searched recursively; their files keep their sub-folders under --out.

        Finished inputs are skipped (--overwrite redoes them).

        A failing input is reported and skipped; the exit code is then 1.
        """
        import time

        from posekit.inference import DEMO_WEIGHTS_NOTE, PoseEstimator, example_image
        from posekit.inference.runner import plan_jobs, run_jobs

        started = time.perf_counter()
        plan = plan_jobs(inputs, out)
        est = PoseEstimator(
            skeleton, weights, parser=parser, device=device, scales=parse_scales(scales),
            batch_size=batch_size, max_side=max_side,
            max_pixels=int(max_megapixels * 1e6), warn_demo=False,
        )
        err = _console(stderr=True)
        if est.uses_demo_weights and any(
                j.source.resolve() != example_image().resolve() for j in plan.jobs):
            err.print(f"note: {DEMO_WEIGHTS_NOTE}", soft_wrap=True, markup=False)

        total = len(plan.jobs)
        with _progress(err, total) as bar:
            task = bar.add_task("infer", total=total) if bar is not None else None

            def advance(n: int) -> None:
                if bar is not None:
                    bar.advance(task, n)

            def report(failure) -> None:  # noqa: ANN001
                err.print(f"error: {failure.line()}", soft_wrap=True, markup=False,
                          highlight=False)

            summary = run_jobs(est, plan, fmt=fmt.value, overlay=overlay,
                               overwrite=overwrite, report=report, advance=advance)

        parts = [f"{summary.done} done"]
        if summary.skipped:
            parts.append(f"{summary.skipped} skipped (outputs exist; --overwrite to redo)")
        if summary.failures:
            parts.append(f"{len(summary.failures)} failed")
        rate = (f", {summary.images_per_second:.1f} images/s"
                if summary.frames and summary.seconds > 0 else "")
        typer.echo(
            f"{', '.join(parts)}; {summary.people} people in {summary.frames} "
            f"image{'s' if summary.frames != 1 else ''} on {est.device.type}{rate} "
            f"({time.perf_counter() - started:.1f} s) -> {out}"
        )
        if summary.failures:
            raise typer.Exit(1)


def _console(stderr: bool = False):  # noqa: ANN202 - rich is imported lazily
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def _progress(console, total: int):  # noqa: ANN001, ANN202
    """A progress bar over inputs on an interactive terminal, else a no-op context."""
    import contextlib

    if total < 2 or not console.is_terminal:
        return contextlib.nullcontext(None)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeRemainingColumn,
    )

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeRemainingColumn(), console=console, transient=True)
