"""GPU throughput of posekit's VGG-19 PAMI network at 368x656; run through benchmarks/gpu.sh
(which documents what is measured and the options)."""

import argparse
import json
import os
import sys
import time

import numpy as np
import torch

import posekit
from posekit.decode import find_peaks
from posekit.inference import PoseEstimator
from posekit.inference.gpu_peaks import device_peaks
from posekit.inference.pipeline import Pipeline
from posekit.network import NetworkConfig, Preprocess, build_network, save_checkpoint
from posekit.synth.render import synth_scene
from posekit.targets import render_targets


def main() -> int:
    ap = argparse.ArgumentParser()
    ap.add_argument("--cpu", action="store_true", help="test the script on a CPU (small)")
    ap.add_argument("--seconds", type=float, default=4.0)
    ap.add_argument("--workers", type=int, default=max(1, min(12, (os.cpu_count() or 4) - 2)))
    ap.add_argument("--compile", action="store_true")
    ap.add_argument("--json", default=None)
    args = ap.parse_args()
    started = time.perf_counter()
    device = "cpu" if args.cpu else "cuda"
    if not args.cpu and not torch.cuda.is_available():
        print("FAIL: no CUDA device (use --cpu to test the script)")
        return 2
    size = (224, 128) if args.cpu else (656, 368)  # (W, H)
    seconds = min(args.seconds, 0.5) if args.cpu else args.seconds
    frames_e2e = 4 if args.cpu else 480
    batches = (1, 2) if args.cpu else (1, 16)  # the CPU check only exercises the script
    sk = posekit.load_skeleton("coco18")
    torch.manual_seed(0)
    torch.backends.cudnn.benchmark = True
    # the CPU check only exercises the script: the light backbone keeps it quick
    net = build_network(sk, NetworkConfig.light() if args.cpu else NetworkConfig())
    path = "/tmp/posekit-gpu-bench.pt"
    save_checkpoint(path, net, sk, Preprocess(input_height=size[1]))
    info = {"device": torch.cuda.get_device_name(0) if device == "cuda" else "cpu",
            "torch": torch.__version__, "input": f"{size[1]}x{size[0]}",
            "network": "vgg19 PAMI (posekit default)", "results": []}
    print(f"# {info['device']}, torch {info['torch']}, input {info['input']}, "
          f"{args.workers} decode workers", flush=True)

    scene = synth_scene(sk, np.random.default_rng(0), size, 10)
    targets = render_targets(scene.keypoints, sk, size)
    ok = True

    for bs in batches:
        for precision in ("fp32", "bf16"):
            est = PoseEstimator(sk, path, device=device, batch_size=bs, workers=0)
            fps = network_fps(est, scene.image, bs, precision, seconds)
            row = {"what": "network", "batch": bs, "precision": precision, "fps": fps}
            info["results"].append(row)
            print(f"network     batch {bs:2d} {precision}: {fps:8.1f} frames/s", flush=True)
    if args.compile:
        est = PoseEstimator(sk, path, device=device, batch_size=16, workers=0, compile=True)
        fps = network_fps(est, scene.image, 16, "bf16", seconds)
        info["results"].append({"what": "network+compile", "batch": 16, "precision": "bf16",
                                "fps": fps})
        print(f"network     batch 16 bf16 compiled: {fps:8.1f} frames/s", flush=True)

    # device peaks == numpy reference peaks on the planted maps
    heat = targets.heatmaps[..., :sk.num_keypoints].astype(np.float32)
    ref = find_peaks(heat, 0.05, image_size=size, upsample="full", max_peaks=127,
                     separation=1.0)
    got = device_peaks(torch.from_numpy(heat).permute(2, 0, 1).to(device), 0.05, size,
                       max_peaks=127, separation=1.0)
    def by_place(p):  # equal scores may come in either order
        return p[np.lexsort((p[:, 0], np.round(p[:, 1], 3)))]

    same = all(a.shape == b.shape and np.allclose(by_place(a), by_place(b), atol=1e-3)
               for a, b in zip(ref, got, strict=True))
    print(f"check: device peaks equal numpy reference peaks: {same}", flush=True)
    ok &= same

    for bs in batches:
        for precision in ("fp32", "bf16"):
            est = PoseEstimator(sk, path, device=device, batch_size=bs)
            planted = Planted(est.net, targets.pafs, targets.heatmaps, device)
            est.net = planted
            planted.bf16 = precision == "bf16"
            fps, people = end_to_end_fps(est, scene.image, frames_e2e if bs > 1 else
                                         max(frames_e2e // 4, 2), args.workers)
            row = {"what": "end-to-end", "batch": bs, "precision": precision, "fps": fps,
                   "people_per_frame": people}
            info["results"].append(row)
            print(f"end to end  batch {bs:2d} {precision}: {fps:8.1f} frames/s "
                  f"({people} people per frame)", flush=True)
            if people < 8:
                print(f"FAIL: found {people} of the 10 planted people")
                ok = False

    best = max((r["fps"] for r in info["results"]
                if r["what"] == "end-to-end" and r["precision"] == "bf16"), default=0.0)
    goal = best >= 100.0
    info.update(goal_fps=100.0, best_end_to_end_bf16=best, goal_met=goal,
                seconds=round(time.perf_counter() - started, 1), checks_passed=bool(ok))
    print(f"goal >= 100 frames/s end to end bf16: {'MET' if goal else 'NOT MET'} "
          f"(best {best:.1f}); total {info['seconds']} s", flush=True)
    if args.json:
        with open(args.json, "w") as fh:
            json.dump(info, fh, indent=1)
    return 0 if ok else 1


class Planted(torch.nn.Module):
    """The real forward pass (in the measured precision), then the scene's true maps."""

    def __init__(self, net, pafs, heats, device):
        super().__init__()
        self.net = net
        self.bf16 = False
        self.pafs = torch.from_numpy(pafs).permute(2, 0, 1)[None].float().to(device)
        self.heats = torch.from_numpy(heats).permute(2, 0, 1)[None].float().to(device)

    def forward(self, x):
        if x.is_cuda and not self.bf16:
            with torch.autocast("cuda", enabled=False):
                self.net(x.float())
        else:
            self.net(x)
        n = x.shape[0]
        return self.pafs.expand(n, -1, -1, -1), self.heats.expand(n, -1, -1, -1)


def network_fps(est, image, bs, precision, seconds):
    """Frames/s of host uint8 frames -> device -> forward, synchronised."""
    frames = np.stack([image] * bs)
    x_host = torch.from_numpy(frames)
    cuda = est.device.type == "cuda"
    if cuda:
        x_host = x_host.pin_memory()

    def step():
        x = x_host.to(est.device, non_blocking=True) if cuda else x_host
        x = est.preprocess.normalize(x)
        if cuda:
            x = x.contiguous(memory_format=torch.channels_last)
        with torch.inference_mode():
            if cuda and precision == "bf16":
                with torch.autocast("cuda", dtype=torch.bfloat16):
                    est.net(x)
            else:
                est.net(x)

    for _ in range(3):
        step()
    sync(est)
    n, start = 0, time.perf_counter()
    while time.perf_counter() - start < seconds or n < 3:
        step()
        n += 1
    sync(est)
    return n * bs / (time.perf_counter() - start)


def end_to_end_fps(est, image, frames, workers):
    """Frames/s of the whole pipeline over ``frames`` frames (worker start-up excluded)."""
    with Pipeline(est, workers=workers) as pipe:
        list(pipe.run(enumerate([image] * (2 * est.batch_size))))  # warm up
        sync(est)
        start = time.perf_counter()
        results = list(pipe.run(enumerate([image] * frames)))
        errors = {str(r.error) for r in results if r.error is not None}
        if errors:
            print(f"FAIL: {len(errors)} kind(s) of error, e.g. {sorted(errors)[0]}")
        people = [len(r.people or []) for r in results]
        elapsed = time.perf_counter() - start
    return frames / elapsed, int(np.median(people))


def sync(est):
    if est.device.type == "cuda":
        torch.cuda.synchronize()


if __name__ == "__main__":
    sys.exit(main())
