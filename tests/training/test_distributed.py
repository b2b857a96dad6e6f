"""torchrun: two CPU processes (gloo) train one DistributedDataParallel model."""

import subprocess
import sys

import torch


def test_two_processes_train_together(tiny_data, tmp_path):
    run = tmp_path / "run"
    cmd = [sys.executable, "-m", "torch.distributed.run", "--nproc_per_node", "2",
           "--master_port", "0", "--rdzv_backend", "c10d", "--rdzv_endpoint", "localhost:0",
           "-m", "posekit", "train", "--skeleton", "coco18", "--data", str(tiny_data),
           "--out", str(run), "--device", "cpu", "--input-size", "64", "--width", "16",
           "--paf-stages", "1", "--batch-size", "1", "--epochs", "1", "--threads", "1",
           "--no-augment", "--max-val-images", "1"]
    res = subprocess.run(cmd, capture_output=True, text=True, timeout=300)
    assert res.returncode == 0, res.stderr[-3000:]
    state = torch.load(run / "last.pt", weights_only=True)["extra"]["train"]
    # 2 training images over 2 processes, 1 image each per step: one step per epoch
    assert state["step"] == 1 and state["world_size"] == 2
    assert len(state["step_losses"]) == 1
