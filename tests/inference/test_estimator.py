"""PoseEstimator: the whole pipeline, with tiny random networks and a planted network.

The planted network returns the ground-truth maps (posekit.targets) of known people for
whatever input size it is given, so the people found must come back at their original
image coordinates whatever the resizing, scales and downscaling in between.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch
from PIL import Image

import posekit
from posekit.errors import PosekitError
from posekit.inference import PoseEstimator
from posekit.targets import render_targets

SKELETON = posekit.load_skeleton("coco18")


def _people(W, H):
    """Two upright people (P, K, 3) side by side in a W x H image."""
    rest = SKELETON.rest_pose_array
    out = []
    for i, (cx, size) in enumerate([(0.27, 0.85), (0.73, 0.75)]):
        kp = np.ones((SKELETON.num_keypoints, 3))
        kp[:, 0] = W * cx + (rest[:, 0] - 0.5) * H * size * 0.6
        kp[:, 1] = H * (0.1 + 0.05 * i) + rest[:, 1] * H * size
        out.append(kp)
    return np.stack(out)


class Planted(torch.nn.Module):
    """A 'network' whose maps are the targets of ``people`` (given for a W x H image)."""

    def __init__(self, people, size):
        super().__init__()
        self.people, self.size = people, size
        self.inputs = []

    def forward(self, x):
        n, _, h, w = x.shape
        self.inputs.append((w, h))
        W, H = self.size
        kp = self.people.copy()
        kp[..., 0] = (kp[..., 0] + 0.5) * w / W - 0.5
        kp[..., 1] = (kp[..., 1] + 0.5) * h / H - 0.5
        t = render_targets(kp, SKELETON, (w, h))
        heat = torch.from_numpy(t.heatmaps).permute(2, 0, 1)[None].repeat(n, 1, 1, 1)
        paf = torch.from_numpy(t.pafs).permute(2, 0, 1)[None].repeat(n, 1, 1, 1)
        return paf, heat


def _errors(found, truth):
    """Largest keypoint error of each true person against its nearest found person."""
    out = []
    for g in truth:
        best = np.inf
        for p in found:
            ok = p.keypoints[:, 2] > 0
            if ok.sum() >= 10:
                best = min(best, np.abs(p.keypoints[ok, :2] - g[ok, :2]).max())
        out.append(best)
    return np.array(out)


@pytest.mark.parametrize("size, scales, max_side", [
    ((640, 480), (1.0,), 2048),
    ((500, 700), (1.0, 0.5, 1.5), 2048),  # portrait, multi-scale averaged
    ((3000, 2000), (1.0,), 800),  # large image: downscaled on load
    ((120, 90), (1.0,), 2048),  # small image: upscaled to the input height
])
def test_people_come_back_in_original_image_coordinates(tiny_weights, size, scales, max_side):
    W, H = size
    truth = _people(W, H)
    est = PoseEstimator("coco18", tiny_weights, scales=scales, max_side=max_side,
                        input_height=368)
    est.net = Planted(truth, size)
    found = est(np.zeros((H, W, 3), np.uint8))
    assert sum(p.num_parts >= 10 for p in found) == 2
    # within a fraction of one map pixel (stride 8 at 368 pixels high)
    map_pixel = 8 * H / 368
    assert (_errors(found, truth) < 0.5 * map_pixel + 1).all(), _errors(found, truth)
    # network inputs are multiples of the stride, at the requested heights
    assert all(w % 8 == 0 and h % 8 == 0 for w, h in est.net.inputs)
    assert sorted({h for _, h in est.net.inputs}) == sorted({round(368 * s / 8) * 8
                                                            for s in scales})


def test_random_network_gives_people_of_the_right_shape(tiny_weights, tmp_path):
    est = PoseEstimator("coco18", tiny_weights)
    Image.fromarray((np.random.default_rng(0).random((90, 130, 3)) * 255).astype(np.uint8)
                    ).save(tmp_path / "x.png")
    for image in (tmp_path / "x.png", Image.open(tmp_path / "x.png"),
                  np.asarray(Image.open(tmp_path / "x.png"))):
        people = est(image)
        assert isinstance(people, list)
        for p in people:
            assert p.keypoints.shape == (18, 3)
            found = p.keypoints[:, 2] > 0
            assert (p.keypoints[found, 0] >= -1).all() and (p.keypoints[found, 0] <= 131).all()


def test_a_batch_gives_the_same_people_as_one_at_a_time(tiny_weights):
    rng = np.random.default_rng(1)
    images = [(rng.random((60, 80, 3)) * 255).astype(np.uint8) for _ in range(3)]
    one = PoseEstimator("coco18", tiny_weights, batch_size=1)
    many = PoseEstimator("coco18", tiny_weights, batch_size=3)
    maps_one = [one.maps([one.load(im)])[0] for im in images]
    maps_many = many.maps([many.load(im) for im in images])
    for (h1, p1), (h3, p3) in zip(maps_one, maps_many, strict=True):
        np.testing.assert_allclose(h1, h3, atol=1e-4)
        np.testing.assert_allclose(p1, p3, atol=1e-4)


def test_extreme_aspect_ratios_stay_bounded(tiny_weights):
    est = PoseEstimator("coco18", tiny_weights)
    w, h = est.input_size((20000, 50), 1.0)
    assert w <= 4 * est.input_height and h >= 8 and w % 8 == 0 and h % 8 == 0
    w, h = est.input_size((50, 20000), 1.0)
    assert h <= est.input_height and w >= 8


def test_errors_name_the_problem(tiny_weights, other_weights, tmp_path):
    with pytest.raises(PosekitError, match="does not exist"):
        PoseEstimator("coco18", tmp_path / "missing.pt")
    with pytest.raises(PosekitError, match=r"trained for skeleton 'tri3'.*not 'coco18'"):
        PoseEstimator("coco18", other_weights)
    toml = tmp_path / "tri3.toml"
    toml.write_text('name = "tri3"\nkeypoints = ["a", "b", "c"]\n'
                    'limbs = [["a", "b"], ["b", "c"]]\n')
    with pytest.raises(PosekitError, match=r"no weights for skeleton 'tri3'.*--weights"):
        PoseEstimator(toml)
    with pytest.raises(PosekitError, match="scales"):
        PoseEstimator("coco18", tiny_weights, scales=(0.0,))
    with pytest.raises(PosekitError, match="CUDA is not available"):
        if torch.cuda.is_available():
            pytest.skip("CUDA present")
        PoseEstimator("coco18", tiny_weights, device="cuda")


def test_missing_bundled_weights_say_how_to_recover(monkeypatch, tmp_path):
    from posekit.inference import estimator

    monkeypatch.setattr(estimator, "_data_file", lambda name: tmp_path / name)
    with pytest.raises(PosekitError, match="bundled demo weights.*missing.*--weights"):
        PoseEstimator("coco18")


@pytest.mark.skipif(not posekit.inference.bundled_weights("coco18").is_file(),
                    reason="no bundled demo weights yet")
def test_demo_weights_warn_on_a_users_image_but_not_on_the_example():
    import warnings

    from posekit.inference import DemoWeightsWarning, example_image

    est = PoseEstimator("coco18")
    assert est.uses_demo_weights
    with warnings.catch_warnings():
        warnings.simplefilter("error", DemoWeightsWarning)
        people = est(example_image())
    assert people
    with pytest.warns(DemoWeightsWarning, match="synthetic.*posekit weights import.*train"):
        est(np.zeros((64, 64, 3), np.uint8))
