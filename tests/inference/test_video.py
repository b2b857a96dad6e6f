"""Videos through ``run_jobs``, on real files written with PyAV (the ``video`` extra):
per-frame OpenPose JSON, an overlay at the source's frame rate, damaged videos keeping
their good frames, and an interrupted run that continues where it stopped."""

from __future__ import annotations

import json
from fractions import Fraction

import numpy as np
import pytest

from posekit.inference import PoseEstimator
from posekit.inference.runner import plan_jobs, run_jobs

av = pytest.importorskip("av")

FRAMES = 12


def _write(path, codec="mpeg4", fmt="mp4", n=FRAMES, fps=Fraction(15)):
    """A small real video of moving noise."""
    rng = np.random.default_rng(0)
    with av.open(str(path), "w", format=fmt) as container:
        stream = container.add_stream(codec, rate=fps)
        stream.width, stream.height = 64, 48
        stream.pix_fmt = "yuvj420p" if codec == "mjpeg" else "yuv420p"
        for _ in range(n):
            frame = (rng.random((48, 64, 3)) * 255).astype(np.uint8)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)
    return path


def _frames_of(path):
    with av.open(str(path)) as container:
        stream = container.streams.video[0]
        rate = stream.average_rate
        return sum(1 for _ in container.decode(stream)), rate


def _corrupt_frame(path, index):
    """Overwrite the middle of MJPEG frame ``index`` (each frame is one JPEG)."""
    data = bytearray(path.read_bytes())
    starts = [i for i in range(len(data) - 1) if data[i] == 0xFF and data[i + 1] == 0xD8]
    a, b = starts[index], starts[index + 1]
    data[a + 2:b - 8] = b"\x5a" * (b - 8 - a - 2)
    path.write_bytes(bytes(data))


@pytest.fixture
def est(tiny_weights):
    return PoseEstimator("coco18", tiny_weights, batch_size=4, workers=0)


def test_a_real_video_gives_frame_json_and_an_overlay_at_its_rate(est, tmp_path):
    clip = _write(tmp_path / "clip.mp4")
    out = tmp_path / "out"
    summary = run_jobs(est, plan_jobs([clip], out))
    assert (summary.done, summary.frames, summary.failures) == (1, FRAMES, [])
    names = sorted(p.name for p in out.iterdir())
    assert names == sorted([f"clip_{i:012d}_keypoints.json" for i in range(FRAMES)]
                           + ["clip_overlay.mp4", "clip_video.json"])
    doc = json.loads((out / "clip_000000000003_keypoints.json").read_text())
    assert doc["version"] == 1.3 and isinstance(doc["people"], list)
    count, rate = _frames_of(out / "clip_overlay.mp4")
    assert count == FRAMES and rate == 15
    info = json.loads((out / "clip_video.json").read_text())
    assert info["frames"] == FRAMES and info["fps"] == 15.0 and info["problems"] == []
    again = run_jobs(est, plan_jobs([clip], out))
    assert (again.done, again.skipped, again.frames) == (0, 1, 0)


def test_a_corrupt_frame_is_reported_and_the_good_frames_kept(est, tmp_path):
    clip = _write(tmp_path / "clip.avi", codec="mjpeg", fmt="avi")
    _corrupt_frame(clip, 5)
    out = tmp_path / "out"
    reported = []
    summary = run_jobs(est, plan_jobs([clip], out), report=reported.append)
    assert summary.done == 0 and len(reported) == 1
    assert "frame 5 is corrupt" in reported[0].line() and str(clip) in reported[0].line()
    frames = sorted(p.name for p in out.glob("clip_0*_keypoints.json"))
    assert len(frames) == FRAMES - 1 and "clip_000000000005_keypoints.json" not in frames
    assert _frames_of(out / "clip_overlay.mp4")[0] == FRAMES - 1


def test_a_video_that_ends_early_keeps_its_frames(est, tmp_path):
    clip = _write(tmp_path / "clip.avi", codec="mjpeg", fmt="avi")
    data = clip.read_bytes()
    clip.write_bytes(data[: len(data) * 6 // 10])
    reported = []
    run_jobs(est, plan_jobs([clip], tmp_path / "out"), report=reported.append)
    assert len(reported) == 1 and f"of the {FRAMES} frames" in reported[0].line()
    kept = list((tmp_path / "out").glob("clip_0*_keypoints.json"))
    assert 0 < len(kept) < FRAMES


def test_a_video_that_cannot_be_opened_is_one_failure(est, tmp_path):
    junk = tmp_path / "junk.mp4"
    junk.write_bytes(b"not a video" * 20)
    good = _write(tmp_path / "good.mp4", n=3)
    reported = []
    summary = run_jobs(est, plan_jobs([junk, good], tmp_path / "out"), report=reported.append)
    assert summary.done == 1 and [f.input for f in reported] == [str(junk)]
    assert "cannot open the video" in reported[0].line()
    assert not list((tmp_path / "out").glob("junk*"))


def test_an_interrupted_video_leaves_whole_files_and_a_rerun_continues(est, tmp_path):
    clip = _write(tmp_path / "clip.mp4")
    out = tmp_path / "out"
    seen = []

    def stop_after_five(n):
        seen.append(n)
        if len(seen) == 5:
            raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        run_jobs(est, plan_jobs([clip], out), advance=stop_after_five)
    left = sorted(p.name for p in out.iterdir())
    assert left == [f"clip_{i:012d}_keypoints.json" for i in range(5)]  # no temp, no overlay
    summary = run_jobs(est, plan_jobs([clip], out))
    assert summary.done == 1 and summary.frames == FRAMES - 5  # only the rest ran
    assert _frames_of(out / "clip_overlay.mp4")[0] == FRAMES
    assert len(list(out.glob("clip_0*_keypoints.json"))) == FRAMES
