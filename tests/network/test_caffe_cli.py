"""``posekit weights import --from openpose`` and ``posekit weights show`` from the shell.

Every bad input is one ``error:`` line on stderr, exit code 1, and no file written.
"""

from __future__ import annotations

import json
import os
import sys

import numpy as np
import pytest
import torch
from PIL import Image

from posekit import PoseEstimator
from posekit.cli import main
from posekit.network import count_parameters, load_checkpoint
from posekit.network.caffe_proto import caffe_messages


def run(monkeypatch, capsys, *args):
    """Run ``posekit ARGS`` in this process: (exit code, stdout, stderr)."""
    monkeypatch.setattr(sys, "argv", ["posekit", *map(str, args)])
    code = 0
    try:
        main()
    except SystemExit as exc:
        code = int(exc.code or 0)
    out = capsys.readouterr()
    return code, out.out, out.err


def test_import_show_and_force(openpose_files, tmp_path, monkeypatch, capsys):
    caffemodel, prototxt = openpose_files("mpi15")
    out = tmp_path / "mpi15.pt"
    code, stdout, err = run(monkeypatch, capsys, "weights", "import", "--from", "openpose",
                            caffemodel, "--skeleton", "mpi15", "--prototxt", prototxt,
                            "--out", out)
    assert code == 0, err
    assert "non-commercial" in stdout

    net, meta = load_checkpoint(out, skeleton="mpi15")
    assert meta.skeleton.num_limbs == 14 and meta.declared_skeleton.num_limbs == 18
    assert meta.extra["source_model"] == "MPI" and "non-commercial" in meta.extra["license"]
    pre = meta.preprocess
    assert (pre.channel_order, pre.mean, pre.std, pre.input_height, pre.pad_value,
            pre.stride) == ("BGR", (128.0,) * 3, (256.0,) * 3, 368, 128, 8)
    with torch.no_grad():
        pafs, heatmaps = net.eval()(torch.zeros(1, 3, 32, 48))
    assert pafs.shape == (1, 28, 4, 6) and heatmaps.shape == (1, 16, 4, 6)
    assert PoseEstimator("mpi15", weights=out, device="cpu").skeleton.num_limbs == 14

    code, stdout, _ = run(monkeypatch, capsys, "weights", "show", out, "--json")
    info = json.loads(stdout)
    assert code == 0
    assert info["skeleton"] == "mpi15" and info["source_model"] == "MPI"
    assert info["limbs"]["network"] == 14 and info["limbs"]["skeleton"] == 18
    assert info["channels"] == {"heatmaps": 16, "pafs": 28}
    assert info["parameters"] == count_parameters(net)
    assert info["architecture"]["layout"] == "cvpr2017"
    code, stdout, _ = run(monkeypatch, capsys, "weights", "show", out)
    assert code == 0
    for text in ("14 of 18", "x/256 - 0.5", "368 px high", "padded with 128", "CMU",
                 info["layout_hash"], f"{info['parameters']:,}"):
        assert text in stdout

    before = out.stat().st_mtime_ns
    code, _, err = run(monkeypatch, capsys, "weights", "import", "--from", "openpose",
                       caffemodel, "--skeleton", "mpi15", "--out", out)
    assert code == 1 and err.count("\n") == 1
    assert str(out) in err and "--force" in err
    assert out.stat().st_mtime_ns == before
    code, _, err = run(monkeypatch, capsys, "weights", "import", "--from", "openpose",
                       caffemodel, "--skeleton", "mpi15", "--out", out, "--force")
    assert code == 0, err
    assert out.stat().st_mtime_ns != before


def test_infer_writes_openposes_body25_json(openpose_files, tmp_path, monkeypatch, capsys):
    caffemodel, _ = openpose_files("body25")
    weights = tmp_path / "body25.pt"
    code, _, err = run(monkeypatch, capsys, "weights", "import", "--from", "openpose",
                       caffemodel, "--skeleton", "body25", "--out", weights)
    assert code == 0, err
    photo = tmp_path / "photo.png"
    Image.fromarray(np.random.default_rng(0).integers(0, 255, (96, 128, 3), np.uint8)).save(
        photo)
    code, _, err = run(monkeypatch, capsys, "infer", "--skeleton", "body25", "--weights",
                       weights, photo, "--out", tmp_path / "out", "--parser", "greedy")
    assert code == 0, err
    written = sorted((tmp_path / "out").glob("photo*.json"))
    assert len(written) == 1
    result = json.loads(written[0].read_text())
    assert result["people"], "random weights find some people on noise"
    for person in result["people"]:
        assert len(person["pose_keypoints_2d"]) == 75


