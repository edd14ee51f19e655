"""Notebooks in the form JupyterLab reads and writes, so that opening and saving one changes nothing.

A learner opens the notebooks in JupyterLab (`bash tools/notebooks.sh`); what nbdev_clean leaves must be
what JupyterLab would save, or the notebook is "modified" as soon as it opens and a save makes a git diff.
This tool puts every notebook under nbs/ in that form (running it twice changes nothing):

- equations numbered and references as links (tools/equations.py), which JupyterLab renders;
- check cells (`#| code-fold: true`) folded as on the site: their input hidden with JupyterLab's own cell
  metadata (`jupyter.source_hidden`, kept by nbdev_clean through `allowed_cell_metadata_keys`), and the
  `#| code-summary:` line first, since a folded cell shows its first line. No other cell is folded;
- the notebook's metadata as JupyterLab writes it once the kernel is up: the kernelspec of the project's
  kernel (`python3`, registered with the display name nbdev_clean writes, by tools/dev_install.sh) and the
  kernel's `language_info` (kept through `allowed_metadata_keys`). The Python version is the one that last
  ran the notebook; on another version JupyterLab rewrites only that field;
- outputs laid out as JupyterLab keeps them: consecutive stream outputs of the same name merged into one
  (its output area merges them on load). Text that JupyterLab would redraw (a carriage return or a
  backspace in a stream) cannot be put right here and is reported.

    python tools/labform.py          # rewrite the notebooks that are not in this form; print them
    python tools/labform.py --check  # change nothing; exit 1 listing what JupyterLab would rewrite

tools/run_tests.py runs it on a copy of the tree in its in-step checks, so a notebook JupyterLab would
rewrite fails the README's test command.
"""
import json, re, sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import equations  # noqa: E402

KERNELSPEC = {'display_name': 'python3', 'language': 'python', 'name': 'python3'}
# ipykernel's kernel_info reply (IPythonKernel.language_info), the version aside
LANGUAGE_INFO = {'codemirror_mode': {'name': 'ipython', 'version': 3}, 'file_extension': '.py',
                 'mimetype': 'text/x-python', 'name': 'python', 'nbconvert_exporter': 'python',
                 'pygments_lexer': 'ipython3'}
FOLD = re.compile(r'^#\|\s*code-fold:\s*true\s*$', re.M)
SUMMARY = re.compile(r'^#\|\s*code-summary:.*$', re.M)


def fold(cell):
    "A check cell with its summary first and its input hidden; any other cell shown. Return what changed."
    if cell['cell_type'] != 'code': return []
    src, meta, did = equations._src(cell), cell.setdefault('metadata', {}), []
    folded = bool(FOLD.search(src))
    if folded and (m := SUMMARY.search(src)) and not src.startswith(m.group(0)):
        src = m.group(0) + '\n' + src[:m.start()] + src[m.end() + 1:]
        cell['source'] = equations._lines(src); did.append('code-summary moved first')
    hidden = meta.get('jupyter', {}).get('source_hidden', False)
    if folded != hidden:
        if folded: meta.setdefault('jupyter', {})['source_hidden'] = True
        else:
            meta['jupyter'].pop('source_hidden')
            if not meta['jupyter']: meta.pop('jupyter')
        did.append('input folded' if folded else 'input unfolded')
    return did


def merge_streams(cell):
    "Consecutive stream outputs of one name merged, as JupyterLab's output area does. Return what changed."
    outs, merged = cell.get('outputs', []), []
    for o in outs:
        if merged and o['output_type'] == 'stream' and merged[-1]['output_type'] == 'stream' \
                and merged[-1]['name'] == o['name']:
            merged[-1] = {**merged[-1], 'text': equations._lines(''.join(merged[-1]['text']) + ''.join(o['text']))}
        else: merged.append(o)
    if len(merged) == len(outs): return []
    cell['outputs'] = merged
    return [f'{len(outs) - len(merged)} stream outputs merged']


def redrawn(cell):
    "Stream text with a carriage return or backspace, which JupyterLab redraws before it saves."
    return [f"{o['name']} output with {'a carriage return' if chr(13) in t else 'a backspace'}"
            for o in cell.get('outputs', []) if o['output_type'] == 'stream'
            and ('\b' in (t := ''.join(o['text']).replace('\r\n', '\n')) or '\r' in t)]


def metadata(nb):
    "Kernelspec and language_info as JupyterLab writes them (an existing version kept). Return what changed."
    meta, did = nb['metadata'], []
    if meta.get('kernelspec') != KERNELSPEC: meta['kernelspec'] = dict(KERNELSPEC); did.append('kernelspec')
    info = {**LANGUAGE_INFO, 'version': meta.get('language_info', {}).get('version') or _python_version()}
    if meta.get('language_info') != info: meta['language_info'] = info; did.append('language_info')
    return did


def _python_version():
    return '.'.join(map(str, sys.version_info[:3]))


def lab_form(nb):
    "Put a notebook in JupyterLab's form in place; return (what changed, what cannot be fixed here)."
    did, problems = metadata(nb), []
    for i, c in enumerate(nb['cells']):
        did += [f'cell {i}: {d}' for d in fold(c) + merge_streams(c)]
        problems += [f'cell {i}: {p}' for p in redrawn(c)]
    return did, problems


def main(args):
    check = '--check' in args
    root = Path(next((a for a in args if not a.startswith('--')), Path(__file__).resolve().parents[1] / 'nbs'))
    changed, problems = equations.update(root)
    todo = {p: (nb, ['equation numbers or references']) for p, nb in changed}
    for p in equations.notebooks(root):
        nb, why = todo.get(p, (json.loads(p.read_text(encoding='utf-8')), []))
        did, probs = lab_form(nb)
        problems += [f'{p}, {pr}' for pr in probs]
        if did or why: todo[p] = (nb, why + did)
    for p, (nb, why) in sorted(todo.items()):
        shown = ', '.join(why[:4]) + (f' and {len(why) - 4} more' if len(why) > 4 else '')
        if check: print(f'{p}: JupyterLab would rewrite it ({shown}); run: python tools/labform.py')
        else: equations._write(p, nb); print(f'{p}: {shown}')
    for pr in problems: print(f'labform: {pr}', file=sys.stderr)
    return 1 if problems or (check and todo) else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
