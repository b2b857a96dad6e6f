"""``posekit weights import``: convert other projects' trained weights to posekit checkpoints."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from posekit.cli.common import SkeletonOpt


class Source(StrEnum):
    pytorch_openpose = "pytorch-openpose"


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Import trained weights from other projects.",
        no_args_is_help=True,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @group.command("import")
    def import_(
        src: Annotated[Path, typer.Argument(
            metavar="SRC.pth", help="Weights file, e.g. body_pose_model.pth.")],
        out: Annotated[Path, typer.Option("--out", "-o", help="Checkpoint to write (.pt).")],
        source: Annotated[Source, typer.Option(
            "--from", help="Where the weights come from.")] = Source.pytorch_openpose,
        skeleton: SkeletonOpt = "coco18",
    ) -> None:
        """Convert OpenPose's COCO body weights (pytorch-openpose's body_pose_model.pth).

        Writes a cvpr2017-layout checkpoint with OpenPose's preprocessing.
        OpenPose's weights are under CMU's non-commercial license.
        """
        from posekit.network.openpose_import import import_openpose_weights

        path = import_openpose_weights(src, out, source_format=source.value, skeleton=skeleton)
        typer.echo(f"wrote {path} ({source.value} weights, skeleton {skeleton}, "
                   "layout cvpr2017; OpenPose weights are for non-commercial use)")

    app.add_typer(group, name="weights")
