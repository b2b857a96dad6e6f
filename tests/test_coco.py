"""COCO keypoint files: round trip, COCO-17 -> coco18, and the errors users see."""

import json

import numpy as np
import pytest

from posekit import Skeleton, load_skeleton
from posekit.coco import (
    COCO17_KEYPOINTS,
    coco17_to_coco18,
    load_coco_keypoints,
    write_coco_keypoints,
)
from posekit.errors import PosekitError
from posekit.synth import sample_poses

COCO18 = load_skeleton("coco18")
TRI = Skeleton(name="tri", keypoints=("a", "b", "c"), limbs=(("a", "b"), ("b", "c")))


def _people(sk, n, seed=0, size=(320, 240)):
    return sample_poses(sk, np.random.default_rng(seed), size, n)


@pytest.mark.parametrize("sk", [COCO18, TRI], ids=lambda s: s.name)
def test_write_then_load_round_trip(tmp_path, sk):
    images = [{"file_name": "a.png", "width": 320, "height": 240},
              {"file_name": "b.png", "width": 320, "height": 240, "id": 9}]
    people = [_people(sk, 3, 1), _people(sk, 1, 2)]
    path = write_coco_keypoints(tmp_path / "annotations.json", sk, images, people)
    coco = load_coco_keypoints(tmp_path, sk)  # a folder means its annotations.json
    assert [im.id for im in coco.images] == [1, 9]
    assert coco.path == path and coco.image_dir() == tmp_path / "images"
    for got, want in zip(coco.keypoints, people, strict=True):
        assert got.shape == want.shape
        assert np.allclose(got, want, atol=1e-3)
    assert coco.num_people == 4
    box = coco.bboxes[0][0]
    on = people[0][0][:, 2] > 0
    assert np.isclose(box[0], people[0][0][on, 0].min(), atol=1e-3)
    assert np.allclose(coco.areas[0], coco.bboxes[0][:, 2] * coco.bboxes[0][:, 3], rtol=1e-3)
    assert not coco.iscrowd[0].any()
    assert not list(tmp_path.glob(".*tmp"))  # atomic write leaves no temporary file


def test_pycocotools_reads_the_dict(tmp_path):
    from pycocotools.coco import COCO

    write_coco_keypoints(tmp_path / "a.json", COCO18, [{"file_name": "x", "width": 320,
                                                       "height": 240}], [_people(COCO18, 2)])
    coco = load_coco_keypoints(tmp_path / "a.json", COCO18)
    api = COCO()
    api.dataset = coco.data
    api.createIndex()
    assert len(api.getAnnIds()) == 2
    assert api.loadCats(1)[0]["keypoints"][1] == "Neck"


def _coco17_file(path, anns, images=None):
    data = {
        "images": images or [{"id": 1, "file_name": "1.jpg", "width": 640, "height": 480}],
        "annotations": anns,
        "categories": [{"id": 1, "name": "person", "keypoints": list(COCO17_KEYPOINTS),
                        "skeleton": [[16, 14], [14, 12]]}],
    }
    path.write_text(json.dumps(data))
    return path


def _ann(kp17, **extra):
    return {"id": extra.pop("id", 1), "image_id": 1, "category_id": 1,
            "keypoints": [float(v) for v in np.asarray(kp17).reshape(-1)],
            "num_keypoints": int((np.asarray(kp17)[:, 2] > 0).sum()),
            "bbox": [0, 0, 100, 200], "area": 12000.0, "iscrowd": 0, **extra}


