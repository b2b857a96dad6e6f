"""``posekit compare-parsers``: benchmark the multi-person parsers against each other."""

from __future__ import annotations

import contextlib
from pathlib import Path
from typing import Annotated

import typer

from posekit.cli.common import SkeletonOpt

__all__ = ["register"]


def _floats(text: str, option: str) -> tuple[float, ...]:
    from posekit.errors import PosekitError

    try:
        return tuple(float(x) for x in text.split(",") if x.strip())
    except ValueError:
        raise PosekitError(f"{option} {text!r}: give numbers separated by commas, e.g. "
                           "'0,0.5,1,2'") from None


def _progress(console):  # noqa: ANN001, ANN202
    if not console.is_terminal:
        return contextlib.nullcontext(None)
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(TextColumn("{task.description}"), BarColumn(), MofNCompleteColumn(),
                    TimeElapsedColumn(), TimeRemainingColumn(), console=console, transient=True)


def register(app: typer.Typer) -> None:
    @app.command("compare-parsers")
    def compare_parsers(
        skeleton: SkeletonOpt,
        data: Annotated[Path | None, typer.Option(
            "--data", metavar="ANNOTATIONS.json|DIR|real",
            help="Real poses: a COCO keypoint annotation file (or a dataset folder holding "
                 "annotations.json); 'real': the bundled real set (COCO val2017 people). "
                 "Default: synthetic people of the skeleton.")] = None,
        scenes: Annotated[int | None, typer.Option(
            "--scenes", "-n", min=1,
            help="Synthetic: scenes per number of people (default 10). --data: images drawn "
                 "at random (default: all).")] = None,
        people: Annotated[str | None, typer.Option(
            "--people", metavar="LIST",
            help="People per scene, e.g. 1,2,4,8, a range 1:6 (or 1-6) or a mix 1:4,8 (default "
                 "1,2,4,6,10,20). With --data: keep only images with these counts.")] = None,
        parsers: Annotated[str | None, typer.Option(
            "--parsers", metavar="LIST",
            help="Comma-separated parsers (default full-ilp,tree-ilp,hungarian,greedy; see "
                 "`posekit parsers`).")] = None,
        noise: Annotated[float, typer.Option(
            "--noise", help="Scale of the documented map noise model (0 = clean maps, "
                            "1 = default).")] = 1.0,
        time_limit: Annotated[float, typer.Option(
            "--time-limit", metavar="SEC", help="Time limit per scene for each ILP parser.")
        ] = 10.0,
        seed: Annotated[int, typer.Option("--seed", help="Seed of scenes and noise.")] = 0,
        overlap: Annotated[float, typer.Option(
            "--overlap", help="Synthetic scenes: largest box IoU between two people.")] = 0.3,
        truncation: Annotated[float, typer.Option(
            "--truncation", help="Synthetic scenes: fraction of people that may run over the "
                                 "image border.")] = 0.1,
        json_out: Annotated[Path | None, typer.Option(
            "--json", metavar="FILE", help="Write the results as JSON ('-' = stdout, no "
                                           "table).")] = None,
        plot: Annotated[Path | None, typer.Option(
            "--plot", metavar="FILE.png",
            help="Plot time per scene against people and AP against noise (runs the noise "
                 "sweep, default 0,0.5,1,1.5,2).")] = None,
        sweep: Annotated[str | None, typer.Option(
            "--sweep", metavar="LIST",
            help="Noise levels for AP against noise, e.g. 0,1,2 (default with --plot: "
                 "0,0.5,1,1.5,2; 'none' to skip).")] = None,
        jobs: Annotated[int, typer.Option(
            "--jobs", "-j", min=1, help="Worker processes to spread scenes over.")] = 1,
        weights: Annotated[Path | None, typer.Option(
            "--weights", "-w", metavar="W.pt",
            help="Network outputs instead of rendered maps: a posekit checkpoint; --data "
                 "must then be a dataset folder (annotations.json + images/).")] = None,
        solver: Annotated[str | None, typer.Option(
            "--solver", help="ILP solver for the ILP parsers (e.g. highs, cbc).")] = None,
        device: Annotated[str, typer.Option(
            "--device", "-d", help="Device for --weights: cpu, cuda or auto.")] = "cpu",
        field: Annotated[str, typer.Option(
            "--field", metavar="capsule|rect",
            help="Rendered maps: the PAF region, capsule (posekit's targets) or rect (the "
                 "paper's rectangle, which OpenPose trains on).")] = "capsule",
        smooth: Annotated[float, typer.Option(
            "--smooth", metavar="PX",
            help="Rendered maps: blur them by a Gaussian of PX map pixels (1: closer to a "
                 "network's output).")] = 0.0,
        crowd: Annotated[bool, typer.Option(
            "--crowd",
            help="Grid crowds of --people real poses (default 10,20,40) from --data (default "
                 "the bundled real set) on 656x368; --scenes crowds per count (default 3).")
        ] = False,
    ) -> None:
        """Compare the multi-person parsers (OpenPose paper, Table 2) on any skeleton.

        Reports OKS AP, people missed and extra (fragments), objective gap to the best
        solution, optimality and time per scene.

        Maps: rendered from ground truth (synthetic or --data) with seeded noise, or a network's.
        """
        from rich.console import Console

        from posekit.cli.common import PLOT_SUFFIXES, check_output, print_json
        from posekit.compare import (
            DEFAULT_PARSERS,
            DEFAULT_SWEEP,
            CompareConfig,
            compare_parsers,
            maps_line,
            parse_people,
            plot_report,
            render_table,
        )
        from posekit.people import write_json_atomic

        check_output(json_out, "--json", stdout=True)
        check_output(plot, "--plot", suffixes=PLOT_SUFFIXES)
        names = (tuple(p.strip() for p in parsers.split(",") if p.strip())
                 if parsers is not None else DEFAULT_PARSERS)
        if sweep is not None and sweep.strip().lower() == "none":
            levels: tuple[float, ...] = ()
        elif sweep is not None:
            levels = _floats(sweep, "--sweep")
        else:
            levels = DEFAULT_SWEEP if plot is not None and weights is None else ()
        config = CompareConfig(
            parsers=names,
            people=parse_people(people.replace(":", "-")) if people is not None else None,
            scenes=scenes, noise=noise, sweep=levels, overlap=overlap, truncation=truncation,
            time_limit=time_limit, seed=seed,
            data=str(data) if data is not None else None,
            weights=str(weights) if weights is not None else None,
            solver=solver, device=device, jobs=jobs, field=field, smooth=smooth, crowd=crowd,
        )
        err = Console(stderr=True, highlight=False)
        with _progress(err) as bar:
            task = bar.add_task("compare-parsers", total=None) if bar is not None else None
            report = compare_parsers(
                skeleton, config,
                total=(lambda n: bar.update(task, total=n)) if bar is not None else None,
                progress=(lambda n: bar.advance(task, n)) if bar is not None else None,
            )
        to_stdout = json_out is not None and str(json_out) == "-"
        if json_out is not None and not to_stdout:
            write_json_atomic(json_out, report, indent=2)
        if plot is not None:
            plot_report(report, plot)
        if to_stdout:
            print_json(report)
            return
        out = Console(highlight=False)
        if not out.is_terminal:  # a file or a pipe: whole tables, not cut to 80 columns
            out = Console(highlight=False, width=160)
        for table in render_table(report):
            out.print(table)
        dec = report["decode_ms"]
        out.print(f"decode (maps -> candidates, not in the parse times): median "
                  f"{dec['median']:.1f} ms, p95 {dec['p95']:.1f} ms per scene")
        line = maps_line(report.get("maps") or {})
        if line:
            out.print(line)
        if report.get("input"):
            from posekit.compare.real import InputReport

            out.print(InputReport(**report["input"]).line())
        for path, what in ((json_out, "JSON"), (plot, "plot")):
            if path is not None:
                out.print(f"{what} -> {path}")
