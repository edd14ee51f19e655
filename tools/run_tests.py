"""Run every test of ddpm_lit and print a closing line `N passed, M failed` with real counts.

1. in-step checks, on a temporary copy so the working tree is never touched: `nbdev_export` and
   `nbdev_clean` must change nothing, README.md must equal what tools/readme.py makes of index.ipynb, and
   nbdev's docs preparation (everything `nbdev_docs` does before calling Quarto) must process every notebook;
2. `nbdev_test` over every notebook (each notebook counts as one test);
3. `pytest --nbval-lax` over the notebooks (each cell counts as one test; cells marked
   `# NBVAL_CHECK_OUTPUT` must reproduce their committed output), plus any tests under tests/.
Exit status is non-zero if anything failed.
"""
import argparse, filecmp, os, re, shutil, subprocess, sys, tempfile, time
import xml.etree.ElementTree as ET
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BIN = Path(sys.executable).parent
# nbdev_test runs two notebooks at once on a 2-core machine: one intra-op thread each, or they fight over
# the cores (measured here: a conv forward+backward 10x slower with 2 threads per process under load)
ENV = {**os.environ, 'PATH': f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", 'PYTHONUNBUFFERED': '1',
       'OMP_NUM_THREADS': os.environ.get('OMP_NUM_THREADS', '1')}

def run(cmd, cwd=ROOT, capture=False):
    print(f"$ {' '.join(map(str, cmd))}", flush=True)
    return subprocess.run(list(map(str, cmd)), cwd=cwd, env=ENV, text=True,
                          stdout=subprocess.PIPE if capture else None, stderr=subprocess.STDOUT if capture else None)

def _tree_diff(a: Path, b: Path):
    "Relative paths that differ between two trees (added, removed or changed files)."
    out = []
    cmp = filecmp.dircmp(a, b, ignore=['__pycache__', '.ipynb_checkpoints'])
    def walk(c, rel):
        out.extend(str(Path(rel, n)) for n in c.left_only + c.right_only + c.diff_files)
        for n, sub in c.subdirs.items(): walk(sub, Path(rel, n))
    walk(cmp, '')
    return out

def check_in_step():
    "nbdev_export, nbdev_clean and the README generator must leave a copy of the tree unchanged."
    results = {}
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        for name in ['settings.ini', 'pyproject.toml', 'README.md', 'nbs', 'ddpm_lit', 'tools']:
            src = ROOT / name
            if src.is_dir(): shutil.copytree(src, tmp / name, ignore=shutil.ignore_patterns('__pycache__', '_proc', '.quarto', 'runs', 'data'))
            elif src.exists(): shutil.copy2(src, tmp / name)
        snap = tmp.parent / (tmp.name + '-before')
        shutil.copytree(tmp, snap)
        try:
            for label, cmd in [('nbdev_export changes nothing', [BIN / 'nbdev_export']),
                               ('nbdev_clean changes nothing', [BIN / 'nbdev_clean']),
                               ('README.md is in step with index.ipynb', [sys.executable, 'tools/readme.py'])]:
                r = run(cmd, cwd=tmp, capture=True)
                diff = _tree_diff(snap, tmp)
                ok = r.returncode == 0 and not diff
                if not ok:
                    print(r.stdout)
                    print(f"FAILED: {label}; files it would change: {diff or '(command failed)'}\n"
                          "  fix: run `nbdev_export && nbdev_clean && python tools/readme.py` and commit the result")
                    shutil.rmtree(snap); shutil.copytree(tmp, snap)  # judge the next command on its own
                results[label] = ok
        finally: shutil.rmtree(snap, ignore_errors=True)
        results['docs: nbdev prepares every notebook for Quarto'] = check_docs(tmp)
        results.update(check_doc_entries(tmp))
    return results

# What `nbdev_docs` does before it calls Quarto (nbdev.quarto._pre_docs without installing Quarto): it executes
# every export, import and show_doc cell of every notebook, so a cell that mixes an import with test code breaks it.
_DOCS_PREP = """
from nbdev.quarto import refresh_quarto_yml
from nbdev.doclinks import _build_modidx
from nbdev.serve import proc_nbs
from nbdev.quarto import nbdev_sidebar
refresh_quarto_yml(); _build_modidx(); nbdev_sidebar.__wrapped__(); proc_nbs(n_workers=0, force=True)
"""

