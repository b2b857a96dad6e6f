"""Peak recall of the default ``upsample="patch"`` against the full upsample (``"full"``).

The figures quoted in :mod:`posekit.decode.peaks` come from this script. On the noisy
crowds of ``benchmarks/test_parse.py`` (656 x 368 at stride 8, ``SCENES`` scenes for each
crowd size, compare-parsers' default noise model) and, with ``--targets``, on the ideal
training targets of the same crowds, it prints per crowd size the reference peaks, the
ones the patch path missed (no patch peak within ``--tolerance`` pixels), the extra ones
(no reference peak within it) and the recall. Deterministic; about 15 s on one core.

    python benchmarks/peak_recall_report.py
    python benchmarks/peak_recall_report.py --targets --separation 0
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))

from test_parse import IMAGE, PEOPLE, SKELETON, scenes  # noqa: E402

from posekit.decode import find_peaks  # noqa: E402
from posekit.synth.poses import sample_poses  # noqa: E402
from posekit.targets import render_targets  # noqa: E402


def compare(heat: np.ndarray, separation: float, tolerance: float) -> tuple[int, int, int]:
    """(reference peaks, missed, extra) of one scene's heatmaps (h, w, K)."""
    options = dict(image_size=IMAGE, separation=separation)
    total = missed = extra = 0
    for ref, got in zip(find_peaks(heat, upsample="full", **options),
                        find_peaks(heat, upsample="patch", **options), strict=True):
        d = np.hypot(ref[:, None, 0] - got[None, :, 0], ref[:, None, 1] - got[None, :, 1])
        total += len(ref)
        missed += int((d.min(axis=1, initial=np.inf) > tolerance).sum())
        extra += int((d.min(axis=0, initial=np.inf) > tolerance).sum())
    return total, missed, extra


def ideal_heatmaps(people: int) -> list[np.ndarray]:
    """The training targets of crowds drawn as ``test_parse.scenes`` draws them."""
    rng = np.random.default_rng(1000 + people)
    size = min(0.6, 1.2 / np.sqrt(people))
    out = []
    for _ in range(len(scenes(people))):
        kp = sample_poses(SKELETON, rng, IMAGE, people, scale_range=(0.6 * size, size))
        out.append(render_targets(kp, SKELETON, IMAGE).heatmaps)
    return out


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--separation", type=float, default=1.0,
                    help="find_peaks' separation in map pixels (default 1)")
    ap.add_argument("--tolerance", type=float, default=0.5,
                    help="pixels within which two peaks are the same (default 0.5)")
    ap.add_argument("--targets", action="store_true",
                    help="also the ideal training targets of the same crowds")
    args = ap.parse_args(argv)
    K = SKELETON.num_keypoints
    kinds = {"noisy maps": lambda n: [heat for heat, _ in scenes(n)]}
    if args.targets:
        kinds["training targets"] = ideal_heatmaps
    for kind, heatmaps in kinds.items():
        print(f"{kind} (separation {args.separation:g}, tolerance {args.tolerance:g} px)")
        print(f"{'people':>7} {'peaks':>7} {'missed':>7} {'extra':>6} {'recall':>8}")
        sums = np.zeros(3, dtype=np.int64)
        for n in PEOPLE:
            row = np.zeros(3, dtype=np.int64)
            for heat in heatmaps(n):
                row += compare(heat[..., :K], args.separation, args.tolerance)
            sums += row
            print(f"{n:>7} {row[0]:>7} {row[1]:>7} {row[2]:>6} "
                  f"{100 * (1 - row[1] / max(row[0], 1)):>7.2f}%")
        print(f"{'all':>7} {sums[0]:>7} {sums[1]:>7} {sums[2]:>6} "
              f"{100 * (1 - sums[1] / max(sums[0], 1)):>7.2f}%")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
