"""compare-parsers through the library: the JSON contract, seeding, every scene source."""

import json

import numpy as np
import pytest

from posekit import list_skeletons, load_skeleton
from posekit.coco import COCO17_KEYPOINTS, write_coco_keypoints
from posekit.compare import CompareConfig, compare_parsers, parse_people, synthetic_scenes
from posekit.errors import PosekitError

PARSERS = ("full-ilp", "tree-ilp", "hungarian", "greedy")
TINY = CompareConfig(people=(1, 3), scenes=2, seed=3)


@pytest.fixture(scope="module")
def tiny():
    return compare_parsers("coco18", TINY)


def test_json_contract(tiny):
    assert set(tiny) >= {"skeleton", "config", "results"}
    assert tiny["skeleton"] == "coco18"
    assert tiny["config"]["people"] == [1, 3] and tiny["config"]["source"] == "synthetic"
    assert [r["parser"] for r in tiny["results"]] == list(PARSERS)
    for r in tiny["results"]:
        for key in ("ap", "ap50", "objective_gap", "optimal_fraction", "median_ms", "p95_ms"):
            assert isinstance(r[key], float), key
        assert 0 <= r["ap"] <= r["ap50"] <= 1
        assert 0 <= r["optimal_fraction"] <= 1 and r["objective_gap"] >= 0
        assert r["p95_ms"] >= r["median_ms"] > 0
        assert isinstance(r["timeouts"], int)
        assert [b["people"] for b in r["by_people"]] == [1, 3]
        for b in r["by_people"]:
            assert {"people", "ap", "median_ms"} <= set(b)
    json.dumps(tiny, allow_nan=False)  # plain JSON


def test_best_objective_defines_the_gap(tiny):
    gaps = [r["objective_gap"] for r in tiny["results"]]
    optimal = [r["optimal_fraction"] for r in tiny["results"]]
    full = tiny["results"][0]
    # full-ilp is exact: it is never beaten on its own objective
    assert full["objective_gap"] == 0 and full["optimal_fraction"] == 1.0
    assert min(gaps) == 0 and max(optimal) == 1.0


def test_seeded_runs_reproduce(tiny):
    again = compare_parsers("coco18", TINY)
    other = compare_parsers("coco18", CompareConfig(people=(1, 3), scenes=2, seed=4))

    def numbers(rep):
        return [(r["ap"], r["ap50"], r["objective_gap"], r["optimal_fraction"])
                for r in rep["results"]]

    assert numbers(again) == numbers(tiny)
    assert numbers(other) != numbers(tiny)


def test_scenes_do_not_depend_on_the_other_counts():
    sk = load_skeleton("coco18")
    a = synthetic_scenes(sk, [2], 2, seed=1)
    b = synthetic_scenes(sk, [1, 2, 5], 2, seed=1)
    assert all(np.array_equal(x.keypoints, y.keypoints) for x, y in zip(a, b[2:4], strict=True))


def test_clean_maps_give_every_parser_ap_one():
    rep = compare_parsers("coco18", CompareConfig(people=(1, 2), scenes=3, noise=0.0,
                                                  overlap=0.0, truncation=0.0, seed=0))
    for r in rep["results"]:
        assert r["ap"] == pytest.approx(1.0), r["parser"]


@pytest.mark.parametrize("name", list_skeletons())
def test_every_installed_skeleton_runs(name):
    rep = compare_parsers(name, CompareConfig(people=(2,), scenes=1, seed=0))
    assert rep["skeleton"] == name
    assert all(r["ap"] is not None for r in rep["results"])


def test_noise_sweep_is_reported():
    rep = compare_parsers("coco18", CompareConfig(parsers=("greedy",), people=(2,), scenes=2,
                                                  sweep=(0.0, 2.0)))
    levels = [s["noise"] for s in rep["sweep"]]
    assert levels == [0.0, 1.0, 2.0]  # the run's own level joins the sweep
    assert all(s["results"][0]["parser"] == "greedy" for s in rep["sweep"])


