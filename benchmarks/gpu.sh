#!/usr/bin/env bash
# GPU throughput of the VGG-19 PAMI network at 368x656 (posekit's default architecture,
# random weights): frames/s at batch 1 and 16, fp32 and bf16, for
#   - the network alone (uint8 frames on the host -> pinned copy -> normalise ->
#     channels-last -> forward -> synchronise), and
#   - end to end: PoseEstimator's pipeline (loader threads, the network, peaks on the GPU,
#     PAFs to the host, decode + parse in worker processes, people back in order).
# The network's output is replaced, after its real forward pass, by the ground-truth maps
# of a synthetic 10-person scene, so decode and parse do a real crowd's work.
# Goal (issue 11): >= 100 frames/s end to end in bf16 on an H100/H200-class GPU.
#
# The measuring code is benchmarks/gpu_bench.py (a file, so that the decode worker
# processes, started with spawn, can import the main module).
# Self-checking: exits non-zero if a measurement fails, if the people found end to end are
# not the planted ones, or if the device peaks differ from the numpy reference.
# Runs in about 2-3 minutes on an H200. To test the script itself on a CPU:
#   bash benchmarks/gpu.sh --cpu          (small input, few frames, light on time)
# Options: --seconds S (per network measurement, default 4), --workers N (decode
# processes, default: CPU cores - 2, at most 12), --compile (also bf16 batch 16 with
# torch.compile), --json FILE (results).
set -euo pipefail
cd "$(dirname "$0")/.."
PYTHON="${PYTHON:-python}"  # an environment with posekit installed (pip install -e .)
if ! "$PYTHON" -c "import posekit" 2>/dev/null; then
  echo "FAIL: $PYTHON cannot import posekit; pip install -e . or set PYTHON" >&2
  exit 2
fi
exec timeout 290 "$PYTHON" benchmarks/gpu_bench.py "$@"
