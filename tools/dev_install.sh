#!/usr/bin/env bash
# The dev install that tools/test.sh and tools/notebooks.sh start with: .venv (made once), ddpm_lit in editable
# mode with its dev tools (nbdev, JupyterLab, pytest), and the notebooks' kernel.
set -euo pipefail
cd "$(dirname "$0")/.."
if [[ ! -x .venv/bin/python ]]; then "${PYTHON:-python3}" -m venv .venv; fi
# torch is pinned so that pip takes the CPU wheel on this machine instead of a multi-GB CUDA build
.venv/bin/python -m pip install -q --disable-pip-version-check torch==2.13.0 -e ".[dev]"
# The kernel the notebooks name, `python3` in .venv, registered under the display name that nbdev_clean writes
# into every notebook, so that JupyterLab finds the notebook's metadata as it would write it (tools/labform.py)
.venv/bin/python -m ipykernel install --sys-prefix --name python3 --display-name python3 >/dev/null
# tools/ on .venv's path: nbdev's show_doc renders through tools/eqdoc.py (settings.ini: renderer)
echo "$PWD/tools" > "$(.venv/bin/python -c 'import sysconfig; print(sysconfig.get_paths()["purelib"])')/ddpm_lit_dev_tools.pth"
# JupyterLab in .venv saves notebooks through nbdev_clean (settings.ini: jupyter_hooks), so that running a notebook
# and saving it leaves git clean unless its outputs changed: no execution counts, no stray metadata
mkdir -p .venv/etc/jupyter
cat > .venv/etc/jupyter/jupyter_server_config.py <<'PY'
# Written by tools/dev_install.sh: the pre-save hook of `nbdev_install_hooks`, for this .venv only
def nbdev_clean_jupyter(**kwargs):
    try: from nbdev.clean import clean_jupyter
    except ModuleNotFoundError: return
    clean_jupyter(**kwargs)

c.ContentsManager.pre_save_hook = nbdev_clean_jupyter
PY
