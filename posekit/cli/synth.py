"""``posekit synth``: render a synthetic multi-person COCO-format dataset of any skeleton."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from posekit.cli.common import SkeletonOpt, check_output


def register(app: typer.Typer) -> None:
    @app.command("synth")
    def synth(
        skeleton: SkeletonOpt,
        out: Annotated[Path, typer.Option("--out", "-o", help="Dataset folder to create.")],
        images: Annotated[int, typer.Option("--images", "-n", help="Number of images.")] = 100,
        people: Annotated[str, typer.Option(
            "--people", help="People per image: a range A:B (or A-B), drawn uniformly, or N.")
        ] = "1:4",
        size: Annotated[str, typer.Option("--size", help="Image size WxH (or N).")] = "256x256",
        seed: Annotated[int, typer.Option("--seed", help="Random seed.")] = 0,
        fmt: Annotated[str, typer.Option("--format", help="Image format: png or jpg.")] = "png",
        occluders: Annotated[float, typer.Option(
            "--occluders", help="Occluding objects per person, on average.")] = 0.3,
        overlap: Annotated[float, typer.Option(
            "--overlap", help="Largest box IoU between two people (0 = never touch).")] = 0.3,
        background: Annotated[str, typer.Option(
            "--background", help="varied (gradients, noise, stripes, shapes) or plain.")
        ] = "varied",
        force: Annotated[bool, typer.Option(
            "--force", help="Write into an existing non-empty folder.")] = False,
    ) -> None:
        """Render multi-person scenes (shaded body parts over varied backgrounds, with
        occlusion, overlap and truncation) and write DIR/annotations.json + DIR/images/."""
        from posekit.cli.common import console
        from posekit.skeleton import load_skeleton
        from posekit.synth.dataset import (
            SynthSpec,
            parse_people,
            parse_size,
            prepare_out,
            write_synth_dataset,
        )
        from posekit.training.log import progress_bar

        check_output(out, "--out", folder=True)
        sk = load_skeleton(skeleton)
        spec = SynthSpec(images=images, people=parse_people(people), size=parse_size(size),
                         seed=seed, fmt=fmt.lower().lstrip("."), occluders=occluders,
                         overlap=overlap, background=background)
        prepare_out(out, force)
        out_console = console()
        with progress_bar(True) as bar:
            task = bar.add_task("rendering", total=spec.images, status="")
            path = write_synth_dataset(out, sk, spec, force=force,
                                       progress=lambda n: bar.update(task, completed=n))
        out_console.print(f"wrote {spec.images} images of {sk.name} people and {path}")
