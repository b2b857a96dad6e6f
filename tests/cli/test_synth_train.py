"""``posekit synth`` and ``posekit train`` from the command line."""

import json
import subprocess
import sys

import pytest

from posekit.coco import load_coco_keypoints
from posekit.skeleton import load_skeleton


def _posekit(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "posekit", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd, timeout=300)


@pytest.fixture(scope="module")
def synth_dir(tmp_path_factory):
    out = tmp_path_factory.mktemp("cli") / "data"
    res = _posekit("synth", "--skeleton", "coco18", "--out", out, "--images", 3,
                   "--people", "1:2", "--size", "64x64", "--seed", 1)
    assert res.returncode == 0, res.stderr
    return out


def test_synth_writes_a_coco_dataset(synth_dir):
    coco = load_coco_keypoints(synth_dir / "annotations.json", load_skeleton("coco18"))
    assert len(coco) == 3 and coco.num_people >= 3
    assert sorted(p.name for p in (synth_dir / "images").iterdir()) == [
        "000001.png", "000002.png", "000003.png"]
    info = json.loads((synth_dir / "annotations.json").read_text())["info"]
    assert info["skeleton"] == "coco18" and info["seed"] == 1


def test_synth_refuses_a_non_empty_folder_unless_forced(synth_dir):
    res = _posekit("synth", "--skeleton", "coco18", "--out", synth_dir, "--images", 1)
    assert res.returncode == 1
    assert "exists and is not empty" in res.stderr and "--force" in res.stderr
    assert "Traceback" not in res.stderr
    res = _posekit("synth", "--skeleton", "coco18", "--out", synth_dir, "--images", 3,
                   "--people", "1:2", "--size", "64x64", "--seed", 1, "--force")
    assert res.returncode == 0, res.stderr


@pytest.mark.parametrize("args, message", [
    (["--people", "3:1"], "--people"),
    (["--size", "big"], "--size"),
    (["--skeleton", "nope"], "nope"),
    (["--background", "sky"], "--background"),
    (["--overlap", "2"], "--overlap"),
])
def test_synth_bad_options_are_user_errors(tmp_path, args, message):
    base = {"--skeleton": "coco18", "--people": "1:2", "--size": "64x64"}
    base.update(dict(zip(args[::2], args[1::2], strict=True)))
    res = _posekit("synth", "--out", tmp_path / "x", *[v for kv in base.items() for v in kv])
    assert res.returncode == 1 and message in res.stderr


def test_train_then_resume_from_the_command_line(synth_dir, tmp_path):
    from typer.testing import CliRunner

    from posekit.cli import app

    runner = CliRunner()
    run = tmp_path / "run"
    common = ["--skeleton", "coco18", "--data", synth_dir, "--out", run]
    tiny = ["--input-size", 64, "--width", 16, "--paf-stages", 1, "--batch-size", 2,
            "--threads", 1, "--no-augment"]
    res = runner.invoke(app, ["train", *map(str, common + tiny), "--epochs", "1"])
    assert res.exit_code == 0, res.output
    assert "best validation AP" in res.output
    assert (run / "last.pt").is_file() and (run / "loss.png").is_file()
    # the folder now holds a run: without --resume it is refused, as a user error
    res = _posekit("train", *common, *tiny, "--epochs", 1)
    assert res.returncode == 1 and "--resume" in res.stderr and "Traceback" not in res.stderr
    res = runner.invoke(app, ["train", *map(str, common), "--resume", "--epochs", "2"])
    assert res.exit_code == 0, res.output
    rows = (run / "metrics.csv").read_text().splitlines()
    assert [r.split(",")[0] for r in rows[1:]] == ["1", "2"]
    # a resumed run keeps its settings
    res = runner.invoke(app, ["train", *map(str, common), "--resume", "--lr", "0.1"])
    assert res.exit_code != 0 and "keeps its settings" in str(res.exception)


def test_train_bad_input_is_a_user_error(tmp_path):
    res = _posekit("train", "--skeleton", "coco18", "--data", tmp_path / "none",
                   "--out", tmp_path / "run", "--input-size", 64)
    assert res.returncode == 1 and "annotation" in res.stderr and "Traceback" not in res.stderr
