"""Importing OpenPose's COCO caffemodel (209 MB), and CPU inference of the three models.

Run with ``pytest benchmarks/test_import.py``. Groups:

- ``import-coco``: posekit's import against baselines in the same run: ``torch.load`` of
  the checkpoint it writes (what using the converted file costs), protobuf's parse alone
  (the floor for any importer), and a straightforward importer that declares blob data as
  ``repeated float`` and converts it with numpy (what posekit's bytes declaration avoids).
  ``extra_info["peak_rss_mb"]`` is each variant's peak resident memory in a fresh process,
  minus that of a process that only imported the same modules.
- ``forward-368x656-cpu``: BODY_25, COCO and MPI networks at OpenPose's default input,
  against posekit's default PAMI network as the baseline.
"""

from __future__ import annotations

import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch

from posekit.network.caffe_import import import_caffe_weights, openpose_network
from posekit.network.caffe_proto import caffe_messages

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from tests.network.caffe_fixtures import random_blobs, write_caffemodel  # noqa: E402


def _float_net_class():
    """NetParameter with Caffe's own ``repeated float data`` (the straightforward reading)."""
    from google.protobuf import descriptor_pb2, descriptor_pool, message_factory

    proto = descriptor_pb2.FileDescriptorProto()
    caffe_messages()["NetParameter"].DESCRIPTOR.file.CopyToProto(proto)
    proto.name, proto.package = "float_caffe.proto", "float_caffe"
    for msg in proto.message_type:
        for f in msg.field:
            if f.type_name:
                f.type_name = f.type_name.replace(".posekit_caffe.", ".float_caffe.")
            if msg.name == "BlobProto" and f.name in ("data", "double_data"):
                f.label = f.LABEL_REPEATED
                f.type = f.TYPE_FLOAT if f.name == "data" else f.TYPE_DOUBLE
                f.options.packed = True
    pool = descriptor_pool.DescriptorPool()
    pool.Add(proto)
    return message_factory.GetMessageClass(pool.FindMessageTypeByName("float_caffe.NetParameter"))


def _naive_import(path: Path) -> int:
    net = _float_net_class().FromString(path.read_bytes())
    arrays = [np.array(b.data, np.float32) for layer in net.layer for b in layer.blobs]
    return sum(a.size for a in arrays)


@pytest.fixture(scope="module")
def coco(tmp_path_factory):
    root = tmp_path_factory.mktemp("bench")
    model = write_caffemodel(root / "pose_iter_440000.caffemodel", "coco18",
                             random_blobs("coco18", 0))
    out = import_caffe_weights(model, root / "coco18.pt", skeleton="coco18")
    return model, out


_SETUP = """
import sys, torch
from pathlib import Path
sys.path.insert(0, {root!r})
from posekit.network.caffe_import import import_caffe_weights
from posekit.network.caffe_proto import caffe_messages
from benchmarks.test_import import _naive_import
model, out = Path({model!r}), Path({out!r})
"""

_VARIANTS = {
    "posekit import": "import_caffe_weights(model, out.with_name('again.pt'), skeleton='coco18')",
    "torch.load of the checkpoint (baseline)": "torch.load(out, weights_only=True)",
    "protobuf parse only (baseline)":
        "caffe_messages()['NetParameter'].FromString(model.read_bytes())",
    "repeated-float parse + numpy (baseline)": "_naive_import(model)",
}


def _peak_rss_mb(code: str, model: Path, out: Path) -> float:
    setup = _SETUP.format(root=str(ROOT), model=str(model), out=str(out))
    # VmHWM, not ru_maxrss: Linux carries ru_maxrss over from the (large) pytest parent
    script = setup + code + ("\nprint([line.split()[1] for line in open('/proc/self/status')"
                             " if line.startswith('VmHWM')][0])")
    res = subprocess.run([sys.executable, "-c", textwrap.dedent(script)], capture_output=True,
                         text=True, check=True, timeout=600)
    return int(res.stdout.split()[-1]) / 1024


@pytest.mark.parametrize("variant", list(_VARIANTS))
def test_import_coco(benchmark, coco, variant):
    model, out = coco
    benchmark.group = "import-coco"
    benchmark.extra_info["file_mb"] = round(model.stat().st_size / 2**20, 1)
    idle = _peak_rss_mb("pass", model, out)
    benchmark.extra_info["peak_rss_mb"] = round(_peak_rss_mb(_VARIANTS[variant], model, out)
                                                - idle, 1)
    namespace = {"import_caffe_weights": import_caffe_weights, "torch": torch,
                 "caffe_messages": caffe_messages, "_naive_import": _naive_import,
                 "model": model, "out": out}
    rounds = 1 if "numpy" in variant else 3
    benchmark.pedantic(lambda: eval(_VARIANTS[variant], namespace),  # noqa: S307
                       rounds=rounds, iterations=1, warmup_rounds=0)


_NETWORKS = ("pami coco18 (baseline)", "body25", "coco18", "mpi15")


@pytest.mark.parametrize("name", _NETWORKS)
def test_forward_368x656_cpu(benchmark, name):
    torch.manual_seed(0)
    if name.startswith("pami"):
        from posekit.network import build_network

        net = build_network("coco18")
    else:
        net = openpose_network(name)[2]
    net = net.eval()
    x = torch.randn(1, 3, 368, 656)
    benchmark.group = "forward-368x656-cpu"
    benchmark.extra_info["threads"] = torch.get_num_threads()

    def forward():
        with torch.inference_mode():
            return net(x)

    pafs, heats = benchmark.pedantic(forward, rounds=3, iterations=1, warmup_rounds=1)
    assert heats.shape[-2:] == (46, 82)
