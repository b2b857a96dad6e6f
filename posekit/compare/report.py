"""Turning scene records into the comparison's numbers, table and plot.

:func:`summarize` produces the JSON of DESIGN.md: ``{"skeleton", "config", "results":
[{"parser", "ap", "ap50", "objective_gap", "optimal_fraction", "median_ms", "p95_ms",
"timeouts", "by_people": [{"people", "ap", "median_ms", ...}], ...}], ...}`` plus
``decode_ms`` (decode time per scene, the same for every parser), ``maps`` (how the
maps differ from the ground truth, :mod:`posekit.compare.mapstats`), ``input`` (for
annotation files: what was read and left out, :class:`~posekit.compare.real.InputReport`)
and, when a noise sweep ran, ``sweep`` (AP per parser at each noise level).

Next to AP every result (and every ``by_people`` and ``sweep`` entry) counts people
(:mod:`posekit.compare.count`): ``people`` present, ``found``, ``recovered`` (OKS >= 0.5,
one-to-one), ``missed`` and ``extra`` (found people matching no true person: fragments).

Objective gap of a parser on a scene: (best - its objective) / |best|, where best is the
highest objective any parser found on that scene (full-ilp's optimum when it proved
optimality); 0 when best <= 0. A parser *reached the optimum* on a scene when its objective
is within 1e-6 (relative) of best.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from posekit._atomic import atomic_path
from posekit.compare.count import PeopleCount, count_people
from posekit.compare.mapstats import MapStats
from posekit.compare.runner import SceneRecord
from posekit.compare.scenes import Scene
from posekit.evaluation import evaluate_oks
from posekit.skeleton import Skeleton

__all__ = ["summarize", "render_table", "plot_report", "maps_line"]

_TOL = 1e-6


def _ms(seconds: Sequence[float], q: float) -> float:
    return round(float(np.percentile(np.asarray(seconds) * 1e3, q)), 3) if len(seconds) else 0.0


def _r(value: float | None, digits: int = 4) -> float | None:
    return None if value is None or not math.isfinite(value) else round(float(value), digits)


def _gaps(records: Sequence[SceneRecord], parsers: Sequence[str]) -> dict[str, np.ndarray]:
    """Per parser (S,) relative objective gap to the best found on each scene."""
    values = np.array([[r.parsers[p].objective for p in parsers] for r in records]).reshape(
        len(records), len(parsers))
    best = values.max(axis=1, initial=-np.inf) if len(parsers) else np.zeros(len(records))
    denom = np.where(best > 0, np.abs(best), 1.0)
    gap = np.where(best[:, None] > 0, (best[:, None] - values) / denom[:, None], 0.0)
    gap = np.clip(gap, 0.0, None)
    return {p: gap[:, i] for i, p in enumerate(parsers)}


def _evaluate(gt: dict[str, Any], scenes: Sequence[Scene], records: Sequence[SceneRecord],
              parser: str, skeleton: Skeleton, subset: Sequence[int] | None = None) -> dict:
    """OKS metrics of one parser over ``records`` (aligned with ``scenes``)."""
    dets = [r.parsers[parser].people() for r in records]
    ids = None if subset is None else [scenes[i].image_id for i in subset]
    return evaluate_oks(gt, dets, skeleton, image_ids=ids)


def _counts(skeleton: Skeleton, scenes: Sequence[Scene], records: Sequence[SceneRecord],
            parser: str) -> list[PeopleCount]:
    """Per scene: the parser's people recovered, missed and added (records align)."""
    return [count_people(r.parsers[parser].keypoints, s.keypoints, skeleton, areas=s.areas)
            for s, r in zip(scenes, records, strict=True)]


def _count_keys(counts: Sequence[PeopleCount]) -> dict[str, int]:
    return PeopleCount.total(counts).to_dict()


