#!/usr/bin/env bash
# Read and run the notebooks: the dev install (tools/dev_install.sh; quick once done), then JupyterLab on the project,
# opened at the index. Extra arguments go to `jupyter lab`, e.g. a notebook to open instead:
#   bash tools/notebooks.sh nbs/tutorials/digits.ipynb
# Torch in each kernel uses one thread unless OMP_NUM_THREADS is set: the committed outputs were made that way
# (Run All in JupyterLab with one thread; tools/run_tests.py does the same), so Run All shows the same numbers the docs do, and several
# notebooks can run side by side (two kernels of two threads on two cores slow each other several times; see
# nbs/07b_threads.ipynb). `OMP_NUM_THREADS=2 bash tools/notebooks.sh` trades that for speed on an idle machine.
set -euo pipefail
cd "$(dirname "$0")/.."
bash tools/dev_install.sh
export OMP_NUM_THREADS="${OMP_NUM_THREADS:-1}"
exec .venv/bin/jupyter lab "${@:-nbs/index.ipynb}"
