"""Skeleton TOML files: usable wherever a skeleton name is, and refused with a clear line."""

import json
import sys

import pytest

import posekit
from posekit.cli import main
from posekit.skeleton import skeleton_from_toml, skeleton_to_toml

STICK = posekit.Skeleton(
    name="stick4",
    keypoints=("head", "hip", "lfoot", "rfoot"),
    limbs=(("head", "hip"), ("hip", "lfoot"), ("hip", "rfoot")),
    redundant_limbs=(("lfoot", "rfoot"),),
    flip_pairs=(("lfoot", "rfoot"),),
    sigmas=(0.03, 0.1, 0.08, 0.08),
    rest_pose=((0.5, 0.1), (0.5, 0.5), (0.6, 0.9), (0.4, 0.9)),
    paf_layout=((6, 7), (0, 1), (2, 3), (4, 5)),
)

VALID = skeleton_to_toml(STICK)


def run_cli(args, monkeypatch, capsys):
    """``posekit ARGS`` in-process through the console entry point: (exit code, out, err)."""
    monkeypatch.setattr(sys, "argv", ["posekit", *args])
    with pytest.raises(SystemExit) as exit_:
        main()
    out = capsys.readouterr()
    return exit_.value.code or 0, out.out, out.err


def test_show_a_toml_file(tmp_path, monkeypatch, capsys):
    path = tmp_path / "stick4.toml"
    path.write_text(VALID)
    code, out, _ = run_cli(["skeletons", "show", str(path), "--json"], monkeypatch, capsys)
    assert code == 0
    data = json.loads(out)
    assert data["source"] == "file" and data["layout_hash"] == STICK.layout_hash
    assert {k: data[k] for k in STICK.to_dict()} == STICK.to_dict()
    code, out, _ = run_cli(["skeletons", "show", str(path)], monkeypatch, capsys)
    assert code == 0 and "stick4" in out and "lfoot" in out


def test_toml_path_loads_through_the_api(tmp_path):
    path = tmp_path / "stick4.toml"
    path.write_text(VALID)
    assert posekit.load_skeleton(path) == STICK
    assert posekit.load_skeleton(str(path)) == STICK


def _edit(text: str, old: str, new: str) -> str:
    assert old in text
    return text.replace(old, new, 1)


BAD = [
    ("malformed", 'name = "stick4"\nkeypoints = ["head", "hip"\n', "not valid TOML"),
    ("unknown field", VALID + 'colour = "red"\n', "unknown field 'colour'"),
    ("missing field", 'name = "x"\nkeypoints = ["a", "b"]\n', "missing required field 'limbs'"),
    ("keypoints not a list", _edit(VALID, 'keypoints = ["head", "hip", "lfoot", "rfoot"]',
                                   "keypoints = 4"), "field 'keypoints'"),
    ("limb of numbers", _edit(VALID, '["head", "hip"]', "[1, 2]"), "field 'limbs'"),
    ("sigma a string", _edit(VALID, "sigmas = [0.03", 'sigmas = ["wide"'), "field 'sigmas'"),
    ("name a number", _edit(VALID, 'name = "stick4"', "name = 5"), "field 'name'"),
    ("rest pose a string", _edit(VALID, "rest_pose = [\n    [0.5, 0.1],\n    [0.5, 0.5],\n"
                                        "    [0.6, 0.9],\n    [0.4, 0.9],\n]",
                                 'rest_pose = "standing"'), "field 'rest_pose'"),
    ("rest point a table", _edit(VALID, "[0.6, 0.9]", "{x = 0.6, y = 0.9}"),
     "field 'rest_pose'"),
    ("paf channel a float", _edit(VALID, "[6, 7]", "[6.5, 7]"), "field 'paf_layout'"),
    ("invalid skeleton", _edit(VALID, '["hip", "rfoot"],\n', ""), "field 'limbs'"),
]


@pytest.mark.parametrize("text, words", [b[1:] for b in BAD], ids=[b[0] for b in BAD])
def test_bad_toml_is_one_line_exit_1(tmp_path, monkeypatch, capsys, text, words):
    path = tmp_path / "bad.toml"
    path.write_text(text)
    code, out, err = run_cli(["skeletons", "show", str(path)], monkeypatch, capsys)
    assert code == 1 and out == ""
    lines = err.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), err
    assert words in err
    with pytest.raises(posekit.PosekitError, match="bad.toml"):
        skeleton_from_toml(path)


def test_missing_file_is_one_line_exit_1(tmp_path, monkeypatch, capsys):
    code, _, err = run_cli(["skeletons", "show", str(tmp_path / "nope.toml")], monkeypatch,
                           capsys)
    assert code == 1 and "does not exist" in err and len(err.strip().splitlines()) == 1


def test_bad_toml_in_a_real_process_prints_no_traceback(tmp_path, python):
    path = tmp_path / "bad.toml"
    path.write_text(VALID + "colour = 'red'\n")
    out = python(["-m", "posekit", "skeletons", "show", str(path)])
    assert out.returncode == 1
    assert "Traceback" not in out.stderr
    assert out.stderr.startswith("error: ") and "unknown field 'colour'" in out.stderr
