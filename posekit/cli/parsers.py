"""``posekit parsers``: list installed multi-person parsers."""

from __future__ import annotations

import inspect

import typer

from posekit.cli.common import JsonFlag, show_listing


def register(app: typer.Typer) -> None:
    @app.command("parsers")
    def parsers(as_json: JsonFlag = False) -> None:
        """List installed multi-person parsers (and any that failed to load)."""
        from posekit.parsers import PARSERS

        entries, errors = PARSERS.load_all()
        rows = [
            {
                "name": e.name,
                "description": (inspect.getdoc(e.value) or "").split("\n")[0],
                "distribution": e.distribution,
                "version": e.version,
            }
            for e in entries
        ]
        show_listing("parsers", "Installed parsers", rows, {
            "name": lambda r: r["name"],
            "description": lambda r: r["description"],
            "distribution": lambda r: f"{r['distribution']} {r['version']}",
        }, errors, as_json)
