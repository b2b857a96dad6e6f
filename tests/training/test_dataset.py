"""COCO-format training data: samples, ignore masks, bad files, data order."""

import json
import shutil

import numpy as np
import pytest
import torch

from posekit.errors import PosekitError
from posekit.training.augment import AugmentConfig
from posekit.training.dataset import (
    EpochSampler,
    PoseDataset,
    Skipped,
    collate,
    load_dataset,
    split_entries,
)


def _dataset(index, coco18, **kw):
    return PoseDataset(index.entries, coco18, 64, sigma=2.0, **kw)


def test_a_sample_has_the_skeletons_maps(tiny_data, coco18):
    index = load_dataset(tiny_data, coco18)
    assert len(index.entries) == 3 and not index.missing
    item = _dataset(index, coco18)[0]
    assert item["image"].shape == (64, 64, 3) and item["image"].dtype == torch.uint8
    assert item["heatmaps"].shape == (19, 8, 8)
    assert item["pafs"].shape == (38, 8, 8)
    assert item["mask"].shape == (1, 8, 8) and bool((item["mask"] == 1).all())
    # the people are in the maps: peaks near 1, some PAF pixels set
    assert item["heatmaps"][:18].max() > 0.8 and item["pafs"].abs().max() > 0.5


def test_augmentation_is_fixed_by_seed_epoch_and_index(tiny_data, coco18):
    ds = _dataset(load_dataset(tiny_data, coco18), coco18, augment=AugmentConfig(), seed=4)
    a, b, c = ds[(1, 0)], ds[(1, 0)], ds[(1, 1)]
    assert torch.equal(a["image"], b["image"]) and torch.equal(a["pafs"], b["pafs"])
    assert not torch.equal(a["image"], c["image"])


def _write(tmp_path, data, images=("a.png",)):
    (tmp_path / "images").mkdir(parents=True, exist_ok=True)
    for name in images:
        from PIL import Image

        Image.fromarray(np.full((32, 48, 3), 90, np.uint8)).save(tmp_path / "images" / name)
    (tmp_path / "annotations.json").write_text(json.dumps(data))
    return tmp_path


def _coco(coco18, anns):
    return {"images": [{"id": 1, "file_name": "a.png", "width": 48, "height": 32}],
            "annotations": anns,
            "categories": [{"id": 1, "name": "person", "keypoints": list(coco18.keypoints)}]}


def _person(coco18, x, y):
    kp = np.zeros((18, 3))
    kp[:4] = [[x, y, 2], [x, y + 4, 2], [x - 3, y + 4, 2], [x - 4, y + 9, 2]]
    return [float(v) for v in kp.reshape(-1)]


def test_crowd_and_unlabelled_people_are_masked(tmp_path, coco18):
    anns = [
        {"id": 1, "image_id": 1, "keypoints": _person(coco18, 10, 5), "iscrowd": 0},
        {"id": 2, "image_id": 1, "keypoints": [0] * 54, "iscrowd": 1,
         "segmentation": [[30, 0, 47, 0, 47, 15, 30, 15]], "bbox": [30, 0, 17, 15]},
        {"id": 3, "image_id": 1, "keypoints": [0] * 54, "iscrowd": 0,
         "bbox": [0, 24, 16, 8]},
    ]
    index = load_dataset(_write(tmp_path, _coco(coco18, anns)), coco18)
    entry = index.entries[0]
    assert entry.keypoints.shape == (1, 18, 3)
    mask = PoseDataset(index.entries, coco18, 48, sigma=2.0)[0]["mask"][0]
    # 48x48 crop, image in the top 32 rows: map cells 8x8 pixels
    assert mask[0, 4:].eq(0).all() and mask[1, 4:].eq(0).all()  # crowd polygon, top right
    assert mask[3, 0:2].eq(0).all()  # person without keypoints, bottom left box
    assert mask[0, 0] == 1 and mask[5, 3] == 1  # elsewhere (padding included) counts


def test_wrong_keypoint_count_is_refused(tmp_path, coco18):
    anns = [{"id": 1, "image_id": 1, "keypoints": [1, 1, 2] * 5}]
    data = _coco(coco18, anns)
    data["categories"][0]["keypoints"] = ["a"] * 5
    with pytest.raises(PosekitError, match="5 keypoints"):
        load_dataset(_write(tmp_path, data), coco18)


def test_missing_images_are_dropped_with_a_warning(tmp_path, coco18):
    data = _coco(coco18, [{"id": 1, "image_id": 1, "keypoints": _person(coco18, 10, 5)},
                          {"id": 2, "image_id": 2, "keypoints": _person(coco18, 20, 5)}])
    data["images"].append({"id": 2, "file_name": "gone.png", "width": 48, "height": 32})
    with pytest.warns(UserWarning, match="skipping 1 image.*gone.png"):
        index = load_dataset(_write(tmp_path, data), coco18)
    assert [e.image_id for e in index.entries] == [1] and index.missing == ["gone.png"]


def test_a_corrupt_image_is_skipped_and_counted(tiny_data, coco18, tmp_path):
    data = tmp_path / "data"
    shutil.copytree(tiny_data, data)
    (data / "images" / "000002.png").write_bytes(b"\x89PNG\r\n\x1a\n not really")
    ds = _dataset(load_dataset(data, coco18), coco18)
    items = [ds[i] for i in range(3)]
    assert isinstance(items[1], Skipped) and "000002.png" in items[1].path
    batch = collate(items)
    assert len(batch) == 2 and batch.images.shape[0] == 2 and len(batch.skipped) == 1
    assert len(collate([items[1]])) == 0


def test_held_out_split_is_fixed_and_disjoint(tiny_data, coco18):
    entries = load_dataset(tiny_data, coco18).entries
    train, val = split_entries(entries, 0.3, seed=1)
    again = split_entries(entries, 0.3, seed=1)
    assert [e.image_id for e in val] == [e.image_id for e in again[1]]
    assert len(val) == 1 and len(train) == 2
    assert not {e.image_id for e in train} & {e.image_id for e in val}
    with pytest.raises(PosekitError, match="at least 2"):
        split_entries(entries[:1], 0.5, seed=0)


def test_sampler_shares_an_epoch_and_resumes_inside_it():
    a = EpochSampler(10, num_replicas=2, rank=0, seed=3)
    b = EpochSampler(10, num_replicas=2, rank=1, seed=3)
    for s in (a, b):
        s.set_position(2)
    ia, ib = [i for i, _ in a], [i for i, _ in b]
    assert sorted(ia + ib) == list(range(10))
    assert {e for _, e in a} == {2}
    a.set_position(2, start=3)
    assert [i for i, _ in a] == ia[3:] and len(a) == 2
    a.set_position(3)
    assert [i for i, _ in a] != ia


def test_images_may_live_in_another_folder(tiny_data, coco18, tmp_path):
    ann = tmp_path / "annotations" / "keypoints.json"
    ann.parent.mkdir()
    shutil.copy(tiny_data / "annotations.json", ann)
    with pytest.raises(PosekitError, match="--images"):
        load_dataset(ann, coco18, warn=False)
    index = load_dataset(ann, coco18, images=tiny_data / "images")
    assert len(index.entries) == 3
    with pytest.raises(PosekitError, match="does not exist"):
        load_dataset(ann, coco18, images=tmp_path / "nowhere")
