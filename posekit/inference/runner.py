"""Inference over many inputs: plan the outputs, run in batches, write results atomically.

Inputs are image files, folders (searched recursively for images and videos) and videos.
Each image gives ``<stem>_keypoints.json`` (OpenPose JSON, or a COCO results list with
``fmt="coco"``) and ``<stem>_overlay.png``; each video gives one JSON per frame
(``<stem>_<frame:012d>_keypoints.json``, OpenPose's naming), ``<stem>_overlay.mp4`` when a
video writer is installed, and ``<stem>_video.json`` (written last: the video is done).
Files of a folder keep their sub-folder under the output folder. Every file appears whole
or not at all; an input that fails is reported and skipped, and inputs whose outputs exist
are skipped unless ``overwrite``.
"""

from __future__ import annotations

import os
import shutil
import tempfile
import time
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import Future, ThreadPoolExecutor
from dataclasses import dataclass, field
from itertools import islice
from pathlib import Path
from typing import Literal

import numpy as np

from posekit.errors import PosekitError
from posekit.inference.estimator import PoseEstimator
from posekit.inference.images import IMAGE_SUFFIXES, LoadedImage
from posekit.inference.outputs import (
    commit_files,
    json_writer,
    overlay_image,
    people_payload,
    png_writer,
)
from posekit.inference.video import VIDEO_SUFFIXES, VideoWriter, read_frames, video_fps
from posekit.people import Person, write_json_atomic

__all__ = ["Job", "Failure", "Plan", "RunSummary", "plan_jobs", "run_jobs", "FORMATS"]

FORMATS = ("openpose", "coco")
Format = Literal["openpose", "coco"]


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

    def finished(self, overlay: bool) -> bool:
        if self.kind == "video":
            return self.video_summary_path.is_file()
        return self.json_path.is_file() and (not overlay or self.overlay_path.is_file())


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


@dataclass
class RunSummary:
    done: int = 0  # inputs processed now
    skipped: int = 0  # inputs whose outputs already existed
    failures: list[Failure] = field(default_factory=list)
    people: int = 0
    frames: int = 0  # images + video frames through the network
    seconds: float = 0.0

    @property
    def images_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def plan_jobs(inputs: Sequence[str | Path], out_dir: str | Path) -> Plan:
    """Expand files and folders into jobs with non-colliding output names."""
    out_dir = Path(out_dir)
    out_abs = out_dir.resolve()
    plan = Plan(out_dir)
    found: list[tuple[Path, Path, str]] = []  # (source, relative output stem, label)
    for raw in inputs:
        path = Path(raw)
        label = str(raw)
        if not path.exists():
            plan.failures.append(Failure(label, "no such file or folder"))
        elif path.is_dir():
            files, errors = _scan(path, out_abs)
            plan.failures.extend(errors)
            if not files and not errors:
                plan.failures.append(Failure(label, "no images or videos found in this folder"))
            for f in files:
                rel = f.relative_to(path)
                found.append((f, rel.with_suffix(""), str(f)))
        else:
            found.append((path, Path(path.stem), label))
    seen_sources: set[Path] = set()
    counts: dict[Path, int] = {}
    for _, rel, _ in found:
        counts[rel] = counts.get(rel, 0) + 1
    for source, rel, label in found:
        key = source.resolve()
        if key in seen_sources:
            continue
        seen_sources.add(key)
        if counts[rel] > 1:  # photo.jpg and photo.png in one folder: keep both apart
            rel = rel.with_name(f"{rel.name}_{source.suffix.lstrip('.').lower()}")
        kind = "video" if source.suffix.lower() in VIDEO_SUFFIXES else "image"
        plan.jobs.append(Job(source, out_dir / rel, kind, label))
    return plan


def _scan(folder: Path, skip: Path) -> tuple[list[Path], list[Failure]]:
    """Images and videos under ``folder`` (sorted, hidden entries and ``skip`` left out)."""
    files: list[Path] = []
    errors: list[Failure] = []
    stack = [folder]
    while stack:
        current = stack.pop()
        try:
            with os.scandir(current) as it:
                entries = sorted(it, key=lambda e: e.name)
        except OSError as exc:
            reason = exc.strerror or type(exc).__name__
            errors.append(Failure(str(current), f"cannot read folder ({reason.lower()})"))
            continue
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
                if p.resolve() != skip:
                    subdirs.append(p)
            elif p.suffix.lower() in IMAGE_SUFFIXES | VIDEO_SUFFIXES:
                files.append(p)
        stack.extend(reversed(subdirs))
    return sorted(files), errors


