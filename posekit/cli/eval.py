"""``posekit eval``: OKS AP / AP50 / AP75 / AR and per-keypoint errors on a COCO dataset."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from posekit.cli.common import DEFAULT_PARSER, DecodeOpt, ParserOpt, SkeletonOpt, check_output
from posekit.cli.infer import BatchOpt, DeviceOpt, ScalesOpt, WeightsOpt, parse_scales
from posekit.errors import PosekitError

__all__ = ["register"]


def register(app: typer.Typer) -> None:
    @app.command("eval")
    def eval_(
        skeleton: SkeletonOpt,
        data: Annotated[Path, typer.Option(
            "--data", metavar="DIR|ANNOTATIONS.json",
            help="COCO keypoint dataset: a folder with annotations.json and images/ "
                 "(as `posekit synth` writes), or the annotations file itself (e.g. COCO's "
                 "annotations/person_keypoints_val2017.json, with --images val2017).")],
        images: Annotated[Path | None, typer.Option(
            "--images", metavar="DIR",
            help="Folder holding the images the annotations name (default: images/ beside "
                 "the annotations file).")] = None,
        weights: WeightsOpt = None,
        parser: ParserOpt = DEFAULT_PARSER,
        decode: DecodeOpt = "posekit",
        json_out: Annotated[Path | None, typer.Option(
            "--json", metavar="FILE", help="Also write the results as JSON.")] = None,
        device: DeviceOpt = "auto",
        scales: ScalesOpt = "1",
        batch_size: BatchOpt = None,
        limit: Annotated[int | None, typer.Option(
            "--limit", min=1, help="Evaluate only the first N images.")] = None,
    ) -> None:
        """Score a network on a COCO keypoint dataset: OKS AP, AP50, AP75, AR (pycocotools).

        Per-keypoint errors are measured on people matched to the ground truth (OKS >= 0.5).

        Images that cannot be read are reported and left out; the exit code is then 1.
        """
        from posekit.coco import load_coco_keypoints
        from posekit.inference import PoseEstimator
        from posekit.inference.evaluate import evaluate_estimator
        from posekit.people import write_json_atomic
        from posekit.skeleton import load_skeleton

        check_output(json_out, "--json")
        if images is not None and not images.is_dir():
            raise PosekitError(f"--images {str(images)!r} is not a folder; pass the folder "
                               "holding the dataset's images (e.g. COCO's val2017/)")
        sk = load_skeleton(skeleton)
        dataset = load_coco_keypoints(data, sk)
        dataset.image_root = images
        if not dataset.image_dir().is_dir():
            raise PosekitError(f"{dataset.path}: no image folder {str(dataset.image_dir())!r}; "
                               "pass --images DIR (e.g. COCO's val2017/)")
        est = PoseEstimator(sk, weights, parser=parser, device=device,
                            scales=parse_scales(scales), batch_size=batch_size,
                            warn_demo=False, decode_options={"decode": decode})
        err = _console()

        def report(name: str, message: str, error: bool) -> None:
            kind = "error" if error else "warning"
            text = message if message.startswith(str(dataset.image_dir())) else (
                f"{name}: {message}")
            err.print(f"{kind}: {text}", soft_wrap=True, markup=False)

        total = min(len(dataset), limit) if limit else len(dataset)
        with _progress(err, total) as bar:
            task = bar.add_task("eval", total=total) if bar is not None else None
            result = evaluate_estimator(
                est, dataset, limit=limit, report=report,
                advance=(lambda n: bar.advance(task, n)) if bar is not None else None)

        doc = {
            "skeleton": sk.name,
            "weights": str(est.weights),
            "demo_weights": est.uses_demo_weights,
            "data": str(dataset.path),
            "parser": est.parser_name,
            "scales": list(est.scales),
            "device": str(est.device),
            **result,
        }
        if json_out is not None:
            write_json_atomic(json_out, doc, indent=2)
        _print(doc)
        if result["failed"]:
            raise typer.Exit(1)


def _fmt(value: float | None, digits: int = 3) -> str:
    return "-" if value is None else f"{value:.{digits}f}"


def _print(doc: dict) -> None:
    from rich.console import Console
    from rich.table import Table

    out = Console(highlight=False)
    m = doc["metrics"]
    rate = doc["images_per_second"]
    out.print(f"{doc['skeleton']} on {doc['data']}: {doc['images']} images, "
              f"{m.get('gt_people', 0)} people, {m.get('detections', 0)} detections "
              f"(parser {doc['parser']}, {doc['device']}"
              f"{f', {rate:.1f} images/s' if rate else ''})")
    out.print("  ".join(f"{k.upper()} {_fmt(m.get(k))}"
                        for k in ("ap", "ap50", "ap75", "ar")))
    table = Table(title="per keypoint (matched people)", title_justify="left")
    for col in ("keypoint", "found", "mean px", "median px", "mean / size"):
        table.add_column(col, justify="left" if col == "keypoint" else "right")
    for row in doc["per_keypoint"]:
        table.add_row(row["keypoint"], _fmt(row["found_fraction"], 2), _fmt(row["mean_px"], 1),
                      _fmt(row["median_px"], 1), _fmt(row["mean_relative"], 3))
    out.print(table)


def _console():  # noqa: ANN202 - rich is imported lazily
    from rich.console import Console

    return Console(stderr=True, highlight=False)


def _progress(console, total: int):  # noqa: ANN001, ANN202
    from posekit.cli.infer import _progress as progress

    return progress(console, total)
