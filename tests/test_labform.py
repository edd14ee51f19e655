"""The notebooks read in JupyterLab as on the site, and JupyterLab finds nothing to rewrite in them.

tools/equations.py (numbered equations, references as links), tools/labform.py (folds, metadata, output layout)
and tools/eqdoc.py (show_doc's citations as links) are tested here on small made-up notebooks; that the real
notebooks are in this form is an in-step check of tools/run_tests.py, which runs labform.py on a copy of the tree."""
import json, sys
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tools'))
import docs_prerender as dp  # noqa: E402
import equations as eq  # noqa: E402
import labform  # noqa: E402

A = '# Chapter A\n\nIntro.\n\n$$\nx = 1,\n$$ {#eq-one}\n\nand $$ y $$ {#eq-two}, by @eq-one.'
B = '# Chapter B\n\n$$\n\\begin{aligned} z &= 3 \\end{aligned}\n$$ {#eq-three}\n\nBy @eq-two and @eq-three, not `@eq-two`.'
T = '# A tutorial\n\nSee [@eq-three], and $$ w $$ unlabelled.'


def _nb(*cells, metadata=None):
    "A notebook from (cell_type, source) pairs."
    return {'cells': [{'cell_type': t, 'id': f'c{i}', 'source': s, 'metadata': {},
                       **({'outputs': [], 'execution_count': None} if t == 'code' else {})}
                      for i, (t, s) in enumerate(cells)],
            'metadata': metadata or {}, 'nbformat': 4, 'nbformat_minor': 5}


def _write(p, nb):
    p.parent.mkdir(parents=True, exist_ok=True)
    p.write_text(json.dumps(nb))
    return p


def _md(p): return ''.join(json.loads(p.read_text())['cells'][0]['source'])


@pytest.fixture
def nbs(tmp_path):
    for name, md in [('01_a.ipynb', A), ('02_b.ipynb', B), ('tutorials/t.ipynb', T)]:
        _write(tmp_path / name, _nb(('markdown', md), ('code', '# by @eq-two\nx = 1')))
    return tmp_path


def test_equations_get_numbers_and_references_become_links(nbs):
    changed, problems = eq.update(nbs)
    assert problems == [] and len(changed) == 3
    for p, nb in changed: eq._write(p, nb)
    assert _md(nbs / '01_a.ipynb') == ('# Chapter A\n\nIntro.\n\n$$\nx = 1,\n\\tag{1}\n$$ <span id="eq-one"></span>\n\n'
                                      'and $$ y \\tag{2} $$ <span id="eq-two"></span>, by [Eq. 1](#eq-one).')
    assert _md(nbs / '02_b.ipynb').endswith('\\end{aligned}\n\\tag{1}\n$$ <span id="eq-three"></span>\n\n'
                                            'By [Eq. 2 of *Chapter A*](01_a.ipynb#eq-two) and [Eq. 1](#eq-three), not `@eq-two`.')
    assert _md(nbs / 'tutorials/t.ipynb') == ('# A tutorial\n\nSee [Eq. 1 of *Chapter B*](../02_b.ipynb#eq-three), '
                                              'and $$ w $$ unlabelled.')
    code = json.loads((nbs / '01_a.ipynb').read_text())['cells'][1]['source']
    assert code == '# by @eq-two\nx = 1'  # code keeps its citations
    assert eq.update(nbs) == ([], [])  # a second run changes nothing


def test_numbers_follow_an_inserted_equation(nbs):
    for p, nb in eq.update(nbs)[0]: eq._write(p, nb)
    a = json.loads((nbs / '01_a.ipynb').read_text())
    a['cells'][0]['source'] = ''.join(a['cells'][0]['source']).replace('Intro.', 'Intro $$ u $$ {#eq-zero}.')
    _write(nbs / '01_a.ipynb', a)
    assert eq.main([str(nbs), '--check']) == 1  # the other notebooks' links are now stale
    assert eq.main([str(nbs)]) == 0 and eq.main([str(nbs), '--check']) == 0
    assert '[Eq. 3 of *Chapter A*](01_a.ipynb#eq-two)' in _md(nbs / '02_b.ipynb')
    assert '$$\nx = 1,\n\\tag{2}\n$$ <span id="eq-one"></span>' in _md(nbs / '01_a.ipynb')


def test_unknown_and_twice_defined_labels_are_reported(nbs, capsys):
    _write(nbs / '03_c.ipynb', _nb(('markdown', '# C\n\n$$ v $$ {#eq-one}\n\nAs @eq-four and [Eq. 9](#eq-five) show.')))
    assert eq.main([str(nbs)]) == 1
    err = capsys.readouterr().err
    assert 'label defined twice: eq-one (01_a.ipynb and 03_c.ipynb)' in err
    assert '@eq-five (or a link to #eq-five) is defined by no notebook' in err and '@eq-four' in err
    assert 'cell 0: @eq-five is defined by no notebook' in '\n'.join(eq.citation_problems(nbs))


