"""The docs site's own step between nbdev and Quarto: cross-page equation references and readable API entries.

Quarto runs this file before it renders (`pre-render` in nbs/_quarto.yml), in the folder it renders: `_proc/`,
where `nbdev_docs` has just written the processed notebooks. It rewrites those copies (never the sources in
nbs/) and needs nothing but the standard library. Running it twice changes nothing more.

1. Equation citations. The notebooks carry their equations numbered and their references as links, the
   form tools/equations.py writes so that they read well in JupyterLab; `to_quarto` turns them back into
   Quarto's `{#eq-label}` and, within a page, `@eq-label`. Code (docstrings, docments comments) cites any
   equation of any page with `@eq-label`. Quarto resolves a label only within its own page, so a citation
   of another page's equation becomes a link that reads "Eq. 5 of *Title*" and points at that equation. Quarto numbers a
   page's labelled equations 1, 2, ... in order; `label_index` numbers them the same way. Citations of
   the same page are left to Quarto. In code shown on a page (a comment, a printed string), where no link
   can live, a citation becomes plain text: "Eq. 5" or "Eq. 5 of Title". nbval's `# NBVAL_...` markers
   are left out of the code a reader sees, and in the chapters the code that draws a figure folds away
   behind "Code for the figure" (check cells fold by their own `#| code-fold` options).
2. API entries. nbdev's `show_doc` prints a signature with the parameters' docments as Python comments
   inside a code block, where Markdown (links, math, citations) cannot render. Each entry becomes a compact
   signature followed by a list of the parameters with their descriptions rendered as Markdown, `class`
   for classes (read from the exported module), and without a `NoneType` annotation that fastcore infers
   from a default of `None`.

A citation of a label that no notebook defines stops the build; tests/test_docs.py checks the same on
the sources with `citation_problems`.
Usage by hand: `python tools/docs_prerender.py [FOLDER]` (default: the current folder).
"""
import json, re, sys
from pathlib import Path

from equations import (CITE, _CODE, Equation, _lines, _src, citation_problems, citations, label_index,  # noqa: F401
                       labels, link, notebooks, page_title, to_quarto)


def link_cites(md, here, index, missing):
    "Markdown with citations of other pages' equations turned into links; code spans untouched."
    def sub(m):
        label = m.group(2)
        eq = index.get(label)
        if eq is None: missing.append(label); return m.group(0)
        return m.group(0) if eq.page == here else link(label, here, index)
    return ''.join(part if i % 2 else CITE.sub(sub, part) for i, part in enumerate(_CODE.split(md)))


def plain_cites(text, here, index, missing):
    "Text (code, printed output) with every citation spelled out, since no link can live there."
    def sub(m):
        eq = index.get(m.group(2))
        if eq is None: missing.append(m.group(2)); return m.group(0)
        return f'Eq. {eq.number}' + ('' if eq.page == here else f' of {eq.title}')
    return CITE.sub(sub, text)


# ---- show_doc entries ----------------------------------------------------------------------------------
_SIG = re.compile(r'```python\n((?:async )?def) ([\w.]+)\((.*?)\n```', re.S)
_SOURCE = re.compile(r'\[source\]\(https?://[^)\s]*?/blob/[^/)]+/([^)#\s]+)#L(\d+)\)')


def _split_top(s, sep):
    "Split `s` at `sep` characters outside brackets and quotes; `sep='#'` splits once, at a comment."
    parts, depth, quote, cur = [], 0, None, ''
    for ch in s:
        if quote:
            if ch == quote: quote = None
        elif ch in '\'"': quote = ch
        elif ch in '([{': depth += 1
        elif ch in ')]}': depth = max(depth - 1, 0)
        elif ch == sep and depth == 0:
            if sep == '#': return [cur, s[len(cur) + 1:]]
            parts.append(cur); cur = ''; continue
        cur += ch
    return parts + [cur]


def parse_signature(body):
    "Parameters [(text, comment)] and the return (annotation, comment) of the inside of a show_doc signature."
    lines = body.split('\n')
    params, ret = [], ('', '')
    for line in lines:
        raw = line[4:] if line.startswith('    ') else line
        if raw.startswith(')'):  # `)->Anno: # comment` or `):`
            head, *com = _split_top(raw[1:], '#')
            head = ')' + head
            m = re.match(r'\)\s*(?:->\s*(.*?))?\s*:\s*$', head)
            ret = ((m.group(1) or '') if m else '', com[0].strip() if com else '')
            continue
        if raw.lstrip().startswith('#') and params:  # a comment's next line
            p, c = params[-1]; params[-1] = (p, f'{c} {raw.lstrip()[1:].strip()}'.strip()); continue
        code, *com = _split_top(raw, '#')
        ps = [p.strip() for p in _split_top(code, ',') if p.strip()]
        params += [(p, '') for p in ps]
        if com and params: params[-1] = (params[-1][0], com[0].strip())
    return params, ret


def _clean_param(p):
    "No `NoneType` annotation inferred from a default of None; `os.environ` by name, never its contents."
    p = re.sub(r':NoneType(?==)', '', p)
    name, eq, default = p.partition('=')
    if default.startswith('environ('): return f'{name}=os.environ'
    if len(default) > 60: return f'{name}=...'
    return p