def check_docs(tmp: Path) -> bool:
    "Run the docs preparation on a copy; every notebook must come out processed."
    r = run([sys.executable, '-c', _DOCS_PREP], cwd=tmp, capture=True)
    nbs = {p.relative_to(tmp / 'nbs') for p in (tmp / 'nbs').rglob('*.ipynb') if '.ipynb_checkpoints' not in str(p)}
    done = {p.relative_to(tmp / '_proc') for p in (tmp / '_proc').rglob('*.ipynb')} if (tmp / '_proc').exists() else set()
    ok = r.returncode == 0 and nbs <= done and (tmp / 'nbs' / 'sidebar.yml').exists()
    if not ok:
        print(r.stdout[-3000:])
        print(f"FAILED: docs preparation; notebooks not processed: {sorted(map(str, nbs - done))}\n"
              "  a cell that mixes imports with other code is executed by nbdev's docs build: move its imports to an import-only cell")
    return ok

def check_doc_entries(tmp: Path) -> dict:
    "On the notebooks nbdev prepared: Quarto's pre-render step runs clean, and every exported name has a doc entry."
    import docs_prerender  # tools/, next to this file
    proc = tmp / '_proc'
    if not proc.exists(): return {'docs: the pre-render step resolves every equation citation': False,
                                  'docs: every exported function and class has a doc entry': False}
    bare = docs_prerender.undocumented_entries(proc)  # before the pre-render step tidies the entries
    problems = docs_prerender.main(proc)
    for p in problems: print(f"FAILED: docs pre-render: {p}")
    missing = docs_prerender.missing_doc_entries(proc, tmp / 'ddpm_lit') + bare
    if missing: print(f"FAILED: exported but with no doc entry (nbdev links to an anchor that no page has) or no docstring: {missing}\n"
                      "  fix: export it from an `#| export` cell, or add a `show_doc(...)` cell for it; give it a docstring")
    return {'docs: the pre-render step resolves every equation citation': not problems,
            'docs: every exported function and class has a doc entry': not missing}

def run_nbdev_test(flags):
    cmd = [BIN / 'nbdev_test', '--do_print', '--timing'] + (['--flags', flags] if flags else [])
    r = run(cmd, capture=True)
    print(r.stdout)
    done = re.findall(r'^- Completed (.+)$', r.stdout, flags=re.M)
    failed = []
    if 'nbdev Tests Failed On The Following Notebooks' in r.stdout:
        failed = re.findall(r'^\t(\S+\.ipynb)$', r.stdout.split('nbdev Tests Failed On The Following Notebooks')[1], flags=re.M)
    if r.returncode != 0 and not failed: failed = ['nbdev_test (exited %d)' % r.returncode]
    return len(done) - len([f for f in failed if f.endswith('.ipynb')]), len(failed)

def run_pytest(flags):
    xml = Path(tempfile.mkdtemp()) / 'pytest.xml'
    targets = ['nbs'] + (['tests'] if (ROOT / 'tests').exists() else [])
    env_flags = {'DDPM_LIT_TEST_FLAGS': flags}
    ENV.update(env_flags)
    r = run([sys.executable, '-m', 'pytest', '--nbval-lax', '-p', 'no:cacheprovider', '-q',
             f'--junitxml={xml}', *targets])
    if not xml.exists(): return 0, 1
    suites = ET.parse(xml).getroot()
    suites = [suites] if suites.tag == 'testsuite' else list(suites)
    tot = {k: sum(int(s.get(k, 0)) for s in suites) for k in ('tests', 'failures', 'errors', 'skipped')}
    failed = tot['failures'] + tot['errors']
    if r.returncode not in (0, 1) and failed == 0: failed = 1  # pytest itself broke
    return tot['tests'] - failed - tot['skipped'], failed, tot['skipped']

def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--flags', default='', help="space-separated test flags to run too (e.g. 'slow')")
    args = p.parse_args()
    t0 = time.time()
    passed = failed = skipped = 0
    print('== 1/3 in-step checks', flush=True)
    for label, ok in check_in_step().items():
        print(f"{'PASS' if ok else 'FAIL'}: {label}")
        passed += ok; failed += not ok
    print('\n== 2/3 nbdev_test', flush=True)
    p_, f_ = run_nbdev_test(args.flags)
    print(f"nbdev_test: {p_} notebooks passed, {f_} failed")
    passed += p_; failed += f_
    print('\n== 3/3 pytest --nbval-lax', flush=True)
    p_, f_, s_ = run_pytest(args.flags)
    print(f"pytest: {p_} passed, {f_} failed, {s_} skipped")
    passed += p_; failed += f_; skipped += s_
    print(f"\nall tests took {time.time() - t0:.0f} s")
    print(f"{passed} passed, {failed} failed, {skipped} skipped")
    sys.exit(1 if failed else 0)

if __name__ == '__main__': main()
