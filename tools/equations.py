"""Equation numbers and references that read the same in JupyterLab as on the docs site.

The notebooks are what a learner opens, so their Markdown carries equations in a form JupyterLab renders:

    $$
    q(x_t \\mid x_0) = \\mathcal{N}(\\dots)
    \\tag{2}
    $$ <span id="eq-closed-form"></span>

and references as links that say what they point at:

    as [Eq. 2](#eq-closed-form) shows, and [Eq. 4 of *The forward process*](../02_forward.ipynb#eq-posterior)

An equation's number is its position among its notebook's labelled equations, the number Quarto gives it on the
site. Authors may write Quarto's own syntax (`$$ ... $$ {#eq-label}` and `@eq-label`) and run

    python tools/equations.py          # every notebook under nbs/: number, link, renumber; prints what changed
    python tools/equations.py --check  # change nothing; exit 1 listing every notebook that is out of date

which rewrites them in the form above and renumbers every link after an equation is added, removed or moved
(running it twice changes nothing). The site's pre-render step (tools/docs_prerender.py) turns the form back
into Quarto's labels and citations with `to_quarto`, so Quarto numbers and links the equations on the site.
Code (cells, docstrings, comments) keeps `@eq-label`: the pre-render step spells those out for the site.
"""
import json, re, sys
from pathlib import Path
from typing import NamedTuple

_L = r'eq-[A-Za-z0-9_-]*[A-Za-z0-9]'
# a display `$$ ... $$`, optionally labelled Quarto's way (`{#eq-x}`) or ours (`<span id="eq-x"></span>`)
DISPLAY = re.compile(r'\$\$(?P<body>.*?)\$\$(?P<label>[ \t]*(?:\{#(?P<q>' + _L + r')\}|<span id="(?P<s>' + _L
                     + r')"></span>))?', re.S)
TAG = re.compile(r'\s*\\tag\{\d+\}\s*$')
# `@eq-label` or `[@eq-label]` as Pandoc reads a citation: not after a word character, trailing punctuation excluded
CITE = re.compile(r'(?<![\w@/#])(\[)?@(' + _L + r')(?(1)\])')
# a reference as this tool writes it: [Eq. 2](#eq-x) or [Eq. 4 of *Title*](../02_forward.ipynb#eq-x)
LINK = re.compile(r'\[Eq\.\s+\d+(?:\s+of\s+\*[^*\]]*\*)?\]\((?P<path>[^()\s#]*)#(?P<label>' + _L + r')\)')
# Markdown code (fenced blocks, inline spans), which labels and citations never enter
_CODE = re.compile(r'(```.*?```|`[^`\n]+`)', re.S)


class Equation(NamedTuple):
    page: str    # notebook path relative to the notebooks' folder, '/'-separated
    number: int  # the number Quarto shows: the label's position among the page's labelled equations
    title: str   # the page's title


def _src(cell): return ''.join(cell.get('source', ''))
def _lines(text): return text.splitlines(keepends=True)  # how notebooks store text


def notebooks(root):
    "Notebooks of a docs folder, as nbdev renders them (folders and files starting with '_' or '.' skipped)."
    root = Path(root)
    return sorted(p for p in root.rglob('*.ipynb')
                  if not any(part[0] in '_.' for part in p.relative_to(root).parts))


def page_title(nb):
    "The page title: frontmatter `title:` (a processed notebook) or the first `# ` heading (a source notebook)."
    for cell in nb['cells']:
        src = _src(cell)
        if cell['cell_type'] == 'raw' and (m := re.search(r'^title:\s*(.+(?:\n {2,}.+)*)', src, re.M)):
            return re.sub(r'\s+', ' ', m.group(1)).strip().strip('"\'')
        if cell['cell_type'] == 'markdown' and (m := re.match(r'\s*#\s+(.+)', src)):
            return m.group(1).strip()
    return ''


def _prose(md, f):
    "Apply `f` to the parts of Markdown outside code."
    return ''.join(part if i % 2 else f(part) for i, part in enumerate(_CODE.split(md)))


def _label(m): return m.group('q') or m.group('s')


def labels(nb):
    "Equation labels defined in a notebook's Markdown cells, in order, in either form."
    out = []
    for c in nb['cells']:
        if c['cell_type'] == 'markdown':
            _prose(_src(c), lambda part: out.extend(l for m in DISPLAY.finditer(part) if (l := _label(m))) or part)
    return out


def label_index(root):
    "Map each equation label of the notebooks under `root` to its `Equation`; also return labels defined twice."
    index, twice = {}, []
    for p in notebooks(root):
        nb = json.loads(p.read_text(encoding='utf-8'))
        page, title = p.relative_to(root).as_posix(), page_title(nb)
        for i, label in enumerate(labels(nb), 1):
            if label in index: twice.append(f'{label} ({index[label].page} and {page})')
            index[label] = Equation(page, i, title)
    return index, twice