def _wrap(head, items, tail, width=82):
    "`head(item, item, ...)tail` on one line, or filled into indented lines of at most `width` characters."
    one = f"{head}({', '.join(items)}){tail}"
    if len(one) <= width or not items: return one
    lines, cur = [], ''
    for i in items:
        if cur and len(cur) + len(i) + 2 > width - 4: lines.append(cur); cur = ''
        cur += ('' if not cur else ' ') + i + ','
    lines.append(cur)
    return f"{head}(\n" + ''.join(f'    {l}\n' for l in lines) + f"){tail}"


def _def_kind(root, md):
    "'class' if the source line that show_doc links to defines a class, else 'def' (and that class's line)."
    m = _SOURCE.search(md)
    if not m or root is None: return 'def', ''
    f = Path(root) / m.group(1)
    if not f.exists(): return 'def', ''
    lines = f.read_text(encoding='utf-8').splitlines()
    for line in lines[int(m.group(2)) - 1:int(m.group(2)) + 20]:
        s = line.strip()
        if s.startswith('@') or not s: continue
        if s.startswith('class '): return 'class', s.rstrip(':')
        return 'def', ''
    return 'def', ''


# code spans, inline math and link targets, which Markdown escaping must leave alone
_VERBATIM = re.compile(r'(`[^`\n]+`|\$[^$\n]+\$|\]\([^)\s]*\)|https?://\S+)')


def escape_md(text):
    "Docstring text with `_`, `*` and `--` escaped outside code, math and links: Markdown shows them, not italics or a dash."
    return ''.join(part if i % 2 else re.sub(r'(?<!\\)([_*])', r'\\\1', part).replace('--', '-\\-')
                   for i, part in enumerate(_VERBATIM.split(text)))


def _escape_docstring(rest):
    "`escape_md` for a docstring whose first line nbdev set in italics (`*...*`)."
    done, out = False, []
    for line in rest.split('\n'):
        m = None if done or not line.strip() else re.match(r'^(\s*)\*(.+)\*$', line)
        if line.strip(): done = True
        out.append(f'{m.group(1)}*{escape_md(m.group(2))}*' if m else escape_md(line))
    return '\n'.join(out)


_NO_DOC = '*Call self as a function.*'  # what fastcore shows for a function without a docstring


def _class_fields(root, md):
    "[(name, 'name: type = default', comment)] of the annotated fields in the body of the class show_doc links to."
    m = _SOURCE.search(md)
    f = Path(root) / m.group(1) if m and root is not None else None
    if f is None or not f.exists(): return []
    lines, out, start = f.read_text(encoding='utf-8').splitlines(), [], int(m.group(2)) - 1
    while start < len(lines) and not lines[start].lstrip().startswith('class '): start += 1
    for line in lines[start + 1:]:
        if line.strip() and not line.startswith('    '): break
        if fm := re.match(r'^    (\w+)\s*:\s*([^#]*?)\s*(?:#\s*(.*))?$', line):
            out.append((fm.group(1), f'{fm.group(1)}: {fm.group(2)}', fm.group(3) or ''))
    return out


def tabulate_show_doc(md, here, index, missing, root=None):
    "A show_doc entry with a compact signature and its parameters' docments as a Markdown list."
    m = _SIG.search(md)
    if not m: return md
    prefix, name, body = m.groups()
    params, (ret, ret_doc) = parse_signature(body.lstrip('\n')) if body.strip() else ([], ('', ''))
    kind, class_line = _def_kind(root, md)
    plain = [p for p, _ in params]
    fields = _class_fields(root, md) if kind == 'class' else []
    if fields:  # a dataclass or NamedTuple defined in a notebook cell: fastcore cannot read its comments
        docs = {n: c for n, _, c in fields}
        params = [(p, c or docs.get(p.split(':')[0].split('=')[0], '')) for p, c in params]
    if kind == 'class' and (not params or plain == ['*args', '**kwargs']) and class_line:
        sig = class_line + (':\n' + '\n'.join(f'    {t}' for _, t, _ in fields) if fields else '')
        params = [(n, c) for n, _, c in fields]
    else:
        head = f"{'class' if kind == 'class' else prefix} {name}"
        tail = f" -> {ret}" if ret and ret != 'None' and kind != 'class' else ''
        sig = _wrap(head, [_clean_param(p) for p in plain], tail)
    items = [f'- `{p.split(":")[0].split("=")[0]}`: {link_cites(escape_md(c), here, index, missing)}' for p, c in params if c]
    if ret_doc: items.append(f'- **Returns**: {link_cites(escape_md(ret_doc), here, index, missing)}')
    block = f"```{{.python .doc-signature}}\n{sig}\n```"
    rest = md[m.end():].rstrip()  # the docstring
    rest = '' if rest.strip() == _NO_DOC else _escape_docstring(rest)
    params = '\n\n::: {.doc-params}\n' + '\n'.join(items) + '\n:::\n' if items else '\n'
    return md[:m.start()] + block + rest + params


