"""Planning a run over many inputs: files and folders -> jobs with their output names.

Output names (``<stem>_keypoints.json`` ... under the output folder):

- a file given by name: its stem, ``photo.jpg`` -> ``photo``;
- a file found in a folder: its path below that folder, ``data/a/photo.jpg`` -> ``a/photo``;
- two inputs that would get the same name (``x/photo.jpg`` and ``y/photo.jpg``, or two
  folders holding ``img.png``) both take their path below the deepest folder that holds
  them all (``x/photo``, ``y/photo``), mirroring the folder structure; ``photo.jpg`` and
  ``photo.png`` of one folder add their extension (``photo_jpg``, ``photo_png``). Names
  depend only on the set of inputs, never on which run or rank produced them.

Folders are searched recursively, hidden entries left out. The output folder is never read
back: when it sits inside an input folder it is skipped, and when an input folder is the
output folder (or inside it) posekit's own outputs (``*_overlay.png``, ``*_overlay.mp4``)
are. Each real folder is visited once, so symbolic-link loops end.
"""

from __future__ import annotations

import os
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Literal

from posekit.inference.images import IMAGE_SUFFIXES
from posekit.inference.video import VIDEO_SUFFIXES

__all__ = ["Job", "Failure", "Plan", "plan_jobs", "OUTPUT_SUFFIXES", "detect_format"]

# names of files posekit writes that are images or videos themselves
OUTPUT_SUFFIXES = ("_overlay.png", "_overlay.mp4")


def detect_format(path: Path) -> str | None:
    """"openpose" or "coco" for a keypoints JSON file, from its first character (None if
    absent or unreadable): an OpenPose document is an object, COCO results a list."""
    try:
        with open(path, "rb") as fh:
            head = fh.read(64).lstrip()
    except OSError:
        return None
    if head.startswith(b"{"):
        return "openpose"
    if head.startswith(b"["):
        return "coco"
    return None


@dataclass(frozen=True)
class Job:
    """One input and where its results go (``base`` + ``_keypoints.json`` ...)."""

    source: Path
    base: Path
    kind: Literal["image", "video"]
    label: str

    @property
    def json_path(self) -> Path:
        return self.base.with_name(self.base.name + "_keypoints.json")

    @property
    def overlay_path(self) -> Path:
        suffix = "_overlay.mp4" if self.kind == "video" else "_overlay.png"
        return self.base.with_name(self.base.name + suffix)

    @property
    def video_summary_path(self) -> Path:
        return self.base.with_name(self.base.name + "_video.json")

    def frame_json_name(self, index: int) -> str:
        return f"{self.base.name}_{index:012d}_keypoints.json"

    def frame_json_path(self, index: int) -> Path:
        return self.base.with_name(self.frame_json_name(index))

    def finished(self, fmt: str = "openpose", overlay: bool = True) -> bool:
        """Whether an earlier run left complete outputs in this format (per format: a run
        with another ``--format`` must redo the input, not skip it)."""
        if self.kind == "video":
            import json

            try:
                info = json.loads(self.video_summary_path.read_text(encoding="utf-8"))
            except (OSError, ValueError):
                return False
            return (isinstance(info, dict) and info.get("format") == fmt
                    and not info.get("problems")
                    and (not overlay or self.overlay_path.is_file()))
        return (detect_format(self.json_path) == fmt
                and (not overlay or self.overlay_path.is_file()))


@dataclass(frozen=True)
class Failure:
    input: str
    message: str

    def line(self) -> str:
        msg = self.message
        return msg if msg.startswith(self.input) else f"{self.input}: {msg}"


@dataclass
class Plan:
    out_dir: Path = Path("posekit-out")
    jobs: list[Job] = field(default_factory=list)
    failures: list[Failure] = field(default_factory=list)

    def share(self, rank: int, world: int) -> list[Job]:
        """This rank's jobs: every ``world``-th job from position ``rank`` (the plan is
        sorted the same way on every rank, so the shares are disjoint and complete)."""
        return self.jobs[rank::world]


