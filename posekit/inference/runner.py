"""Inference over many inputs: run a plan through the pipeline, write results atomically.

Inputs are image files, folders (searched recursively for images and videos) and videos
(:mod:`posekit.inference.plan` names the outputs). Each image gives ``<stem>_keypoints.json``
(OpenPose JSON, or a COCO results list with ``fmt="coco"``) and ``<stem>_overlay.png``;
each video gives one JSON per frame (``<stem>_<frame:012d>_keypoints.json``, OpenPose's
naming), ``<stem>_overlay.mp4`` at the source's frame rate, and ``<stem>_video.json``
(written last: the video is done). Every file appears whole or not at all; an input that
fails is reported and skipped, and inputs whose outputs exist in the requested format are
skipped unless ``overwrite``. A video interrupted part-way keeps the frames it finished:
a rerun reads their people back instead of running the network on them again.

Under torchrun each rank takes every ``world``-th input of the (identical) plan and writes
its own outputs; with ``fmt="coco"`` rank 0 gathers every rank's results into one
``coco_results.json`` at the end (:mod:`posekit.inference.ranks`).
"""

from __future__ import annotations

import json
import os
import time
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any, Literal

import numpy as np

from posekit.errors import PosekitError
from posekit.inference.outputs import (
    commit_files,
    json_writer,
    overlay_image,
    people_payload,
    png_writer,
)
from posekit.inference.pipeline import Known, Pipeline
from posekit.inference.plan import Failure, Job, Plan, detect_format, plan_jobs
from posekit.inference.ranks import SINGLE, Ranks
from posekit.inference.video import VideoWriter, open_video
from posekit.people import Person, write_json_atomic

__all__ = ["Job", "Failure", "Plan", "RunSummary", "plan_jobs", "run_jobs", "FORMATS",
           "coco_image_id", "expected_frames"]

FORMATS = ("openpose", "coco")
Format = Literal["openpose", "coco"]


@dataclass
class RunSummary:
    done: int = 0  # inputs processed now
    skipped: int = 0  # inputs whose outputs already existed
    failures: list[Failure] = field(default_factory=list)
    people: int = 0
    frames: int = 0  # images + video frames through the network
    seconds: float = 0.0
    rank: int = 0
    world: int = 1
    inputs: int = 0  # this rank's share of the plan (rank 0: and the paths it could not plan)

    @property
    def images_per_second(self) -> float:
        return self.frames / self.seconds if self.seconds > 0 else 0.0


def coco_image_id(job: Job, position: int) -> int:
    """COCO image id: the file name's number (COCO naming) or the 1-based input position."""
    stem = job.source.stem
    return int(stem) if stem.isdigit() and len(stem) < 16 else position + 1


def expected_frames(job: Job) -> int:
    """Frames a job sends through the network (a video's declared count; 1 if unknown)."""
    if job.kind == "image":
        return 1
    try:
        return open_video(job.source).declared_frames or 1
    except PosekitError:
        return 1


