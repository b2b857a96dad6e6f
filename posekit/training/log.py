"""Training: what a run writes besides checkpoints, each file whole or not at all.

- ``metrics.csv``: one row per finished epoch (losses, validation AP, learning rate, time,
  images skipped);
- ``metrics.json``: the run's settings, the same rows and the per-step losses;
- ``loss.png``: training loss per step (and its running mean) beside validation AP per epoch.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from posekit._atomic import atomic_path
from posekit.people import write_json_atomic

__all__ = ["EPOCH_FIELDS", "write_metrics", "plot_losses", "write_text_atomic",
           "progress_bar"]

EPOCH_FIELDS = ("epoch", "step", "loss", "paf_loss", "heatmap_loss", "val_ap", "val_ap50",
                "lr", "seconds", "images_skipped")


def write_text_atomic(path: Path, text: str) -> None:
    with atomic_path(path) as tmp:
        tmp.write_text(text, encoding="utf-8")


def write_metrics(run_dir: Path, settings: dict[str, Any], epochs: Sequence[dict[str, Any]],
                  step_losses: Sequence[float]) -> None:
    """``metrics.csv`` and ``metrics.json`` in ``run_dir`` (atomic)."""
    buf = io.StringIO()
    writer = csv.DictWriter(buf, fieldnames=EPOCH_FIELDS, extrasaction="ignore",
                            lineterminator="\n")
    writer.writeheader()
    for row in epochs:
        writer.writerow({k: _fmt(row.get(k)) for k in EPOCH_FIELDS})
    write_text_atomic(run_dir / "metrics.csv", buf.getvalue())
    write_json_atomic(run_dir / "metrics.json",
                      {"settings": settings, "epochs": list(epochs),
                       "step_losses": [round(float(v), 6) for v in step_losses]}, indent=1)


def _fmt(value: Any) -> Any:
    if isinstance(value, float):
        return f"{value:.6g}"
    return "" if value is None else value


def plot_losses(path: Path, step_losses: Sequence[float],
                epochs: Sequence[dict[str, Any]]) -> None:
    """The loss curve (log scale) and validation AP per epoch, as a PNG (atomic)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt
    import numpy as np
    from matplotlib.ticker import MaxNLocator

    fig, ax = plt.subplots(1, 2, figsize=(10, 3.6), constrained_layout=True)
    losses = np.asarray(step_losses, dtype=np.float64)
    steps = np.arange(1, len(losses) + 1)
    if len(losses):
        ax[0].plot(steps, losses, lw=0.6, alpha=0.4, label="per step")
        n = max(1, min(50, len(losses) // 10))
        smooth = np.convolve(losses, np.ones(n) / n, mode="valid")
        ax[0].plot(steps[n - 1:], smooth, lw=1.5, label=f"mean of {n}")
        if np.all(losses > 0):
            ax[0].set_yscale("log")
        ax[0].legend()
    ax[0].set_xlabel("step")
    ax[0].set_ylabel("loss per image")
    ax[0].set_title("training loss")
    ap = [(e["epoch"], e["val_ap"]) for e in epochs if e.get("val_ap") is not None]
    if ap:
        ax[1].plot([e for e, _ in ap], [v for _, v in ap], marker="o")
    ax[1].xaxis.set_major_locator(MaxNLocator(integer=True))
    ax[1].set_xlabel("epoch")
    ax[1].set_ylabel("OKS AP")
    ax[1].set_ylim(0, 1)
    ax[1].set_title("validation AP")
    ax[1].grid(alpha=0.3)
    try:
        with atomic_path(path) as tmp:
            fig.savefig(tmp, dpi=90)
    finally:
        plt.close(fig)


def progress_bar(enabled: bool):  # noqa: ANN201 - rich is imported lazily
    """A rich progress bar (disabled on non-main processes)."""
    from rich.progress import (
        BarColumn,
        MofNCompleteColumn,
        Progress,
        TextColumn,
        TimeElapsedColumn,
        TimeRemainingColumn,
    )

    return Progress(
        TextColumn("[bold]{task.description}"), BarColumn(), MofNCompleteColumn(),
        TimeElapsedColumn(), TimeRemainingColumn(), TextColumn("{task.fields[status]}"),
        disable=not enabled, transient=False,
    )
