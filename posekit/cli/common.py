"""Options shared by several commands, defined once."""

from __future__ import annotations

import json
import sys
from typing import Annotated, Any

import typer

__all__ = ["SkeletonOpt", "ParserOpt", "JsonFlag", "print_json", "console"]

SkeletonOpt = Annotated[
    str,
    typer.Option(
        "--skeleton", "-s",
        help="Installed skeleton name (see `posekit skeletons`) or path to a skeleton .toml file.",
    ),
]
ParserOpt = Annotated[
    str,
    typer.Option("--parser", "-p", help="Multi-person parser (see `posekit parsers`)."),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]


def print_json(data: Any) -> None:
    json.dump(data, sys.stdout, indent=2)
    sys.stdout.write("\n")


def console():  # noqa: ANN201 - rich is imported lazily
    from rich.console import Console

    return Console(highlight=False)
