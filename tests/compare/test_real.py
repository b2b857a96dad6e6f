"""The real-pose set, its scenes and ideal maps, and bad input in annotation files."""

import json
import subprocess
import sys

import numpy as np
import pytest

from posekit import load_skeleton
from posekit.coco import COCO17_KEYPOINTS
from posekit.compare import CompareConfig, compare_parsers
from posekit.compare.count import PeopleCount
from posekit.compare.ideal import ideal_maps, smooth_maps
from posekit.compare.real import (
    REAL_SET,
    InputReport,
    count_scenes,
    load_real,
)
from posekit.compare.runner import make_parsers
from posekit.errors import PosekitError


@pytest.fixture(scope="module", params=["coco18", "coco17"])
def real(request):
    return load_real(request.param)


def _joined(person, skeleton):
    """Whether a person's labelled parts are one piece through the skeleton's limbs."""
    on = set(np.flatnonzero(person[:, 2] > 0).tolist())
    seen, todo = set(), [min(on)]
    while todo:
        k = todo.pop()
        seen.add(k)
        for a, b in skeleton.limb_index.tolist():
            for u, v in ((a, b), (b, a)):
                if u == k and v in on and v not in seen:
                    todo.append(v)
    return seen == on


def test_the_bundled_set_loads_for_both_skeletons(real):
    sk = real.skeleton
    people = real.people()
    assert people.shape[1:] == (sk.num_keypoints, 3)
    assert len(people) >= 110  # real COCO people (README next to the data)
    assert real.report.annotations == 205
    r = real.report
    assert r.people + r.unlabelled + r.left_out == 205
    for person in people:
        assert (person[:, 2] > 0).sum() >= 3 and _joined(person, sk)
    assert len(real.areas()) == len(people) and (real.areas() > 0).all()
    # images with several people, up to a crowd of 13
    photos = real.photos()
    assert max(s.num_people for s in photos) == 13
    assert sum(s.num_people for s in photos) == len(people)


def test_coco18_neck_is_the_shoulder_midpoint():
    real = load_real("coco18")
    sk = real.skeleton
    neck, rs, ls = sk.index("Neck"), sk.index("RShoulder"), sk.index("LShoulder")
    people = real.people()
    both = (people[:, rs, 2] > 0) & (people[:, ls, 2] > 0)
    assert both.any()
    assert np.allclose(people[both, neck, :2], (people[both, rs, :2] + people[both, ls, :2]) / 2)
    assert not (people[~both, neck, 2] > 0).any()


def test_crowds_are_seeded_grids_on_the_canvas(real):
    a, b = real.crowd(20, seed=1), real.crowd(20, seed=1)
    assert np.array_equal(a.keypoints, b.keypoints) and a.image_size == (656, 368)
    assert not np.array_equal(a.keypoints, real.crowd(20, seed=2).keypoints)
    for n in (10, 20, 40):
        kp = real.crowd(n, seed=0).keypoints
        on = kp[..., 2] > 0
        assert len(kp) == n and on.sum(axis=1).min() >= 3
        assert (kp[on][:, 0] >= 0).all() and (kp[on][:, 0] <= 656).all()
        assert (kp[on][:, 1] >= 0).all() and (kp[on][:, 1] <= 368).all()
    assert [s.num_people for s in real.crowds()] == [10, 10, 10, 20, 20, 20, 40, 40, 40]


def test_ideal_maps_shapes_fields_and_smoothing():
    sk = load_skeleton("coco18")
    scene = load_real(sk).crowd(10, seed=0)
    rect = ideal_maps(sk, scene.keypoints, scene.image_size, field="rect")
    capsule = ideal_maps(sk, scene.keypoints, scene.image_size, field="capsule")
    assert rect[0].shape == (46, 82, 19) and rect[1].shape == (46, 82, 38)
    assert np.array_equal(rect[0], capsule[0])  # same heatmaps
    assert (np.abs(capsule[1]) > 0).sum() > (np.abs(rect[1]) > 0).sum()  # caps cover joints
    heat, paf = smooth_maps(*rect, 1.0)
    assert heat[..., :-1].max() < rect[0][..., :-1].max()  # blurred peaks are lower
    assert (np.abs(paf) > 0).sum() > (np.abs(rect[1]) > 0).sum()  # and fields wider
    assert np.allclose(heat[..., -1], 1 - heat[..., :-1].max(axis=-1))
    again = ideal_maps(sk, scene.keypoints, scene.image_size, field="rect", smooth=1.0)
    assert np.array_equal(again[0], heat) and np.array_equal(again[1], paf)


