"""Files written by synth and by a training run get the usual mode (the umask), whole."""

from __future__ import annotations

import os
import stat

import pytest

from posekit import load_skeleton
from posekit.synth.dataset import SynthSpec, write_synth_dataset
from posekit.training.log import plot_losses, write_metrics


@pytest.fixture
def umask_022():
    old = os.umask(0o022)
    yield 0o644
    os.umask(old)


def _mode(path):
    return stat.S_IMODE(path.stat().st_mode)


def test_synth_files_honour_the_umask(tmp_path, umask_022):
    out = tmp_path / "data"
    write_synth_dataset(out, load_skeleton("coco18"), SynthSpec(images=2, size=(48, 48)))
    files = [out / "annotations.json", *sorted((out / "images").iterdir())]
    assert len(files) == 3
    assert {_mode(f) for f in files} == {umask_022}
    assert not [p for p in out.rglob(".*")]  # no temporary files left behind


def test_training_logs_honour_the_umask(tmp_path, umask_022):
    epochs = [{"epoch": 1, "step": 3, "loss": 0.5, "val_ap": 0.1}]
    write_metrics(tmp_path, {"lr": 1e-3}, epochs, [0.7, 0.6, 0.5])
    plot_losses(tmp_path / "loss.png", [0.7, 0.6, 0.5], epochs)
    names = sorted(p.name for p in tmp_path.iterdir())
    assert names == ["loss.png", "metrics.csv", "metrics.json"]
    assert {_mode(tmp_path / n) for n in names} == {umask_022}