class _Run:
    """State of one :func:`run_jobs` call."""

    def __init__(self, est: Any, plan: Plan, fmt: Format, overlay: bool,
                 report: Callable[[Failure], None] | None,
                 advance: Callable[[int], None] | None, ranks: Ranks) -> None:
        self.est = est
        self.fmt = fmt
        self.overlay = overlay
        self.report = report
        self.advance = advance
        self.summary = RunSummary(rank=ranks.rank, world=ranks.world)
        self.ids = {job: coco_image_id(job, i) for i, job in enumerate(plan.jobs)}

    def fail(self, label: str, message: str) -> None:
        f = Failure(label, message)
        self.summary.failures.append(f)
        if self.report:
            self.report(f)

    def step(self, n: int = 1) -> None:
        if self.advance and n:
            self.advance(n)

    # ------------------------------------------------------------------ images
    def images(self, pipe: Pipeline, jobs: list[Job]) -> None:
        for result in pipe.run((job, job.source, job.label) for job in jobs):
            job = result.key
            try:
                if result.error is not None:
                    raise result.error
                self._write_image(job, result.image, result.people or [])
            except PosekitError as exc:
                self.fail(job.label, str(exc))
            except Exception as exc:  # noqa: BLE001 - one input never stops the run
                self.fail(job.label, f"{type(exc).__name__}: {_first_line(exc)}")
            else:
                self.summary.done += 1
                self.summary.frames += 1
                self.summary.people += len(result.people or [])
            self.step()

    def _write_image(self, job: Job, loaded: Any, people: list[Person]) -> None:
        files = [(job.json_path, json_writer(people_payload(people, self.fmt, self.ids[job])))]
        if self.overlay:
            files.append((job.overlay_path,
                          png_writer(overlay_image(loaded, people, self.est.skeleton))))
        commit_files(files)

    # ------------------------------------------------------------------ videos
    def video(self, pipe: Pipeline, job: Job) -> None:
        try:
            frames, people, problems = self._video(pipe, job)
        except PosekitError as exc:
            self.fail(job.label, str(exc))
            return
        except Exception as exc:  # noqa: BLE001 - one input never stops the run
            self.fail(job.label, f"{type(exc).__name__}: {_first_line(exc)}")
            return
        self.summary.frames += frames
        self.summary.people += people
        if problems:
            shown = "; ".join(problems[:3]) + (f"; {len(problems) - 3} more" if
                                               len(problems) > 3 else "")
            self.fail(job.label, f"video damaged, good frames kept: {shown}")
        else:
            self.summary.done += 1

    def _video(self, pipe: Pipeline, job: Job) -> tuple[int, int, list[str]]:
        source = open_video(job.source)
        job.base.parent.mkdir(parents=True, exist_ok=True)
        writer = VideoWriter.open(job.overlay_path, source.fps) if self.overlay else None
        counts: dict[int, int] = {}
        problems: list[str] = []
        ran = 0
        try:
            for result in pipe.run(self._frames(job, source)):
                index, reused = result.key
                if result.error is not None:
                    problems.append(str(result.error))
                    self.step()
                    continue
                people = result.people or []
                if not reused:
                    commit_files([(job.frame_json_path(index),
                                   json_writer(people_payload(people, self.fmt, index)))])
                    ran += 1
                if writer is not None and result.image is not None:
                    writer.write(np.asarray(overlay_image(result.image, people,
                                                          self.est.skeleton)))
                counts[index] = len(people)
                self.step()
            problems.extend(source.problems)
            if not counts:
                raise PosekitError(f"{job.label}: no frame could be decoded"
                                   + (f" ({problems[0]})" if problems else ""))
            if writer is not None:
                writer.close()
        except BaseException:
            if writer is not None:
                writer.abort()
            raise
        write_json_atomic(job.video_summary_path, {
            "source": str(job.source), "frames": len(counts), "fps": source.fps,
            "format": self.fmt, "people_per_frame": [counts[i] for i in sorted(counts)],
            "overlay": job.overlay_path.name if writer is not None else None,
            "problems": problems,
        })
        return ran, sum(counts.values()), problems

    def _frames(self, job: Job, source: Any) -> Iterator[tuple[Any, Any, str]]:
        """Frames for the pipeline; those an earlier run finished come as :class:`Known`."""
        K = self.est.skeleton.num_keypoints
        for index, frame in source.frames():
            name = f"{job.label} frame {index}"
            if isinstance(frame, PosekitError):
                yield (index, False), frame, name
                continue
            known = _read_frame(job.frame_json_path(index), self.fmt, K)
            if known is None:
                yield (index, False), frame, name
            else:
                yield (index, True), Known(known, frame if self.overlay else None), name


def _read_frame(path: Any, fmt: str, num_keypoints: int) -> list[Person] | None:
    """People of a frame JSON written earlier in format ``fmt`` (None: redo the frame)."""
    if detect_format(path) != fmt:
        return None
    try:
        doc = json.loads(path.read_text(encoding="utf-8"))
        entries = doc if fmt == "coco" else doc["people"]
        key = "keypoints" if fmt == "coco" else "pose_keypoints_2d"
        out = []
        for e in entries:
            kp = np.asarray(e[key], dtype=np.float64).reshape(-1, 3)
            if len(kp) != num_keypoints:
                return None
            out.append(Person(kp, float(e.get("score", 0.0))))
        return out
    except (OSError, ValueError, KeyError, TypeError):
        return None