def test_coco17_file_is_converted_for_coco18(tmp_path):
    kp = np.zeros((17, 3))
    kp[:, 0] = np.arange(17) * 10 + 5
    kp[:, 1] = np.arange(17) + 50
    kp[:, 2] = 2
    half = kp.copy()
    half[6] = 0  # right shoulder not labelled: no neck
    path = _coco17_file(tmp_path / "p.json", [_ann(kp), _ann(half, id=2)])
    coco = load_coco_keypoints(path, COCO18)
    assert coco.converted_from == "coco17"
    got = coco.keypoints[0]
    assert got.shape == (2, 18, 3)
    names = dict(zip(COCO17_KEYPOINTS, kp, strict=True))
    assert np.allclose(got[0, COCO18.index("Nose")], names["nose"])
    assert np.allclose(got[0, COCO18.index("LEar")], names["left_ear"])
    assert np.allclose(got[0, COCO18.index("RAnkle")], names["right_ankle"])
    neck = (names["left_shoulder"][:2] + names["right_shoulder"][:2]) / 2
    assert np.allclose(got[0, COCO18.index("Neck")], [*neck, 2])
    assert (got[1, COCO18.index("Neck")] == 0).all()
    assert coco.data["annotations"][0]["num_keypoints"] == 18
    assert coco.areas[0][0] == 12000.0


def test_coco17_to_coco18_keeps_batch_shape():
    out = coco17_to_coco18(np.ones((2, 3, 17, 3)))
    assert out.shape == (2, 3, 18, 3)


def _error(path, sk=COCO18):
    with pytest.raises(PosekitError) as info:
        load_coco_keypoints(path, sk)
    message = str(info.value)
    assert "\n" not in message and str(path) in message
    return message


def test_error_missing_file(tmp_path):
    assert "no such annotation file" in _error(tmp_path / "nope.json")


def test_error_not_json(tmp_path):
    path = tmp_path / "a.json"
    path.write_text("{not json")
    assert "not JSON" in _error(path)


def test_error_not_coco_keypoint_format(tmp_path):
    path = tmp_path / "a.json"
    path.write_text(json.dumps({"images": [], "annotations": []}))
    assert "missing 'categories'" in _error(path)
    path.write_text(json.dumps([1, 2]))
    assert "not COCO keypoint format" in _error(path)
    path.write_text(json.dumps({"images": [], "annotations": [],
                                "categories": [{"id": 1, "name": "person"}]}))
    assert "no category lists 'keypoints'" in _error(path)


def test_error_keypoint_count(tmp_path):
    kp = np.full((17, 3), 2.0)
    path = _coco17_file(tmp_path / "a.json", [_ann(kp)])
    message = _error(path, TRI)
    assert "17 keypoints" in message and "'tri' has 3" in message


def test_error_annotation_keypoint_count(tmp_path):
    path = _coco17_file(tmp_path / "a.json", [_ann(np.full((17, 3), 2.0))])
    data = json.loads(path.read_text())
    data["annotations"][0]["keypoints"] = data["annotations"][0]["keypoints"][:-3]
    path.write_text(json.dumps(data))
    assert "48 keypoint values (16 keypoints)" in _error(path)


def test_error_no_people(tmp_path):
    path = _coco17_file(tmp_path / "a.json", [_ann(np.zeros((17, 3)))])
    assert "holds no people" in _error(path)
    path = _coco17_file(tmp_path / "b.json", [])
    assert "holds no people" in _error(path)


def test_error_unknown_image(tmp_path):
    ann = _ann(np.full((17, 3), 2.0))
    ann["image_id"] = 5
    path = _coco17_file(tmp_path / "a.json", [ann])
    assert "image_id 5" in _error(path)


def test_crowd_annotations_are_kept_but_not_people(tmp_path):
    kp = np.full((17, 3), 2.0)
    path = _coco17_file(tmp_path / "a.json", [_ann(kp), _ann(kp, id=2, iscrowd=1)])
    coco = load_coco_keypoints(path, COCO18)
    assert coco.iscrowd[0].tolist() == [False, True]
    assert coco.people(0).shape == (1, 18, 3)
    assert coco.data["annotations"][1]["iscrowd"] == 1


