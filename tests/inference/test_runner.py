"""Planning many inputs: folders recursively, output names, skipped outputs, videos."""

from __future__ import annotations

import json
import os
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from posekit.errors import PosekitError
from posekit.inference import PoseEstimator, runner, video
from posekit.inference.runner import coco_image_id, plan_jobs, run_jobs


def _img(path: Path) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    Image.new("RGB", (16, 12), (10, 20, 30)).save(path)
    return path


def test_folders_are_searched_recursively_and_keep_their_layout(tmp_path):
    data = tmp_path / "data"
    _img(data / "a.jpg")
    _img(data / "sub" / "deeper" / "b.png")
    (data / "notes.txt").write_text("not an image")
    _img(data / ".hidden" / "c.png")
    out = tmp_path / "out"
    plan = plan_jobs([data], out)
    assert not plan.failures
    assert [j.json_path for j in plan.jobs] == [
        out / "a_keypoints.json", out / "sub" / "deeper" / "b_keypoints.json"]
    assert plan.jobs[0].overlay_path == out / "a_overlay.png"


def test_same_stems_do_not_collide_and_duplicates_run_once(tmp_path):
    a = _img(tmp_path / "photo.jpg")
    b = _img(tmp_path / "photo.png")
    plan = plan_jobs([a, b, a], tmp_path / "out")
    names = sorted(j.json_path.name for j in plan.jobs)
    assert names == ["photo_jpg_keypoints.json", "photo_png_keypoints.json"]


def test_output_folder_inside_an_input_folder_is_not_read_back(tmp_path):
    _img(tmp_path / "a.jpg")
    _img(tmp_path / "posekit-out" / "a_overlay.png")  # results of an earlier run
    plan = plan_jobs([tmp_path], tmp_path / "posekit-out")
    assert [j.source.name for j in plan.jobs] == ["a.jpg"]


def test_missing_inputs_and_empty_or_unreadable_folders_are_failures(tmp_path, monkeypatch):
    good = _img(tmp_path / "good.jpg")
    (tmp_path / "empty").mkdir()
    locked = tmp_path / "locked"
    _img(locked / "x.jpg")
    if os.geteuid() == 0:  # root reads any folder: make this one fail as it would for a user
        real = os.scandir

        def scandir(path):
            if Path(path) == locked:
                raise PermissionError(13, "Permission denied")
            return real(path)

        monkeypatch.setattr(runner.os, "scandir", scandir)
    else:
        locked.chmod(0)
    try:
        plan = plan_jobs([good, tmp_path / "nope.jpg", tmp_path / "empty", locked], tmp_path / "o")
    finally:
        locked.chmod(0o755)
    assert [j.source for j in plan.jobs] == [good]
    messages = {Path(f.input).name: f.message for f in plan.failures}
    assert messages["nope.jpg"] == "no such file or folder"
    assert "no images" in messages["empty"]
    assert "cannot read folder (permission denied)" == messages["locked"]


def test_videos_are_jobs_of_their_own(tmp_path):
    clip = tmp_path / "clip.MP4"
    clip.write_bytes(b"\x00" * 10)
    (job,) = plan_jobs([clip], tmp_path / "out").jobs
    assert job.kind == "video"
    assert job.frame_json_name(7) == "clip_000000000007_keypoints.json"
    assert job.overlay_path.name == "clip_overlay.mp4"


def test_without_a_video_library_reading_says_what_to_install(tmp_path, monkeypatch):
    monkeypatch.setattr(video, "video_backend", lambda: None)
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00" * 10)
    with pytest.raises(PosekitError, match=r"clip\.mp4: cannot read videos.*pip install av"):
        next(video.read_frames(clip))


def test_coco_image_ids_follow_coco_file_names(tmp_path):
    jobs = plan_jobs([_img(tmp_path / "000000000139.jpg"), _img(tmp_path / "cat.jpg")],
                     tmp_path / "o").jobs
    assert [coco_image_id(j, i) for i, j in enumerate(jobs)] == [139, 2]


def _frames(n):
    rng = np.random.default_rng(0)
    return [(rng.random((40, 64, 3)) * 255).astype(np.uint8) for _ in range(n)]


def test_video_frames_get_openpose_names_and_rerun_skips(tiny_weights, tmp_path, monkeypatch):
    frames = _frames(5)
    monkeypatch.setattr(runner, "read_frames", lambda path: iter(frames))
    monkeypatch.setattr(runner, "video_fps", lambda path: 25.0)
    monkeypatch.setattr(runner.VideoWriter, "open", classmethod(lambda cls, path, fps: None))
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00")
    est = PoseEstimator("coco18", tiny_weights, batch_size=2)
    plan = plan_jobs([clip], tmp_path / "out")
    summary = run_jobs(est, plan)
    assert (summary.done, summary.frames, summary.failures) == (1, 5, [])
    names = sorted(p.name for p in (tmp_path / "out").iterdir())
    assert names == [f"clip_{i:012d}_keypoints.json" for i in range(5)] + ["clip_video.json"]
    info = json.loads((tmp_path / "out" / "clip_video.json").read_text())
    assert info["frames"] == 5 and info["fps"] == 25.0 and len(info["people_per_frame"]) == 5
    again = run_jobs(est, plan)
    assert (again.done, again.skipped) == (0, 1)


def test_a_video_that_breaks_midway_leaves_nothing_behind(tiny_weights, tmp_path, monkeypatch):
    frames = _frames(3)

    def broken(path):
        yield from frames
        raise PosekitError(f"{path}: not a readable video (after frame 3: bad packet)")

    monkeypatch.setattr(runner, "read_frames", broken)
    monkeypatch.setattr(runner, "video_fps", lambda path: 25.0)
    monkeypatch.setattr(runner.VideoWriter, "open", classmethod(lambda cls, path, fps: None))
    clip = tmp_path / "clip.mp4"
    clip.write_bytes(b"\x00")
    good = _img(tmp_path / "good.png")
    est = PoseEstimator("coco18", tiny_weights)
    reported = []
    summary = run_jobs(est, plan_jobs([clip, good], tmp_path / "out"), report=reported.append)
    assert summary.done == 1 and [f.input for f in reported] == [str(clip)]
    assert "after frame 3" in reported[0].line()
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "good_keypoints.json", "good_overlay.png"]


@pytest.mark.skipif(video.video_backend() is None, reason="no video library installed")
def test_real_video_round_trip(tiny_weights, tmp_path):
    clip = tmp_path / "clip.mp4"
    writer = video.VideoWriter.open(clip, 10.0)
    for frame in _frames(4):
        writer.write(frame)
    writer.close()
    est = PoseEstimator("coco18", tiny_weights)
    summary = run_jobs(est, plan_jobs([clip], tmp_path / "out"))
    assert summary.failures == [] and summary.frames == 4
    assert (tmp_path / "out" / "clip_overlay.mp4").stat().st_size > 0
    assert len(list(video.read_frames(tmp_path / "out" / "clip_overlay.mp4"))) == 4
