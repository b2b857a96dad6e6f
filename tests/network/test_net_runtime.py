"""Preprocessing, devices and the tensor -> numpy maps hand-off."""

import numpy as np
import pytest
import torch

from posekit import PosekitError
from posekit.network import (
    NetworkConfig,
    Preprocess,
    autocast,
    build_network,
    maps_to_numpy,
    prepare_network,
    resolve_device,
)


def _image(h=4, w=5, seed=0):
    return np.random.default_rng(seed).integers(0, 256, (h, w, 3), dtype=np.uint8)


def test_openpose_preprocess_is_bgr_over_256_minus_half():
    img = _image()
    x = Preprocess.openpose().normalize(img)
    assert x.shape == (1, 3, 4, 5) and x.dtype == torch.float32
    expected = img[:, :, ::-1].astype(np.float32) / 256 - 0.5  # BGR
    np.testing.assert_allclose(x[0].permute(1, 2, 0).numpy(), expected, atol=1e-6)


def test_rgb_preprocess_keeps_channel_order_and_batches():
    imgs = np.stack([_image(seed=1), _image(seed=2)])
    pre = Preprocess(mean=(10, 20, 30), std=(2, 4, 8))
    x = pre.normalize(torch.from_numpy(imgs))
    assert x.shape == (2, 3, 4, 5)
    expected = (imgs.astype(np.float32) - [10, 20, 30]) / [2, 4, 8]
    np.testing.assert_allclose(x.permute(0, 2, 3, 1).numpy(), expected, rtol=1e-6)


def test_preprocess_round_trips_and_validates():
    for pre in (Preprocess(), Preprocess.openpose()):
        assert Preprocess.from_dict(pre.to_dict()) == pre
    with pytest.raises(PosekitError, match="channel_order"):
        Preprocess(channel_order="RBG")
    with pytest.raises(PosekitError, match="std must be positive"):
        Preprocess(std=(1, 0, 1))
    with pytest.raises(PosekitError, match=r"\(N, H, W, 3\)"):
        Preprocess().normalize(np.zeros((3, 8, 8), np.uint8))


def test_maps_to_numpy_moves_channels_last_in_the_same_order():
    pafs = torch.arange(6, dtype=torch.float32).view(1, 6, 1, 1).expand(1, 6, 3, 4)
    heats = torch.arange(4, dtype=torch.bfloat16).view(4, 1, 1).expand(4, 3, 4)
    heat_np, paf_np = maps_to_numpy(pafs, heats)
    assert heat_np.shape == (3, 4, 4) and paf_np.shape == (3, 4, 6)
    assert heat_np.dtype == paf_np.dtype == np.float32
    assert (paf_np[2, 3] == np.arange(6)).all() and (heat_np[0, 0] == np.arange(4)).all()


def test_maps_to_numpy_refuses_a_batch_and_mismatched_sizes():
    with pytest.raises(PosekitError, match="one at a time"):
        maps_to_numpy(torch.zeros(2, 6, 3, 3), torch.zeros(2, 4, 3, 3))
    with pytest.raises(PosekitError, match="differ in size"):
        maps_to_numpy(torch.zeros(1, 6, 3, 3), torch.zeros(1, 4, 3, 4))


def test_network_maps_are_in_the_skeleton_layout(toy):
    net = build_network(toy, NetworkConfig.light(width=8)).eval()
    with torch.no_grad():
        pafs, heats = net(torch.randn(1, 3, 16, 24))
    heat_np, paf_np = maps_to_numpy(pafs, heats)
    assert heat_np.shape == (2, 3, toy.num_keypoints + 1)
    assert paf_np.shape == (2, 3, 2 * toy.num_limbs)
    # channel c of the tensor is channel c of the map: the layout is the skeleton's
    np.testing.assert_array_equal(paf_np[..., toy.paf_channels[0, 0]],
                                  pafs[0, toy.paf_channels[0, 0]].numpy())


def test_resolve_device(monkeypatch):
    assert resolve_device("cpu") == torch.device("cpu")
    assert resolve_device("CPU") == torch.device("cpu")
    monkeypatch.setattr(torch.cuda, "is_available", lambda: False)
    assert resolve_device("auto") == torch.device("cpu")
    with pytest.raises(PosekitError, match="CUDA is not available.*--device cpu"):
        resolve_device("cuda")
    with pytest.raises(PosekitError, match="unknown device 'tpu'"):
        resolve_device("tpu")


def test_cpu_runs_without_autocast_and_in_channels_last():
    net = build_network("coco18", NetworkConfig.light(width=8)).eval()
    x = torch.randn(1, 3, 16, 16)
    dev = resolve_device("cpu")
    with torch.no_grad():
        ref = net(x)[1]
        prepare_network(net, dev, channels_last=True)
        with autocast(dev):
            out = net(x.to(memory_format=torch.channels_last))[1]
    assert out.dtype == torch.float32
    torch.testing.assert_close(out, ref, rtol=1e-4, atol=1e-5)
