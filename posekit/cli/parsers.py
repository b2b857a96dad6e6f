"""``posekit parsers``: list installed multi-person parsers."""

from __future__ import annotations

import inspect

import typer

from posekit.cli.common import JsonFlag, console, print_json


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
        errs = [
            {"entry_point": x.name, "group": x.group, "distribution": x.distribution,
             "version": x.version, "reason": x.reason, "fix": x.fix}
            for x in errors
        ]
        if as_json:
            print_json({"parsers": rows, "errors": errs})
            return
        from rich.table import Table

        out = console()
        table = Table(title="Installed parsers", title_justify="left")
        for col in ("name", "description", "distribution"):
            table.add_column(col)
        for r in rows:
            table.add_row(r["name"], r["description"], f"{r['distribution']} {r['version']}")
        out.print(table)
        for x in errors:
            out.print(f"[red]error:[/red] {x.message()}", soft_wrap=True)