def summarize(skeleton: Skeleton, config: dict[str, Any], scenes: Sequence[Scene],
              gt: dict[str, Any], records: Sequence[SceneRecord],
              sweep: dict[float, Sequence[SceneRecord]] | None = None, *,
              inputs: dict[str, int] | None = None) -> dict[str, Any]:
    """The comparison's JSON (module docstring). ``records`` align with ``scenes``."""
    parsers = list(config["parsers"])
    gaps = _gaps(records, parsers)
    counts = sorted({s.num_people for s in scenes})
    groups = {n: [i for i, s in enumerate(scenes) if s.num_people == n] for n in counts}
    results = []
    for p in parsers:
        recs = [r.parsers[p] for r in records]
        seconds = [r.seconds for r in recs]
        metrics = _evaluate(gt, scenes, records, p, skeleton)
        counts = _counts(skeleton, scenes, records, p)
        by_people = []
        for n, idx in groups.items():
            m = _evaluate(gt, scenes, records, p, skeleton, idx)
            by_people.append({
                "people": n, "scenes": len(idx), "ap": _r(m["ap"]), "ap50": _r(m["ap50"]),
                **{k: v for k, v in _count_keys([counts[i] for i in idx]).items()
                   if k in ("recovered", "missed", "extra")},
                "objective_gap": _r(float(gaps[p][idx].mean()), 6),
                "optimal_fraction": _r(float((gaps[p][idx] <= _TOL).mean())),
                "median_ms": _ms([seconds[i] for i in idx], 50),
                "p95_ms": _ms([seconds[i] for i in idx], 95),
                "timeouts": sum(recs[i].status == "time_limit" for i in idx),
            })
        statuses: dict[str, int] = {}
        for r in recs:
            statuses[r.status] = statuses.get(r.status, 0) + 1
        results.append({
            "parser": p,
            "ap": _r(metrics["ap"]), "ap50": _r(metrics["ap50"]), "ap75": _r(metrics["ap75"]),
            "ar": _r(metrics["ar"]),
            "objective_gap": _r(float(gaps[p].mean()) if len(records) else 0.0, 6),
            "optimal_fraction": _r(float((gaps[p] <= _TOL).mean()) if len(records) else 0.0),
            "median_ms": _ms(seconds, 50), "p95_ms": _ms(seconds, 95),
            "mean_ms": round(float(np.mean(seconds) * 1e3), 3) if seconds else 0.0,
            "timeouts": statuses.get("time_limit", 0),
            "status": statuses,
            **_count_keys(counts),
            "by_people": by_people,
        })
    decode = [r.decode_seconds for r in records]
    out: dict[str, Any] = {
        "skeleton": skeleton.name,
        "config": config,
        "scenes": len(scenes),
        "gt_people": int(sum(s.num_people for s in scenes)),
        "decode_ms": {"median": _ms(decode, 50), "p95": _ms(decode, 95)},
        "candidates_median": float(np.median([r.candidates for r in records])) if records else 0,
        "maps": sum((r.maps for r in records if r.maps is not None), MapStats()).summary(),
        "results": results,
    }
    if inputs is not None:
        out["input"] = dict(inputs)
    if sweep:
        out["sweep"] = [
            {"noise": level,
             "results": [{"parser": p, **{k: _r(v) for k, v in _evaluate(
                 gt, scenes, recs, p, skeleton).items() if k in ("ap", "ap50")},
                 **{k: v for k, v in _count_keys(_counts(skeleton, scenes, recs, p)).items()
                    if k in ("missed", "extra")}}
                 for p in parsers]}
            for level, recs in sorted(sweep.items())
        ]
    return out


def _fmt(v: float | None, pct: bool = False) -> str:
    if v is None:
        return "-"
    return f"{100 * v:.1f}" if pct else f"{v:.1f}"


def render_table(report: dict[str, Any]) -> list[Any]:
    """rich renderables: the summary table and the per-people table."""
    from rich.table import Table

    cfg = report["config"]
    maps = "network maps" if cfg["source"] == "network" else f"noise {cfg['noise']:g}"
    if cfg["source"] != "network":
        if cfg.get("field", "capsule") != "capsule":
            maps += f", {cfg['field']} PAFs"
        if cfg.get("smooth"):
            maps += f", smoothed {cfg['smooth']:g} px"
    title = (f"compare-parsers: {report['skeleton']}, {report['scenes']} scenes "
             f"({cfg['source']}), {report['gt_people']} people, {maps}")
    main = Table(title=title, title_justify="left")
    for col in ("parser", "AP", "AP50", "missed", "extra", "gap %", "optimal %", "median ms",
                "p95 ms", "timeouts"):
        main.add_column(col, justify="left" if col == "parser" else "right", no_wrap=True)
    for r in report["results"]:
        main.add_row(r["parser"], _fmt(r["ap"], True), _fmt(r["ap50"], True),
                     str(r.get("missed", "-")), str(r.get("extra", "-")),
                     f"{100 * r['objective_gap']:.2f}", _fmt(r["optimal_fraction"], True),
                     f"{r['median_ms']:.1f}", f"{r['p95_ms']:.1f}", str(r["timeouts"]))
    per = Table(title="By number of people: AP / median ms per scene / missed / extra",
                title_justify="left")
    per.add_column("people", justify="right", no_wrap=True)
    per.add_column("scenes", justify="right", no_wrap=True)
    for r in report["results"]:
        per.add_column(r["parser"], justify="right", no_wrap=True)
    rows = report["results"][0]["by_people"] if report["results"] else []
    for i, row in enumerate(rows):
        per.add_row(str(row["people"]), str(row["scenes"]), *(
            f"{_fmt(r['by_people'][i]['ap'], True)} / {r['by_people'][i]['median_ms']:.1f}"
            f" / {r['by_people'][i].get('missed', '-')} / {r['by_people'][i].get('extra', '-')}"
            for r in report["results"]))
    out: list[Any] = [main, per]
    if report.get("sweep"):
        sw = Table(title="AP against noise", title_justify="left")
        sw.add_column("noise", justify="right")
        for r in report["results"]:
            sw.add_column(r["parser"], justify="right")
        for level in report["sweep"]:
            sw.add_row(f"{level['noise']:g}", *(_fmt(x["ap"], True) for x in level["results"]))
        out.append(sw)
    return out