def coco_image_id(job: Job, position: int) -> int:
    """COCO image id: the file name's number (COCO naming) or the 1-based input position."""
    stem = job.source.stem
    return int(stem) if stem.isdigit() and len(stem) < 16 else position + 1


class _Run:
    """State of one :func:`run_jobs` call."""

    def __init__(self, est: PoseEstimator, plan: Plan, fmt: Format, overlay: bool,
                 report: Callable[[Failure], None] | None,
                 advance: Callable[[int], None] | None) -> None:
        self.est = est
        self.fmt = fmt
        self.overlay = overlay
        self.report = report
        self.advance = advance
        self.summary = RunSummary()
        self.ids = {job: coco_image_id(job, i) for i, job in enumerate(plan.jobs)}
        for f in plan.failures:
            self.fail(f.input, f.message, step=False)

    def fail(self, label: str, message: str, step: bool = True) -> None:
        f = Failure(label, message)
        self.summary.failures.append(f)
        if self.report:
            self.report(f)
        if step:
            self.step()

    def step(self, n: int = 1) -> None:
        if self.advance:
            self.advance(n)

    # ------------------------------------------------------------------ images
    def images(self, jobs: list[Job]) -> None:
        pending: list[tuple[Job, LoadedImage]] = []
        for job, loaded, error in _load_ahead(self.est, jobs):
            if loaded is None:
                self.fail(job.label, error or "cannot load it")
                continue
            pending.append((job, loaded))
            if len(pending) >= self.est.batch_size:
                self._flush(pending)
                pending = []
        self._flush(pending)

    def _flush(self, batch: list[tuple[Job, LoadedImage]]) -> None:
        if not batch:
            return
        try:
            maps = self.est.maps([im for _, im in batch])
        except (RuntimeError, MemoryError) as exc:
            if len(batch) == 1:
                job = batch[0][0]
                self.fail(job.label, f"network failed ({type(exc).__name__}: {_first_line(exc)})")
                return
            for item in batch:  # isolate the input that fails
                self._flush([item])
            return
        for (job, loaded), (heat, paf) in zip(batch, maps, strict=True):
            try:
                people = self.est.people_from_maps(heat, paf, loaded)
                self._write_image(job, loaded, people)
            except PosekitError as exc:
                self.fail(job.label, str(exc))
                continue
            except (RuntimeError, OSError, ValueError, MemoryError) as exc:
                self.fail(job.label, f"{type(exc).__name__}: {_first_line(exc)}")
                continue
            self.summary.done += 1
            self.summary.frames += 1
            self.summary.people += len(people)
            self.step()

    def _write_image(self, job: Job, loaded: LoadedImage, people: list[Person]) -> None:
        files = [(job.json_path, json_writer(people_payload(people, self.fmt, self.ids[job])))]
        if self.overlay:
            files.append((job.overlay_path,
                          png_writer(overlay_image(loaded, people, self.est.skeleton))))
        commit_files(files)

    # ------------------------------------------------------------------ videos
    def video(self, job: Job) -> None:
        try:
            frames, people = self._video(job)
        except PosekitError as exc:
            self.fail(job.label, str(exc))
        except (RuntimeError, OSError, ValueError, MemoryError) as exc:
            self.fail(job.label, f"{type(exc).__name__}: {_first_line(exc)}")
        else:
            self.summary.done += 1
            self.summary.frames += frames
            self.summary.people += people
            self.step()

    def _video(self, job: Job) -> tuple[int, int]:
        est = self.est
        fps = video_fps(job.source)
        folder = job.base.parent
        folder.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=f".{job.base.name}.", suffix=".partial",
                                        dir=folder))
        writer = VideoWriter.open(job.overlay_path, fps) if self.overlay else None
        counts: list[int] = []
        try:
            frames = read_frames(job.source)
            while True:
                chunk = list(islice(frames, est.batch_size))
                if not chunk:
                    break
                loaded = [est.load(f, name=f"{job.label} frame {len(counts) + i}")
                          for i, f in enumerate(chunk)]
                for im, (heat, paf) in zip(loaded, est.maps(loaded), strict=True):
                    index = len(counts)
                    people = est.people_from_maps(heat, paf, im)
                    json_writer(people_payload(people, self.fmt, index))(
                        staging / job.frame_json_name(index))
                    if writer is not None:
                        writer.write(np.asarray(overlay_image(im, people, est.skeleton)))
                    counts.append(len(people))
            if writer is not None:
                writer.close()
            for name in sorted(os.listdir(staging)):
                os.replace(staging / name, folder / name)
            write_json_atomic(job.video_summary_path, {
                "source": str(job.source), "frames": len(counts), "fps": fps,
                "format": self.fmt, "people_per_frame": counts,
                "overlay": job.overlay_path.name if writer is not None else None,
            })
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
        finally:
            shutil.rmtree(staging, ignore_errors=True)
        return len(counts), sum(counts)


