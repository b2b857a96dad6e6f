"""Planning many inputs: folders recursively, output names, skipped outputs, videos."""

from __future__ import annotations

import json
import os
from pathlib import Path

import pytest
from PIL import Image

from posekit.errors import PosekitError
from posekit.inference import PoseEstimator, video
from posekit.inference import plan as plan_module
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

        monkeypatch.setattr(plan_module.os, "scandir", scandir)
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


def test_same_file_names_in_different_folders_mirror_the_folders(tmp_path):
    a = _img(tmp_path / "x" / "photo.jpg")
    b = _img(tmp_path / "y" / "deep" / "photo.jpg")
    c = _img(tmp_path / "z" / "other.jpg")
    out = tmp_path / "out"
    plan = plan_jobs([a, b, c], out)
    assert [j.json_path for j in plan.jobs] == [
        out / "x" / "photo_keypoints.json", out / "y" / "deep" / "photo_keypoints.json",
        out / "other_keypoints.json"]
    # two folders holding the same relative names
    _img(tmp_path / "x" / "sub" / "img.png")
    _img(tmp_path / "y" / "sub" / "img.png")
    jobs = plan_jobs([tmp_path / "x" / "sub", tmp_path / "y" / "sub"], out).jobs
    assert [j.json_path.relative_to(out).as_posix() for j in jobs] == [
        "x/sub/img_keypoints.json", "y/sub/img_keypoints.json"]


def test_same_names_write_separate_outputs(tiny_weights, tmp_path):
    a = tmp_path / "x" / "photo.png"
    b = tmp_path / "y" / "photo.png"
    for path, colour in ((a, (200, 0, 0)), (b, (0, 0, 200))):
        path.parent.mkdir(parents=True)
        Image.new("RGB", (48, 32), colour).save(path)
    est = PoseEstimator("coco18", tiny_weights, workers=0)
    summary = run_jobs(est, plan_jobs([a, b], tmp_path / "out"))
    assert summary.done == 2
    overlays = [tmp_path / "out" / d / "photo_overlay.png" for d in ("x", "y")]
    colours = [Image.open(p).convert("RGB").getpixel((1, 1)) for p in overlays]
    assert colours[0][0] > colours[0][2] and colours[1][2] > colours[1][0]


def test_output_folder_equal_to_the_input_folder_is_not_fed_back(tiny_weights, tmp_path):
    _img(tmp_path / "a.png")
    _img(tmp_path / "sub" / "b.png")
    est = PoseEstimator("coco18", tiny_weights, workers=0)
    first = run_jobs(est, plan_jobs([tmp_path], tmp_path))
    assert first.done == 2 and (tmp_path / "a_overlay.png").is_file()
    plan = plan_jobs([tmp_path], tmp_path)
    assert sorted(j.source.name for j in plan.jobs) == ["a.png", "b.png"]
    again = run_jobs(est, plan)
    assert (again.done, again.skipped) == (0, 2)


def test_symlink_loops_in_input_folders_end(tmp_path):
    _img(tmp_path / "data" / "a.png")
    _img(tmp_path / "data" / "sub" / "b.png")
    os.symlink(tmp_path / "data", tmp_path / "data" / "sub" / "loop")
    os.symlink(tmp_path / "data" / "sub", tmp_path / "data" / "again")
    plan = plan_jobs([tmp_path / "data"], tmp_path / "out")
    assert sorted(j.source.name for j in plan.jobs) == ["a.png", "b.png"]
    assert not plan.failures


def test_a_new_format_redoes_earlier_outputs(tiny_weights, tmp_path):
    img = _img(tmp_path / "000000000007.png")
    out = tmp_path / "out"
    est = PoseEstimator("coco18", tiny_weights, workers=0)
    assert run_jobs(est, plan_jobs([img], out)).done == 1
    coco = run_jobs(est, plan_jobs([img], out), fmt="coco")
    assert (coco.done, coco.skipped) == (1, 0)
    entries = json.loads((out / "000000000007_keypoints.json").read_text())
    assert isinstance(entries, list)
    assert json.loads((out / "coco_results.json").read_text()) == entries
    names = json.loads((out / "coco_image_ids.json").read_text())
    assert names == {str(img): 7}
    assert run_jobs(est, plan_jobs([img], out), fmt="coco").skipped == 1
    assert run_jobs(est, plan_jobs([img], out), fmt="openpose").done == 1


def test_outputs_honour_the_umask(tiny_weights, tmp_path):
    img = _img(tmp_path / "a.png")
    est = PoseEstimator("coco18", tiny_weights, workers=0)
    old = os.umask(0o027)
    try:
        run_jobs(est, plan_jobs([img], tmp_path / "out"), fmt="coco")
    finally:
        os.umask(old)
    for name in ("a_keypoints.json", "a_overlay.png", "coco_results.json"):
        assert (tmp_path / "out" / name).stat().st_mode & 0o777 == 0o640, name


def test_an_unreadable_image_is_reported_and_the_rest_go_on(tiny_weights, tmp_path,
                                                            monkeypatch):
    good = _img(tmp_path / "good.png")
    locked = _img(tmp_path / "locked.png")
    real_open = Image.open

    def guarded(fp, *args, **kwargs):
        if Path(fp) == locked:  # root reads anything: fail it as it would for a user
            raise PermissionError(13, "Permission denied", str(fp))
        return real_open(fp, *args, **kwargs)

    monkeypatch.setattr(Image, "open", guarded)
    reported = []
    est = PoseEstimator("coco18", tiny_weights, workers=0)
    summary = run_jobs(est, plan_jobs([locked, good], tmp_path / "out"),
                       report=reported.append)
    assert summary.done == 1 and [f.input for f in reported] == [str(locked)]
    assert "permission denied" in reported[0].line().lower()
    assert (tmp_path / "out" / "good_keypoints.json").is_file()


def test_ranks_take_disjoint_shares_that_cover_the_plan(tmp_path):
    for i in range(7):
        _img(tmp_path / "in" / f"{i}.png")
    plan = plan_jobs([tmp_path / "in"], tmp_path / "out")
    shares = [plan.share(r, 3) for r in range(3)]
    assert sorted(j.source.name for s in shares for j in s) == [f"{i}.png" for i in range(7)]
    assert [len(s) for s in shares] == [3, 2, 2]
    assert plan_jobs([tmp_path / "in"], tmp_path / "out").share(1, 3) == shares[1]
