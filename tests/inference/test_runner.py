"""Planning many inputs: folders recursively, output names, skipped outputs, videos."""

from __future__ import annotations

import os
from pathlib import Path

import pytest
from PIL import Image

from posekit.errors import PosekitError
from posekit.inference import runner, video
from posekit.inference.runner import coco_image_id, plan_jobs


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