def plan_jobs(inputs: Sequence[str | Path], out_dir: str | Path) -> Plan:
    """Expand files and folders into jobs with non-colliding output names."""
    out_dir = Path(out_dir)
    out_real = os.path.realpath(out_dir)
    plan = Plan(out_dir)
    found: list[tuple[Path, Path, str]] = []  # (source, relative output stem, label)
    for raw in inputs:
        path = Path(raw)
        label = str(raw)
        try:
            exists, is_dir = path.exists(), path.is_dir()
        except OSError as exc:
            plan.failures.append(Failure(label, f"cannot read it ({_reason(exc)})"))
            continue
        if not exists:
            plan.failures.append(Failure(label, "no such file or folder"))
        elif is_dir:
            files, errors = _scan(path, out_real)
            plan.failures.extend(errors)
            if not files and not errors:
                plan.failures.append(Failure(label, "no images or videos found in this folder"))
            for f in files:
                found.append((f, f.relative_to(path).with_suffix(""), str(f)))
        else:
            found.append((path, Path(path.stem), label))
    unique: dict[str, tuple[Path, Path, str]] = {}
    for source, rel, label in found:
        unique.setdefault(os.path.realpath(source), (source, rel, label))
    entries = list(unique.values())
    names = _names([source for source, _, _ in entries], [rel for _, rel, _ in entries])
    for (source, _, label), rel in zip(entries, names, strict=True):
        kind = "video" if source.suffix.lower() in VIDEO_SUFFIXES else "image"
        plan.jobs.append(Job(source, out_dir / rel, kind, label))
    return plan


def _names(sources: list[Path], rels: list[Path]) -> list[Path]:
    """Output stems with collisions resolved as the module docstring says."""
    rels = list(rels)
    key = [str(r).lower() for r in rels]  # case-insensitive file systems collide too
    clash = [i for i, k in enumerate(key) if Counter(key)[k] > 1]
    if clash:
        parents = [os.path.realpath(sources[i].parent) for i in clash]
        root = os.path.commonpath(parents)
        for i, parent in zip(clash, parents, strict=True):
            below = Path(os.path.relpath(parent, root))
            rels[i] = below / sources[i].stem if str(below) != "." else Path(sources[i].stem)
    counts = Counter(str(r).lower() for r in rels)
    for i, r in enumerate(rels):
        if counts[str(r).lower()] > 1:  # photo.jpg and photo.png in one folder
            rels[i] = r.with_name(f"{r.name}_{sources[i].suffix.lstrip('.').lower()}")
    seen: Counter[str] = Counter()
    for i, r in enumerate(rels):  # anything left (same name and extension): number them
        seen[str(r).lower()] += 1
        if seen[str(r).lower()] > 1:
            rels[i] = r.with_name(f"{r.name}_{seen[str(r).lower()]}")
    return rels


def _scan(folder: Path, out_real: str) -> tuple[list[Path], list[Failure]]:
    """Images and videos under ``folder`` (sorted; see the module docstring)."""
    files: list[Path] = []
    errors: list[Failure] = []
    stack = [folder]
    visited: set[tuple[int, int]] = set()
    while stack:
        current = stack.pop()
        try:
            st = os.stat(current)
            if (st.st_dev, st.st_ino) in visited:
                continue  # a symbolic link back to a folder already searched
            visited.add((st.st_dev, st.st_ino))
            with os.scandir(current) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            errors.append(Failure(str(current), f"cannot read folder ({_reason(exc).lower()})"))
            continue
        real = os.path.realpath(current)
        in_output = real == out_real or real.startswith(out_real + os.sep)
        subdirs = []
        for entry in entries:
            if entry.name.startswith("."):
                continue
            p = Path(entry.path)
            try:
                is_dir = entry.is_dir()
            except OSError:
                continue
            if is_dir:
                if os.path.realpath(p) != out_real:
                    subdirs.append(p)
            elif p.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES:
                if in_output and entry.name.lower().endswith(OUTPUT_SUFFIXES):
                    continue  # posekit's own overlay
                files.append(p)
        stack.extend(reversed(subdirs))
    return sorted(files), errors


def _reason(exc: OSError) -> str:
    return exc.strerror or type(exc).__name__
