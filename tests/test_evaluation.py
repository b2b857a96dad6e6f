"""OKS AP with the skeleton's sigmas, via pycocotools."""

import contextlib
import io

import numpy as np
import pytest

from posekit import Person, Skeleton, load_skeleton
from posekit.coco import coco_dict
from posekit.evaluation import evaluate_oks
from posekit.synth import sample_poses

COCO18 = load_skeleton("coco18")
TRI = Skeleton(name="tri", keypoints=("a", "b", "c"), limbs=(("a", "b"), ("b", "c")),
               sigmas=(0.01, 0.01, 0.01))


def _gt(sk=COCO18, counts=(1, 3, 5), seed=0):
    rng = np.random.default_rng(seed)
    return [sample_poses(sk, rng, (640, 480), n, occlusion=0) for n in counts]


def _perfect(gt, score=1.0):
    return [[Person(p, score) for p in people] for people in gt]


def test_perfect_detections_score_one_and_print_nothing():
    gt = _gt()
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        m = evaluate_oks(gt, _perfect(gt), COCO18)
    assert out.getvalue() == ""
    assert m["ap"] == pytest.approx(1.0) and m["ap50"] == pytest.approx(1.0)
    assert m["ar"] == pytest.approx(1.0)
    assert m["gt_people"] == 9 and m["detections"] == 9 and m["images"] == 3


def test_no_detections_score_zero():
    gt = _gt()
    m = evaluate_oks(gt, [[] for _ in gt], COCO18)
    assert m["ap"] == 0.0 and m["ap50"] == 0.0 and m["detections"] == 0


def test_missing_people_and_errors_lower_ap():
    gt = _gt()
    half = [[Person(p, 1.0) for p in people[: (len(people) + 1) // 2]] for people in gt]
    assert evaluate_oks(gt, half, COCO18)["ar"] < 0.8
    rng = np.random.default_rng(1)
    noisy = [[Person(p + np.concatenate([rng.normal(0, 15, (18, 2)), np.zeros((18, 1))], 1),
                     1.0) for p in people] for people in gt]
    m = evaluate_oks(gt, noisy, COCO18)
    assert m["ap"] < 0.9 and m["ap50"] > m["ap"]


def test_sigmas_are_the_skeletons():
    # the same error costs less with wider sigmas
    gt = _gt(TRI, counts=(2, 2))
    wide = Skeleton(name="tri", keypoints=TRI.keypoints, limbs=TRI.limbs, sigmas=(0.3,) * 3)
    shifted = [[Person(p + [10.0, 0, 0], 1.0) for p in people] for people in gt]
    narrow_ap = evaluate_oks(gt, shifted, TRI)["ap"]
    wide_ap = evaluate_oks(gt, shifted, wide)["ap"]
    assert wide_ap > narrow_ap


def test_matches_pycocotools_summary_for_coco_sized_scenes():
    from pycocotools.coco import COCO
    from pycocotools.cocoeval import COCOeval

    gt = _gt(counts=(2, 4, 6), seed=3)
    rng = np.random.default_rng(2)
    dets = [[Person(p + np.concatenate([rng.normal(0, 3, (18, 2)), np.zeros((18, 1))], 1),
                    float(rng.random())) for p in people] for people in gt]
    ours = evaluate_oks(gt, dets, COCO18)
    data = coco_dict(COCO18, [{"file_name": "", "width": 640, "height": 480}] * 3, gt)
    with contextlib.redirect_stdout(io.StringIO()):
        cg = COCO()
        cg.dataset = data
        cg.createIndex()
        res = [{"image_id": i + 1, "category_id": 1, "score": p.score,
                "keypoints": p.keypoints.reshape(-1).tolist()}
               for i, people in enumerate(dets) for p in people]
        ev = COCOeval(cg, cg.loadRes(res), "keypoints")
        ev.params.kpt_oks_sigmas = COCO18.sigma_array
        ev.evaluate()
        ev.accumulate()
        ev.summarize()
    assert ours["ap"] == pytest.approx(ev.stats[0])
    assert ours["ap50"] == pytest.approx(ev.stats[1])
    assert ours["ar"] == pytest.approx(ev.stats[5])


def test_image_subset_and_coco_dict_input():
    gt = _gt(counts=(1, 2))
    dets = _perfect(gt)
    dets[1] = []
    data = coco_dict(COCO18, [{"file_name": "", "width": 640, "height": 480, "id": 10},
                              {"file_name": "", "width": 640, "height": 480, "id": 20}], gt)
    assert evaluate_oks(data, dets, COCO18, image_ids=[10])["ap"] == pytest.approx(1.0)
    assert evaluate_oks(data, dets, COCO18, image_ids=[20])["ap"] == 0.0


def test_crowded_scenes_keep_more_than_twenty_detections():
    gt = _gt(counts=(30,))
    assert evaluate_oks(gt, _perfect(gt), COCO18)["ar"] == pytest.approx(1.0)


def test_wrong_shapes_are_clear_errors():
    from posekit.errors import PosekitError

    gt = _gt(counts=(1,))
    with pytest.raises(PosekitError, match="one list of people per image"):
        evaluate_oks(gt, [], COCO18)
    with pytest.raises(PosekitError, match=r"needs \(18, 3\)"):
        evaluate_oks(gt, [[Person(np.zeros((3, 3)), 1.0)]], COCO18)
