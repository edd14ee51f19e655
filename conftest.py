"""pytest configuration: nbval skips the same notebook cells that nbdev_test skips.

A cell carrying a directive from settings.ini's `tst_flags` (e.g. `#| slow`, `#| cuda`) is skipped unless
that flag is listed in the environment variable DDPM_LIT_TEST_FLAGS (tools/run_tests.py --flags sets it).

nbdev_clean removes execution counts, and nbval takes a cell without one for a cell that never ran and
refuses its outputs. A committed cell with outputs did run, so its count is restored before nbval reads it.
"""
import configparser, os, re
from pathlib import Path
import pytest

_cfg = configparser.ConfigParser(delimiters=['='])
_cfg.read(Path(__file__).parent / 'settings.ini')
_skip = set(_cfg['DEFAULT'].get('tst_flags', '').split()) - set(os.environ.get('DDPM_LIT_TEST_FLAGS', '').split())
_directive = re.compile(r'^\s*#\s*\|\s*([\w-]+)', re.M)

def pytest_collection_modifyitems(config, items):
    for item in items:
        cell = getattr(item, 'cell', None)
        if cell is None or getattr(cell, 'cell_type', 'code') != 'code': continue
        if cell.get('outputs') and cell.get('execution_count') is None: cell['execution_count'] = 1
        if 'nbdev_export(' in cell.source or 'nbdev.nbdev_export' in cell.source:  # as nbdev_test does
            item.add_marker(pytest.mark.skip(reason='exports the notebook; the in-step check covers it')); continue
        flags = set(_directive.findall(cell.source)) & _skip
        if flags: item.add_marker(pytest.mark.skip(reason=f"test flag {' '.join(sorted(flags))} not requested"))
