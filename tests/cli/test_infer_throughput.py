"""``posekit infer`` at scale: torchrun ranks (split, merge, resume after a killed rank),
the output folder checked before any work, and results independent of --batch-size."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from fractions import Fraction
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from posekit.inference import bundled_weights, example_image

HAS_DEMO = bundled_weights("coco18") is not None and bundled_weights("coco18").is_file()


def posekit(*args, env=None):
    return subprocess.run([sys.executable, "-m", "posekit", *map(str, args)],
                          capture_output=True, text=True, env=env, timeout=300)


def _tiny(path):
    import torch

    from posekit.network import NetworkConfig, Preprocess, build_network, save_checkpoint

    torch.manual_seed(0)
    net = build_network("coco18", NetworkConfig.light(paf_stages=1, cm_stages=1, width=16,
                                                      stage_blocks=1))
    save_checkpoint(path, net, "coco18", Preprocess(input_height=64))
    return path


@pytest.mark.parametrize("case", ["file", "below-a-file"])
def test_an_output_folder_that_cannot_be_made_is_one_line_before_any_work(tmp_path, case):
    img = tmp_path / "a.png"
    Image.new("RGB", (40, 30)).save(img)
    blocker = tmp_path / "taken"
    blocker.write_text("a file")
    out = blocker if case == "file" else blocker / "out"
    # missing weights too: the output folder is checked first, before the network loads
    run = posekit("infer", "--skeleton", "coco18", "--weights", tmp_path / "nope.pt", img,
                  "--out", out)
    assert run.returncode == 1 and "Traceback" not in run.stderr
    (line,) = run.stderr.strip().splitlines()
    assert line.startswith("error: --out") and str(blocker) in line
    assert blocker.read_text() == "a file"


def test_an_unwritable_output_folder_is_refused(tmp_path, monkeypatch):
    from typer.testing import CliRunner

    from posekit.cli import app
    from posekit.errors import PosekitError

    img = tmp_path / "a.png"
    Image.new("RGB", (40, 30)).save(img)
    locked = tmp_path / "locked"
    locked.mkdir()
    real = os.access
    monkeypatch.setattr(os, "access", lambda p, mode, **kw: (
        False if Path(p) == locked else real(p, mode, **kw)))  # root may write anywhere
    result = CliRunner().invoke(app, ["infer", "--skeleton", "coco18", str(img), "--out",
                                      str(locked / "out")])
    assert isinstance(result.exception, PosekitError)
    assert "not writable" in str(result.exception) and not (locked / "out").exists()


@pytest.mark.skipif(not HAS_DEMO, reason="no bundled demo weights")
def test_batch_size_does_not_change_the_people(tmp_path):
    ex = Image.open(example_image()).convert("RGB")
    folder = tmp_path / "photos"
    folder.mkdir()
    w, h = ex.size
    for i, box in enumerate([(0, 0, w, h), (0, 0, w, h * 3 // 4), (0, 0, w // 2, h),
                             (w // 5, h // 4, w, h)]):
        ex.crop(box).save(folder / f"p{i}.png")
    docs = []
    for bs in (1, 4):
        out = tmp_path / f"out{bs}"
        run = posekit("infer", "--skeleton", "coco18", folder, "--out", out, "--batch-size",
                      bs, "--no-overlay")
        assert run.returncode == 0, run.stderr
        docs.append({p.name: json.loads(p.read_text()) for p in sorted(out.iterdir())})
    assert docs[0].keys() == docs[1].keys() and len(docs[0]) == 4
    people = 0
    for name, doc in docs[0].items():
        other = docs[1][name]["people"]
        assert len(doc["people"]) == len(other)
        for a, b in zip(doc["people"], other, strict=True):
            assert np.allclose(a["pose_keypoints_2d"], b["pose_keypoints_2d"], atol=0.01)
        people += len(doc["people"])
    assert people >= 4


def _video(path, frames):
    import av

    ex = np.asarray(Image.open(example_image()).convert("RGB").resize((96, 96)))
    with av.open(str(path), "w", format="mp4") as container:
        stream = container.add_stream("mpeg4", rate=Fraction(10))
        stream.width, stream.height, stream.pix_fmt = 96, 96, "yuv420p"
        for i in range(frames):
            frame = np.roll(ex, i % 7, axis=1)
            for packet in stream.encode(av.VideoFrame.from_ndarray(frame, format="rgb24")):
                container.mux(packet)
        for packet in stream.encode():
            container.mux(packet)


def _rank_pids(root_pid, rank):
    """Processes below ``root_pid`` whose environment says RANK=rank."""
    children = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                stat = Path(f"/proc/{entry}/stat").read_text()
                children.setdefault(int(stat.rsplit(")", 1)[1].split()[1]), []).append(
                    int(entry))
            except OSError:
                continue
    found, stack = [], [root_pid]
    while stack:
        pid = stack.pop()
        for child in children.get(pid, []):
            stack.append(child)
            try:
                env = Path(f"/proc/{child}/environ").read_bytes().split(b"\0")
            except OSError:
                continue
            if f"RANK={rank}".encode() in env and b"LOCAL_RANK=" + str(rank).encode() in env:
                found.append(child)
    return found


@pytest.mark.skipif(not HAS_DEMO, reason="no bundled demo weights")
def test_torchrun_splits_merges_and_resumes_after_a_killed_rank(tmp_path):
    pytest.importorskip("av")
    data = tmp_path / "data"
    data.mkdir()
    ex = Image.open(example_image()).convert("RGB")
    for i in range(5):  # a0..a4, then b.mp4: rank 1 takes a1, a3 and the video
        ex.rotate(i * 3).resize((120, 120)).save(data / f"a{i}.png")
    frames = 30
    _video(data / "b.mp4", frames)
    out = tmp_path / "out"
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    cmd = [sys.executable, "-m", "torch.distributed.run", "--standalone",
           "--nproc-per-node", "2", "-m", "posekit", "infer", "--skeleton", "coco18",
           str(data), "--out", str(out), "--format", "coco", "--workers", "0"]
    first = subprocess.Popen(cmd, env=env, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True, start_new_session=True)
    try:
        deadline = time.monotonic() + 240
        while len(list(out.glob("b_0*_keypoints.json"))) < 2:
            assert first.poll() is None, first.communicate()
            assert time.monotonic() < deadline
            time.sleep(0.02)
        for pid in _rank_pids(first.pid, 1):
            os.kill(pid, signal.SIGKILL)
        first.communicate(timeout=120)
    finally:
        if first.poll() is None:
            os.killpg(first.pid, signal.SIGKILL)
    assert first.returncode != 0
    done_frames = len(list(out.glob("b_0*_keypoints.json")))
    assert 2 <= done_frames < frames and not (out / "b_video.json").exists()
    for path in out.glob("*.json"):  # every file at its final name is whole
        json.loads(path.read_text())
    assert not (out / "b_overlay.mp4").exists()
    # each rank wrote only its own share
    assert {p.name for p in out.glob("a*_keypoints.json")} == {
        f"a{i}_keypoints.json" for i in range(5)}

    again = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=300)
    assert again.returncode == 0, again.stderr
    lines = {line.split(":")[0]: line for line in again.stdout.splitlines()
             if line.startswith("rank ")}
    assert lines["rank 0/2"].startswith("rank 0/2: 0 done, 3 skipped")
    assert lines["rank 1/2"].startswith("rank 1/2: 1 done, 2 skipped")
    assert f"in {frames - done_frames} images" in lines["rank 1/2"]  # only the rest ran
    assert len(list(out.glob("b_0*_keypoints.json"))) == frames
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # stale temps removed
    # rank 0 merged every image's results, in input order
    ids = json.loads((out / "coco_image_ids.json").read_text())
    assert list(ids) == [str(data / f"a{i}.png") for i in range(5)]
    merged = json.loads((out / "coco_results.json").read_text())
    per_image = [e for i in range(5) for e in json.loads(
        (out / f"a{i}_keypoints.json").read_text())]
    assert merged == per_image and len(merged) >= 5


def test_the_progress_bar_shows_frames_per_second_and_the_time_left():
    import io

    from rich.console import Console

    from posekit.cli.infer import _progress

    console = Console(file=io.StringIO(), force_terminal=True, width=100)
    with _progress(console, 50) as bar:
        task = bar.add_task("infer", total=50)
        for _ in range(5):
            bar.advance(task, 2)
            time.sleep(0.02)
        bar.refresh()
        text = console.file.getvalue()
    assert "10/50" in text and "frames/s" in text and ":" in text.split("frames/s")[-1]
