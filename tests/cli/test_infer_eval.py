"""``posekit infer`` and ``posekit eval`` as a user runs them (subprocesses, tiny networks).

Real-photo kinds (progressive JPEG, grayscale, RGBA, EXIF-rotated, very large, palette,
CMYK) must all give valid JSON whatever the weights; bad inputs are reported one line each
and skipped, with exit code 1 and nothing half-written for them.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest
from PIL import Image

from posekit import Skeleton

OTHER = Skeleton(name="tri3", keypoints=("a", "b", "c"), limbs=(("a", "b"), ("b", "c")))
DATA = Path(__file__).resolve().parents[2] / "posekit" / "data"


def _save_tiny(path, skeleton="coco18"):
    import torch

    from posekit.network import NetworkConfig, Preprocess, build_network, save_checkpoint

    torch.manual_seed(0)
    net = build_network(skeleton, NetworkConfig.light(paf_stages=1, cm_stages=1, width=16,
                                                      stage_blocks=1))
    save_checkpoint(path, net, skeleton, Preprocess(input_height=64))
    return path


@pytest.fixture(scope="module")
def weights(tmp_path_factory):
    return _save_tiny(tmp_path_factory.mktemp("w") / "tiny.pt")


def posekit(*args, cwd=None):
    """Run the real command line (exit codes and stderr exactly as a user sees them)."""
    return subprocess.run([sys.executable, "-m", "posekit", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


def invoke(*args):
    """Run the command in this process (faster; for behaviour other than exit-1 errors)."""
    from typer.testing import CliRunner

    from posekit.cli import app

    result = CliRunner().invoke(app, [str(a) for a in args])
    if result.exception and not isinstance(result.exception, SystemExit):
        raise result.exception
    return result


def _photo(w, h, seed=0):
    rng = np.random.default_rng(seed)
    return Image.fromarray((rng.random((h, w, 3)) * 255).astype(np.uint8))


def _kinds(folder: Path) -> dict[str, tuple[int, int]]:
    """Write one image of every kind; returns name -> displayed (W, H)."""
    folder.mkdir(parents=True, exist_ok=True)
    photo = _photo(96, 64)
    photo.save(folder / "progressive.jpg", progressive=True, quality=85)
    photo.convert("L").save(folder / "gray.png")
    photo.convert("RGBA").save(folder / "rgba.png")
    photo.convert("P").save(folder / "palette.gif")
    photo.convert("CMYK").save(folder / "cmyk.jpg")
    photo.save(folder / "plain.png")
    exif = Image.Exif()
    exif[0x0112] = 6  # stored landscape, shown rotated 90 degrees: portrait
    photo.save(folder / "rotated.jpg", exif=exif)
    Image.new("RGB", (6000, 4000), (70, 90, 110)).save(folder / "large.jpg", quality=60)
    sizes = dict.fromkeys(["progressive", "gray", "rgba", "palette", "cmyk", "plain"], (96, 64))
    sizes.update(rotated=(64, 96), large=(6000, 4000))
    return sizes


def _check_openpose(path: Path, size: tuple[int, int]) -> dict:
    doc = json.loads(path.read_text())
    assert doc["version"] == 1.3 and isinstance(doc["people"], list)
    for person in doc["people"]:
        assert person["person_id"] == [-1]
        kp = np.asarray(person["pose_keypoints_2d"], dtype=float).reshape(-1, 3)
        assert kp.shape == (18, 3)
        found = kp[:, 2] > 0
        assert (kp[found, 0] > -2).all() and (kp[found, 0] < size[0] + 1).all()
        assert (kp[found, 1] > -2).all() and (kp[found, 1] < size[1] + 1).all()
    return doc


def test_every_kind_of_photo_gives_valid_json_and_an_overlay(tmp_path, weights):
    sizes = _kinds(tmp_path / "photos")
    out = tmp_path / "out"
    run = posekit("infer", "--skeleton", "coco18", "--weights", weights, tmp_path / "photos",
                  "--out", out)
    assert run.returncode == 0, run.stderr
    assert "Traceback" not in run.stderr
    assert f"{len(sizes)} done" in run.stdout
    for stem, size in sizes.items():
        _check_openpose(out / f"{stem}_keypoints.json", size)
        with Image.open(out / f"{stem}_overlay.png") as overlay:
            w, h = overlay.size
            assert (w >= h) == (size[0] >= size[1])  # rotated photos drawn upright
    assert not [p for p in out.iterdir() if p.name.startswith(".")]  # no temp files left


def test_bad_inputs_are_reported_one_line_each_and_skipped(tmp_path, weights):
    good = tmp_path / "good.png"
    _photo(80, 60).save(good)
    (tmp_path / "not_an_image.jpg").write_text("this is text")
    full = tmp_path / "full.jpg"
    _photo(300, 200).save(full, quality=95)
    (tmp_path / "truncated.jpg").write_bytes(full.read_bytes()[:2000])
    (tmp_path / "empty.png").write_bytes(b"")
    Image.new("RGB", (3000, 2000)).save(tmp_path / "huge.png")
    bad = ["not_an_image.jpg", "truncated.jpg", "empty.png", "missing.jpg", "huge.png"]
    out = tmp_path / "out"
    run = posekit("infer", "--skeleton", "coco18", "--weights", weights, "--out", out,
                  "--max-megapixels", "1", good, *(tmp_path / b for b in bad))
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    lines = run.stderr.strip().splitlines()
    assert len(lines) == len(bad)
    for name in bad:
        (line,) = [x for x in lines if name in x]
        assert line.startswith("error: ")
    assert "truncated or corrupt" in run.stderr and "not an image" in run.stderr
    assert "empty file" in run.stderr and "no such file" in run.stderr
    assert "megapixels" in run.stderr
    assert f"1 done, {len(bad)} failed of {len(bad) + 1} inputs;" in run.stdout
    assert sorted(p.name for p in out.iterdir()) == ["good_keypoints.json", "good_overlay.png"]


def test_one_bad_input_is_one_line(tmp_path, weights):
    (tmp_path / "x.jpg").write_text("nope")
    run = posekit("infer", "--skeleton", "coco18", "--weights", weights, tmp_path / "x.jpg",
                  "--out", tmp_path / "out")
    assert run.returncode == 1
    assert run.stderr.strip().splitlines() == [f"error: {tmp_path / 'x.jpg'}: not an image "
                                               "(or a format Pillow cannot read)"]
    assert not (tmp_path / "out").exists() or not any((tmp_path / "out").iterdir())


@pytest.mark.parametrize("case", ["missing", "other-skeleton"])
def test_bad_weights_fail_before_anything_is_written(tmp_path, weights, case):
    good = tmp_path / "good.png"
    _photo(40, 30).save(good)
    if case == "missing":
        w = tmp_path / "nope.pt"
    else:
        w = _save_tiny(tmp_path / "tri3.pt", OTHER)
    run = posekit("infer", "--skeleton", "coco18", "--weights", w, good, "--out",
                  tmp_path / "out")
    assert run.returncode == 1
    assert "Traceback" not in run.stderr
    assert len(run.stderr.strip().splitlines()) == 1
    assert run.stderr.startswith("error: ") and str(w) in run.stderr
    assert not (tmp_path / "out").exists()


def test_reruns_skip_finished_outputs_unless_overwrite(tmp_path, weights):
    _photo(50, 40).save(tmp_path / "a.png")
    _photo(50, 40, seed=1).save(tmp_path / "b.png")
    out = tmp_path / "out"
    args = ("infer", "--skeleton", "coco18", "--weights", weights, tmp_path / "a.png",
            tmp_path / "b.png", "--out", out)
    assert invoke(*args).exit_code == 0
    (out / "b_overlay.png").unlink()  # an interrupted earlier run: b is not finished
    before = (out / "a_keypoints.json").stat().st_mtime_ns
    again = invoke(*args)
    assert again.exit_code == 0
    assert "1 done, 1 skipped" in again.stdout
    assert (out / "a_keypoints.json").stat().st_mtime_ns == before
    assert (out / "b_overlay.png").is_file()
    redo = invoke(*args, "--overwrite")
    assert "2 done" in redo.stdout and "skipped" not in redo.stdout


def test_coco_format(tmp_path, weights):
    _photo(50, 40).save(tmp_path / "000000000042.png")
    out = tmp_path / "out"
    run = invoke("infer", "--skeleton", "coco18", "--weights", weights, "--format", "coco",
                 tmp_path / "000000000042.png", "--out", out, "--no-overlay")
    assert run.exit_code == 0, run.output
    entries = json.loads((out / "000000000042_keypoints.json").read_text())
    assert isinstance(entries, list)
    for e in entries:
        assert set(e) == {"image_id", "category_id", "keypoints", "score"}
        assert e["image_id"] == 42 and len(e["keypoints"]) == 54
    assert json.loads((out / "coco_results.json").read_text()) == entries
    assert not (out / "000000000042_overlay.png").exists()


def test_eval_writes_metrics_and_per_keypoint_errors(tmp_path, weights):
    from posekit import load_skeleton
    from posekit.synth.dataset import SynthSpec, write_synth_dataset

    write_synth_dataset(tmp_path / "data", load_skeleton("coco18"),
                        SynthSpec(images=3, people=(1, 2), size=(96, 96), seed=3))
    run = invoke("eval", "--skeleton", "coco18", "--weights", weights, "--data",
                 tmp_path / "data", "--json", tmp_path / "eval.json")
    assert run.exit_code == 0, run.output
    doc = json.loads((tmp_path / "eval.json").read_text())
    for key in ("ap", "ap50", "ap75", "ar"):
        assert 0.0 <= doc["metrics"][key] <= 1.0
    assert doc["images"] == 3 and doc["metrics"]["gt_people"] >= 3
    names = [row["keypoint"] for row in doc["per_keypoint"]]
    assert names == list(load_skeleton("coco18").keypoints)
    assert {"labelled", "found", "found_fraction", "mean_px", "median_px",
            "mean_relative"} <= set(doc["per_keypoint"][0])
    assert "AP" in run.stdout and "Nose" in run.stdout


def test_eval_with_a_missing_dataset_is_one_line(tmp_path, weights):
    run = posekit("eval", "--skeleton", "coco18", "--weights", weights, "--data",
                  tmp_path / "nothing")
    assert run.returncode == 1
    assert len(run.stderr.strip().splitlines()) == 1 and "annotation" in run.stderr


@pytest.mark.skipif(not (DATA / "coco18-demo.pt").is_file(), reason="no demo weights yet")
def test_demo_weights_find_people_in_the_bundled_example(tmp_path):
    run = posekit("infer", "--skeleton", "coco18", DATA / "example.png", "--out",
                  tmp_path / "out")
    assert run.returncode == 0, run.stderr
    assert "note:" not in run.stderr  # the bundled example is not a user's photo
    doc = _check_openpose(tmp_path / "out" / "example_keypoints.json",
                          Image.open(DATA / "example.png").size)
    assert len(doc["people"]) >= 1
    assert max(p["score"] for p in doc["people"]) > 0.4
    # on a user's photo the demo weights say once what they are
    _photo(64, 64).save(tmp_path / "mine.png")
    _photo(64, 64, 1).save(tmp_path / "mine2.png")
    mine = posekit("infer", "--skeleton", "coco18", tmp_path / "mine.png", tmp_path / "mine2.png",
                   "--out", tmp_path / "out2")
    assert mine.returncode == 0
    assert mine.stderr.count("note:") == 1 and "synthetic" in mine.stderr
    assert "posekit weights import" in mine.stderr and "posekit train" in mine.stderr


def test_an_unreadable_folder_is_reported_and_the_rest_continue(tmp_path, weights, monkeypatch):
    import os

    from posekit.inference import runner

    good = tmp_path / "good.png"
    _photo(40, 30).save(good)
    locked = tmp_path / "locked"
    locked.mkdir()
    _photo(40, 30).save(locked / "x.png")
    if os.geteuid() == 0:  # root reads every folder; fail this one as it would for a user
        real = os.scandir

        def scandir(path):
            if Path(path) == locked:
                raise PermissionError(13, "Permission denied")
            return real(path)

        monkeypatch.setattr(runner.os, "scandir", scandir)
    else:
        locked.chmod(0)
    try:
        result = invoke("infer", "--skeleton", "coco18", "--weights", weights, good, locked,
                        "--out", tmp_path / "out")
    finally:
        locked.chmod(0o755)
    assert result.exit_code == 1
    assert result.stderr.strip() == f"error: {locked}: cannot read folder (permission denied)"
    assert "1 done" in result.stdout and "1 failed" in result.stdout
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == [
        "good_keypoints.json", "good_overlay.png"]
