"""The docs site's conventions hold on the notebooks: every equation citation names a label some notebook
defines, the sidebar lists every page once, and folded check cells say what they check. The machinery of
tools/docs_prerender.py (cross-page links, API entries, doc-entry check) is tested on small made-up notebooks.
The doc-entry check on the real notebooks runs in tools/run_tests.py, on the notebooks nbdev prepares."""
import json, re, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tools'))
import docs_prerender as dp  # noqa: E402

NBS = ROOT / 'nbs'


def _nb(*cells):
    "A notebook from (cell_type, source) pairs."
    return {'cells': [{'cell_type': t, 'source': s, 'metadata': {}, **({'outputs': []} if t == 'code' else {})}
                      for t, s in cells], 'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5}


def _write(folder, name, nb):
    p = folder / name
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(nb))
    return p


@pytest.fixture
def site(tmp_path):
    "Two chapters and a tutorial that cite each other's equations."
    _write(tmp_path, '01_a.ipynb', _nb(('markdown', '# Chapter A\n\n> summary'),
                                       ('markdown', '$$ x $$ {#eq-one}\n\n$$ y $$ {#eq-two}')))
    _write(tmp_path, '02_b.ipynb', _nb(('markdown', '# Chapter B'),
                                       ('markdown', '$$ z $$ {#eq-three}\n\nBy @eq-two and @eq-three, not `@eq-code`.'),
                                       ('code', '# uses @eq-two\nx = 1')))
    _write(tmp_path, 'tutorials/t.ipynb', _nb(('markdown', '# A tutorial'), ('markdown', 'See [@eq-three].')))
    return tmp_path


def test_every_citation_in_the_notebooks_names_a_defined_label():
    assert dp.citation_problems(NBS) == []


def test_a_citation_of_an_unknown_label_is_reported(site):
    assert dp.citation_problems(site) == []
    _write(site, '03_c.ipynb', _nb(('markdown', '# C'), ('markdown', 'As @eq-four shows.'),
                                   ('code', 'def f(x, # as in @eq-five\n      ): "@eq-one."')))
    assert dp.citation_problems(site) == ['03_c.ipynb, cell 1: @eq-four is defined by no notebook',
                                          '03_c.ipynb, cell 2: @eq-five is defined by no notebook']
    _write(site, '04_d.ipynb', _nb(('markdown', '# D'), ('markdown', '$$ w $$ {#eq-one}')))
    assert 'label defined twice: eq-one (01_a.ipynb and 04_d.ipynb)' in dp.citation_problems(site)


def test_labels_are_numbered_as_quarto_numbers_them(site):
    index, twice = dp.label_index(site)
    assert twice == []
    assert index['eq-two'] == dp.Equation('01_a.ipynb', 2, 'Chapter A')
    assert index['eq-three'] == dp.Equation('02_b.ipynb', 1, 'Chapter B')


def test_citations_of_other_pages_become_links(site):
    index, _ = dp.label_index(site)
    missing = []
    md = dp.link_cites('By @eq-two and @eq-three, not `@eq-two`.', '02_b.ipynb', index, missing)
    assert md == 'By [Eq. 2 of *Chapter A*](01_a.ipynb#eq-two) and @eq-three, not `@eq-two`.'
    md = dp.link_cites('See [@eq-three]. Also @eq-nope.', 'tutorials/t.ipynb', index, missing)
    assert md == 'See [Eq. 1 of *Chapter B*](../02_b.ipynb#eq-three). Also @eq-nope.'
    assert missing == ['eq-nope']
    assert dp.plain_cites('# @eq-two, @eq-three', '02_b.ipynb', index, []) == '# Eq. 2 of Chapter A, Eq. 1'


