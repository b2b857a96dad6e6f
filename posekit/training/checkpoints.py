"""Training: the run folder and its checkpoints.

``RUN/last.pt`` is a network checkpoint (:func:`posekit.network.save_checkpoint`) whose
``extra["train"]`` holds everything a resumed run needs: the settings, the position in the
data (epoch, batches done), optimizer, scheduler and RNG states, and the history so far.
``RUN/best.pt`` holds the weights with the best validation AP and only a summary of the
run (small enough to ship). Both are written atomically; a failed or diverged step never
overwrites them.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from posekit.errors import PosekitError

__all__ = ["LAST", "BEST", "check_new_run_dir", "read_resume_state", "write_checkpoint"]

LAST = "last.pt"
BEST = "best.pt"


def check_new_run_dir(run_dir: Path) -> None:
    """A new run needs an empty or missing ``--out`` folder."""
    if run_dir.exists() and not run_dir.is_dir():
        raise PosekitError(f"--out {str(run_dir)!r} is a file; pass a folder for the run")
    if run_dir.is_dir() and any(run_dir.iterdir()):
        hint = (" (it holds a run: add --resume to continue it)"
                if (run_dir / LAST).is_file() else "")
        raise PosekitError(f"--out {str(run_dir)!r} exists and is not empty{hint}; choose a "
                           "new folder, or pass --resume to continue the run in it")


def read_resume_state(run_dir: Path, skeleton: Any) -> tuple[Any, Any, dict[str, Any]]:
    """(network, checkpoint meta, training state) of ``RUN/last.pt``.

    The checkpoint must have been written for ``skeleton`` (name and layout hash).
    """
    from posekit.network import load_checkpoint

    path = run_dir / LAST
    if not path.is_file():
        raise PosekitError(f"nothing to resume: {str(path)!r} does not exist; start the run "
                           "without --resume (or check --out)")
    net, meta = load_checkpoint(path, skeleton=skeleton, map_location="cpu")
    state = meta.extra.get("train") if isinstance(meta.extra, dict) else None
    if not isinstance(state, dict) or "config" not in state or "optimizer" not in state:
        raise PosekitError(f"{str(path)!r} holds weights but no training state, so the run "
                           "cannot be resumed; start a new run (it may use the weights)")
    return net, meta, state


def write_checkpoint(path: Path, net: Any, skeleton: Any, state: dict[str, Any]) -> Path:
    """Save ``net`` with ``state`` as ``extra["train"]`` (atomic)."""
    from posekit.network import save_checkpoint

    return save_checkpoint(path, net, skeleton, net.preprocess, extra={"train": state})
