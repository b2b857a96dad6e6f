"""Network forward time on CPU at 368 x 368: the light backbone against the VGG-19 baseline.

Run with ``pytest benchmarks/test_network.py``; the group ``forward-368-cpu`` holds the
VGG-19 PAMI network (the baseline), the light CPU model and OpenPose's CVPR 2017 layout.
"""

import pytest
import torch

from posekit.network import NetworkConfig, build_network, count_parameters

CONFIGS = {
    "vgg19-pami (baseline)": NetworkConfig(),
    "light": NetworkConfig.light(),
    "cvpr2017": NetworkConfig.cvpr2017(),
}


@pytest.mark.parametrize("name", list(CONFIGS))
def test_forward_368_cpu(benchmark, name):
    torch.manual_seed(0)
    net = build_network("coco18", CONFIGS[name]).eval()
    x = torch.randn(1, 3, 368, 368)
    benchmark.group = "forward-368-cpu"
    benchmark.extra_info["parameters"] = count_parameters(net)
    benchmark.extra_info["threads"] = torch.get_num_threads()

    def forward():
        with torch.inference_mode():
            return net(x)

    pafs, heats = benchmark.pedantic(forward, rounds=5, iterations=1, warmup_rounds=1)
    assert pafs.shape == (1, 38, 46, 46) and heats.shape == (1, 19, 46, 46)
