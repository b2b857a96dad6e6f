"""Options shared by several commands, defined once."""

from __future__ import annotations

import json
import os
import sys
import tempfile
from pathlib import Path
from typing import Annotated, Any

import typer

__all__ = ["SkeletonOpt", "ParserOpt", "JsonFlag", "DecodeOpt", "DEFAULT_PARSER", "print_json",
           "console", "check_output", "PLOT_SUFFIXES"]

# the parser every command uses unless told otherwise (the Python API keeps its own defaults)
DEFAULT_PARSER = "hungarian"
# file types matplotlib writes without extra packages (a missing suffix means PNG)
PLOT_SUFFIXES = (".png", ".svg", ".pdf", ".jpg", ".jpeg", ".eps", ".ps", ".tif", ".tiff",
                 ".webp")

SkeletonOpt = Annotated[
    str,
    typer.Option(
        "--skeleton", "-s",
        help="Installed skeleton name (see `posekit skeletons`) or path to a skeleton .toml file.",
    ),
]
ParserOpt = Annotated[
    str,
    typer.Option("--parser", "-p", show_default=True,
                 help="Multi-person parser (see `posekit parsers`)."),
]
JsonFlag = Annotated[bool, typer.Option("--json", help="Print JSON instead of a table.")]
# decode preset (posekit.decode.presets): decoding settings and the parsers' post-rules
DecodeOpt = Annotated[
    str,
    typer.Option("--decode", metavar="PRESET", show_default=True,
                 help="Decode preset: 'posekit' (robust limb rule and fragment stage) or "
                      "'openpose' (OpenPose C++'s rules exactly)."),
]


def check_output(path: Path | str | None, option: str, *, folder: bool = False,
                 suffixes: tuple[str, ...] | None = None, stdout: bool = False) -> None:
    """Refuse an output path that cannot be written, before any work starts.

    A file output must not be a folder and must have one of ``suffixes`` (when given; an
    empty suffix is allowed); a folder output must not be a file. Missing folders are
    created when the output is written, so the nearest folder that exists on the way must
    be writable and nothing on the way may be a file. ``None`` passes, and so does ``-``
    where it means standard output (``stdout=True``).
    Raises :class:`~posekit.errors.PosekitError` naming the option, the path and the fix.
    """
    from posekit.errors import PosekitError

    if path is None or (stdout and str(path) == "-"):
        return
    path = Path(path)
    shown = f"{option} {str(path)!r}"
    if folder:
        if path.exists() and not path.is_dir():
            raise PosekitError(f"{shown} is a file; pass a folder")
    else:
        if path.is_dir():
            raise PosekitError(f"{shown} is a folder; pass a file path"
                               + (f" ending in {suffixes[0]}" if suffixes else ""))
        if suffixes is not None and path.suffix and path.suffix.lower() not in suffixes:
            raise PosekitError(f"{shown}: cannot write a {path.suffix} file; use one of "
                               f"{', '.join(suffixes)}")
    probe = path if folder and path.is_dir() else path.parent
    probe = Path(os.path.abspath(probe))
    while not probe.exists():
        probe = probe.parent
    if not probe.is_dir():
        raise PosekitError(f"{shown}: {str(probe)!r} is a file, not a folder; choose another "
                           "path")
    unwritable = PosekitError(f"{shown}: folder {str(probe)!r} is not writable; choose a "
                              "folder you can write to")
    if not os.access(probe, os.W_OK | os.X_OK):
        raise unwritable
    try:  # os.access says yes to root everywhere, and /proc takes no files: try for real
        tempfile.TemporaryFile(dir=probe).close()
    except OSError:
        raise unwritable from None


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
