"""Importing OpenPose's Caffe models, checked against OpenCV's independent Caffe importer.

The caffemodel and prototxt files are stand-ins written at test time (see
``caffe_fixtures``): OpenPose's architectures exactly, random weights. OpenCV's
``dnn.readNetFromCaffe`` reads the same two files with its own protobuf code and runs its
own forward pass; posekit's imported network must produce the same maps.
"""

from __future__ import annotations

import re

import numpy as np
import pytest
import torch

from posekit import PosekitError
from posekit.network.caffe_graph import caffe_layers
from posekit.network.caffe_import import (
    _layers,
    check_prototxt,
    network_from_caffe,
    openpose_network,
    read_net_parameter,
)
from posekit.network.caffe_proto import caffe_messages
from posekit.network.openpose_models import OPENPOSE_MODELS
from tests.network.caffe_fixtures import prototxt_text

cv2 = pytest.importorskip("cv2")

SKELETONS = ("body25", "coco18", "mpi15")


def max_relative_difference(skeleton, caffemodel, prototxt, size=(96, 64), seed=0):
    """max |posekit - OpenCV| / max |OpenCV| over the network output, and that output."""
    net, _ = network_from_caffe(caffemodel, skeleton, prototxt=prototxt)
    w, h = size
    x = np.random.default_rng(seed).random((1, 3, h, w), dtype=np.float32) - 0.5
    reference = cv2.dnn.readNetFromCaffe(str(prototxt), str(caffemodel))
    reference.setInput(x)
    theirs = reference.forward()
    with torch.no_grad():
        pafs, heatmaps = net(torch.from_numpy(x))
    ours = torch.cat([heatmaps, pafs], 1).numpy()   # OpenPose's net_output order
    assert ours.shape == theirs.shape
    return float(np.abs(ours - theirs).max() / np.abs(theirs).max()), theirs


@pytest.mark.parametrize("skeleton", SKELETONS)
def test_imported_network_equals_opencv_forward(skeleton, openpose_files):
    caffemodel, prototxt = openpose_files(skeleton)
    rel, theirs = max_relative_difference(skeleton, caffemodel, prototxt)
    model = OPENPOSE_MODELS[skeleton]
    assert theirs.shape == (1, model.num_heatmaps + model.num_pafs, 8, 12)
    assert theirs.std() > 1e-2            # a comparison of real signals, not of zeros
    assert rel < 1e-4, f"{skeleton}: max relative difference {rel:.2e}"


def _conv(layers, name):
    layer = next(x for x in layers if x.name == name)
    return layer.num_output, layer.kernel, layer.pad


def _bottoms(layers, name):
    return next(x for x in layers if x.name == name).bottoms


def test_body25_architecture_is_openposes():
    # facts from OpenPose's models/pose/body_25/pose_deploy.prototxt
    layers = caffe_layers(openpose_network("body25")[2])
    assert sum(x.type == "Convolution" for x in layers) == 114
    assert [x.name for x in layers if x.type == "PReLU"][:3] == [
        "prelu4_2", "prelu4_3_CPM", "prelu4_4_CPM"]
    assert _conv(layers, "conv4_4_CPM") == (128, 3, 1)
    assert _conv(layers, "Mconv1_stage0_L2_0") == (96, 3, 1)
    assert _conv(layers, "Mconv6_stage0_L2") == (256, 1, 0)
    assert _conv(layers, "Mconv1_stage3_L2_2") == (128, 3, 1)
    assert _conv(layers, "Mconv6_stage1_L1") == (512, 1, 0)
    assert _conv(layers, "Mconv7_stage3_L2") == (52, 1, 0)
    assert _conv(layers, "Mconv7_stage1_L1") == (26, 1, 0)
    assert _bottoms(layers, "Mconv2_stage0_L2_concat") == (
        "Mconv2_stage0_L2_0", "Mconv2_stage0_L2_1", "Mconv2_stage0_L2_2")
    assert _bottoms(layers, "concat_stage3_L2") == ("conv4_4_CPM", "Mconv7_stage2_L2")
    assert _bottoms(layers, "concat_stage0_L1") == ("conv4_4_CPM", "Mconv7_stage3_L2")
    assert _bottoms(layers, "concat_stage1_L1") == (
        "conv4_4_CPM", "Mconv7_stage0_L1", "Mconv7_stage3_L2")
    assert layers[-1].name == "net_output"
    assert layers[-1].bottoms == ("Mconv7_stage1_L1", "Mconv7_stage3_L2")


