"""Importing pytorch-openpose's body_pose_model.pth, against an independent reference net.

The real file cannot be downloaded here, so ``_Reference`` below rebuilds the CVPR 2017
COCO network the way pytorch-openpose structures it (one ``nn.Sequential`` per branch,
modules ``model0``, ``model1_1`` ... ``model6_2``, layers named as in OpenPose) without
using posekit's builder; its random weights are saved in that file's key naming.
"""

import re
import subprocess
import sys
from collections import OrderedDict

import pytest
import torch
from torch import nn

from posekit import PosekitError
from posekit.network import Preprocess, load_checkpoint
from posekit.network.openpose_import import import_openpose_weights, network_from_openpose_state

N_PAF, N_HEAT, FEAT = 38, 19, 128


def _sequential(specs, relu_last=False):
    """specs: (name, cin, cout, kernel) or (name,) for a 2x2 max-pool."""
    layers = []
    for i, spec in enumerate(specs):
        if len(spec) == 1:
            layers.append((spec[0], nn.MaxPool2d(2, 2)))
            continue
        name, cin, cout, k = spec
        layers.append((name, nn.Conv2d(cin, cout, k, 1, k // 2)))
        if relu_last or i != len(specs) - 1:
            layers.append((name + "_act", nn.ReLU()))
    return nn.Sequential(OrderedDict(layers))


class _Reference(nn.Module):
    def __init__(self):
        super().__init__()
        vgg = [("conv1_1", 3, 64), ("conv1_2", 64, 64), ("pool1",), ("conv2_1", 64, 128),
               ("conv2_2", 128, 128), ("pool2",), ("conv3_1", 128, 256)]
        vgg += [(f"conv3_{i}", 256, 256) for i in (2, 3, 4)]
        vgg += [("pool3",), ("conv4_1", 256, 512), ("conv4_2", 512, 512),
                ("conv4_3_CPM", 512, 256), ("conv4_4_CPM", 256, FEAT)]
        self.model0 = _sequential([(*s, 3) if len(s) == 3 else s for s in vgg], relu_last=True)
        for b, out in ((1, N_PAF), (2, N_HEAT)):
            stage1 = [(f"conv5_{i}_CPM_L{b}", FEAT, FEAT, 3) for i in (1, 2, 3)]
            stage1 += [(f"conv5_4_CPM_L{b}", FEAT, 512, 1), (f"conv5_5_CPM_L{b}", 512, out, 1)]
            setattr(self, f"model1_{b}", _sequential(stage1))
            for t in range(2, 7):
                later = [(f"Mconv1_stage{t}_L{b}", N_PAF + N_HEAT + FEAT, FEAT, 7)]
                later += [(f"Mconv{i}_stage{t}_L{b}", FEAT, FEAT, 7) for i in (2, 3, 4, 5)]
                later += [(f"Mconv6_stage{t}_L{b}", FEAT, FEAT, 1),
                          (f"Mconv7_stage{t}_L{b}", FEAT, out, 1)]
                setattr(self, f"model{t}_{b}", _sequential(later))

    def forward(self, x):
        feats = self.model0(x)
        inp = feats
        for t in range(1, 7):
            paf = getattr(self, f"model{t}_1")(inp)
            heat = getattr(self, f"model{t}_2")(inp)
            inp = torch.cat([paf, heat, feats], 1)
        return paf, heat


@pytest.fixture(scope="module")
def reference():
    torch.manual_seed(2017)
    ref = _Reference().eval()
    for m in ref.modules():  # variance-preserving weights, non-zero biases
        if isinstance(m, nn.Conv2d):
            nn.init.kaiming_normal_(m.weight, nonlinearity="relu")
            nn.init.normal_(m.bias, std=0.1)
    return ref


@pytest.fixture(scope="module")
def body_pose_model(reference, tmp_path_factory):
    """The reference weights keyed as in body_pose_model.pth: ``conv1_1.weight`` ..."""
    state = OrderedDict((k.split(".", 1)[1], v) for k, v in reference.state_dict().items())
    path = tmp_path_factory.mktemp("weights") / "body_pose_model.pth"
    torch.save(state, path)
    return path


def _cli(*args):
    return subprocess.run([sys.executable, "-m", "posekit", "weights", "import", *args],
                          capture_output=True, text=True, timeout=120)


def _same_outputs(net, reference):
    x = torch.randn(1, 3, 48, 64, generator=torch.Generator().manual_seed(5))
    with torch.no_grad():
        ours = net(x)
        theirs = reference(x)
    for a, b in zip(ours, theirs, strict=True):
        assert a.shape == b.shape
        assert 1e-2 < b.std() < 1e3  # a meaningful comparison, not of zeros or infinities
        torch.testing.assert_close(a, b, rtol=1e-4, atol=1e-5)


def test_cli_import_matches_the_reference_network(body_pose_model, reference, tmp_path):
    out = tmp_path / "openpose_coco.pt"
    res = _cli("--from", "pytorch-openpose", str(body_pose_model), "--out", str(out))
    assert res.returncode == 0, res.stderr
    assert "non-commercial" in res.stdout
    net, meta = load_checkpoint(out, skeleton="coco18")
    net.eval()
    _same_outputs(net, reference)
    assert meta.config.layout == "cvpr2017"
    assert meta.preprocess == Preprocess(channel_order="BGR", mean=(128, 128, 128),
                                         std=(256, 256, 256), stride=8, pad_value=128,
                                         input_height=368)
    assert meta.extra["source"] == "pytorch-openpose"
    assert "non-commercial" in meta.extra["license"]


def test_module_prefixed_keys(reference):
    # the same weights taken from pytorch-openpose's model object: model0.conv1_1.weight ...
    state = reference.state_dict()
    assert "model1_1.conv5_1_CPM_L1.weight" in state
    _same_outputs(network_from_openpose_state(state).eval(), reference)
    wrapped = OrderedDict((f"module.{k}", v) for k, v in state.items())  # DataParallel
    _same_outputs(network_from_openpose_state(wrapped).eval(), reference)


def test_legacy_torch_format_is_read_with_weights_only(tmp_path):
    # body_pose_model.pth predates torch's zip format; a legacy file reaches the key check
    src = tmp_path / "legacy.pth"
    torch.save(OrderedDict([("conv1_1.weight", torch.zeros(64, 3, 3, 3))]), src,
               _use_new_zipfile_serialization=False)
    with pytest.raises(PosekitError, match="missing key 'conv1_1.bias'"):
        import_openpose_weights(src, tmp_path / "x.pt")
    assert not (tmp_path / "x.pt").exists()


def _renamed(state, old, new):
    return OrderedDict((new if k == old else k, v) for k, v in state.items())


@pytest.mark.parametrize("edit, message", [
    (lambda s: OrderedDict((k, v) for k, v in s.items() if k != "Mconv7_stage6_L2.bias"),
     "missing key 'Mconv7_stage6_L2.bias'"),
    (lambda s: OrderedDict(s, **{"conv6_1.weight": torch.zeros(1)}),
     "unexpected key 'conv6_1.weight'"),
    (lambda s: _renamed(s, "conv1_1.weight", "model2_1.conv1_1.weight"),
     "unexpected key 'model2_1.conv1_1.weight'"),
    (lambda s: OrderedDict(s, **{"conv5_5_CPM_L2.weight": torch.zeros(18, 512, 1, 1)}),
     r"shape of 'conv5_5_CPM_L2.weight': expected \(19, 512, 1, 1\), got \(18, 512, 1, 1\)"),
    (lambda s: OrderedDict(s, **{"conv1_1.bias": "x"}), "'conv1_1.bias' is a str"),
    (lambda s: [1, 2, 3], "holds a list, not a state dict"),
])
def test_wrong_state_dicts_name_the_first_mismatch(reference, edit, message):
    state = OrderedDict((k.split(".", 1)[1], v) for k, v in reference.state_dict().items())
    with pytest.raises(PosekitError, match=message):
        network_from_openpose_state(edit(state))


def test_other_skeleton_does_not_fit(body_pose_model, toy, tmp_path):
    with pytest.raises(PosekitError, match=r"skeleton 'toy4': shape of 'conv5_5_CPM_L1.weight'"):
        import_openpose_weights(body_pose_model, tmp_path / "t.pt", skeleton=toy)
    assert not (tmp_path / "t.pt").exists()


class _Payload:
    def __reduce__(self):
        return (print, ("unpickled",))


def _write_bad_inputs(tmp_path):
    torch.save([torch.zeros(1)], tmp_path / "list.pth")
    torch.save({"features.0.weight": torch.zeros(64, 3, 3, 3)}, tmp_path / "vgg.pth")
    torch.save({"conv1_1.weight": _Payload()}, tmp_path / "evil.pth")
    (tmp_path / "text.pth").write_text("hello\n")


@pytest.mark.parametrize("name, message", [
    ("missing.pth", "does not exist"),
    ("text.pth", "not a readable torch file"),
    ("list.pth", "not a state dict"),
    ("vgg.pth", "unexpected key 'features.0.weight'"),
    ("evil.pth", r"refused by torch.load\(weights_only=True\)"),
])
def test_cli_bad_input_is_one_line_exit_1_and_writes_nothing(tmp_path, name, message):
    _write_bad_inputs(tmp_path)
    out = tmp_path / "out" / "dst.pt"
    res = _cli("--from", "pytorch-openpose", str(tmp_path / name), "--out", str(out))
    assert res.returncode == 1
    lines = res.stderr.strip().splitlines()
    assert len(lines) == 1 and lines[0].startswith("error: "), res.stderr
    assert "Traceback" not in res.stderr
    assert re.search(message, lines[0]), lines[0]
    assert "unpickled" not in res.stdout
    assert not out.exists()
    assert not out.parent.exists() or not any(out.parent.iterdir())


def test_cli_unknown_source_is_a_usage_error(tmp_path):
    res = _cli("--from", "caffe", str(tmp_path / "x.pth"), "--out", str(tmp_path / "y.pt"))
    assert res.returncode == 2