def test_parallel_jobs_give_the_same_numbers():
    config = CompareConfig(parsers=("hungarian", "greedy"), people=(2, 3), scenes=2, seed=2)
    one = compare_parsers("coco18", config)
    two = compare_parsers("coco18", CompareConfig(**{**config.__dict__, "jobs": 2}))
    assert [r["ap"] for r in one["results"]] == [r["ap"] for r in two["results"]]


def _coco17_file(path, people):
    """A COCO-17 person file with the given (P, 17, 3) people, one image each."""
    images, anns = [], []
    for i, kp in enumerate(people, start=1):
        images.append({"id": i, "file_name": f"{i}.jpg", "width": 640, "height": 480})
        for p in kp:
            on = p[:, 2] > 0
            x0, y0 = p[on, :2].min(0)
            x1, y1 = p[on, :2].max(0)
            anns.append({"id": len(anns) + 1, "image_id": i, "category_id": 1,
                         "keypoints": p.reshape(-1).tolist(), "num_keypoints": int(on.sum()),
                         "bbox": [x0, y0, x1 - x0, y1 - y0], "area": (x1 - x0) * (y1 - y0),
                         "iscrowd": 0})
    path.write_text(json.dumps({"images": images, "annotations": anns, "categories": [
        {"id": 1, "name": "person", "keypoints": list(COCO17_KEYPOINTS), "skeleton": []}]}))
    return path


def test_coco17_file_source_for_coco18(tmp_path):
    coco17 = load_skeleton("coco17")
    rng = np.random.default_rng(0)
    people = [sample for sample in (
        _poses(coco17, rng, 1), _poses(coco17, rng, 2), _poses(coco17, rng, 2))]
    path = _coco17_file(tmp_path / "person_keypoints.json", people)
    rep = compare_parsers("coco18", CompareConfig(data=str(path), people=None, scenes=None,
                                                  noise=0.0))
    assert rep["config"]["source"] == "coco" and rep["scenes"] == 3
    assert rep["gt_people"] == 5
    assert [b["people"] for b in rep["results"][0]["by_people"]] == [1, 2]
    assert rep["results"][0]["ap50"] > 0.5
    only_two = compare_parsers("coco18", CompareConfig(data=str(path), people=(2,), scenes=1))
    assert only_two["scenes"] == 1 and only_two["gt_people"] == 2


def _poses(sk, rng, n):
    from posekit.synth import sample_poses

    return sample_poses(sk, rng, (640, 480), n, truncation=0.0, overlap=0.0,
                        scale_range=(0.6, 0.9))


def test_file_source_errors(tmp_path):
    path = write_coco_keypoints(tmp_path / "a.json", load_skeleton("coco18"),
                                [{"file_name": "a.png", "width": 64, "height": 64}],
                                [np.zeros((0, 18, 3))])
    with pytest.raises(PosekitError, match="holds no people"):
        compare_parsers("coco18", CompareConfig(data=str(path)))
    with pytest.raises(PosekitError, match="skeleton 'hand21' has 21"):
        compare_parsers("hand21", CompareConfig(data=str(path)))


def test_unknown_parser_is_a_clear_error():
    with pytest.raises(PosekitError, match="full-ilp"):
        compare_parsers("coco18", CompareConfig(parsers=("ful-ilp",), people=(1,), scenes=1))
    with pytest.raises(PosekitError, match="twice"):
        compare_parsers("coco18", CompareConfig(parsers=("greedy", "greedy")))


@pytest.mark.parametrize(("text", "want"), [
    ("1,2,4,8", (1, 2, 4, 8)), ("1-6", (1, 2, 3, 4, 5, 6)), ("8, 1-3", (1, 2, 3, 8)),
])
def test_people_lists(text, want):
    assert parse_people(text) == want


@pytest.mark.parametrize(("text", "message"), [
    ("", "empty"), ("0", "at least 1 person"), ("6-1", "backwards"), ("a", "not a number"),
    ("2,2", "twice"), ("1-100", "at most 64"), ("1,,2", "empty entry"), ("-3", "not a number"),
])
def test_people_lists_that_make_no_sense(text, message):
    with pytest.raises(PosekitError, match=message):
        parse_people(text)
