"""``posekit parse --decode PRESET``: the presets from the command line."""

from __future__ import annotations

import json
import subprocess
import sys

import numpy as np
import pytest

from posekit.maps import save_maps
from posekit.targets import confidence_maps, part_affinity_fields


def posekit(*args):
    return subprocess.run([sys.executable, "-m", "posekit", *map(str, args)],
                          capture_output=True, text=True)


@pytest.fixture(scope="module")
def maps_file(tmp_path_factory):
    """One coco18 person whose Neck-RShoulder PAF is lost (as on real maps): the right arm
    is held only by the RShoulder-REar PAF, a redundant limb."""
    from posekit.skeleton import load_skeleton
    from tests.decode.conftest import place

    coco18 = load_skeleton("coco18")
    kp = place(coco18, [(328.0, 184.0)], 300.0)
    heat = confidence_maps(kp, coco18, (656, 368))
    paf = part_affinity_fields(kp, coco18, (656, 368))
    paf[..., coco18.paf_channels[coco18.all_limbs.index(("Neck", "RShoulder"))]] = 0.0
    return save_maps(tmp_path_factory.mktemp("maps") / "maps.npz", heat, paf, (656, 368))


def parts(result):
    assert result.returncode == 0, result.stderr
    people = json.loads(result.stdout)["people"]
    return sorted(int((np.array(p["pose_keypoints_2d"]).reshape(-1, 3)[:, 2] > 0).sum())
                  for p in people)


def test_presets_from_the_command_line(maps_file):
    """The default preset re-attaches the arm for a tree parser; OpenPose's rules leave
    it a person of its own."""
    args = ("parse", "-s", "coco18", "--maps", maps_file, "-p", "hungarian")
    assert parts(posekit(*args)) == [18]
    assert parts(posekit(*args, "--decode", "posekit")) == [18]
    assert parts(posekit(*args, "--decode", "openpose")) == [3, 15]
    assert parts(posekit(*args, "--decode", "openpose", "--upsample", "patch")) == [3, 15]


def test_unknown_preset_is_a_one_line_error(maps_file):
    result = posekit("parse", "-s", "coco18", "--maps", maps_file, "--decode", "opnpose")
    assert result.returncode == 1
    assert result.stderr.startswith("error: unknown decode preset 'opnpose'")
    assert "did you mean 'openpose'" in result.stderr and "Traceback" not in result.stderr