def test_pre_render_rewrites_processed_notebooks_once(site):
    assert dp.main(site) == []
    once = {p: p.read_text() for p in site.rglob('*.ipynb')}
    b = json.loads((site / '02_b.ipynb').read_text())
    assert '[Eq. 2 of *Chapter A*](01_a.ipynb#eq-two)' in ''.join(b['cells'][1]['source'])
    assert ''.join(b['cells'][2]['source']) == '# uses Eq. 2 of Chapter A\nx = 1'
    assert dp.main(site) == [] and {p: p.read_text() for p in site.rglob('*.ipynb')} == once
    nb = dp.process_nb(_nb(('code', '#| code-fold: true\n# NBVAL_CHECK_OUTPUT\nprint(1)')), 'x.ipynb', {}, [])
    assert ''.join(nb['cells'][0]['source']) == '#| code-fold: true\nprint(1)'
    fig = _nb(('code', 'plt.plot(x)'))
    fig['cells'][0]['outputs'] = [{'output_type': 'display_data', 'data': {'image/png': 'iVBOR'}, 'metadata': {}}]
    assert ''.join(dp.process_nb(json.loads(json.dumps(fig)), 'x.ipynb', {}, [])['cells'][0]['source']) == \
        '#| code-fold: true\n#| code-summary: "Code for the figure"\nplt.plot(x)'
    assert ''.join(dp.process_nb(fig, 'tutorials/t.ipynb', {}, [])['cells'][0]['source']) == 'plt.plot(x)'
    _write(site, '03_c.ipynb', _nb(('markdown', '# C'), ('markdown', 'As @eq-four shows.')))
    assert dp.main(site) == ['@eq-four is defined by no notebook']


SHOW_DOC = '''---

[source](https://github.com/u/r/blob/main/pkg/m.py#L3){target="_blank" style="float:right; font-size:smaller"}

### Thing

```python
def Thing(
    betas:Tensor, # `(T,)` schedule of @eq-two, see [`other`](m.html#other)
    var_type:str='fixed_small', n:NoneType=None, shape:tuple[int, int]=(1, 2), # shape `(H, W)`,
    # over two lines
    env:dict=environ({'HOME': '/root', 'TOKEN': 'secret'}), # the environment
)->Module: # a [`UNet`](unet.html#unet) or (else) an MLP
```

*What a thing is.*'''


def test_show_doc_entries_list_their_parameters(site, tmp_path_factory):
    repo = tmp_path_factory.mktemp('repo')
    (repo / 'pkg').mkdir()
    (repo / 'pkg' / 'm.py').write_text('import x\n\n@dataclass\nclass Thing(Base):\n    pass\n')
    index, _ = dp.label_index(site)
    md = dp.tabulate_show_doc(SHOW_DOC, '02_b.ipynb', index, [], repo)
    assert ("```{.python .doc-signature}\nclass Thing(\n    betas:Tensor, var_type:str='fixed_small', n=None,\n"
            "    shape:tuple[int, int]=(1, 2), env:dict=os.environ,\n)\n```") in md
    assert 'secret' not in md
    assert '- **Returns**: a [`UNet`](unet.html#unet) or (else) an MLP' in md
    assert md.index('*What a thing is.*') < md.index('::: {.doc-params}')
    assert '- `betas`: `(T,)` schedule of [Eq. 2 of *Chapter A*](01_a.ipynb#eq-two), see [`other`](m.html#other)' in md
    assert '- `shape`: shape `(H, W)`, over two lines' in md
    assert '- `var_type`' not in md and '# ' not in md.split('### Thing')[1]
    assert dp.tabulate_show_doc(md, '02_b.ipynb', index, [], repo) == md


def test_docstrings_keep_their_underscores():
    assert dp.escape_md("runs/X, '-' and '_' become '_'; [`a_b`](m_n.html#a_b), $x_t$, x_0; --resume, `--n`") == \
        "runs/X, '-' and '\\_' become '\\_'; [`a_b`](m_n.html#a_b), $x_t$, x\\_0; -\\-resume, `--n`"
    md = SHOW_DOC.replace('*What a thing is.*', "*runs/X, '_' replaced by '_', a * b*\n\nMore: x_0 * 2.")
    assert "*runs/X, '\\_' replaced by '\\_', a \\* b*\n\nMore: x\\_0 \\* 2." in dp.tabulate_show_doc(md, '02_b.ipynb', {}, [])
    assert 'Call self' not in dp.tabulate_show_doc(SHOW_DOC.replace('*What a thing is.*', dp._NO_DOC), 'x.ipynb', {}, [])


