"""The ``posekit`` command: a thin typer shell over the library.

Each verb lives in its own module with a ``register(app)`` function; heavy imports stay
inside command bodies so ``posekit --help`` and ``posekit parse`` start fast. The library
raises :class:`~posekit.errors.PosekitError`; only :func:`main` turns it into a one-line
message on stderr and exit code 1. Ctrl-C prints ``interrupted`` and exits with 130:
typer would turn the KeyboardInterrupt into a silent exit 130 before :func:`main` sees it,
so the command group re-raises it as :class:`_Interrupted`, which typer passes through.
"""

from __future__ import annotations

import importlib
import sys

import typer
from typer.core import TyperGroup

from posekit._version import __version__
from posekit.errors import PosekitError

__all__ = ["app", "main"]

# one module per verb, in the order ``posekit --help`` lists them
_COMMAND_MODULES = (
    "skeletons",
    "parsers",
    "new_plugin",
    "synth",
    "parse",
    "train",
    "weights",
    "infer",
    "eval",
    "compare",
)


class _Interrupted(Exception):
    """Ctrl-C inside a command, carried past typer's silent ``Exit(130)`` to :func:`main`."""


class _Group(TyperGroup):
    """The root command group: lets Ctrl-C in any command reach :func:`main`."""

    def invoke(self, ctx):  # noqa: ANN001, ANN201 - click's signature
        try:
            return super().invoke(ctx)
        except KeyboardInterrupt:
            raise _Interrupted() from None


app = typer.Typer(
    name="posekit",
    cls=_Group,
    help="Bottom-up multi-person 2D pose estimation with Part Affinity Fields, any skeleton.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
    context_settings={"help_option_names": ["-h", "--help"]},
    rich_markup_mode="rich",
)


def _version(value: bool) -> None:
    if value:
        typer.echo(f"posekit {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: bool = typer.Option(
        False, "--version", callback=_version, is_eager=True, help="Show the version and exit."
    ),
) -> None:
    """Bottom-up multi-person 2D pose estimation with Part Affinity Fields, any skeleton."""


for _name in _COMMAND_MODULES:
    importlib.import_module(f"posekit.cli.{_name}").register(app)


def main() -> None:
    """Console entry point: run the app; user errors exit 1, usage errors 2, Ctrl-C 130."""
    try:
        app(prog_name="posekit")
    except PosekitError as exc:
        typer.echo(f"error: {exc}", err=True)
        sys.exit(1)
    except (KeyboardInterrupt, _Interrupted):
        typer.echo("interrupted", err=True)
        sys.exit(130)