def run_jobs(estimator: Any, plan: Plan, *, fmt: Format = "openpose",
             overlay: bool = True, overwrite: bool = False,
             report: Callable[[Failure], None] | None = None,
             advance: Callable[[int], None] | None = None,
             workers: int | None = None, ranks: Ranks = SINGLE) -> RunSummary:
    """Run this rank's share of ``plan``; failures go to ``report`` as they happen.

    ``advance(n)`` is called as images and frames finish (done, skipped or failed), for
    progress bars. ``workers``: decode processes (see :class:`Pipeline`). With
    ``fmt="coco"`` a combined ``coco_results.json`` (and ``coco_image_ids.json``) for all
    the plan's images is written too (by rank 0, after every rank has finished).
    """
    if fmt not in FORMATS:
        raise PosekitError(f"unknown output format {fmt!r}; use one of {', '.join(FORMATS)}")
    run = _Run(estimator, plan, fmt, overlay, report, advance, ranks)
    if ranks.rank == 0:
        for f in plan.failures:
            run.fail(f.input, f.message)
    mine = plan.share(ranks.rank, ranks.world)
    run.summary.inputs = len(mine) + (len(plan.failures) if ranks.rank == 0 else 0)
    todo = []
    for job in mine:
        if not overwrite and job.finished(fmt, overlay):
            run.summary.skipped += 1
            run.step(1 if job.kind == "image" else expected_frames(job))
        else:
            todo.append(job)
    for job in todo:
        _remove_stale_temps(job)
    start = time.perf_counter()
    with Pipeline(estimator, workers=workers) as pipe:
        run.images(pipe, [j for j in todo if j.kind == "image"])
        for job in todo:
            if job.kind == "video":
                run.video(pipe, job)
    run.summary.seconds = time.perf_counter() - start
    if fmt == "coco":
        _write_coco_collection(plan, mine, run.ids, ranks)
    return run.summary


def _write_coco_collection(plan: Plan, mine: list[Job], ids: dict[Job, int],
                           ranks: Ranks) -> None:
    """All images' COCO results in one list, in the output folder (rank 0 writes it)."""
    results, names = [], {}
    for job in mine:
        if job.kind != "image" or detect_format(job.json_path) != "coco":
            continue
        try:
            entries = json.loads(job.json_path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            continue
        results.extend({**entry, "image_id": ids[job]} for entry in entries)
        names[str(job.source)] = ids[job]
    gathered = ranks.gather((results, names))
    if ranks.rank != 0 or not any(j.kind == "image" for j in plan.jobs):
        return
    order = {str(j.source): i for i, j in enumerate(plan.jobs)}
    all_results = [r for part, _ in gathered for r in part]
    all_names = {k: v for _, part in gathered for k, v in part.items()}
    position = {ids[j]: i for i, j in enumerate(plan.jobs)}
    all_results.sort(key=lambda r: position.get(r["image_id"], 0))  # plan order, stable
    write_json_atomic(plan.out_dir / "coco_results.json", all_results)
    write_json_atomic(plan.out_dir / "coco_image_ids.json",
                      dict(sorted(all_names.items(), key=lambda kv: order[kv[0]])), indent=1)


def _remove_stale_temps(job: Job) -> None:
    """Delete the temporary files a killed run (SIGKILL: no clean-up) left for this job.

    Only this job's own names match (another rank may be writing other jobs' files)."""
    import re

    name = re.escape(job.base.name)
    pattern = re.compile(rf"^\.{name}(_\d{{12}})?_(keypoints|overlay)\.[^.]+\.(tmp|mp4)$")
    try:
        entries = list(os.scandir(job.base.parent))
    except OSError:
        return
    for entry in entries:
        if pattern.match(entry.name):
            try:
                os.unlink(entry.path)
            except OSError:
                pass


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip().splitlines()
    return text[0][:200] if text else type(exc).__name__
