"""Real-pose report: how every parser does on ideal maps of real people (issue 9's numbers).

For each skeleton, parser and map configuration (PAF field ``rect``/``capsule`` x sharp or
smoothed by a 1-map-pixel Gaussian) it prints, on the bundled real set
(:mod:`posekit.compare.real`), people recovered / present and extra people for

- ``photos``: every real image's people at their real positions, at the image's size,
- ``crowd N``: grid crowds of N real poses on 656x368, over the seeds (default 0, 1, 2),

then ``compare-parsers --noise 0 --data real`` AP per parser (the command's own code).
Everything is deterministic; a run takes about a minute on one core.

    python benchmarks/real_poses_report.py                      # coco18 and coco17
    python benchmarks/real_poses_report.py --skeleton coco18 --detail
    python benchmarks/real_poses_report.py --decode-set min_above=0.8 --json out.json
"""

from __future__ import annotations

import argparse
import json
import sys
import textwrap
import time
from dataclasses import fields, replace
from typing import Any

from posekit.compare.count import PeopleCount
from posekit.compare.real import CROWD_SIZES, SEEDS, count_scenes, load_real
from posekit.compare.runner import DEFAULT_PARSERS, CompareConfig, make_parsers

FIELDS = ("rect", "capsule")
SMOOTH = (0.0, 1.0)


def _decode(preset: str | None, settings: list[str]) -> Any:
    import posekit.decode as decode

    config = decode.DecodeConfig()
    if preset:
        if not hasattr(decode, "decode_preset"):
            sys.exit("this posekit has no decode presets (posekit.decode.decode_preset)")
        config = decode.decode_preset(preset)
    known = {f.name: f.type for f in fields(config)}
    for item in settings:
        key, _, text = item.partition("=")
        if key not in known:
            sys.exit(f"--decode-set {item!r}: no DecodeConfig field {key!r}; fields: "
                     f"{', '.join(known)}")
        current = getattr(config, key)
        value: Any = text
        if text.lower() == "none":
            value = None
        elif isinstance(current, bool):
            value = text.lower() in ("1", "true", "yes")
        elif isinstance(current, int):
            value = int(text)
        elif isinstance(current, float) or current is None:
            try:
                value = float(text)
            except ValueError:
                value = text
        config = replace(config, **{key: value})
    return config


def _cell(c: PeopleCount) -> str:
    return f"{c.recovered}/{c.people} +{c.extra}"


def counts(skeleton: str, parsers: list[str], seeds: tuple[int, ...], decode: Any,
           detail: bool) -> dict[str, Any]:
    real = load_real(skeleton)
    sk = real.skeleton
    photos = real.photos()
    crowds = real.crowds(CROWD_SIZES, seeds)
    ready = make_parsers(parsers, 10.0, None)
    groups = [("photos", photos)] + [
        (f"crowd {n}", [s for s in crowds if s.num_people == n]) for n in CROWD_SIZES]
    print(f"\n{skeleton}:")
    print(textwrap.fill(real.report.line(), 92, initial_indent="  ", subsequent_indent="    "))
    print(f"  {len(photos)} photos ({sum(s.num_people for s in photos)} people), crowds of "
          f"{', '.join(map(str, CROWD_SIZES))} x seeds {', '.join(map(str, seeds))} on 656x368")
    header = f"  {'field':8} {'maps':8} {'parser':10}" + "".join(f"{g:>14}" for g, _ in groups)
    out: dict[str, Any] = {"input": real.report.to_dict(), "rows": []}
    print(header)
    for field in FIELDS:
        for smooth in SMOOTH:
            for name, parser in ready.items():
                row = {"field": field, "smooth": smooth, "parser": name, "groups": {}}
                cells = []
                for label, scenes in groups:
                    per = count_scenes(sk, scenes, parser, field=field, smooth=smooth,
                                       decode=decode)
                    total = PeopleCount.total(per)
                    row["groups"][label] = total.to_dict()
                    cells.append(f"{_cell(total):>14}")
                    if detail:
                        row.setdefault("scenes", {})[label] = [
                            {"scene": s.name, **c.to_dict()} for s, c in
                            zip(scenes, per, strict=True) if c.missed or c.extra]
                maps = "smoothed" if smooth else "sharp"
                print(f"  {field:8} {maps:8} {name:10}" + "".join(cells))
                out["rows"].append(row)
                if detail:
                    for label, bad in row.get("scenes", {}).items():
                        for b in bad:
                            print(f"      {label}: {b['scene']}: {b['recovered']}/"
                                  f"{b['people']} +{b['extra']}")
    return out


def ap(skeleton: str, parsers: list[str]) -> dict[str, Any]:
    from posekit.compare import compare_parsers
    from posekit.compare.real import REAL_SET

    config = CompareConfig(parsers=tuple(parsers), people=None, scenes=None, noise=0.0,
                           data=str(REAL_SET))
    report = compare_parsers(skeleton, config)
    print(f"\n{skeleton}: compare-parsers --noise 0 --data real ({report['scenes']} scenes, "
          f"{report['gt_people']} people)")
    rows = {}
    for r in report["results"]:
        extra = ""
        if "missed" in r:
            extra = f"  missed {r['missed']}  extra {r['extra']}"
        print(f"  {r['parser']:10} AP {100 * (r['ap'] or 0):5.1f}  AP50 "
              f"{100 * (r['ap50'] or 0):5.1f}{extra}")
        rows[r["parser"]] = {k: r.get(k) for k in ("ap", "ap50", "missed", "extra")}
    return rows


def main(argv: list[str] | None = None) -> int:
    ap_ = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap_.add_argument("--skeleton", default="coco18,coco17")
    ap_.add_argument("--parsers", default=",".join(DEFAULT_PARSERS))
    ap_.add_argument("--seeds", default=",".join(map(str, SEEDS)))
    ap_.add_argument("--decode-preset", default=None, help="posekit.decode.decode_preset name")
    ap_.add_argument("--decode-set", action="append", default=[], metavar="FIELD=VALUE",
                     help="override a DecodeConfig field (repeatable)")
    ap_.add_argument("--detail", action="store_true", help="list every scene with a miss or "
                     "an extra person")
    ap_.add_argument("--no-ap", action="store_true", help="skip the compare-parsers AP runs")
    ap_.add_argument("--json", default=None, help="write every number to this file")
    args = ap_.parse_args(argv)
    parsers = [p.strip() for p in args.parsers.split(",") if p.strip()]
    seeds = tuple(int(s) for s in args.seeds.split(","))
    decode = _decode(args.decode_preset, args.decode_set)
    start = time.perf_counter()
    print(f"real-pose report: {args.skeleton}, parsers {', '.join(parsers)}")
    result: dict[str, Any] = {"decode": {f.name: getattr(decode, f.name)
                                         for f in fields(decode)}, "skeletons": {}}
    for skeleton in [s.strip() for s in args.skeleton.split(",") if s.strip()]:
        entry = counts(skeleton, parsers, seeds, decode, args.detail)
        if not args.no_ap:
            entry["ap"] = ap(skeleton, parsers)
        result["skeletons"][skeleton] = entry
    print(f"\n{time.perf_counter() - start:.0f} s")
    if args.json:
        with open(args.json, "w", encoding="utf-8") as fh:
            json.dump(result, fh, indent=1, default=str)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
