"""Test flags for the files under tests/, as for the notebooks: a test marked `@pytest.mark.slow` runs only when
`slow` is among the flags (`bash tools/test.sh --flags slow`, which sets DDPM_LIT_TEST_FLAGS for pytest)."""
import os
import pytest

FLAGS = set(os.environ.get('DDPM_LIT_TEST_FLAGS', '').split())

def pytest_configure(config):
    config.addinivalue_line('markers', 'slow: a long test, run only with the test flag `slow` (its fast counterpart always runs)')

def pytest_collection_modifyitems(config, items):
    for item in items:
        if 'slow' in item.keywords and 'slow' not in FLAGS:
            item.add_marker(pytest.mark.skip(reason='slow: run with `bash tools/test.sh --flags slow`'))
