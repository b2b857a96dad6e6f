"""One option, one meaning: parser defaults, --people ranges, decode and parser options."""

from __future__ import annotations

import numpy as np
import pytest

import posekit
from posekit.cli import app
from posekit.errors import PosekitError
from tests.cli._main import run


def _param(command, name):
    import typer.main

    group = typer.main.get_command(app)
    return next(p for p in group.commands[command].params if p.name == name)


def test_every_command_defaults_to_the_same_parser_and_shows_it():
    from posekit.cli.common import DEFAULT_PARSER
    from posekit.training.config import TrainConfig

    assert DEFAULT_PARSER == "hungarian"
    for command in ("parse", "infer", "eval"):
        param = _param(command, "parser")
        assert param.default == DEFAULT_PARSER, command
        assert param.show_default, command
    assert TrainConfig.__dataclass_fields__["parser"].default == DEFAULT_PARSER
    assert f"default: {DEFAULT_PARSER}" in _param("train", "parser").help


def test_the_python_api_keeps_its_documented_defaults():
    import inspect

    assert inspect.signature(posekit.PoseEstimator).parameters["parser"].default == "hungarian"
    assert inspect.signature(posekit.parse_maps).parameters["parser"].default == "greedy"


@pytest.mark.parametrize(("text", "expected"), [
    ("1:4", (1, 4)), ("1-4", (1, 4)), ("3", (3, 3)), (" 2:5 ", (2, 5)),
])
def test_synth_people_takes_both_range_forms(text, expected):
    from posekit.synth.dataset import parse_people

    assert parse_people(text) == expected


@pytest.mark.parametrize("text", ["1:4:5", "a", "1-", ""])
def test_synth_people_nonsense_is_a_one_line_error(text):
    from posekit.synth.dataset import parse_people

    with pytest.raises(PosekitError, match="1:4 or 1-4"):
        parse_people(text)


@pytest.mark.parametrize("people", ["1:3", "1-3", "1,2:3", "1:2,3"])
def test_compare_people_takes_colon_ranges_too(monkeypatch, capsys, people):
    import posekit.compare

    seen = {}

    def fake(skeleton, config, **kwargs):
        seen["people"] = config.people
        raise PosekitError("stop here")

    monkeypatch.setattr(posekit.compare, "compare_parsers", fake)
    code, _, err = run(monkeypatch, capsys, "compare-parsers", "-s", "coco18",
                       "--people", people)
    assert code == 1 and "stop here" in err
    assert seen["people"] == (1, 2, 3)


@pytest.mark.parametrize("value", ["nan", "inf", "-inf", "-0.1", "1.5"])
def test_parse_refuses_a_peak_threshold_outside_0_1(tmp_path, monkeypatch, capsys, value):
    from posekit.maps import save_maps

    maps = save_maps(tmp_path / "m.npz", np.zeros((8, 8, 19), np.float32),
                     np.zeros((8, 8, 38), np.float32))
    out = tmp_path / "people.json"
    code, _, err = run(monkeypatch, capsys, "parse", "-s", "coco18", "-m", maps,
                       "--peak-threshold", value, "--out", out)
    assert code == 1 and "Traceback" not in err
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "--peak-threshold" in lines[0] and "0 to 1" in lines[0]
    assert not out.exists()


def test_parse_maps_refuses_a_nan_peak_threshold():
    heat = np.zeros((8, 8, 19), np.float32)
    paf = np.zeros((8, 8, 38), np.float32)
    with pytest.raises(PosekitError, match="peak_threshold"):
        posekit.parse_maps(heat, paf, skeleton="coco18", peak_threshold=float("nan"))


def test_get_parser_refuses_an_option_no_parser_takes():
    from posekit.parsers import get_parser

    with pytest.raises(PosekitError) as info:
        get_parser("greedy", foo=1)
    message = str(info.value)
    assert "'greedy'" in message and "'foo'" in message and "rules, weights" in message
    with pytest.raises(PosekitError, match="Did you mean 'time_limit'"):
        get_parser("full-ilp", time_limt=3)


def test_get_parser_leaves_out_options_only_other_parsers_take():
    from posekit.parsers import get_parser

    # one option set builds every parser (compare-parsers gives time_limit to all of them)
    made = [get_parser(name, time_limit=2.0) for name in posekit.list_parsers()]
    assert all(callable(p) for p in made)