# ---- doc entries ---------------------------------------------------------------------------------------
def linked_symbols(lib):
    "{name: 'page.html#anchor'} of each public module-level function and class that nbdev indexes (and links to)."
    ns = {}
    exec((Path(lib) / '_modidx.py').read_text(encoding='utf-8'), ns)
    return {k: url for mod in ns['d']['syms'].values() for k, (url, _) in mod.items()
            if k.count('.') == 2 and not k.rsplit('.', 1)[1].startswith('_')}


def doc_anchors(proc):
    "{'page.html': {anchors}} of the show_doc entries in the processed notebooks under `proc`."
    out = {}
    for p in notebooks(proc):
        nb = json.loads(p.read_text(encoding='utf-8'))
        m = re.search(r'^output-file:\s*(\S+)', ''.join(nb['cells'][0]['source']), re.M) if nb['cells'] else None
        page = str(Path(p.relative_to(proc)).parent / m.group(1)) if m else None
        for c in nb['cells']:
            for o in c.get('outputs', []):
                if _md_output(o):
                    heads = re.findall(r'^#+ ([\w.]+)\s*$', ''.join(o['data']['text/markdown']), re.M)
                    out.setdefault(page, set()).update(h.lower() for h in heads)
    return out


def undocumented_entries(proc):
    "Doc entries whose docstring is missing (fastcore shows 'Call self as a function.' for them)."
    out = []
    for p in notebooks(proc):
        for c in json.loads(p.read_text(encoding='utf-8'))['cells']:
            for o in c.get('outputs', []):
                md = ''.join(o['data']['text/markdown']) if _md_output(o) else ''
                if _NO_DOC in md or ('```' in md and re.search(r'^#+ ', md, re.M) and not md.split('```')[-1].strip()):
                    out += [f"{p.name}: {h}" for h in re.findall(r'^#+ ([\w.]+)\s*$', md, re.M)]
    return out


def missing_doc_entries(proc, lib):
    "Exported functions and classes (methods attached by patching included) whose doc anchor no page has."
    anchors = doc_anchors(proc)
    return sorted(k for k, url in linked_symbols(lib).items()
                  if url.split('#')[1] not in anchors.get(url.split('#')[0].removeprefix('./'), set()))


# ---- the notebooks ---------------------------------------------------------------------------------------
_NBVAL = re.compile(r'^[ \t]*#[ \t]*NBVAL_[A-Z_]+[ \t]*\n?', re.M)


def _fold_figure(cell, src, here):
    "In a chapter (not a tutorial, where the code is the lesson), the code that draws a figure folds away."
    return (not here.startswith('tutorials/') and not re.search(r'^#\|\s*code-fold:', src, re.M)
            and any('image/png' in o.get('data', {}) for o in cell.get('outputs', [])))


def _md_output(o): return o.get('data', {}).get('text/markdown') is not None


def process_nb(nb, here, index, missing, root=None):
    "Rewrite one processed notebook in place."
    for c in nb['cells']:
        src = _src(c)
        if c['cell_type'] == 'markdown':
            c['source'] = _lines(link_cites(to_quarto(src, here, index), here, index, missing))
        elif c['cell_type'] == 'code':
            src = _NBVAL.sub('', src)  # nbval's markers are for the tests, not for the reader
            if _fold_figure(c, src, here): src = f'#| code-fold: true\n#| code-summary: "Code for the figure"\n{src}'
            c['source'] = _lines(plain_cites(src, here, index, missing))
            for o in c.get('outputs', []):
                if _md_output(o):
                    md = ''.join(o['data']['text/markdown'])
                    if 'show_doc' in src: md = tabulate_show_doc(md, here, index, missing, root)
                    o['data']['text/markdown'] = _lines(link_cites(md, here, index, missing))
                elif o.get('output_type') == 'stream':
                    o['text'] = _lines(plain_cites(''.join(o['text']), here, index, missing))
                elif 'text/plain' in o.get('data', {}):
                    o['data']['text/plain'] = _lines(plain_cites(''.join(o['data']['text/plain']), here, index, missing))
    return nb


def _repo_root(start):
    for p in [Path(start).resolve(), *Path(start).resolve().parents]:
        if (p / 'settings.ini').exists(): return p
    return None


def main(folder='.'):
    "Rewrite the processed notebooks under `folder`; return the problems found (citations of unknown labels)."
    folder = Path(folder)
    index, twice = label_index(folder)
    root, missing = _repo_root(folder), []
    for p in notebooks(folder):
        text = p.read_text(encoding='utf-8')
        nb = process_nb(json.loads(text), p.relative_to(folder).as_posix(), index, missing, root)
        new = json.dumps(nb, indent=1, ensure_ascii=False) + '\n'
        if new != text: p.write_text(new, encoding='utf-8')
    return ([f'@{l} is defined by no notebook' for l in sorted(set(missing))]
            + [f'label defined twice: {t}' for t in twice])


if __name__ == '__main__':
    if problems := main(*sys.argv[1:]): sys.exit('docs: ' + '; '.join(problems))
