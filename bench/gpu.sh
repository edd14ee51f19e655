#!/usr/bin/env bash
# One GPU, under 8 minutes: training throughput and MFU of the paper's 35.7M network at batch 128 (bf16, compiled,
# channels-last, fused Adam), then the same without torch.compile for comparison. Figures go to bench/results/.
set -euo pipefail
cd "$(dirname "$0")/.."
PY=${PYTHON:-python}
mkdir -p bench/results
nvidia-smi --query-gpu=name,memory.total,clocks.max.sm --format=csv || true
timeout 330 "$PY" bench/mfu.py --device cuda --batch 128 --steps 200 --warmup 20 --out bench/results/gpu-compiled.json
timeout 120 "$PY" bench/mfu.py --device cuda --batch 128 --steps 100 --warmup 10 --no-compile --out bench/results/gpu-eager.json
