"""Training costs for coco18 at 368 x 368: one optimisation step, and target generation.

Run with ``pytest benchmarks/test_train.py``. Groups:

- ``train-step-368-cpu``: forward through every stage, staged loss, backward and Adam step
  for a batch of 2 crops; the VGG-19 PAMI network is the baseline, the light CPU model
  is measured beside it.
- ``targets-368, N people``: heatmaps + PAFs + mask of one 368 x 368 crop
  (:func:`posekit.targets.render_targets`) against a plain per-person, per-limb loop
  written here (the baseline), and the whole training sample (PNG decode, random warp,
  targets) from :class:`posekit.training.PoseDataset`. ``extra_info["per_second"]`` is
  the throughput.
"""

from __future__ import annotations

import numpy as np
import pytest
import torch

from posekit.network import NetworkConfig, build_network
from posekit.skeleton import load_skeleton
from posekit.synth.poses import sample_poses
from posekit.targets import render_targets
from posekit.training.augment import AugmentConfig
from posekit.training.loss import staged_loss

SKELETON = load_skeleton("coco18")
SIZE = 368
STRIDE = 8
SIGMA = 7.0
CONFIGS = {
    "vgg19-pami (baseline)": NetworkConfig(),
    "light": NetworkConfig.light(),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_train_step_368_cpu(benchmark, name):
    torch.manual_seed(0)
    net = build_network(SKELETON, CONFIGS[name]).train()
    opt = torch.optim.Adam(net.parameters(), lr=1e-4)
    n, h = 2, SIZE // STRIDE
    x = torch.randn(n, 3, SIZE, SIZE)
    pafs_t = torch.zeros(n, SKELETON.num_paf_channels, h, h)
    heat_t = torch.zeros(n, SKELETON.num_heatmap_channels, h, h)
    mask = torch.ones(n, 1, h, h)
    benchmark.group = "train-step-368-cpu"
    benchmark.extra_info["batch"] = n
    benchmark.extra_info["threads"] = torch.get_num_threads()

    def step():
        pafs, heats = net.forward_stages(x)
        loss = staged_loss(pafs, heats, pafs_t, heat_t, mask)
        opt.zero_grad(set_to_none=True)
        loss.total.backward()
        opt.step()
        return loss.total.item()

    value = benchmark.pedantic(step, rounds=3, iterations=1, warmup_rounds=1)
    assert np.isfinite(value)


def _people(count: int) -> np.ndarray:
    return sample_poses(SKELETON, np.random.default_rng(count), (SIZE, SIZE), count)


def naive_targets(keypoints: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """The baseline: one full-map Gaussian per person and part, one full-map PAF per limb."""
    K = SKELETON.num_keypoints
    h = w = -(-SIZE // STRIDE)
    ys, xs = np.mgrid[0:h, 0:w] * STRIDE + (STRIDE - 1) / 2
    heat = np.zeros((h, w, K + 1), np.float32)
    paf = np.zeros((h, w, SKELETON.num_paf_channels), np.float32)
    count = np.zeros((h, w, SKELETON.num_limbs))
    for person in keypoints:
        for k in range(K):
            if person[k, 2] > 0:
                x, y = person[k, :2]
                g = np.exp(-((xs - x) ** 2 + (ys - y) ** 2) / (2 * SIGMA ** 2))
                heat[..., k] = np.maximum(heat[..., k], g)
        for l, (a, b) in enumerate(SKELETON.limb_index):
            if person[a, 2] <= 0 or person[b, 2] <= 0:
                continue
            pa, pb = person[a, :2] / STRIDE, person[b, :2] / STRIDE
            d = pb - pa
            length = np.hypot(*d)
            if length < 1e-9:
                continue
            u = d / length
            rx, ry = xs / STRIDE - pa[0], ys / STRIDE - pa[1]
            along = u[0] * rx + u[1] * ry
            on = (along >= 0) & (along <= length) & (np.abs(u[0] * ry - u[1] * rx) <= 1.0)
            cx, cy = SKELETON.paf_channels[l]
            paf[..., cx] += on * u[0]
            paf[..., cy] += on * u[1]
            count[..., l] += on
    for l, (cx, cy) in enumerate(SKELETON.paf_channels):
        paf[..., cx] /= np.maximum(count[..., l], 1)
        paf[..., cy] /= np.maximum(count[..., l], 1)
    heat[..., K] = 1 - heat[..., :K].max(axis=-1)
    return heat, paf


@pytest.fixture(scope="module")
def sample_dataset(tmp_path_factory):
    from posekit.synth.dataset import SynthSpec, write_synth_dataset
    from posekit.training.dataset import PoseDataset, load_dataset

    out = tmp_path_factory.mktemp("bench") / "data"
    write_synth_dataset(out, SKELETON, SynthSpec(images=8, people=(4, 4), size=(SIZE, SIZE)))
    index = load_dataset(out, SKELETON)
    return PoseDataset(index.entries, SKELETON, SIZE, sigma=SIGMA, augment=AugmentConfig())


@pytest.mark.parametrize("people", [1, 4, 10])
@pytest.mark.parametrize("method", ["naive loop (baseline)", "render_targets"])
def test_targets_368(benchmark, method, people):
    kp = _people(people)
    benchmark.group = f"targets-368, {people} people"

    def run():
        if method == "render_targets":
            t = render_targets(kp, SKELETON, (SIZE, SIZE), stride=STRIDE, sigma=SIGMA)
            return t.heatmaps, t.pafs
        return naive_targets(kp)

    heat, paf = benchmark.pedantic(run, rounds=10, iterations=1, warmup_rounds=1)
    benchmark.extra_info["per_second"] = 1.0 / benchmark.stats.stats.median
    assert heat.shape == (46, 46, 19) and paf.shape == (46, 46, 38)


def test_training_sample_368(benchmark, sample_dataset):
    """Decode + random warp + targets of one 4-person image (the data loader's work)."""
    benchmark.group = "targets-368, 4 people"
    counter = iter(range(10**6))

    def run():
        return sample_dataset[(next(counter) % len(sample_dataset), 0)]

    item = benchmark.pedantic(run, rounds=10, iterations=1, warmup_rounds=1)
    benchmark.extra_info["per_second"] = 1.0 / benchmark.stats.stats.median
    assert item["heatmaps"].shape == (19, 46, 46)