def run_jobs(estimator: PoseEstimator, plan: Plan, *, fmt: Format = "openpose",
             overlay: bool = True, overwrite: bool = False,
             report: Callable[[Failure], None] | None = None,
             advance: Callable[[int], None] | None = None) -> RunSummary:
    """Run every job of ``plan``; failures go to ``report`` as they happen.

    ``advance(n)`` is called as inputs finish (done, skipped or failed), for progress bars.
    With ``fmt="coco"`` a combined ``coco_results.json`` (and ``coco_image_ids.json``)
    for all the plan's inputs is written too.
    """
    if fmt not in FORMATS:
        raise PosekitError(f"unknown output format {fmt!r}; use one of {', '.join(FORMATS)}")
    run = _Run(estimator, plan, fmt, overlay, report, advance)
    todo = []
    for job in plan.jobs:
        if not overwrite and job.finished(overlay):
            run.summary.skipped += 1
            run.step()
        else:
            todo.append(job)
    start = time.perf_counter()
    run.images([j for j in todo if j.kind == "image"])
    for job in todo:
        if job.kind == "video":
            run.video(job)
    run.summary.seconds = time.perf_counter() - start
    if fmt == "coco":
        _write_coco_collection(plan, run.ids)
    return run.summary


def _write_coco_collection(plan: Plan, ids: dict[Job, int]) -> None:
    """All images' COCO results in one list, in the output folder."""
    import json

    images = [j for j in plan.jobs if j.kind == "image"]
    if not images:
        return
    results, names = [], {}
    for job in images:
        if not job.json_path.is_file():
            continue
        try:
            entries = json.loads(job.json_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        if not isinstance(entries, list):
            continue  # written in OpenPose format by an earlier run
        for entry in entries:
            results.append({**entry, "image_id": ids[job]})
        names[str(job.source)] = ids[job]
    write_json_atomic(plan.out_dir / "coco_results.json", results)
    write_json_atomic(plan.out_dir / "coco_image_ids.json", names, indent=1)


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__


def _load_ahead(est: PoseEstimator, jobs: list[Job]
                ) -> Iterator[tuple[Job, LoadedImage | None, str | None]]:
    """Load images in a background thread, a few ahead of the network."""
    if not jobs:
        return
    ahead = max(2, est.batch_size * 2)
    with ThreadPoolExecutor(max_workers=1, thread_name_prefix="posekit-load") as pool:
        queue: deque[tuple[Job, Future[LoadedImage]]] = deque()
        it = iter(jobs)
        for job in islice(it, ahead):
            queue.append((job, pool.submit(est.load, job.source, job.label)))
        while queue:
            job, fut = queue.popleft()
            nxt = next(it, None)
            if nxt is not None:
                queue.append((nxt, pool.submit(est.load, nxt.source, nxt.label)))
            try:
                yield job, fut.result(), None
            except PosekitError as exc:
                yield job, None, str(exc)
            except (OSError, ValueError, MemoryError) as exc:
                yield job, None, f"cannot load it ({type(exc).__name__}: {_first_line(exc)})"
