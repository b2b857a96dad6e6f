"""``--decode PRESET`` on infer and eval: the preset reaches decoding and the parser."""

from __future__ import annotations

import json

import pytest
from typer.testing import CliRunner

from posekit.cli import app
from posekit.decode import decode_preset
from posekit.inference import PoseEstimator, example_image

runner = CliRunner()


def test_the_estimator_builds_its_parser_with_the_presets_rules():
    openpose = PoseEstimator("coco18", parser="greedy", decode_options={"decode": "openpose"})
    default = PoseEstimator("coco18", parser="greedy")
    assert openpose.parser.rules == decode_preset("openpose").rules
    assert openpose.parser.rules.fragments is None  # OpenPose has no fragment stage
    assert default.parser.rules == decode_preset("posekit").rules


def test_rules_chosen_by_the_caller_win_over_the_preset():
    from posekit.parsers.base import PostRules

    rules = PostRules(min_parts=5, fragments=None)
    est = PoseEstimator("coco18", parser="hungarian", parser_options={"rules": rules},
                        decode_options={"decode": "openpose"})
    assert est.parser.rules == rules


@pytest.mark.parametrize("preset", ["posekit", "openpose"])
def test_infer_decodes_with_the_chosen_preset(tmp_path, preset):
    result = runner.invoke(app, ["infer", "--skeleton", "coco18", str(example_image()),
                                 "--out", str(tmp_path), "--decode", preset, "--no-overlay"])
    assert result.exit_code == 0, result.output
    people = json.loads(next(tmp_path.glob("*_keypoints.json")).read_text())["people"]
    assert people
    # both presets keep only people of at least 3 parts
    assert all(sum(c > 0 for c in p["pose_keypoints_2d"][2::3]) >= 3 for p in people)


def test_an_unknown_preset_is_one_line_naming_the_valid_ones(tmp_path):
    result = runner.invoke(app, ["infer", "--skeleton", "coco18", str(example_image()),
                                 "--out", str(tmp_path / "o"), "--decode", "opnepose"])
    assert result.exit_code != 0
    assert "posekit, openpose" in str(result.exception) + result.output
    assert not list(tmp_path.glob("o/*.json"))