def citations(nb):
    "(label, cell index) for every citation in a notebook: `@eq-x` in prose, code, docstrings and comments; links."
    out = []
    for i, c in enumerate(nb['cells']):
        src = _src(c)
        if c['cell_type'] == 'markdown':
            src = _CODE.sub('', src)
            out += [(m.group('label'), i) for m in LINK.finditer(src)]
        out += [(m.group(2), i) for m in CITE.finditer(src)]
    return out


def citation_problems(root):
    "Every citation of a label that no notebook defines, and every label defined twice, as readable lines."
    index, twice = label_index(root)
    probs = [f'label defined twice: {t}' for t in twice]
    for p in notebooks(root):
        nb = json.loads(p.read_text(encoding='utf-8'))
        probs += [f'{p.relative_to(root).as_posix()}, cell {i}: @{l} is defined by no notebook'
                  for l, i in citations(nb) if l not in index]
    return probs


def rel(target, here):
    "Relative path from notebook `here` to notebook `target` (both relative to the notebooks' folder)."
    return '../' * (len(Path(here).parts) - 1) + target


def link(label, here, index):
    "The Markdown link that reads as Quarto's reference to `label` would on page `here`, naming another page."
    eq = index[label]
    if eq.page == here: return f'[Eq. {eq.number}](#{label})'
    return f'[Eq. {eq.number} of *{eq.title}*]({rel(eq.page, here)}#{label})'


def to_lab(md, here, index, missing):
    "Markdown with labelled equations numbered by `\\tag` and every reference a link with its current number."
    def display(m):
        label = _label(m)
        if label is None or label not in index: return m.group(0)
        body = TAG.sub('', m.group('body'))
        body = f'{body.rstrip()}\n\\tag{{{index[label].number}}}\n' if '\n' in body else f'{body.rstrip()} \\tag{{{index[label].number}}} '
        return f'$${body}$$ <span id="{label}"></span>'

    def ref(m, label):
        if label in index: return link(label, here, index)
        missing.append(label); return m.group(0)
    def prose(part):
        part = LINK.sub(lambda m: ref(m, m.group('label')), part)
        part = CITE.sub(lambda m: ref(m, m.group(2)), part)
        return DISPLAY.sub(display, part)
    return _prose(md, prose)


def to_quarto(md, here, index):
    "The inverse for the site: `{#eq-x}` labels Quarto numbers itself, `@eq-x` for references within the page."
    def display(m):
        if (label := m.group('s')) is None: return m.group(0)
        body = TAG.sub('', m.group('body'))
        return f'$${body}\n$$ {{#{label}}}' if '\n' in body else f'$${body} $$ {{#{label}}}'

    def ref(m):
        eq = index.get(m.group('label'))
        return f'@{m.group("label")}' if eq is not None and eq.page == here else m.group(0)
    return _prose(md, lambda part: DISPLAY.sub(display, LINK.sub(ref, part)))


def update(root):
    "Rewrite every notebook under `root` in the JupyterLab form; return (changed paths, problems)."
    root = Path(root)
    index, twice = label_index(root)
    changed, missing = [], []
    for p in notebooks(root):
        text = p.read_text(encoding='utf-8')
        nb, here, dirty = json.loads(text), p.relative_to(root).as_posix(), False
        for c in nb['cells']:
            if c['cell_type'] != 'markdown': continue
            src = _src(c)
            if (new := to_lab(src, here, index, missing)) != src: c['source'], dirty = _lines(new), True
        if dirty: changed.append((p, nb))
    problems = ([f'label defined twice: {t}' for t in twice]
                + [f'@{l} (or a link to #{l}) is defined by no notebook' for l in sorted(set(missing))])
    return changed, problems


def _write(p, nb):
    "Write as nbdev_clean does: indent 1, non-ASCII kept, a final newline."
    p.write_text(json.dumps(nb, sort_keys=True, indent=1, ensure_ascii=False) + "\n", encoding="utf-8")


def main(args):
    check = '--check' in args
    root = Path(next((a for a in args if not a.startswith('--')), Path(__file__).resolve().parents[1] / 'nbs'))
    changed, problems = update(root)
    for p, nb in changed:
        if check: print(f'{p}: equation numbers or references out of date (run: python tools/equations.py)')
        else: _write(p, nb); print(f'{p}: numbered and linked')
    for pr in problems: print(f'equations: {pr}', file=sys.stderr)
    return 1 if problems or (check and changed) else 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1:]))
