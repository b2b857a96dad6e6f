"""``posekit weights import|show``: bring in trained weights; describe a checkpoint."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated, Any

import typer

from posekit.cli.common import JsonFlag, SkeletonOpt


class Source(StrEnum):
    pytorch_openpose = "pytorch-openpose"
    openpose = "openpose"


def _check_out(out: Path, force: bool) -> None:
    """Refuse an --out that cannot be written, or that exists without --force, up front."""
    from posekit.cli.common import check_output
    from posekit.errors import PosekitError

    check_output(out, "--out")
    if out.exists() and not force:
        raise PosekitError(f"--out {str(out)!r} already exists; pass --force to overwrite it")


def describe_checkpoint(path: Path) -> dict[str, Any]:
    """What ``posekit weights show`` prints, as JSON-ready data."""
    from posekit.errors import PosekitError
    from posekit.network import count_parameters, load_checkpoint

    if path.suffix.lower() in (".caffemodel", ".prototxt"):
        raise PosekitError(f"{str(path)!r} is an OpenPose (Caffe) file, not a posekit "
                           "checkpoint; convert it with `posekit weights import --from "
                           "openpose MODEL.caffemodel --skeleton S --out W.pt`")
    net, meta = load_checkpoint(path)
    full = meta.declared_skeleton
    extra = meta.extra
    return {
        "file": str(path),
        "skeleton": full.name,
        "layout_hash": full.layout_hash,
        "keypoints": full.num_keypoints,
        "limbs": {"network": meta.skeleton.num_limbs, "skeleton": full.num_limbs,
                  "missing": [list(limb) for limb in full.all_limbs
                              if limb not in set(meta.skeleton.all_limbs)]},
        "channels": {"heatmaps": meta.skeleton.num_heatmap_channels,
                     "pafs": meta.skeleton.num_paf_channels},
        "architecture": meta.config.to_dict(),
        "parameters": count_parameters(net),
        "preprocess": meta.preprocess.to_dict(),
        "source": extra.get("source", "posekit"),
        "source_model": extra.get("source_model"),
        "source_file": extra.get("source_file"),
        "license": extra.get("license"),
        "posekit_version": meta.posekit_version,
    }


def _print(info: dict[str, Any]) -> None:
    from posekit.cli.common import console

    arch = info["architecture"]
    pre = info["preprocess"]
    limbs = info["limbs"]
    covered = f"{limbs['network']} of {limbs['skeleton']}"
    if limbs["missing"]:
        covered += " (no PAFs for " + ", ".join("-".join(p) for p in limbs["missing"]) + ")"
    source = info["source"]
    if info["source_model"]:
        source += f" {info['source_model']}"
    if info["source_file"]:
        source += f" ({info['source_file']})"
    scale = ("x/256 - 0.5" if tuple(pre["mean"]) == (128.0,) * 3 and
             tuple(pre["std"]) == (256.0,) * 3 else f"(x - {pre['mean']}) / {pre['std']}")
    rows = [
        ("skeleton", f"{info['skeleton']} ({info['keypoints']} keypoints)"),
        ("layout hash", info["layout_hash"]),
        ("limbs", covered),
        ("maps", f"{info['channels']['heatmaps']} heatmaps, {info['channels']['pafs']} PAFs"),
        ("architecture", f"{arch['layout']} ({arch['backbone']}, {arch['paf_stages']} PAF + "
                         f"{arch['cm_stages']} heatmap stages, {arch['block']} blocks, "
                         f"width {arch['width']})"),
        ("parameters", f"{info['parameters']:,}"),
        ("preprocess", f"{pre['channel_order']}, {scale}, {pre['input_height']} px high, "
                       f"padded with {pre['pad_value']} to a multiple of {pre['stride']}"),
        ("source", source),
        ("license", info["license"] or "not recorded"),
        ("posekit", info["posekit_version"]),
    ]
    out = console()
    width = max(len(k) for k, _ in rows)
    for key, value in rows:
        out.print(f"{key:<{width}}  {value}", soft_wrap=True, markup=False)


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="Import trained weights from other projects; describe a checkpoint.",
        no_args_is_help=True,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @group.command("import")
    def import_(
        src: Annotated[Path, typer.Argument(
            metavar="SRC", help="Weights file: OpenPose's MODEL.caffemodel, or "
                                "pytorch-openpose's body_pose_model.pth.")],
        out: Annotated[Path, typer.Option("--out", "-o", help="Checkpoint to write (.pt).")],
        source: Annotated[Source, typer.Option(
            "--from", help="Where the weights come from.")] = Source.pytorch_openpose,
        skeleton: SkeletonOpt = "coco18",
        prototxt: Annotated[Path | None, typer.Option(
            "--prototxt", help="OpenPose's pose_deploy*.prototxt, checked against the "
                               "architecture (optional; --from openpose).")] = None,
        force: Annotated[bool, typer.Option(
            "--force", help="Overwrite an existing --out file.")] = False,
    ) -> None:
        """Convert OpenPose's weights to a posekit checkpoint.

        --from openpose: OpenPose's own Caffe models, with --skeleton body25
        (body_25/pose_iter_584000.caffemodel), coco18 (coco/pose_iter_440000.caffemodel)
        or mpi15 (mpi/pose_iter_160000.caffemodel). --from pytorch-openpose: that
        project's body_pose_model.pth (COCO model). OpenPose's weights are under CMU's
        non-commercial license.
        """
        from posekit.cli.common import console
        from posekit.network.openpose_import import import_openpose_weights

        _check_out(out, force)
        with console().status(f"importing {src} ..."):
            path = import_openpose_weights(src, out, source_format=source.value,
                                           skeleton=skeleton, prototxt=prototxt)
        typer.echo(f"wrote {path} ({source.value} weights, skeleton {skeleton}; "
                   "OpenPose weights are for non-commercial use)")

    @group.command("show")
    def show(
        file: Annotated[Path, typer.Argument(metavar="FILE", help="A posekit checkpoint.")],
        as_json: JsonFlag = False,
    ) -> None:
        """Describe a checkpoint: skeleton, architecture, parameters, source, license."""
        from posekit.cli.common import print_json

        info = describe_checkpoint(file)
        if as_json:
            print_json(info)
        else:
            _print(info)

    app.add_typer(group, name="weights")
