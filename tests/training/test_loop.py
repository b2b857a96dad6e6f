"""The training loop: the loss falls, resume is exact, bad runs stop clearly."""

import json

import pytest
import torch

from posekit.errors import PosekitError
from posekit.network import load_checkpoint
from posekit.training.loop import TrainingDiverged, resume, train


class Crash(Exception):
    """Stands in for a run killed between two steps."""


def test_the_loss_falls_and_the_run_folder_is_complete(tiny_data, make_config, tmp_path):
    # every step sees the same two images, unaugmented: the loss must go down
    config = make_config(tiny_data, tmp_path / "run", epochs=4, lr=3e-3, val_fraction=0.34)
    result = train(config)
    losses = result.step_losses
    assert len(losses) == 4
    assert losses[-1] < 0.8 * losses[0]
    run = tmp_path / "run"
    for name in ("last.pt", "best.pt", "metrics.csv", "metrics.json", "loss.png"):
        assert (run / name).is_file(), name
    rows = (run / "metrics.csv").read_text().splitlines()
    assert rows[0].startswith("epoch,step,loss") and len(rows) == 5
    assert len(json.loads((run / "metrics.json").read_text())["step_losses"]) == 4
    # checkpoints load with weights_only and remember the skeleton
    data = torch.load(run / "last.pt", weights_only=True)
    assert data["skeleton"]["name"] == "coco18"
    net, meta = load_checkpoint(run / "best.pt")
    assert meta.config.backbone == "light" and meta.preprocess.input_height == 64


def test_resume_takes_the_same_next_step(tiny_data, make_config, tmp_path):
    settings = dict(epochs=2, batch_size=1, save_every=1, augment={"scale": [0.9, 1.1]})
    straight = train(make_config(tiny_data, tmp_path / "a", **settings)).step_losses

    def kill_after_3(info):
        if info.step == 3:  # mid-epoch: epoch 2 of 2-step epochs
            raise Crash

    with pytest.raises(Crash):
        train(make_config(tiny_data, tmp_path / "b", **settings), on_step=kill_after_3)
    resumed = resume(tmp_path / "b").step_losses
    assert len(straight) == 4
    assert resumed == straight  # bit for bit: weights, Adam, schedule, data order, RNG


def test_nan_stops_the_run_and_keeps_the_last_good_checkpoint(tiny_data, make_config,
                                                               tmp_path):
    def poison(info):
        if info.step == 2:
            for p in run_net.parameters():
                p.data.fill_(float("nan"))

    import posekit.training.loop as loop

    original = loop._Run._build

    def build(self, ctx, sk):
        original(self, ctx, sk)
        global run_net
        run_net = self.net

    global run_net
    loop._Run._build = build
    try:
        with pytest.raises(TrainingDiverged, match=r"NaN.*last good checkpoint.*step 1"):
            train(make_config(tiny_data, tmp_path / "run", epochs=3, batch_size=1,
                              save_every=1), on_step=poison)
    finally:
        loop._Run._build = original
    net, meta = load_checkpoint(tmp_path / "run" / "last.pt")
    assert all(torch.isfinite(p).all() for p in net.parameters())
    assert meta.extra["train"]["step"] == 1


def test_an_existing_run_folder_needs_resume(tiny_data, make_config, tmp_path):
    (tmp_path / "run").mkdir()
    (tmp_path / "run" / "notes.txt").write_text("mine")
    with pytest.raises(PosekitError, match="not empty.*--resume"):
        train(make_config(tiny_data, tmp_path / "run"))
    with pytest.raises(PosekitError, match="nothing to resume"):
        resume(tmp_path / "run")


def test_resume_keeps_the_runs_settings_and_skeleton(tiny_data, make_config, tmp_path):
    from posekit import Skeleton

    train(make_config(tiny_data, tmp_path / "run"))
    with pytest.raises(PosekitError, match="--lr .*resumed run keeps its settings"):
        resume(tmp_path / "run", {"lr": 0.5})
    other = Skeleton(name="pair", keypoints=("a", "b"), limbs=(("a", "b"),))
    with pytest.raises(PosekitError, match="trained for skeleton 'coco18'"):
        resume(tmp_path / "run", skeleton=other)
    # more epochs are allowed: the run goes on from where it stopped
    result = resume(tmp_path / "run", {"epochs": 2})
    assert [row["epoch"] for row in result.epochs] == [1, 2]
