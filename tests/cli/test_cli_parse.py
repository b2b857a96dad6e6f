"""``posekit parse``: maps file -> OpenPose JSON, and one-line errors for bad input."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

from posekit.maps import save_maps
from posekit.skeleton import load_skeleton
from posekit.targets import render_targets

COCO18 = load_skeleton("coco18")
IMAGE = (656, 368)


def people_at(centres, size=300.0):
    rest = COCO18.rest_pose_array - 0.5
    out = np.zeros((len(centres), 18, 3))
    for p, (cx, cy) in enumerate(centres):
        out[p, :, :2] = (cx, cy) + rest * size
        out[p, :, 2] = 2
    return out


TRUTH = people_at([(120.3, 180.6), (330.8, 190.2), (530.1, 175.9)])


@pytest.fixture(scope="module")
def maps_file(tmp_path_factory):
    t = render_targets(TRUTH, COCO18, IMAGE)
    return save_maps(tmp_path_factory.mktemp("maps") / "maps.npz", t.heatmaps, t.pafs, IMAGE)


def posekit(*args, cwd=None):
    return subprocess.run([sys.executable, "-m", "posekit", *map(str, args)],
                          capture_output=True, text=True, cwd=cwd)


def check_people(data, truth):
    assert data["version"] == 1.3
    assert set(data) == {"version", "people"}
    assert len(data["people"]) == len(truth)
    for entry in data["people"]:
        assert entry["person_id"] == [-1]
        assert isinstance(entry["score"], float)
        assert len(entry["pose_keypoints_2d"]) == 3 * 18
    found = np.array([e["pose_keypoints_2d"] for e in data["people"]]).reshape(-1, 18, 3)
    for person in truth:  # each true person found, every keypoint within 1.5 px
        err = np.hypot(*(found[..., :2] - person[:, :2]).transpose(2, 0, 1)).max(axis=1)
        assert err.min() <= 1.5
    assert np.all(found[..., 2] > 0.5)


def test_round_trip_to_file(tmp_path, maps_file):
    out = tmp_path / "people.json"
    result = posekit("parse", "--skeleton", "coco18", "--maps", maps_file, "--out", out)
    assert result.returncode == 0, result.stderr
    assert result.stdout == ""
    assert re.fullmatch(r"3 people, parser hungarian, \d+\.\d ms\n", result.stderr)
    check_people(json.loads(out.read_text()), TRUTH)
    assert [p.name for p in tmp_path.iterdir()] == ["people.json"]  # no temporary files


@pytest.mark.parametrize("parser", ["hungarian", "tree-ilp"])
def test_round_trip_to_stdout(maps_file, parser):
    result = posekit("parse", "-s", "coco18", "-m", maps_file, "-p", parser,
                     *(["--time-limit", "20"] if parser == "tree-ilp" else []))
    assert result.returncode == 0, result.stderr
    check_people(json.loads(result.stdout), TRUTH)
    assert f"parser {parser}," in result.stderr


def test_maps_without_image_size_are_at_image_resolution(tmp_path):
    truth = people_at([(60.2, 50.7)], size=90.0)
    t = render_targets(truth, COCO18, (120, 100), stride=1, sigma=3.0)
    path = save_maps(tmp_path / "full.npz", t.heatmaps, t.pafs)
    result = posekit("parse", "-s", "coco18", "-m", path, "--upsample", "none")
    assert result.returncode == 0, result.stderr
    check_people(json.loads(result.stdout), truth)
    assert result.stderr.startswith("1 person, parser hungarian, ")


def corrupt(tmp_path, what):
    t = render_targets(TRUTH[:1], COCO18, IMAGE)
    heat, paf = t.heatmaps, t.pafs
    path = tmp_path / "bad.npz"
    if what == "channels":
        np.savez(path, heatmaps=heat[..., :17], pafs=paf, image_size=IMAGE)
    elif what == "sizes":
        np.savez(path, heatmaps=heat, pafs=paf[:-2], image_size=IMAGE)
    elif what == "nan":
        heat = heat.copy()
        heat[1, 2, 3] = np.nan
        np.savez(path, heatmaps=heat, pafs=paf)
    elif what == "keys":
        np.savez(path, heat=heat, paf=paf)
    elif what == "not npz":
        path.write_text("heatmaps,pafs\n1,2\n")
    elif what == "missing":
        pass
    return path


@pytest.mark.parametrize(("what", "message"), [
    ("channels", "heatmaps have 17 channels but skeleton 'coco18' needs 19"),
    ("sizes", "heatmaps are 46x82 (height x width) but pafs are 44x82"),
    ("nan", "heatmaps contain 1 NaN or infinite value"),
    ("keys", "has no heatmaps or pafs (keys found: heat, paf)"),
    ("not npz", "is not a readable .npz"),
    ("missing", "does not exist"),
])
def test_bad_maps_exit_1_with_one_line(tmp_path, what, message):
    path = corrupt(tmp_path, what)
    out = tmp_path / "people.json"
    result = posekit("parse", "-s", "coco18", "--maps", path, "--out", out)
    assert result.returncode == 1
    assert "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: ")
    assert message in lines[0]
    assert not out.exists()
    assert result.stdout == ""


def test_option_errors(tmp_path, maps_file):
    result = posekit("parse", "-s", "coco18", "-m", maps_file, "-p", "greedy",
                     "--time-limit", "3")
    assert result.returncode == 1 and "parser 'greedy'" in result.stderr
    assert "time_limit" in result.stderr and "Traceback" not in result.stderr
    result = posekit("parse", "-s", "coco18", "-m", maps_file, "-p", "greedyy")
    assert result.returncode == 1 and "greedy" in result.stderr
    result = posekit("parse", "-s", "coco18", "-m", maps_file, "-o", tmp_path)
    assert result.returncode == 1 and "is a folder" in result.stderr
    result = posekit("parse", "-s", "coco18")
    assert result.returncode == 2  # usage error: --maps is required


README = Path(__file__).resolve().parents[2] / "README.md"


def _readme_maps_example() -> str:
    text = README.read_text(encoding="utf-8")
    section = text.split("### Writing a maps file", 1)[1]
    return section.split("```python\n", 1)[1].split("```", 1)[0]


def test_the_readme_maps_file_example_parses(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    exec(compile(_readme_maps_example(), "README.md", "exec"), {})
    result = posekit("parse", "--skeleton", "coco18", "--maps", "maps.npz", "--out",
                     "people.json", cwd=tmp_path)
    assert result.returncode == 0, result.stderr
    data = json.loads((tmp_path / "people.json").read_text())
    assert len(data["people"]) == 1
    found = np.array(data["people"][0]["pose_keypoints_2d"]).reshape(18, 3)
    expected = (COCO18.rest_pose_array - 0.5) * 300 + (328, 184)
    assert np.abs(found[:, :2] - expected).max() < 3.0


@pytest.mark.parametrize("size", [(656 * 300, 368), (10**6, 10**6), (20_000, 12_000)])
def test_a_huge_image_size_is_refused_before_any_memory_is_used(tmp_path, size):
    t = render_targets(TRUTH[:1], COCO18, IMAGE)
    path = tmp_path / "maps.npz"
    np.savez(path, heatmaps=t.heatmaps, pafs=t.pafs, image_size=np.array(size))
    result = posekit("parse", "-s", "coco18", "-m", path, "-p", "greedy", "--upsample", "full")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and str(path) in lines[0] and "too large" in lines[0]
    assert "256 times" in lines[0]


def test_save_maps_refuses_a_huge_image_size_too(tmp_path):
    from posekit.errors import PosekitError

    t = render_targets(TRUTH[:1], COCO18, IMAGE)
    with pytest.raises(PosekitError, match="too large"):
        save_maps(tmp_path / "m.npz", t.heatmaps, t.pafs, (10**6, 10**6))
    assert not (tmp_path / "m.npz").exists()


def test_a_large_but_plausible_image_size_still_parses(tmp_path):
    t = render_targets(TRUTH, COCO18, IMAGE)  # 46x82 maps of a 656x368 image
    scale = 10  # the same maps said to cover a photo 10 times the size
    path = tmp_path / "maps.npz"
    np.savez(path, heatmaps=t.heatmaps, pafs=t.pafs, image_size=np.array(IMAGE) * scale)
    result = posekit("parse", "-s", "coco18", "-m", path, "-p", "greedy")
    assert result.returncode == 0, result.stderr
    found = np.array([p["pose_keypoints_2d"] for p in json.loads(result.stdout)["people"]])
    found = found.reshape(-1, 18, 3)
    assert len(found) == len(TRUTH)
    for person in TRUTH * [scale, scale, 1]:  # within 1.5 map-scaled pixels, as above
        err = np.hypot(*(found[..., :2] - person[:, :2]).transpose(2, 0, 1)).max(axis=1)
        assert err.min() <= 1.5 * scale


def test_full_upsampling_that_would_not_fit_in_memory_is_refused(tmp_path):
    t = render_targets(TRUTH[:1], COCO18, IMAGE)
    path = tmp_path / "maps.npz"
    np.savez(path, heatmaps=t.heatmaps, pafs=t.pafs, image_size=np.array([16_000, 9_000]))
    result = posekit("parse", "-s", "coco18", "-m", path, "--upsample", "full")
    assert result.returncode == 1 and "Traceback" not in result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1 and "30.6 GiB" in lines[0] and "--upsample patch" in lines[0]
    result = posekit("parse", "-s", "coco18", "-m", path, "--upsample", "patch")
    assert result.returncode == 0, result.stderr