def test_every_parser_recovers_clean_real_photos(real):
    # capsule maps at the images' own size: every real person comes back whole
    sk = real.skeleton
    parsers = make_parsers(["greedy", "full-ilp"], 10.0, None)
    photos = [s for s in real.photos() if s.num_people <= 3]
    for parser in parsers.values():
        total = PeopleCount.total(count_scenes(sk, photos, parser, field="capsule"))
        assert total.recovered == total.people and total.extra == 0


# ------------------------------------------------------------------ bad input, counted
def _person(x0, y0, parts=range(17), size=200.0):
    rest = load_skeleton("coco17").rest_pose_array
    kp = np.zeros((17, 3))
    for k in parts:
        kp[k] = (x0 + rest[k, 0] * size, y0 + rest[k, 1] * size, 2)
    return kp


def _bad_file(path):
    good = _person(50, 40)
    outside = _person(300, 40)
    outside[15] = (300, 900, 2)  # an ankle far below a 640x480 image
    disconnected = _person(450, 40, parts=(9, 15, 16))  # a wrist and two ankles
    people = {
        1: [good, good + [[0.5, 0.5, 0]], outside, np.zeros((17, 3)),
            _person(100, 300, parts=(0, 1))],
        2: [disconnected, _person(20, 20),
            _person(23, 21, parts=(0, 1, 2, 5, 6, 11, 12))],  # on top of the one before
    }
    images, anns = [], []
    for image_id, kps in people.items():
        images.append({"id": image_id, "file_name": f"{image_id}.jpg", "width": 640,
                       "height": 480})
        for kp in kps:
            anns.append({"id": len(anns) + 1, "image_id": image_id, "category_id": 1,
                         "iscrowd": 0, "keypoints": kp.reshape(-1).tolist(),
                         "num_keypoints": int((kp[:, 2] > 0).sum())})
    path.write_text(json.dumps({"images": images, "annotations": anns, "categories": [
        {"id": 1, "name": "person", "keypoints": list(COCO17_KEYPOINTS), "skeleton": []}]}))
    return path


def test_bad_input_is_counted_not_raised(tmp_path):
    path = _bad_file(tmp_path / "bad.json")
    real = load_real("coco17", path)
    assert real.report == InputReport(annotations=8, people=3, unlabelled=1, few_parts=1,
                                      outside_parts=1, outside_people=1, duplicates=1,
                                      coincident=1, disconnected=1)
    assert "1 duplicates" in real.report.line() and "outside the image" in real.report.line()
    kept = real.people()
    assert len(kept) == 3 and (kept[..., 1][kept[..., 2] > 0] <= 480).all()
    # compare-parsers on the same file: runs, reports the bad input, scores what is left
    rep = compare_parsers("coco17", CompareConfig(data=str(path), people=None, scenes=None,
                                                  noise=0.0, parsers=("greedy",)))
    assert rep["input"] == real.report.to_dict()
    assert rep["gt_people"] == 3
    r = rep["results"][0]
    assert (r["people"], r["missed"], r["extra"]) == (3, 0, 0) and r["ap50"] == 1.0


def test_a_file_with_no_usable_person_is_one_clear_error(tmp_path):
    path = tmp_path / "few.json"
    path.write_text(json.dumps({
        "images": [{"id": 1, "width": 64, "height": 64}],
        "annotations": [{"id": 1, "image_id": 1, "category_id": 1, "iscrowd": 0,
                         "keypoints": _person(5, 5, parts=(0, 1), size=40).reshape(-1).tolist()}],
        "categories": [{"id": 1, "keypoints": list(COCO17_KEYPOINTS)}]}))
    with pytest.raises(PosekitError, match="no usable person.*1 with 1-2 parts"):
        load_real("coco17", path)


# ---------------------------------------------------------------- compare-parsers, real
def _cli(*args):
    return subprocess.run([sys.executable, "-m", "posekit", "compare-parsers", *args],
                          capture_output=True, text=True)