def _small_net(*layers):
    """A NetParameter holding only ``layers``: (name, type, blob shapes)."""
    net = caffe_messages()["NetParameter"]()
    for name, kind, shapes in layers:
        layer = net.layer.add(name=name, type=kind)
        for shape in shapes:
            blob = layer.blobs.add()
            blob.shape.dim.extend(shape)
            blob.data = np.zeros(shape, "<f4").tobytes()
    return net


def _edited_body25(openpose_files, edit):
    net = caffe_messages()["NetParameter"].FromString(openpose_files("body25")[0].read_bytes())
    edit(net)
    return net


def _drop(name):
    def edit(net):
        index = next(i for i, x in enumerate(net.layer) if x.name == name)
        del net.layer[index]
    return edit


def _reshape(name):
    def edit(net):
        blob = next(x for x in net.layer if x.name == name).blobs[0]
        n = int(np.prod(blob.shape.dim))
        del blob.shape.dim[:]
        blob.shape.dim.extend([n // 9 // 64, 64, 3, 3])
    return edit


CASES = {
    "missing file": (None, "body25", "does not exist"),
    "garbage": (lambda f: os.urandom(50_000), "body25", "is not a Caffe model"),
    "truncated": (lambda f: f("body25")[0].read_bytes()[:3_000_000], "body25",
                  "is not a Caffe model"),
    "other model": (lambda f: f("coco18")[0].read_bytes(), "body25",
                    "is OpenPose's COCO model, not BODY_25; use --skeleton coco18"),
    "unknown layer": (lambda f: _small_net(("conv1_1", "Convolution", [(64, 3, 3, 3), (64,)]),
                                           ("conv9_9", "Convolution", [(8, 8, 1, 1), (8,)])),
                      "body25", "unknown layer 'conv9_9' (Convolution) with weights"),
    "missing layer": (lambda f: _edited_body25(f, _drop("Mconv7_stage3_L2")), "body25",
                      "missing layer 'Mconv7_stage3_L2' (Convolution)"),
    "wrong shape": (lambda f: _edited_body25(f, _reshape("Mconv1_stage1_L2_0")), "body25",
                    "layer 'Mconv1_stage1_L2_0' blob 0 has shape (360, 64, 3, 3), OpenPose's "
                    "BODY_25 model needs (128, 180, 3, 3)"),
    "no OpenPose model": (lambda f: b"", "coco17", "OpenPose has no body model for "
                                                   "skeleton 'coco17'"),
}


@pytest.mark.parametrize("case", list(CASES))
def test_bad_caffemodel_is_one_line_exit_1_and_writes_nothing(case, openpose_files, tmp_path,
                                                              monkeypatch, capsys):
    make, skeleton, message = CASES[case]
    src = tmp_path / "model.caffemodel"
    if make is not None:
        data = make(openpose_files)
        src.write_bytes(data if isinstance(data, bytes) else data.SerializeToString())
    out = tmp_path / "out" / "model.pt"
    code, stdout, err = run(monkeypatch, capsys, "weights", "import", "--from", "openpose",
                            src, "--skeleton", skeleton, "--out", out)
    assert code == 1
    assert err.startswith("error: ") and err.count("\n") == 1, err
    assert message in err
    assert not out.exists() and not (out.parent.exists() and any(out.parent.iterdir()))


@pytest.mark.parametrize("where, message", [
    ("blocker/model.pt", "is a file, not a folder"),
    ("folder", "is a folder; pass a file path"),
])
def test_unwritable_out_is_refused_before_reading(where, message, tmp_path, monkeypatch,
                                                  capsys):
    (tmp_path / "blocker").write_text("a file where a folder should be")
    (tmp_path / "folder").mkdir()
    # the source does not exist: the --out check must come first
    code, _, err = run(monkeypatch, capsys, "weights", "import", "--from", "openpose",
                       tmp_path / "none.caffemodel", "--skeleton", "body25", "--out",
                       tmp_path / where)
    assert code == 1 and err.count("\n") == 1
    assert "--out" in err and message in err
