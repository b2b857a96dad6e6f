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


@pytest.fixture(scope="session")
def openpose_files(tmp_path_factory):
    """Full-size stand-ins for OpenPose's three body models, made once per test session.

    ``{skeleton: (caffemodel, prototxt)}`` with random weights (see ``caffe_fixtures``);
    the architecture must be exact, so the weights are full size (BODY_25 105 MB, COCO
    209 MB, MPI 206 MB) and made lazily, on first use of each model.
    """
    from tests.network.caffe_fixtures import prototxt_text, random_blobs, write_caffemodel

    root = tmp_path_factory.mktemp("openpose")
    made: dict[str, tuple] = {}

    def get(skeleton: str):
        if skeleton not in made:
            seed = {"body25": 1, "coco18": 2, "mpi15": 3}[skeleton]
            model = write_caffemodel(root / f"{skeleton}.caffemodel", skeleton,
                                     random_blobs(skeleton, seed))
            proto = root / f"{skeleton}.prototxt"
            proto.write_text(prototxt_text(skeleton))
            made[skeleton] = (model, proto)
        return made[skeleton]

    return get
