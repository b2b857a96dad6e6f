"""``posekit new-plugin``: write a ready-to-install skeleton plugin package."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer


def register(app: typer.Typer) -> None:
    @app.command("new-plugin")
    def new_plugin(
        name: Annotated[str, typer.Argument(
            help="Skeleton and plugin name, a Python identifier (e.g. crowdpose14).")],
        out: Annotated[Path, typer.Option(
            "--out", "-o", help="Folder to create posekit-NAME/ in.")] = Path("."),
        keypoints: Annotated[str | None, typer.Option(
            "--keypoints", "-k",
            help="Comma-separated keypoint names; the starter tree chains them in order. "
                 "Default: a five-keypoint stick figure showing every field.")] = None,
    ) -> None:
        """Write posekit-NAME/: pyproject with the entry point, the skeleton module, a test."""
        from posekit.plugin_template import write_plugin

        names = [k.strip() for k in keypoints.split(",")] if keypoints is not None else None
        target = write_plugin(name, out, names)
        typer.echo(f"wrote {target}/ (entry point posekit.skeletons:{name})")
        typer.echo(f"next: edit {target / 'src' / f'posekit_{name}' / '__init__.py'}, then "
                   f"pip install -e {target} && pytest {target}")
