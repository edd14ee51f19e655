"""The wheel installs on its own and imports without any dev tool; its version is settings.ini's."""
import configparser, json, subprocess, sys, textwrap, zipfile
from pathlib import Path
import pytest

ROOT = Path(__file__).resolve().parents[1]
DEV_TOOLS = ('nbdev', 'execnb', 'fastcore', 'jupyter', 'jupyter_client', 'ipykernel', 'IPython', 'nbval', 'nbformat', 'pytest')

def _settings():
    cfg = configparser.ConfigParser(delimiters=['='])
    cfg.read(ROOT / 'settings.ini')
    return cfg['DEFAULT']

@pytest.fixture(scope='module')
def wheel(tmp_path_factory):
    out = tmp_path_factory.mktemp('dist')
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps', '--no-build-isolation', '-q', '-w', str(out), str(ROOT)],
                   check=True, cwd=ROOT)
    (whl,) = out.glob('ddpm_lit-*.whl')
    return whl

def test_wheel_carries_every_module(wheel):
    names = zipfile.ZipFile(wheel).namelist()
    expected = {f'ddpm_lit/{p.name}' for p in (ROOT / 'ddpm_lit').glob('*.py')}
    assert expected <= set(names), f'missing from the wheel: {sorted(expected - set(names))}'
    assert _settings()['version'] in wheel.name

def test_wheel_imports_without_dev_tools(wheel, tmp_path):
    target = tmp_path / 'site'
    subprocess.run([sys.executable, '-m', 'pip', 'install', '--no-deps', '-q', '--target', str(target), str(wheel)], check=True)
    script = textwrap.dedent(f"""
        import sys, json, importlib, pkgutil
        sys.path.insert(0, {str(target)!r})
        import ddpm_lit
        assert ddpm_lit.__file__.startswith({str(target)!r}), ddpm_lit.__file__
        mods = [m.name for m in pkgutil.iter_modules(ddpm_lit.__path__) if m.name != '__main__']
        for m in mods: importlib.import_module('ddpm_lit.' + m)
        dev = sorted(k for k in sys.modules if k.split('.')[0] in {DEV_TOOLS!r})
        print(json.dumps(dict(version=ddpm_lit.__version__, modules=mods, dev=dev)))
    """)
    # run from an empty folder so the checkout's ddpm_lit/ cannot shadow the installed one
    r = subprocess.run([sys.executable, '-c', script], capture_output=True, text=True, cwd=tmp_path)
    assert r.returncode == 0, r.stderr
    info = json.loads(r.stdout.strip().splitlines()[-1])
    assert info['dev'] == [], f'importing ddpm_lit pulled in dev tools: {info["dev"]}'
    assert info['version'] == _settings()['version']
    assert 'core' in info['modules']
