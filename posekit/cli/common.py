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


def show_listing(key: str, title: str, rows: list[dict], columns: dict[str, Any],
                 errors: list, as_json: bool) -> None:
    """Print registry entries and load errors as a table, or as ``{key: rows, "errors": ...}``.

    ``columns`` maps a table header to a function of a row giving the cell text.
    """
    if as_json:
        print_json({key: rows, "errors": [
            {"entry_point": x.name, "group": x.group, "distribution": x.distribution,
             "version": x.version, "reason": x.reason, "fix": x.fix}
            for x in errors
        ]})
        return
    from rich.table import Table

    out = console()
    table = Table(title=title, title_justify="left")
    for header in columns:
        table.add_column(header)
    for row in rows:
        table.add_row(*(str(cell(row)) for cell in columns.values()))
    out.print(table)
    for x in errors:
        out.print(f"[red]error:[/red] {x.message()}", soft_wrap=True, markup=True)
