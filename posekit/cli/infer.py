"""``posekit infer``: people in images, folders and videos -> JSON + overlays."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from posekit.cli.common import DecodeOpt, ParserOpt, SkeletonOpt
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
    "--batch-size", min=1, help="Images per forward pass (default 8 on CUDA, 1 on CPU); "
                                "only same-size images share one, so results do not "
                                "depend on it.")]


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
            help="Images, folders (searched recursively) and videos (pip install "
                 "posekit[video]; opencv-python or imageio also work).")],
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
        workers: Annotated[int | None, typer.Option(
            "--workers", min=0,
            help="Processes that decode and parse while the network runs (0: none, "
                 "the network's thread decodes; default: none on a CPU, one less than "
                 "the cores, at most 4, on CUDA; none for fewer than 16 "
                 "images/frames).")] = None,
        streams: Annotated[int | None, typer.Option(
            "--streams", min=1,
            help="Network passes at once, each with its share of the CPU threads, "
                 "decoding its own maps (default: one per CPU thread, at most 4, on a "
                 "CPU; 1 on CUDA or with --compile).")] = None,
        compile_net: Annotated[bool, typer.Option(
            "--compile", help="Run the network through torch.compile (pays off on long "
                              "CUDA runs).")] = False,
        decode: DecodeOpt = "posekit",
    ) -> None:
        """Find people in images, folders and videos; write OpenPose JSON and overlays.

        Per image: <stem>_keypoints.json (keypoints in original pixels) and <stem>_overlay.png.

        Folders are searched recursively; their files keep their sub-folders under --out
        (inputs with the same name in different folders keep their folders apart).

        Videos: <stem>_<frame>_keypoints.json per frame (OpenPose's naming), an overlay
        video at the source's frame rate and <stem>_video.json when done.

        Finished inputs are skipped (--overwrite redoes them); an interrupted video
        continues where it stopped.

        A failing input is reported and skipped; the exit code is then 1.

        Under torchrun (torchrun --nproc-per-node N -m posekit infer ...) each process
        takes every N-th input; with --format coco rank 0 merges coco_results.json.
        """
        import time

        from posekit.cli.common import check_output

        check_output(out, "--out", folder=True)  # before any work
        started = time.perf_counter()
        from posekit.inference.ranks import join, leave

        ranks = join(device)
        try:
            estimator = dict(
                skeleton=skeleton, weights=weights, parser=parser,
                device=ranks.device or device, scales=parse_scales(scales),
                batch_size=batch_size, max_side=max_side,
                max_pixels=int(max_megapixels * 1e6), warn_demo=False, compile=compile_net,
                streams=streams,
                decode_options={"decode": decode})
            failed = _run(ranks, inputs, out, estimator, fmt.value, overlay, overwrite,
                          workers, started)
            ranks.barrier()
        finally:
            leave(ranks)
        if failed:
            raise typer.Exit(1)


def _run(ranks: Any, inputs: list[Path], out: Path, estimator: dict[str, Any], fmt: str,
         overlay: bool, overwrite: bool, workers: int | None, started: float) -> bool:
    """One process's share of ``posekit infer``; returns whether any input failed."""
    import time

    from posekit.inference import DEMO_WEIGHTS_NOTE, PoseEstimator, example_image
    from posekit.inference.runner import expected_frames, plan_jobs, run_jobs

    plan = plan_jobs(inputs, out)
    est = PoseEstimator(**estimator)
    err = _console(stderr=True)
    if ranks.rank == 0 and est.uses_demo_weights and any(
            j.source.resolve() != example_image().resolve() for j in plan.jobs):
        err.print(f"note: {DEMO_WEIGHTS_NOTE}", soft_wrap=True, markup=False)

    mine = plan.share(ranks.rank, ranks.world)
    total = sum(expected_frames(j) for j in mine)
    if workers is None and total < MIN_FRAMES_FOR_WORKERS:
        workers = 0  # starting processes would cost more than they save
    with _progress(err, total) as bar:
        task = bar.add_task(f"{ranks.prefix}infer", total=total) if bar is not None else None

        def advance(n: int) -> None:
            if bar is not None:
                bar.advance(task, n)

        def report(failure) -> None:  # noqa: ANN001
            err.print(f"error: {ranks.prefix}{failure.line()}", soft_wrap=True, markup=False,
                      highlight=False)

        summary = run_jobs(est, plan, fmt=fmt, overlay=overlay, overwrite=overwrite,
                           report=report, advance=advance, workers=workers, ranks=ranks)

    parts = [f"{summary.done} done"]
    if summary.skipped:
        parts.append(f"{summary.skipped} skipped (outputs exist; --overwrite to redo)")
    if summary.failures:
        parts.append(f"{len(summary.failures)} failed")
    rate = (f", {summary.images_per_second:.1f} images/s"
            if summary.frames and summary.seconds > 0 else "")
    shown = f" of {summary.inputs} input{'s' if summary.inputs != 1 else ''}"
    typer.echo(
        f"{ranks.prefix}{', '.join(parts)}{shown}; {summary.people} people in "
        f"{summary.frames} image{'s' if summary.frames != 1 else ''} on {est.device.type}"
        f"{rate} ({time.perf_counter() - started:.1f} s) -> {out}"
    )
    return bool(summary.failures)


# below this many images + frames, decoding stays in the main process
MIN_FRAMES_FOR_WORKERS = 16


def _console(stderr: bool = False):  # noqa: ANN202 - rich is imported lazily
    from rich.console import Console

    return Console(stderr=stderr, highlight=False)


def _progress(console, total: int):  # noqa: ANN001, ANN202
    """A progress bar over images + video frames (with frames/s and the time left) on an
    interactive terminal, else a no-op context."""
    import contextlib

    if total < 2 or not console.is_terminal:
        return contextlib.nullcontext(None)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        ProgressColumn,
        TextColumn,
        TimeRemainingColumn,
    )
    from rich.text import Text

    class Rate(ProgressColumn):
        def render(self, task) -> Text:  # noqa: ANN001
            speed = task.finished_speed or task.speed
            return Text("" if speed is None else f"{speed:.1f} frames/s")

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    Rate(), TimeRemainingColumn(), console=console, transient=True)
