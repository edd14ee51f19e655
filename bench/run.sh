#!/usr/bin/env bash
# The benchmark from a clean checkout, in one command: `bash bench/run.sh` (arguments go to bench/bench.py).
# The peers need torchvision, so the benchmark gets its own environment, .venv-bench: torch 2.14.1 with its
# torchvision 0.29.1 (on this project's machines both come from the local disk), ddpm_lit and the `bench` extra.
set -euo pipefail
cd "$(dirname "$0")/.."
if [ ! -x .venv-bench/bin/python ] || ! .venv-bench/bin/python -c "import ddpm_lit, diffusers, denoising_diffusion_pytorch" 2>/dev/null; then
  python3 -m venv .venv-bench
  .venv-bench/bin/pip install --quiet torch==2.14.1 torchvision==0.29.1 -e ".[bench]"
fi
exec .venv-bench/bin/python bench/bench.py "$@"
