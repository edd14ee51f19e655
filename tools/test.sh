#!/usr/bin/env bash
# The README's test command. On a fresh machine it makes .venv (once), installs ddpm_lit in editable mode with
# its dev tools, then runs every test once, on every core (tools/run_tests.py), and prints `N passed, M failed, K skipped`.
# Extra arguments go to run_tests.py:
#   bash tools/test.sh --changed        the quick loop: only what a change touches (against main, or the last commit on main)
#   bash tools/test.sh --flags slow     include the slow cells and tests
#   bash tools/test.sh --mutants 12_solvers   only the mutation check (of these notebooks)
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x .venv/bin/python ]]; then "${PYTHON:-python3}" -m venv .venv; fi
# torch is pinned so that pip takes the CPU wheel on this machine instead of a multi-GB CUDA build
.venv/bin/python -m pip install -q --disable-pip-version-check torch==2.13.0 -e ".[dev]"
exec .venv/bin/python tools/run_tests.py "$@"