def test_missing_doc_entries(tmp_path):
    lib, proc = tmp_path / 'lib', tmp_path / 'proc'
    lib.mkdir()
    (lib / '_modidx.py').write_text(repr({'syms': {'lib.m': {
        'lib.m.f': ('m.html#f', 'lib/m.py'), 'lib.m.K': ('m.html#k', 'lib/m.py'),
        'lib.m.K.method': ('m.html#k.method', 'lib/m.py'), 'lib.m._private': ('m.html#_private', 'lib/m.py')}}})
        .join(['d = ', '\n']))
    nb = _nb(('raw', '---\noutput-file: m.html\ntitle: M\n---'), ('code', 'show_doc(K)'))
    nb['cells'][1]['outputs'] = [{'output_type': 'execute_result', 'data': {'text/markdown': '---\n\n### K\n\nx'}}]
    _write(proc, '01_m.ipynb', nb)
    assert dp.missing_doc_entries(proc, lib) == ['lib.m.f']
    assert dp.undocumented_entries(proc) == []
    nb['cells'][1]['outputs'][0]['data']['text/markdown'] = '---\n\n### K\n\n```python\ndef K(\n):\n```\n\n' + dp._NO_DOC
    _write(proc, '01_m.ipynb', nb)
    assert dp.undocumented_entries(proc) == ['01_m.ipynb: K']


def _sidebar_pages():
    return re.findall(r'^\s*-\s+([\w/.-]+\.ipynb)\s*$', (NBS / 'sidebar.yml').read_text(), re.M)


def test_sidebar_lists_every_page_once():
    pages = _sidebar_pages()
    assert len(pages) == len(set(pages)), 'a page is listed twice'
    have = {p.relative_to(NBS).as_posix() for p in dp.notebooks(NBS)}
    assert set(pages) == have, f'missing from nbs/sidebar.yml: {sorted(have - set(pages))}; not a notebook: {sorted(set(pages) - have)}'


def test_no_hand_made_links_to_symbols():
    "nbdev links every backticked symbol of the package itself; a hand-made link around one renders nested, as raw text."
    bad = []
    for p in dp.notebooks(NBS):
        for i, c in enumerate(json.loads(p.read_text())['cells']):
            if c['cell_type'] == 'markdown':
                bad += [f'{p.name} cell {i}: {m}' for m in re.findall(r'\[`[\w.]+`\]\([^)]*\)', ''.join(c['source']))]
    assert bad == [], f'write the symbol in backticks alone and let nbdev link it: {bad}'


def test_folded_cells_say_what_they_check():
    bad = []
    for p in dp.notebooks(NBS):
        for i, c in enumerate(json.loads(p.read_text())['cells']):
            src = ''.join(c['source'])
            if c['cell_type'] == 'code' and re.search(r'^#\|\s*code-fold:\s*true', src, re.M):
                m = re.search(r'^#\|\s*code-summary:\s*"Check: (\S.*)"\s*$', src, re.M)
                if not m or '--' in m.group(1): bad.append(f'{p.name} cell {i}')
    assert bad == [], f'folded cells without a `#| code-summary: "Check: ..."` line (where `--` would show as a dash): {bad}'


def test_class_entries_list_their_fields(tmp_path):
    (tmp_path / 'pkg').mkdir()
    (tmp_path / 'pkg' / 'm.py').write_text('class Pt(NamedTuple):\n    "A point."\n    x: float\n    y: float = 0.0 # height\n\n'
                                           '@dataclass\nclass Cfg:\n    "Settings."\n    lr: float = 0.1 # the step size\n')
    pt = ('---\n\n[source](https://github.com/u/r/blob/main/pkg/m.py#L1)\n\n### Pt\n\n```python\ndef Pt(\n    *args, **kwargs\n):\n```\n\n*A point.*')
    md = dp.tabulate_show_doc(pt, 'x.ipynb', {}, [], tmp_path)
    assert '```{.python .doc-signature}\nclass Pt(NamedTuple):\n    x: float\n    y: float = 0.0\n```' in md
    assert '- `y`: height' in md and '- `x`' not in md
    cfg = ('---\n\n[source](https://github.com/u/r/blob/main/pkg/m.py#L6)\n\n### Cfg\n\n```python\ndef Cfg(\n    lr:float=0.1\n)->None:\n```\n\n*Settings.*')
    md = dp.tabulate_show_doc(cfg, 'x.ipynb', {}, [], tmp_path)
    assert '```{.python .doc-signature}\nclass Cfg(lr:float=0.1)\n```' in md and '- `lr`: the step size' in md
