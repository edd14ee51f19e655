"""show_doc with equation citations a reader can follow in JupyterLab.

Docstrings cite the derivations with `@eq-label` (the package's `help()` shows the label). In a notebook that
JupyterLab runs, nbdev's `show_doc` renders a docstring as Markdown, where the label would stand as raw text;
this renderer (settings.ini: `renderer = eqdoc.ShowDoc`) turns each citation in the prose into the link
tools/equations.py writes in the notebooks' own Markdown, "Eq. 2" or "Eq. 4 of *Title*". Code blocks (the
signature and its comments) keep the label. The page is the notebook the kernel runs (`JPY_SESSION_NAME`,
which Jupyter sets); without one (nbdev_test, nbdev_docs) the Markdown is left as nbdev writes it and the
site's pre-render step (tools/docs_prerender.py) links the citations there.

tools/dev_install.sh puts tools/ on the path of the project's .venv, so nbdev can import this module.
"""
import os
from pathlib import Path

from nbdev.config import get_config
from nbdev.showdoc import BasicMarkdownRenderer

import equations

_INDEX = {}  # notebooks' folder -> (mtimes, label index), so a kernel sees equations added while it runs


def _index(nbs):
    stamp = tuple(p.stat().st_mtime_ns for p in equations.notebooks(nbs))
    if _INDEX.get(nbs, (None,))[0] != stamp: _INDEX[nbs] = (stamp, equations.label_index(nbs)[0])
    return _INDEX[nbs][1]


def page():
    "(notebooks' folder, this notebook's path within it), or None outside a notebook of the project."
    session = os.environ.get('JPY_SESSION_NAME')
    if not session: return None
    try: nbs = Path(get_config().nbs_path).resolve()
    except Exception: return None
    path = Path(session).resolve()
    return (nbs, path.relative_to(nbs).as_posix()) if path.is_relative_to(nbs) else None


def link_citations(md, where=None):
    "Docstring Markdown with every `@eq-label` of a known label a link, as seen from `where` (see `page`)."
    if (where := where or page()) is None: return md
    nbs, here = where
    index = _index(nbs)
    return equations.to_lab(md, here, index, []) if here.endswith('.ipynb') else md


class ShowDoc(BasicMarkdownRenderer):
    "nbdev's show_doc Markdown with the docstring's equation citations as links."
    def _repr_markdown_(self): return link_citations(super()._repr_markdown_())
