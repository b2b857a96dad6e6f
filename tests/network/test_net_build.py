"""The staged network: heads sized from the skeleton, stride 8, and the config variants."""

import dataclasses

import pytest
import torch

from posekit import PosekitError, load_skeleton
from posekit.network import NetworkConfig, build_network, count_parameters

SMALL = dict(paf_stages=2, cm_stages=1, width=16, stage_blocks=1)

CONFIGS = {
    "pami-3x3": NetworkConfig(**SMALL),
    "pami-7x7": NetworkConfig(**SMALL, block="7x7"),
    "cm-first": NetworkConfig(**SMALL, order="cm-first"),
    "light": NetworkConfig.light(width=16),
}


def _skeleton(which, toy, toml_skeleton):
    return {"coco18": "coco18", "toy": toy, "toml": toml_skeleton}[which]


@pytest.mark.parametrize("which", ["coco18", "toy", "toml"])
@pytest.mark.parametrize("name", list(CONFIGS))
def test_output_shapes_follow_the_skeleton(which, name, toy, toml_skeleton):
    sk = load_skeleton(_skeleton(which, toy, toml_skeleton))
    cfg = CONFIGS[name]
    net = build_network(sk, cfg).eval()
    with torch.no_grad():
        pafs, heats = net.forward_stages(torch.randn(2, 3, 64, 48))
        last = net(torch.randn(2, 3, 64, 48))
    assert len(pafs) == cfg.paf_stages and len(heats) == cfg.cm_stages
    for p in pafs:
        assert p.shape == (2, sk.num_paf_channels, 8, 6)
    for h in heats:
        assert h.shape == (2, sk.num_keypoints + 1, 8, 6)
    assert last[0].shape == pafs[-1].shape and last[1].shape == heats[-1].shape
    assert net.skeleton_name == sk.name and net.layout_hash == sk.layout_hash
    assert net.config == cfg


def test_coco18_heads_have_openposes_38_and_19_channels():
    net = build_network("coco18", NetworkConfig(**SMALL))
    with torch.no_grad():
        pafs, heats = net(torch.randn(1, 3, 32, 32))
    assert (pafs.shape[1], heats.shape[1]) == (38, 19)
    sk = load_skeleton("coco18")
    assert (sk.num_paf_channels, sk.num_heatmap_channels) == (38, 19)


@pytest.mark.parametrize("backbone", ["vgg19", "light"])
@pytest.mark.parametrize("size", [(64, 64), (65, 70), (33, 100), (8, 8)])
def test_stride_8_rounds_up(backbone, size):
    net = build_network("coco18", NetworkConfig(**SMALL, backbone=backbone)).eval()
    h, w = size
    with torch.no_grad():
        pafs, heats = net(torch.randn(1, 3, h, w))
    assert pafs.shape[-2:] == heats.shape[-2:] == (-(-h // 8), -(-w // 8))
    assert net.stride == 8


def _perturb(modules):
    with torch.no_grad():
        for m in modules:
            for p in m.parameters():
                p.add_(torch.randn_like(p))


@pytest.mark.parametrize("order", ["paf-first", "cm-first"])
def test_order_decides_which_stages_feed_which(order):
    torch.manual_seed(0)
    net = build_network("coco18", NetworkConfig(**SMALL, order=order)).eval()
    x = torch.randn(1, 3, 32, 32)
    with torch.no_grad():
        paf0, heat0 = net(x)
        _perturb(net.cm_stages)
        paf1, heat1 = net(x)
    assert not torch.allclose(heat0, heat1)
    if order == "paf-first":
        assert torch.equal(paf0, paf1)  # PAF stages never see the confidence maps
    else:
        assert not torch.allclose(paf0, paf1)  # ... here they do
    with torch.no_grad():
        paf1, heat1 = net(x)
        _perturb(net.paf_stages)
        paf2, heat2 = net(x)
    assert not torch.allclose(paf1, paf2)
    if order == "cm-first":
        assert torch.equal(heat1, heat2)
    else:
        assert not torch.allclose(heat1, heat2)


def _stage_kernels(net):
    return {m.kernel_size for s in (*net.paf_stages, *net.cm_stages)
            for m in s.blocks.modules() if isinstance(m, torch.nn.Conv2d)}


def test_block_3x3_chains_and_concatenates_while_7x7_does_not():
    net3 = build_network("coco18", NetworkConfig(**{**SMALL, "stage_blocks": 2}))
    net7 = build_network("coco18", NetworkConfig(**{**SMALL, "stage_blocks": 2}, block="7x7"))
    assert _stage_kernels(net3) == {(3, 3)}
    assert _stage_kernels(net7) == {(7, 7)}
    # the second 3x3 block takes the three concatenated outputs of the first
    second = net3.paf_stages[0].blocks[1].convs[0][0]
    assert second.in_channels == 3 * 16
    assert net7.paf_stages[0].blocks[1][0].in_channels == 16
    assert count_parameters(net3) != count_parameters(net7)


def test_light_backbone_is_far_smaller_and_separable():
    vgg = build_network("coco18")
    light = build_network("coco18", NetworkConfig.light())
    assert count_parameters(light) * 20 < count_parameters(vgg)
    depthwise = [m for m in light.backbone.modules()
                 if isinstance(m, torch.nn.Conv2d) and m.groups > 1]
    assert depthwise


def test_cvpr2017_layout_has_openpose_layer_names_and_size():
    net = build_network("coco18", NetworkConfig.cvpr2017())
    keys = net.state_dict().keys()
    names = {".".join(k.split(".")[-2:]) for k in keys}
    for layer in ("conv1_1", "conv4_2", "conv4_4_CPM", "conv5_5_CPM_L1", "conv5_5_CPM_L2",
                  "Mconv1_stage2_L1", "Mconv7_stage6_L2"):
        assert f"{layer}.weight" in names
    assert len(names) == len(keys)
    assert count_parameters(net) == 52_311_446  # OpenPose's COCO body model
    assert (net.config.paf_stages, net.config.cm_stages, net.config.block) == (6, 6, "7x7")


@pytest.mark.parametrize("bad, match", [
    (dict(backbone="resnet"), "backbone 'resnet'"),
    (dict(block="5x5"), "block"),
    (dict(order="random"), "order"),
    (dict(paf_stages=0), "paf_stages"),
    (dict(width=-1), "width"),
    (dict(stage_blocks=0), "stage_blocks"),
    (dict(layout="cvpr2017", backbone="light"), "needs backbone 'vgg19'"),
])
def test_invalid_config_is_a_clear_error(bad, match):
    with pytest.raises(PosekitError, match=match):
        NetworkConfig(**bad)


def test_config_round_trips_and_rejects_unknown_fields():
    for cfg in (*CONFIGS.values(), NetworkConfig.cvpr2017()):
        assert NetworkConfig.from_dict(cfg.to_dict()) == cfg
    with pytest.raises(PosekitError, match="unknown field 'depth'"):
        NetworkConfig.from_dict({"depth": 3})
    with pytest.raises(dataclasses.FrozenInstanceError):
        NetworkConfig().width = 3  # type: ignore[misc]


def test_wrong_input_shape_is_a_clear_error():
    net = build_network("coco18", NetworkConfig(**SMALL))
    with pytest.raises(PosekitError, match=r"\(N, 3, H, W\)"):
        net(torch.randn(1, 32, 32, 3))