def maps_line(maps: dict[str, Any]) -> str:
    """One line on how the maps differ from the ground truth (``report["maps"]``)."""
    if not maps or maps.get("miss_visible") is None:
        return ""

    def pct(key: str) -> str:
        v = maps.get(key)
        return "-" if v is None else f"{100 * v:.2g}%"

    def num(key: str, digits: int = 3) -> str:
        v = maps.get(key)
        return "-" if v is None else f"{v:.{digits}g}"

    return (f"maps against the ground truth: parts missed {pct('miss_visible')} visible, "
            f"{pct('miss_occluded')} occluded; jitter {num('jitter', 2)} s; false peaks "
            f"{num('false_peaks', 2)} per person ({num('strong_false_peaks', 2)} >= 0.15); "
            f"tree limbs lost {pct('limb_failure_visible')} visible, "
            f"{pct('limb_failure_occluded')} occluded ({pct('clustered_failures')} next to "
            f"another lost limb); PAF angle {num('paf_angle', 2)} rad")


def plot_report(report: dict[str, Any], path: str | Path) -> Path:
    """Save the plot: time per scene against people (log), AP against noise, and the
    people each parser missed and added."""

    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    path = Path(path)
    fig, (left, right, tally) = plt.subplots(1, 3, figsize=(13.5, 3.8), dpi=100)
    network = report["config"]["source"] == "network"
    for i, r in enumerate(report["results"]):
        rows = r["by_people"]
        left.plot([x["people"] for x in rows], [max(x["median_ms"], 1e-3) for x in rows],
                  marker="o", label=r["parser"])
        if network:  # no noise axis: one bar per parser
            right.bar(i, 100 * (r["ap"] or 0.0), color=f"C{i}", label=r["parser"])
            continue
        if report.get("sweep"):
            levels = [(s["noise"], next(x["ap"] for x in s["results"]
                                        if x["parser"] == r["parser"]))
                      for s in report["sweep"]]
        else:
            levels = [(report["config"]["noise"], r["ap"])]
        levels = [(n, 100 * a) for n, a in levels if a is not None]
        right.plot([n for n, _ in levels], [a for _, a in levels], marker="o",
                   label=r["parser"])
    left.set_yscale("log")
    counts = sorted({x["people"] for r in report["results"] for x in r["by_people"]})
    if counts:
        left.set_xticks(counts)
    left.set_xlabel("people per scene")
    left.set_ylabel("median parse time per scene (ms)")
    left.grid(True, which="both", alpha=0.3)
    if network:
        right.set_xticks(range(len(report["results"])),
                         [r["parser"] for r in report["results"]])
        right.set_xlabel("parser (network maps)")
    else:
        right.set_xlabel("noise level (--noise)")
    right.set_ylabel("OKS AP (%)")
    right.grid(True, alpha=0.3)
    right.legend(fontsize=8)
    names = [r["parser"] for r in report["results"]]
    x = np.arange(len(names))
    tally.bar(x - 0.2, [r.get("missed", 0) for r in report["results"]], 0.4, label="missed",
               color="C3")
    tally.bar(x + 0.2, [r.get("extra", 0) for r in report["results"]], 0.4,
               label="extra (fragments)", color="C7")
    most = max([r.get("missed", 0) for r in report["results"]]
               + [r.get("extra", 0) for r in report["results"]] + [1])
    tally.set_ylim(0, most * 1.15)
    tally.set_xticks(x, names, fontsize=8)
    tally.set_ylabel(f"people (of {report.get('gt_people', 0)})")
    tally.set_title("people missed / extra", fontsize=9)
    tally.grid(True, axis="y", alpha=0.3)
    tally.legend(fontsize=8)
    cfg = report["config"]
    maps = "network maps" if cfg["source"] == "network" else f"times at noise {cfg['noise']:g}"
    fig.suptitle(f"{report['skeleton']}: {report['scenes']} scenes ({cfg['source']}), {maps}",
                 fontsize=10)
    fig.tight_layout()
    try:
        with atomic_path(path, suffix=path.suffix or ".png") as tmp:
            fig.savefig(tmp)
    finally:
        plt.close(fig)
    return path
