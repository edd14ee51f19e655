"""tools/run_tests.py: a notebook's cells are counted and compared from its one execution, and the quick loop
(`--changed`) picks what a change touches."""
import json, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tools'))
import run_tests as rt  # noqa: E402


def _nb(*cells):
    "A notebook from (source, committed stdout or None) pairs; every cell is code."
    return {'cells': [{'cell_type': 'code', 'execution_count': None, 'metadata': {}, 'source': s,
                       'outputs': [] if out is None else [{'name': 'stdout', 'output_type': 'stream', 'text': out}]}
                      for s, out in cells], 'metadata': {}, 'nbformat': 4, 'nbformat_minor': 5}


def test_output_text_ignores_how_a_stream_was_split():
    one = [{'output_type': 'stream', 'name': 'stdout', 'text': 'a\nb\n'}]
    two = [{'output_type': 'stream', 'name': 'stdout', 'text': ['a\n']}, {'output_type': 'stream', 'name': 'stdout', 'text': ['b\n']}]
    assert rt.output_text(one) == rt.output_text(two) == '[stdout]\na\nb\n'
    assert rt.output_text(one) != rt.output_text([{'output_type': 'stream', 'name': 'stderr', 'text': 'a\nb\n'}])
    assert rt.output_text([{'output_type': 'execute_result', 'data': {'text/plain': ['2']}}]) == '[result]\n2'


def test_a_notebook_run_records_each_cell(tmp_path):
    "One execution: cells that ran, the one that failed, a checked output that differs, and flagged cells skipped."
    nb = tmp_path / 'x.ipynb'
    nb.write_text(json.dumps(_nb(('x = 1', None),
                                 ('# NBVAL_CHECK_OUTPUT\nprint(x + 1)', '2\n'),
                                 ('# NBVAL_CHECK_OUTPUT\nprint(x + 2)', '4\n'),
                                 ('#| slow\nraise RuntimeError("skipped")', None),
                                 ('assert x == 2, "x is one"', None),
                                 ('print("never runs")', None))))
    res = rt.run_notebook(nb, '')
    assert not res['ok'] and res['n_code'] == 6
    cells = {c['idx']: c for c in res['cells']}
    assert sorted(cells) == [0, 1, 2, 4]  # the slow cell is skipped; the run stops at the failure
    assert cells[1]['output_ok'] and not cells[2]['output_ok'] and cells[2]['output_diff']['now'] == '[stdout]\n3\n'
    assert not cells[4]['ok'] and 'x is one' in cells[4]['error']
    assert rt.run_notebook(nb, 'slow')['cells'][3]['error'].startswith('RuntimeError: skipped')


def test_changed_files_touch_their_notebooks_and_users():
    nbs, tests, mutants = rt.touched(['nbs/tutorials/solvers.ipynb'])
    assert [p.relative_to(ROOT).as_posix() for p in nbs] == ['nbs/tutorials/solvers.ipynb']
    assert [p.name for p in tests] == ['test_docs.py', 'test_labform.py'] and mutants == set()  # both read the notebooks
    # a module changes: every notebook and test that imports it, directly or through another module
    nbs, tests, mutants = rt.touched(['nbs/01_schedules.ipynb', 'ddpm_lit/schedules.py'])
    names = {p.stem for p in nbs}
    assert {'01_schedules', '02_forward', '05_samplers', '08_train', '10_cli', 'closed_form'} <= names
    assert {'test_bench.py', 'test_packaging.py'} <= {p.name for p in tests} and {'01_schedules', '02_forward'} <= mutants
    assert not names & {'00_core', '06_data', '07_unet', '07a_checkpoints', '07b_threads', 'benchmark'}  # they use no schedule
    # `from . import solvers` (the command line) counts as an import
    assert 'test_bench.py' in {p.name for p in rt.touched(['ddpm_lit/solvers.py'])[1]}
    # the test machinery itself: everything
    assert rt.touched(['tools/run_tests.py']) == (rt.notebooks(), sorted((ROOT / 'tests').glob('test_*.py')), None)
    assert rt.touched(['tools/mutation_check.py'])[2] is None
