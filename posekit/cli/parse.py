"""``posekit parse``: a maps file (.npz) -> people as OpenPose JSON (no network, no torch)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from posekit.cli.common import ParserOpt, SkeletonOpt
from posekit.errors import PosekitError

__all__ = ["register"]


class UpsampleMode(StrEnum):
    patch = "patch"
    full = "full"
    none = "none"


def register(app: typer.Typer) -> None:
    @app.command("parse")
    def parse(
        skeleton: SkeletonOpt,
        maps: Annotated[Path, typer.Option(
            "--maps", "-m", metavar="MAPS.npz",
            help="Maps file: heatmaps (h, w, K+1) and pafs (h, w, 2L) float32, optionally "
                 "image_size (width, height) of the image they cover.")],
        parser: ParserOpt = "greedy",
        out: Annotated[Path | None, typer.Option(
            "--out", "-o", metavar="FILE.json",
            help="Write the people here (default: standard output).")] = None,
        time_limit: Annotated[float | None, typer.Option(
            "--time-limit", min=0.0, metavar="SEC",
            help="Time limit of the ILP parsers (full-ilp, tree-ilp).")] = None,
        peak_threshold: Annotated[float, typer.Option(
            "--peak-threshold", help="Heatmap NMS threshold.")] = 0.05,
        upsample: Annotated[UpsampleMode, typer.Option(
            "--upsample",
            help="patch: upsampled maps around each peak only (fast); full: whole maps "
                 "upsampled to the image (OpenPose); none: peaks at map resolution.")
        ] = UpsampleMode.patch,
    ) -> None:
        """Parse network maps into people (OpenPose JSON); a summary goes to stderr."""
        import json
        import time

        from posekit.decode import DecodeConfig, check_parser_options, parse_maps
        from posekit.maps import load_maps
        from posekit.parsers import get_parser
        from posekit.people import people_to_openpose, write_json_atomic
        from posekit.skeleton import load_skeleton

        if out is not None and out.is_dir():
            raise PosekitError(f"--out {str(out)!r} is a directory; give a .json file path")
        sk = load_skeleton(skeleton)
        heatmaps, pafs, image_size = load_maps(maps)
        config = DecodeConfig(peak_threshold=peak_threshold, upsample=upsample.value)
        options = {} if time_limit is None else {"time_limit": time_limit}
        check_parser_options(parser, options)
        made = get_parser(parser, **options)
        start = time.perf_counter()
        people = parse_maps(heatmaps, pafs, sk, made, image_size, config=config)
        ms = (time.perf_counter() - start) * 1e3
        data = people_to_openpose(people)
        if out is None:
            typer.echo(json.dumps(data))
        else:
            write_json_atomic(out, data)
        count = f"{len(people)} {'person' if len(people) == 1 else 'people'}"
        typer.echo(f"{count}, parser {parser}, {ms:.1f} ms", err=True)
