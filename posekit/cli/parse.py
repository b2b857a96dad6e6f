"""``posekit parse``: a maps file (.npz) -> people as OpenPose JSON (no network, no torch)."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from posekit.cli.common import DEFAULT_PARSER, DecodeOpt, ParserOpt, SkeletonOpt, check_output

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
        parser: ParserOpt = DEFAULT_PARSER,
        out: Annotated[Path | None, typer.Option(
            "--out", "-o", metavar="FILE.json",
            help="Write the people here (default: standard output).")] = None,
        time_limit: Annotated[float | None, typer.Option(
            "--time-limit", min=0.0, metavar="SEC",
            help="Time limit of the ILP parsers (full-ilp, tree-ilp).")] = None,
        peak_threshold: Annotated[float | None, typer.Option(
            "--peak-threshold", help="Heatmap NMS threshold (default: the preset's, 0.05).")
        ] = None,
        upsample: Annotated[UpsampleMode | None, typer.Option(
            "--upsample",
            help="patch: upsampled maps around each peak only (fast); full: whole maps "
                 "upsampled to the image (OpenPose); none: peaks at map resolution "
                 "(default: the preset's: patch, or full for openpose).")
        ] = None,
        decode: DecodeOpt = "posekit",
    ) -> None:
        """Parse network maps into people (OpenPose JSON); a summary goes to stderr."""
        import json
        import time
        from dataclasses import replace

        from posekit.decode import (
            check_parser_options,
            decode_preset,
            parse_maps,
            with_preset_rules,
        )
        from posekit.maps import check_full_upsample, load_maps
        from posekit.parsers import get_parser
        from posekit.people import people_to_openpose, write_json_atomic
        from posekit.skeleton import load_skeleton

        check_output(out, "--out")
        preset = decode_preset(decode)
        config = replace(preset.config, **{k: v for k, v in (
            ("peak_threshold", peak_threshold),
            ("upsample", None if upsample is None else upsample.value)) if v is not None})
        options: dict = {} if time_limit is None else {"time_limit": time_limit}
        options = with_preset_rules(parser, options, preset.rules)
        check_parser_options(parser, options)
        made = get_parser(parser, **options)
        sk = load_skeleton(skeleton)
        heatmaps, pafs, image_size = load_maps(maps)
        if config.upsample == "full":
            check_full_upsample(heatmaps, pafs, image_size)
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
