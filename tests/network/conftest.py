"""Shared fixtures for the network tests: a toy skeleton inline and as a TOML file."""

import pytest

from posekit import Skeleton

TOY = Skeleton(
    name="toy4",
    keypoints=("head", "neck", "lhand", "rhand"),
    limbs=(("head", "neck"), ("neck", "lhand"), ("neck", "rhand")),
    redundant_limbs=(("lhand", "rhand"),),
    flip_pairs=(("lhand", "rhand"),),
    paf_layout=((6, 7), (0, 1), (2, 3), (4, 5)),
)

TOY_TOML = """
name = "stick3"
keypoints = ["top", "mid", "bottom"]
limbs = [["top", "mid"], ["mid", "bottom"]]
"""


@pytest.fixture
def toy():
    return TOY


@pytest.fixture
def toml_skeleton(tmp_path):
    path = tmp_path / "stick3.toml"
    path.write_text(TOY_TOML)
    return path