@pytest.mark.parametrize("skeleton, heat, paf", [("coco18", 19, 38), ("mpi15", 16, 28)])
def test_cvpr2017_architecture_is_openposes(skeleton, heat, paf):
    # facts from OpenPose's models/pose/{coco,mpi}/pose_deploy_linevec.prototxt
    layers = caffe_layers(openpose_network(skeleton)[2])
    assert sum(x.type == "Convolution" for x in layers) == 92
    assert not any(x.type == "PReLU" for x in layers)
    assert _conv(layers, "conv5_4_CPM_L1") == (512, 1, 0)
    assert _conv(layers, "conv5_5_CPM_L2") == (heat, 1, 0)
    assert _conv(layers, "Mconv5_stage4_L2") == (128, 7, 3)
    assert _conv(layers, "Mconv6_stage6_L1") == (128, 1, 0)
    assert _conv(layers, "Mconv7_stage6_L1") == (paf, 1, 0)
    assert _bottoms(layers, "concat_stage2") == ("conv5_5_CPM_L1", "conv5_5_CPM_L2",
                                                 "conv4_4_CPM")
    assert _bottoms(layers, "concat_stage6") == ("Mconv7_stage5_L1", "Mconv7_stage5_L2",
                                                 "conv4_4_CPM")
    assert layers[-1].name == "concat_stage7" and layers[-1].tops == ("net_output",)
    assert layers[-1].bottoms == ("Mconv7_stage6_L2", "Mconv7_stage6_L1")


def _with_training_fields(text):
    """The generated prototxt dressed as OpenPose's COCO file is: lr multipliers, fillers."""
    return text.replace("  convolution_param {\n", (
        "  param {\n    lr_mult: 1.0\n    decay_mult: 1\n  }\n  convolution_param {\n"
        "    weight_filler {\n      type: \"gaussian\"\n      std: 0.01\n    }\n"))


@pytest.mark.parametrize("skeleton", SKELETONS)
def test_prototxt_with_training_fields_passes_the_check(skeleton, tmp_path):
    model, _, net = openpose_network(skeleton)
    path = tmp_path / "pose_deploy.prototxt"
    path.write_text(_with_training_fields(prototxt_text(skeleton)))
    check_prototxt(path, caffe_layers(net), model)


def _edit_layer(text, name, old, new):
    start = text.index(f'  name: "{name}"')
    end = text.index("\n}\n", start)
    return text[:start] + text[start:end].replace(old, new, 1) + text[end:]


def _drop_layer(text, name):
    start = text.rindex("layer {", 0, text.index(f'  name: "{name}"'))
    end = text.index("\n}\n", start) + 3
    return text[:start] + text[end:]


@pytest.mark.parametrize("edit, message", [
    (lambda t: t + 'layer {\n  name: "extra"\n  type: "ReLU"\n  bottom: "conv1_1"\n'
                   '  top: "conv1_1"\n}\n', "unknown layer 'extra' (ReLU)"),
    (lambda t: _drop_layer(t, "Mconv3_stage2_L2_1"), "missing layer 'Mconv3_stage2_L2_1'"),
    (lambda t: _edit_layer(t, "Mconv6_stage1_L1", "num_output: 512", "num_output: 256"),
     "layer 'Mconv6_stage1_L1' has num_output 256, kernel 1, pad 0, stride 1, expected "
     "num_output 512"),
    (lambda t: _edit_layer(t, "concat_stage1_L1", 'bottom: "Mconv7_stage0_L1"',
                           'bottom: "Mconv7_stage2_L2"'), "layer 'concat_stage1_L1' connects"),
    (lambda t: _edit_layer(t, "prelu4_2", '"PReLU"', '"ReLU"'),
     "layer 'prelu4_2' is a ReLU layer, expected PReLU"),
    (lambda t: "layer { name: ", "is not a Caffe net definition"),
])
def test_wrong_prototxt_names_the_problem(edit, message, tmp_path):
    model, _, net = openpose_network("body25")
    path = tmp_path / "pose_deploy.prototxt"
    path.write_text(edit(prototxt_text("body25")))
    with pytest.raises(PosekitError, match=re.escape(message)) as err:
        check_prototxt(path, caffe_layers(net), model)
    assert "\n" not in str(err.value)