def test_compare_parsers_data_real_end_to_end():
    out = _cli("-s", "coco18", "--data", "real", "--scenes", "3", "--parsers",
               "greedy,hungarian", "--noise", "0", "--field", "rect", "--json", "-")
    assert out.returncode == 0, out.stderr
    rep = json.loads(out.stdout)
    assert rep["scenes"] == 3 and rep["config"]["data"] == "real"
    assert rep["config"]["maps"]["field"] == "rect"
    assert rep["input"]["annotations"] == 205
    for r in rep["results"]:
        assert r["people"] == rep["gt_people"] and r["recovered"] + r["missed"] == r["people"]
        assert r["found"] == r["recovered"] + r["extra"]
        assert sum(b["missed"] for b in r["by_people"]) == r["missed"]
    table = _cli("-s", "coco18", "--data", str(REAL_SET), "--scenes", "2", "--parsers",
                 "greedy", "--noise", "0")
    assert table.returncode == 0, table.stderr
    for word in ("missed", "extra", "input:", "kept of 205 annotations"):
        assert word in table.stdout


def test_compare_parsers_real_crowds():
    rep = compare_parsers("coco18", CompareConfig(crowd=True, people=(10,), scenes=2,
                                                  noise=0.0, smooth=1.0, parsers=("greedy",)))
    assert rep["config"]["source"] == "real" and rep["scenes"] == 2 and rep["gt_people"] == 20
    assert rep["config"]["maps"]["smooth"] == 1.0
    r = rep["results"][0]
    assert r["people"] == 20 and r["missed"] + r["recovered"] == 20


@pytest.mark.parametrize(("args", "words"), [
    (["--field", "oval"], ["--field", "rect"]),
    (["--smooth", "-1"], ["--smooth"]),
    (["--crowd", "--weights", "w.pt"], ["--crowd", "--weights"]),
    (["--data", "real", "--weights", "w.pt", "--field", "rect"], ["--field", "network"]),
])
def test_real_options_user_errors(args, words):
    out = _cli("-s", "coco18", *args)
    assert out.returncode == 1, out.stdout + out.stderr
    assert "Traceback" not in out.stderr and out.stderr.startswith("error: ")
    for word in words:
        assert word in out.stderr


def test_rendered_maps_keep_keypoints_in_place_when_sides_are_not_multiples_of_8(tmp_path):
    # 640x361: the maps have 46 rows at stride 8 (368 pixels); decoding must not stretch
    # them onto 361 rows (a 4 pixel error at the bottom, which strict OKS thresholds see)
    people = [_person(x, 290, size=60) for x in (100, 300, 500)]
    path = tmp_path / "odd.json"
    anns = [{"id": i + 1, "image_id": 1, "category_id": 1, "iscrowd": 0,
             "keypoints": kp.reshape(-1).tolist(), "num_keypoints": 17}
            for i, kp in enumerate(people)]
    path.write_text(json.dumps({
        "images": [{"id": 1, "file_name": "1.jpg", "width": 640, "height": 361}],
        "annotations": anns,
        "categories": [{"id": 1, "keypoints": list(COCO17_KEYPOINTS)}]}))
    rep = compare_parsers("coco17", CompareConfig(data=str(path), people=None, scenes=None,
                                                  noise=0.0, parsers=("greedy",)))
    assert rep["results"][0]["ap"] > 0.95 and rep["results"][0]["ap75"] == 1.0


def test_evaluate_scenes_gives_ap_and_counts():
    from posekit.compare.real import evaluate_scenes

    real = load_real("coco18")
    scenes = real.photos()[:4] + [real.crowd(10, seed=0)]
    exact = evaluate_scenes(real.skeleton, scenes, [s.keypoints for s in scenes])
    assert exact["ap"] == 1.0 and exact["missed"] == 0 and exact["extra"] == 0
    # the crowd's ten people not found: ten misses, and AP falls
    found = [s.keypoints for s in scenes[:-1]] + [np.zeros((0, 18, 3))]
    worse = evaluate_scenes(real.skeleton, scenes, found)
    assert worse["missed"] == 10 and worse["ap"] < 1.0
    with pytest.raises(PosekitError, match="found-people arrays"):
        evaluate_scenes(real.skeleton, scenes, found[:2])
