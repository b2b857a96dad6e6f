"""``posekit skeletons``: list installed skeletons, show one."""

from __future__ import annotations

from typing import Annotated

import typer

from posekit.cli.common import JsonFlag, console, print_json, show_listing


def register(app: typer.Typer) -> None:
    group = typer.Typer(
        help="List installed skeletons (and plugins that failed to load); show one.",
        invoke_without_command=True,
        context_settings={"help_option_names": ["-h", "--help"]},
    )

    @group.callback()
    def skeletons(ctx: typer.Context, as_json: JsonFlag = False) -> None:
        """List installed skeletons and any skeleton plugin that failed to load."""
        if ctx.invoked_subcommand is not None:
            return
        from posekit.skeleton import SKELETONS

        entries, errors = SKELETONS.load_all()
        rows = [
            {
                "name": e.name,
                "keypoints": e.value.num_keypoints,
                "tree_limbs": e.value.num_tree_limbs,
                "redundant_limbs": len(e.value.redundant_limbs),
                "distribution": e.distribution,
                "version": e.version,
            }
            for e in entries
        ]
        show_listing("skeletons", "Installed skeletons", rows, {
            "name": lambda r: r["name"],
            "keypoints": lambda r: r["keypoints"],
            "tree limbs": lambda r: r["tree_limbs"],
            "redundant": lambda r: r["redundant_limbs"],
            "distribution": lambda r: f"{r['distribution']} {r['version']}",
        }, errors, as_json)

    @group.command("show")
    def show(
        name: Annotated[str, typer.Argument(help="Skeleton name or path to a .toml file.")],
        as_json: JsonFlag = False,
    ) -> None:
        """Show a skeleton's keypoints, limbs by name and PAF channel layout."""
        from posekit.skeleton import SKELETONS, load_skeleton

        sk = load_skeleton(name)
        source = "file"
        if not name.lower().endswith(".toml"):
            entry = SKELETONS.entry(name)
            source = f"{entry.distribution} {entry.version}"
        if as_json:
            print_json({**sk.to_dict(), "source": source, "layout_hash": sk.layout_hash,
                        "num_tree_limbs": sk.num_tree_limbs})
            return
        from rich.table import Table

        out = console()
        out.print(f"[bold]{sk.name}[/bold] ({source}): {sk.num_keypoints} keypoints, "
                  f"{sk.num_tree_limbs} tree + {len(sk.redundant_limbs)} redundant limbs, "
                  f"heatmaps {sk.num_heatmap_channels} channels (last = background), "
                  f"PAFs {sk.num_paf_channels} channels; layout hash {sk.layout_hash}")
        flip = sk.flip_permutation
        kt = Table(title="Keypoints", title_justify="left")
        for col in ("#", "name", "sigma", "flips to"):
            kt.add_column(col)
        for i, kp in enumerate(sk.keypoints):
            kt.add_row(str(i), kp, f"{sk.sigmas[i]:g}",
                       sk.keypoints[flip[i]] if flip[i] != i else "")
        out.print(kt)
        lt = Table(title="Limbs (PAF order)", title_justify="left")
        for col in ("#", "from", "to", "kind", "PAF x/y"):
            lt.add_column(col)
        for l, (a, b) in enumerate(sk.all_limbs):
            cx, cy = sk.paf_layout[l]
            lt.add_row(str(l), a, b, "tree" if l < sk.num_tree_limbs else "redundant",
                       f"{cx}/{cy}")
        out.print(lt)

    app.add_typer(group, name="skeletons")