# AP-10K's 17 animal keypoints (its categories[].keypoints), the same count as COCO-17
AP10K_KEYPOINTS = (
    "left_eye", "right_eye", "nose", "neck", "root_of_tail", "left_shoulder", "left_elbow",
    "left_front_paw", "right_shoulder", "right_elbow", "right_front_paw", "left_hip",
    "left_knee", "left_back_paw", "right_hip", "right_knee", "right_back_paw",
)


def _file(path, categories, anns):
    path.write_text(json.dumps({
        "images": [{"id": 1, "file_name": "1.jpg", "width": 640, "height": 480}],
        "annotations": anns, "categories": categories}))
    return path


def test_a_17_keypoint_file_of_other_keypoints_is_refused_for_coco18(tmp_path):
    path = _file(tmp_path / "ap10k.json",
                 [{"id": 1, "name": "antelope", "keypoints": list(AP10K_KEYPOINTS)}],
                 [_ann(np.full((17, 3), 2.0))])
    message = _error(path)
    assert "keypoint names do not match skeleton 'coco18'" in message
    assert "COCO-17" in message
    assert "neck" in message and "root_of_tail" in message  # names the file has extra
    assert "left_ear" in message  # and a COCO-17 name it lacks


def test_same_count_other_names_is_refused_for_any_skeleton(tmp_path):
    path = _file(tmp_path / "a.json", [{"id": 1, "keypoints": ["a", "b", "x"]}],
                 [_ann(np.full((3, 3), 2.0))])
    message = _error(path, TRI)
    assert "skeleton 'tri'" in message and "x" in message and "but not c" in message


def test_names_in_another_order_or_spelling_are_matched_by_name(tmp_path):
    kp = np.array([[10, 10, 2], [20, 20, 2], [30, 30, 1]], dtype=float)  # a, b, c
    path = _file(tmp_path / "a.json", [{"id": 7, "keypoints": ["C", "A", "b"]}],
                 [_ann(kp[[2, 0, 1]], category_id=7)])
    coco = load_coco_keypoints(path, TRI)
    assert np.allclose(coco.keypoints[0][0], kp)
    assert coco.data["categories"][0]["keypoints"] == ["a", "b", "c"]


def test_coco17_names_in_other_spelling_still_convert(tmp_path):
    names = [n.upper().replace("_", " ") for n in COCO17_KEYPOINTS]
    kp = np.full((17, 3), 2.0)
    kp[:, 0] = np.arange(17)
    path = _file(tmp_path / "a.json", [{"id": 1, "keypoints": names}], [_ann(kp)])
    coco = load_coco_keypoints(path, COCO18)
    assert coco.converted_from == "coco17"
    assert coco.keypoints[0][0, COCO18.index("LEar"), 0] == COCO17_KEYPOINTS.index("left_ear")


def test_every_category_with_the_skeletons_names_is_read(tmp_path):
    cats = [{"id": 1, "keypoints": ["a", "b", "c"]}, {"id": 2, "keypoints": ["a", "b", "c"]},
            {"id": 3, "name": "car"}]
    anns = [_ann(np.full((3, 3), 2.0)), _ann(np.full((3, 3), 2.0), id=2, category_id=2),
            {"id": 3, "image_id": 1, "category_id": 3, "bbox": [0, 0, 5, 5]}]
    coco = load_coco_keypoints(_file(tmp_path / "a.json", cats, anns), TRI)
    assert coco.people(0).shape == (2, 3, 3)


def test_error_unreadable_file(tmp_path, monkeypatch):
    path = _coco17_file(tmp_path / "a.json", [_ann(np.full((17, 3), 2.0))])
    real = type(path).read_text

    def read_text(self, *args, **kwargs):
        if self == path:
            raise PermissionError(13, "Permission denied")
        return real(self, *args, **kwargs)

    monkeypatch.setattr(type(path), "read_text", read_text)
    assert "cannot be read (Permission denied)" in _error(path)
