"""Checkpoints: identical outputs after a round trip, clear refusals of everything else."""

import dataclasses

import numpy as np
import pytest
import torch

import posekit
from posekit import PosekitError, load_skeleton
from posekit.network import (
    NetworkConfig,
    Preprocess,
    build_network,
    load_checkpoint,
    load_network,
    save_checkpoint,
)

SMALL = NetworkConfig(paf_stages=2, cm_stages=1, width=16, stage_blocks=1)


@pytest.fixture
def saved(tmp_path):
    torch.manual_seed(0)
    net = build_network("coco18", NetworkConfig.light(width=16))
    path = tmp_path / "run" / "model.pt"
    save_checkpoint(path, net, "coco18", Preprocess.openpose(),
                    extra={"epoch": 7, "losses": [0.5, 0.25], "note": "x", "best": None})
    return net.eval(), path


@pytest.mark.parametrize("cfg", [SMALL, NetworkConfig.light(width=16),
                                 dataclasses.replace(SMALL, order="cm-first", block="7x7")])
def test_round_trip_gives_identical_outputs(tmp_path, cfg, toy):
    torch.manual_seed(1)
    net = build_network(toy, cfg).eval()
    path = save_checkpoint(tmp_path / "a.pt", net, toy, Preprocess())
    loaded = load_network(path)
    x = torch.randn(1, 3, 40, 48)
    with torch.no_grad():
        for a, b in zip(net(x), loaded(x), strict=True):
            assert torch.equal(a, b)
    assert not loaded.training
    assert loaded.config == cfg and loaded.skeleton_name == "toy4"
    assert loaded.skeleton.paf_layout == toy.paf_layout


def test_meta_records_skeleton_config_preprocess_and_extra(saved):
    net, path = saved
    loaded, meta = load_checkpoint(path, skeleton="coco18")
    assert loaded.training  # load_checkpoint is for resuming; load_network gives eval mode
    assert meta.skeleton == load_skeleton("coco18")
    assert meta.config == net.config
    assert meta.preprocess == Preprocess.openpose() == loaded.preprocess
    assert meta.extra == {"epoch": 7, "losses": [0.5, 0.25], "note": "x", "best": None}
    assert meta.posekit_version == posekit.__version__
    raw = torch.load(path, weights_only=True)
    assert raw["skeleton"]["layout_hash"] == load_skeleton("coco18").layout_hash
    assert raw["config"]["backbone"] == "light"


def test_public_load_network_is_in_eval_mode(saved):
    _, path = saved
    net = posekit.load_network(str(path))
    assert isinstance(net, torch.nn.Module) and not net.training


def test_other_skeleton_is_refused_naming_both(saved, toy):
    _, path = saved
    with pytest.raises(PosekitError, match=r"trained for skeleton 'coco18'.*not 'toy4'"):
        load_checkpoint(path, skeleton=toy)


def test_same_name_other_channel_layout_is_refused(saved):
    _, path = saved
    coco = load_skeleton("coco18")
    reordered = dataclasses.replace(coco, paf_layout=tuple(
        (2 * i, 2 * i + 1) for i in range(coco.num_limbs)))
    with pytest.raises(PosekitError, match=f"layout {coco.layout_hash}"):
        load_checkpoint(path, skeleton=reordered)


def test_toml_skeleton_checkpoint(tmp_path, toml_skeleton):
    net = build_network(toml_skeleton, SMALL)
    path = save_checkpoint(tmp_path / "s.pt", net, toml_skeleton, Preprocess())
    loaded, meta = load_checkpoint(path, skeleton=toml_skeleton)
    assert meta.skeleton.name == "stick3"
    with pytest.raises(PosekitError, match="trained for skeleton 'stick3'"):
        load_checkpoint(path, skeleton="coco18")


def test_missing_and_directory_paths(tmp_path):
    with pytest.raises(PosekitError, match="does not exist"):
        load_network(tmp_path / "nope.pt")
    with pytest.raises(PosekitError, match="is a directory"):
        load_network(tmp_path)


def test_corrupt_and_truncated_files(tmp_path, saved):
    _, path = saved
    junk = tmp_path / "junk.pt"
    junk.write_bytes(b"not a torch file at all")
    with pytest.raises(PosekitError, match="not a readable torch file"):
        load_network(junk)
    cut = tmp_path / "cut.pt"
    cut.write_bytes(path.read_bytes()[:2000])
    with pytest.raises(PosekitError, match="not a readable torch file"):
        load_network(cut)


class _Sneaky:
    """Unpickling this would create a file: weights_only must refuse it first."""

    def __init__(self, marker):
        self.marker = marker

    def __reduce__(self):
        return (open, (str(self.marker), "w"))


def test_pickled_objects_are_refused_without_running_them(tmp_path, saved):
    _, path = saved
    data = torch.load(path, weights_only=True)
    marker = tmp_path / "pwned"
    data["extra"] = {"payload": _Sneaky(marker)}
    evil = tmp_path / "evil.pt"
    torch.save(data, evil)
    with pytest.raises(PosekitError, match=r"refused by torch.load\(weights_only=True\)"):
        load_network(evil)
    assert not marker.exists()


def test_plain_state_dict_and_foreign_dicts_are_not_checkpoints(tmp_path):
    net = build_network("coco18", SMALL)
    bare = tmp_path / "bare.pt"
    torch.save(net.state_dict(), bare)
    with pytest.raises(PosekitError, match="not a posekit checkpoint.*weights import"):
        load_network(bare)
    other = tmp_path / "other.pt"
    torch.save({"epoch": 3}, other)
    with pytest.raises(PosekitError, match="not a posekit checkpoint$"):
        load_network(other)


def test_tampered_weights_are_refused_naming_the_key(tmp_path, saved):
    _, path = saved
    data = torch.load(path, weights_only=True)
    key = next(iter(data["state_dict"]))
    data["state_dict"][key] = torch.zeros(2, 2)
    bad = tmp_path / "bad.pt"
    torch.save(data, bad)
    with pytest.raises(PosekitError, match=f"shape of '{key}'"):
        load_network(bad)
    del data["config"]
    torch.save(data, bad)
    with pytest.raises(PosekitError, match="damaged"):
        load_network(bad)


def test_unsafe_extra_is_refused_and_nothing_is_written(saved):
    net, path = saved
    before = path.read_bytes()
    with pytest.raises(PosekitError, match=r"extra\['mean'\] is a ndarray"):
        save_checkpoint(path, net, "coco18", Preprocess(), extra={"mean": np.zeros(3)})
    assert path.read_bytes() == before
    assert [p.name for p in path.parent.iterdir()] == ["model.pt"]  # no temp file left


def test_saving_under_another_skeleton_is_refused(tmp_path, toy):
    net = build_network("coco18", SMALL)
    with pytest.raises(PosekitError, match="built for skeleton 'coco18'"):
        save_checkpoint(tmp_path / "x.pt", net, toy, Preprocess())
    assert not (tmp_path / "x.pt").exists()
