"""``posekit eval`` on COCO's own layout: annotations/*.json with the images in val2017/."""

from __future__ import annotations

import json
import shutil

import pytest

from tests.cli._main import run


@pytest.fixture(scope="module")
def coco_layout(tmp_path_factory):
    """COCO's folders: annotations/person_keypoints_val2017.json and val2017/*.png."""
    import torch

    from posekit import load_skeleton
    from posekit.network import NetworkConfig, Preprocess, build_network, save_checkpoint
    from posekit.synth.dataset import SynthSpec, write_synth_dataset

    root = tmp_path_factory.mktemp("coco")
    sk = load_skeleton("coco18")
    write_synth_dataset(root / "synth", sk,
                        SynthSpec(images=2, people=(1, 2), size=(96, 96), seed=5))
    (root / "annotations").mkdir()
    shutil.move(root / "synth" / "annotations.json",
                root / "annotations" / "person_keypoints_val2017.json")
    shutil.move(root / "synth" / "images", root / "val2017")
    torch.manual_seed(0)
    net = build_network(sk, NetworkConfig.light(paf_stages=1, cm_stages=1, width=16,
                                                stage_blocks=1))
    save_checkpoint(root / "tiny.pt", net, sk, Preprocess(input_height=64))
    return root



def test_eval_takes_the_annotation_file_and_an_image_folder(coco_layout, monkeypatch, capsys):
    out = coco_layout / "eval.json"
    code, _, err = run(monkeypatch, capsys, "eval", "-s", "coco18", "-w", coco_layout / "tiny.pt",
                       "--data", coco_layout / "annotations" / "person_keypoints_val2017.json",
                       "--images", coco_layout / "val2017", "--json", out)
    assert code in (0, None), err
    doc = json.loads(out.read_text())
    assert doc["images"] == 2 and doc["failed"] == []
    assert doc["parser"] == "hungarian"


def test_without_images_the_missing_folder_is_one_line_naming_the_option(coco_layout,
                                                                         monkeypatch, capsys):
    code, _, err = run(monkeypatch, capsys, "eval", "-s", "coco18", "-w", coco_layout / "tiny.pt",
                       "--data", coco_layout / "annotations" / "person_keypoints_val2017.json")
    assert code == 1
    lines = err.strip().splitlines()
    assert len(lines) == 1 and "--images" in lines[0] and "images" in lines[0]


def test_images_that_is_not_a_folder_is_refused(coco_layout, monkeypatch, capsys):
    code, _, err = run(monkeypatch, capsys, "eval", "-s", "coco18", "-w", coco_layout / "tiny.pt",
                       "--data", coco_layout / "annotations", "--images",
                       coco_layout / "nope")
    assert code == 1 and err.startswith("error: --images") and len(err.strip().splitlines()) == 1