def test_prototxt_of_another_model_is_refused(tmp_path):
    model, _, net = openpose_network("body25")
    path = tmp_path / "pose_deploy_linevec.prototxt"
    path.write_text(prototxt_text("coco18"))
    with pytest.raises(PosekitError, match="defines OpenPose's COCO network, not BODY_25; "
                                           "use --skeleton coco18"):
        check_prototxt(path, caffe_layers(net), model)


def test_legacy_layer_messages_are_read():
    # Caffe before 2015 stored layers as V1LayerParameter (field 2, enum types)
    msgs = caffe_messages()
    net = msgs["NetParameter"]()
    layer = net.layers.add(name="conv1_1", type=4, bottom=["image"], top=["conv1_1"])
    layer.convolution_param.num_output = 64
    net.layers.add(name="relu1_1", type=18, bottom=["conv1_1"], top=["conv1_1"])
    parsed = msgs["NetParameter"].FromString(net.SerializeToString())
    assert [(x.name, x.type) for x in _layers(parsed)] == [
        ("conv1_1", "Convolution"), ("relu1_1", "ReLU")]


def test_garbage_is_not_a_caffe_model(tmp_path):
    path = tmp_path / "x.caffemodel"
    path.write_bytes(np.random.default_rng(0).bytes(4096))
    with pytest.raises(PosekitError, match="is not a Caffe model"):
        read_net_parameter(path)
    path.write_text(prototxt_text("mpi15"))   # a prototxt passed as the caffemodel
    with pytest.raises(PosekitError, match="not a Caffe model|no trained weights"):
        read_net_parameter(path)


def test_legacy_blob_shapes_import_the_same_weights(openpose_files, tmp_path):
    # pre-2015 Caffe wrote num/channels/height/width (biases as 1 x 1 x 1 x C), no shape
    caffemodel, _ = openpose_files("body25")
    net = caffe_messages()["NetParameter"].FromString(caffemodel.read_bytes())
    for layer in net.layer:
        for blob in layer.blobs:
            dims = (1,) * (4 - len(blob.shape.dim)) + tuple(blob.shape.dim)
            blob.ClearField("shape")
            blob.num, blob.channels, blob.height, blob.width = dims
    legacy = tmp_path / "legacy.caffemodel"
    legacy.write_bytes(net.SerializeToString())
    ours = network_from_caffe(legacy, "body25")[0].state_dict()
    reference = network_from_caffe(caffemodel, "body25")[0].state_dict()
    assert ours.keys() == reference.keys()
    for key, value in reference.items():
        assert torch.equal(ours[key], value), key


@pytest.mark.parametrize("skeleton, limbs", [("body25", 26), ("coco18", 19), ("mpi15", 14)])
def test_installed_skeletons_read_openposes_maps(skeleton, limbs):
    from posekit import load_skeleton
    from posekit.network.openpose_models import network_skeleton

    model = OPENPOSE_MODELS[skeleton]
    part = network_skeleton(model, load_skeleton(skeleton))
    assert part.keypoints == model.keypoints
    assert part.num_limbs == limbs and part.num_paf_channels == model.num_pafs
    for (a, b), channels in zip(model.pairs, model.map_index, strict=True):
        i = part.all_limbs.index((model.keypoints[a], model.keypoints[b]))
        assert part.paf_layout[i] == channels


def test_a_skeleton_that_reads_the_maps_differently_is_refused():
    from posekit import Skeleton, load_skeleton
    from posekit.network.openpose_models import network_skeleton

    coco = load_skeleton("coco18").to_dict()
    swapped = dict(coco, paf_layout=[[y, x] for x, y in coco["paf_layout"]])
    with pytest.raises(PosekitError, match="limb Neck-RShoulder reads PAF channels"):
        network_skeleton(OPENPOSE_MODELS["coco18"], Skeleton(**swapped))
    kps = list(coco["keypoints"])
    kps[14], kps[15] = kps[15], kps[14]
    with pytest.raises(PosekitError, match="keypoint 14 is LEye, OpenPose's is REye"):
        network_skeleton(OPENPOSE_MODELS["coco18"], Skeleton(**dict(coco, keypoints=kps)))
