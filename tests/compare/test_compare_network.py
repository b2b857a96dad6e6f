"""Scene source 3: maps from a network (``--weights W --data DIR``)."""

import numpy as np
import pytest

from posekit import load_skeleton
from posekit.coco import write_coco_keypoints
from posekit.compare import CompareConfig, compare_parsers
from posekit.errors import PosekitError

torch = pytest.importorskip("torch")


@pytest.fixture(scope="module")
def dataset(tmp_path_factory):
    """Three drawn synthetic images with their annotations, and a tiny random network."""
    from posekit.network import NetworkConfig, Preprocess, build_network, save_checkpoint
    from posekit.synth.render import synth_scene

    root = tmp_path_factory.mktemp("net")
    sk = load_skeleton("coco18")
    (root / "images").mkdir()
    rng = np.random.default_rng(0)
    images, people = [], []
    for i in range(3):
        scene = synth_scene(sk, rng, (96, 72), 1 + i % 2)
        name = f"{i}.png"
        from PIL import Image

        Image.fromarray(scene.image).save(root / "images" / name)
        images.append({"file_name": name, "width": 96, "height": 72})
        people.append(scene.keypoints)
    write_coco_keypoints(root / "annotations.json", sk, images, people)
    torch.manual_seed(0)
    net = build_network(sk, NetworkConfig.light(paf_stages=1, cm_stages=1, width=16,
                                                stage_blocks=1))
    weights = save_checkpoint(root / "tiny.pt", net, sk, Preprocess(input_height=64))
    return root, weights


def test_network_maps_are_parsed_and_scored(dataset):
    root, weights = dataset
    rep = compare_parsers("coco18", CompareConfig(parsers=("hungarian", "greedy"), people=None,
                                                  scenes=None, data=str(root),
                                                  weights=str(weights), time_limit=2.0))
    assert rep["config"]["source"] == "network" and rep["scenes"] == 3
    for r in rep["results"]:
        assert r["ap"] is not None and 0.0 <= r["ap"] <= 1.0  # an untrained net finds little
        assert r["median_ms"] > 0


def test_missing_images_and_weights_are_clear_errors(dataset, tmp_path):
    root, weights = dataset
    with pytest.raises(PosekitError, match="no such|not found|does not exist|missing"):
        compare_parsers("coco18", CompareConfig(data=str(root), weights=str(tmp_path / "x.pt"),
                                                parsers=("greedy",), people=None, scenes=None))
    (tmp_path / "images").mkdir()
    (tmp_path / "annotations.json").write_text((root / "annotations.json").read_text())
    with pytest.raises(PosekitError, match="is missing"):
        compare_parsers("coco18", CompareConfig(data=str(tmp_path), weights=str(weights),
                                                parsers=("greedy",), people=None, scenes=None))
