#!/usr/bin/env bash
# The README's test command. The dev install first (tools/dev_install.sh: .venv made once, ddpm_lit in editable
# mode with its dev tools, the notebooks' kernel), then every test once, on every core (tools/run_tests.py);
# it prints `N passed, M failed, K skipped`.
# Extra arguments go to run_tests.py:
#   bash tools/test.sh --changed        the quick loop: only what a change touches (against main, or the last commit on main)
#   bash tools/test.sh --flags slow     include the slow cells and tests
#   bash tools/test.sh --mutants 12_solvers   only the mutation check (of these notebooks)
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/dev_install.sh
exec .venv/bin/python tools/run_tests.py "$@"