def test_the_site_gets_quarto_syntax_back(nbs):
    "The pre-render step turns the JupyterLab form into what it made of Quarto's own syntax before."
    index, _ = eq.label_index(nbs)
    before = {p: dp.link_cites(_md(p), p.relative_to(nbs).as_posix(), index, []) for p in eq.notebooks(nbs)}
    for p, nb in eq.update(nbs)[0]: eq._write(p, nb)
    assert eq.label_index(nbs)[0] == index  # both forms define the same labels, numbered alike
    for p in eq.notebooks(nbs):
        here = p.relative_to(nbs).as_posix()
        assert dp.link_cites(eq.to_quarto(_md(p), here, index), here, index, []) == before[p]


def test_check_cells_fold_with_their_summary_first():
    nb = _nb(('code', '#| code-fold: true\n#| code-summary: "Check: it holds"\nassert True'), ('code', 'x = 1'))
    nb['cells'][1]['metadata'] = {'jupyter': {'source_hidden': True}}
    did, problems = labform.lab_form(nb)
    assert problems == [] and 'cell 0: input folded' in did and 'cell 1: input unfolded' in did
    assert nb['cells'][0]['source'] == ['#| code-summary: "Check: it holds"\n', '#| code-fold: true\n', 'assert True']
    assert nb['cells'][0]['metadata'] == {'jupyter': {'source_hidden': True}} and nb['cells'][1]['metadata'] == {}
    assert labform.lab_form(nb) == ([], [])


def test_metadata_and_outputs_as_jupyterlab_writes_them():
    nb = _nb(('code', 'print(1); print(2)'),
             metadata={'kernelspec': {'display_name': 'Python 3 (ipykernel)', 'language': 'python', 'name': 'python3'}})
    out = lambda name, text: {'output_type': 'stream', 'name': name, 'text': text}
    nb['cells'][0]['outputs'] = [out('stdout', ['a\n', 'b']), out('stdout', ['c\n']), out('stderr', ['w\n']),
                                 {'output_type': 'display_data', 'data': {'text/plain': ['x']}, 'metadata': {}},
                                 out('stdout', ['d\n'])]
    did, problems = labform.lab_form(nb)
    assert did[:2] == ['kernelspec', 'language_info'] and 'cell 0: 1 stream outputs merged' in did
    assert nb['metadata']['kernelspec'] == {'display_name': 'python3', 'language': 'python', 'name': 'python3'}
    assert nb['metadata']['language_info']['version'] == '.'.join(map(str, sys.version_info[:3]))
    assert [o.get('text') for o in nb['cells'][0]['outputs']] == [['a\n', 'bc\n'], ['w\n'], None, ['d\n']]
    nb['metadata']['language_info']['version'] = '3.0.0'  # the version that last ran it is kept
    assert labform.lab_form(nb) == ([], [])
    nb['cells'][0]['outputs'].append(out('stdout', ['10%\r50%\n']))
    assert labform.lab_form(nb)[1] == ['cell 0: stdout output with a carriage return']


def test_check_mode_reports_and_changes_nothing(tmp_path, capsys):
    p = _write(tmp_path / '01_a.ipynb', _nb(('markdown', A), ('code', '#| code-fold: true\n#| code-summary: "s"\n1')))
    text = p.read_text()
    assert labform.main([str(tmp_path), '--check']) == 1 and p.read_text() == text
    assert 'JupyterLab would rewrite it (equation numbers or references, kernelspec, language_info' in capsys.readouterr().out
    assert labform.main([str(tmp_path)]) == 0 and labform.main([str(tmp_path), '--check']) == 0


def test_show_doc_citations_are_links_in_a_running_notebook(nbs):
    eqdoc = pytest.importorskip('eqdoc')
    md = '### f\n\n```python\ndef f(x, # of @eq-two\n):\n```\n\n*Draw by @eq-two and @eq-three.*'
    assert eqdoc.link_citations(md, (nbs, '02_b.ipynb')) == \
        '### f\n\n```python\ndef f(x, # of @eq-two\n):\n```\n\n*Draw by [Eq. 2 of *Chapter A*](01_a.ipynb#eq-two) and [Eq. 1](#eq-three).*'
    assert '(../01_a.ipynb#eq-two)' in eqdoc.link_citations(md, (nbs, 'tutorials/t.ipynb'))


def test_show_doc_knows_the_notebook_jupyter_runs(monkeypatch):
    eqdoc = pytest.importorskip('eqdoc')
    monkeypatch.chdir(ROOT / 'nbs' / 'tutorials')
    monkeypatch.setenv('JPY_SESSION_NAME', str(ROOT / 'nbs' / 'tutorials' / 'digits.ipynb'))
    assert eqdoc.page() == ((ROOT / 'nbs').resolve(), 'tutorials/digits.ipynb')
    index, _ = eq.label_index(ROOT / 'nbs')
    assert eqdoc.link_citations('*by @eq-snr*') == f"*by {eq.link('eq-snr', 'tutorials/digits.ipynb', index)}*"
    monkeypatch.delenv('JPY_SESSION_NAME')
    assert eqdoc.page() is None  # nbdev_test, nbdev_docs: the site's pre-render step links them
    assert eqdoc.link_citations('*by @eq-snr*') == '*by @eq-snr*'
