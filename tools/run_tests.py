"""Run every test of ddpm_lit once, on every core, and print a closing line `N passed, M failed, K skipped`.

1. In-step checks, on a temporary copy so the working tree is never touched: `nbdev_export` and `nbdev_clean`
   change nothing, README.md is what tools/readme.py makes of index.ipynb, nbdev's docs preparation processes
   every notebook, the pre-render step resolves every citation and every exported name has a doc entry.
2. Jobs, run side by side (one process per core, one intra-op thread each), longest first by the times in
   tools/test_times.json, so that the slowest does not start last:
   - each notebook, executed once by nbdev's own `test_nb` (the function behind `nbdev_test`, with its
     `tst_flags`: `slow`, `cuda` and `notest` cells are skipped unless `--flags` names them). A recording
     shell keeps each cell's result from that one execution: every code cell that ran counts as one test, and
     a cell marked `# NBVAL_CHECK_OUTPUT` must also reproduce the text it was committed with (one more test);
   - each file under tests/, with pytest (every test counts);
   - the mutation check (tools/mutation_check.py): each planted bug is one notebook run that must fail.
Exit status is non-zero if anything failed.

`--changed [BASE]` is the quick loop: the in-step checks, then only the notebooks, tests and mutants that a
change touches (see `touched`), against BASE (default: `main`'s merge base on a branch, the last commit on
main; uncommitted and untracked files count as changed).
"""
import argparse, ast, filecmp, json, os, re, shutil, subprocess, sys, tempfile, time
import xml.etree.ElementTree as ET
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'tools'))
BIN = Path(sys.executable).parent
TIMES = ROOT / 'tools' / 'test_times.json'
LOGS = ROOT / '.test-logs'
# One intra-op thread per process: two processes with two threads each on a 2-core machine fight over the cores
# (measured here: a conv forward+backward 10x slower with 2 threads per process under load).
ENV = {**os.environ, 'PATH': f"{BIN}{os.pathsep}{os.environ.get('PATH', '')}", 'PYTHONUNBUFFERED': '1',
       'OMP_NUM_THREADS': os.environ.get('OMP_NUM_THREADS', '1'), 'MKL_NUM_THREADS': os.environ.get('MKL_NUM_THREADS', '1')}
CHECK_OUTPUT = '# NBVAL_CHECK_OUTPUT'
UNKNOWN_S = 120  # the estimate for a job with no recorded time: a new job starts early rather than last


def run(cmd, cwd=ROOT, capture=False):
    print(f"$ {' '.join(map(str, cmd))}", flush=True)
    return subprocess.run(list(map(str, cmd)), cwd=cwd, env=ENV, text=True,
                          stdout=subprocess.PIPE if capture else None, stderr=subprocess.STDOUT if capture else None)

# ---------------------------------------------------------------------------------------------------------
# 1. in-step checks

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
            if src.is_dir(): shutil.copytree(src, tmp / name, ignore=shutil.ignore_patterns('__pycache__', '_proc', '.quarto', 'runs', 'data', '_mut_*'))
            elif src.exists(): shutil.copy2(src, tmp / name)
        snap = tmp.parent / (tmp.name + '-before')
        shutil.copytree(tmp, snap)
        try:
            for label, cmd in [('nbdev_export changes nothing', [BIN / 'nbdev_export']),
                               ('nbdev_clean changes nothing', [BIN / 'nbdev_clean']),
                               ('README.md is in step with index.ipynb', [sys.executable, 'tools/readme.py']),
                               ('notebooks are as JupyterLab saves them (tools/labform.py)', [sys.executable, 'tools/labform.py'])]:
                r = run(cmd, cwd=tmp, capture=True)
                diff = _tree_diff(snap, tmp)
                ok = r.returncode == 0 and not diff
                if not ok:
                    print(r.stdout)
                    print(f"FAILED: {label}; files it would change: {diff or '(command failed)'}\n"
                          "  fix: run `nbdev_export && nbdev_clean && python tools/readme.py && python tools/labform.py`"
                          " and commit the result")
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

# ---------------------------------------------------------------------------------------------------------
# 2a. one notebook, executed once (runs in a child process: `run_tests.py --notebook PATH --result FILE`)

def output_text(outputs) -> str:
    "The text a cell's outputs show: streams and text/plain results, in order, independent of how they are split."
    parts = []
    for o in outputs or []:
        if o.get('output_type') == 'stream': parts.append((o.get('name'), ''.join(o.get('text', ''))))
        elif o.get('output_type') in ('execute_result', 'display_data'):
            parts.append(('result', ''.join(o.get('data', {}).get('text/plain', ''))))
    merged = []
    for name, text in parts:  # consecutive writes to one stream are one text, however the kernel split them
        if merged and merged[-1][0] == name and name != 'result': merged[-1] = (name, merged[-1][1] + text)
        else: merged.append((name, text))
    return '\n'.join(f'[{n}]\n{t}' for n, t in merged)

def run_notebook(path: Path, flags: str, package: Path | None = None) -> dict:
    "Execute `path` with nbdev's `test_nb`, recording every code cell: ran, seconds, error, committed output reproduced (`package`: a folder whose ddpm_lit is imported instead)."
    import nbdev.test, execnb.shell
    from nbdev.config import get_config
    committed = {i: c for i, c in enumerate(json.loads(path.read_text())['cells'])}
    cells = []

    class RecordingShell(execnb.shell.CaptureShell):
        "nbdev's shell, recording each cell's result as it runs."
        def run_all(self, nb, exc_stop=False, preproc=execnb.shell._false, postproc=execnb.shell._false, **kw):
            started = {}
            def pre(cell):
                skip = preproc(cell)
                if not skip and cell.cell_type == 'code': started[cell.idx_] = time.perf_counter()
                return skip
            def post(cell):
                if cell.cell_type == 'code':
                    i = cell.idx_
                    rec = dict(idx=i, s=round(time.perf_counter() - started[i], 3), ok=not self.exc,
                               first_line=cell.source.strip().splitlines()[0][:80] if cell.source.strip() else '')
                    if self.exc: rec['error'] = f"{type(self.exc).__name__}: {str(self.exc)[:300]}"
                    if CHECK_OUTPUT in cell.source and not self.exc:
                        want, got = output_text(committed[i].get('outputs')), output_text(cell.get('outputs', []))
                        rec['output_ok'] = want == got
                        if want != got: rec['output_diff'] = dict(committed=want[-1500:], now=got[-1500:])
                    cells.append(rec)
                return postproc(cell)
            return super().run_all(nb, exc_stop=exc_stop, preproc=pre, postproc=post, **kw)

    cfg, t0, shell = get_config(), time.time(), nbdev.test.CaptureShell
    nbdev.test.CaptureShell = RecordingShell
    if package:  # the notebook and every process it starts import this copy of the package
        os.environ['PYTHONPATH'] = os.pathsep.join([str(package), *filter(None, [os.environ.get('PYTHONPATH')])])
    try: ok, _ = nbdev.test.test_nb(path, skip_flags=cfg.tst_flags.split(), force_flags=flags.split(), basepath=package or cfg.config_path)
    finally: nbdev.test.CaptureShell = shell
    n_code = sum(c['cell_type'] == 'code' for c in committed.values())
    return dict(ok=ok, s=round(time.time() - t0, 2), cells=cells, n_code=n_code)

# ---------------------------------------------------------------------------------------------------------
# 2b. jobs and their scheduling

@dataclass
class Job:
    name: str           # key in tools/test_times.json, e.g. 'nb:nbs/10_cli.ipynb'
    cmd: list
    kind: str           # 'notebook', 'pytest' or 'mutant'
    result: Path
    info: dict = field(default_factory=dict)
    est: float = UNKNOWN_S

def notebook_job(path: Path, flags: str, name=None, **info) -> Job:
    rel = path.relative_to(ROOT)
    key = name or f'nb:{rel}'
    res = LOGS / (re.sub(r'\W+', '_', key) + '.json')
    return Job(key, [sys.executable, __file__, '--notebook', path, '--flags', flags, '--result', res], 'notebook', res, info)

def pytest_job(path: Path) -> Job:
    key = f'pytest:{path.relative_to(ROOT)}'
    res = LOGS / (re.sub(r'\W+', '_', key) + '.xml')
    return Job(key, [sys.executable, '-m', 'pytest', '-p', 'no:cacheprovider', '-q', '--durations=5', f'--junitxml={res}', path],
               'pytest', res)

def mutant_jobs(only=None) -> list:
    import mutation_check as mc
    jobs = []
    for k, m in enumerate(mc.MUTATIONS):
        if only is not None and m.nb not in only: continue
        path = mc.mutant_path(m, k)
        job = notebook_job(path, '', name=f'mutant:{m.nb}:{m.what}', mutant=m, k=k)
        job.kind = 'mutant'
        jobs.append(job)
    return jobs

class _Forked:
    "A child forked from this process, polled like a Popen."
    def __init__(self, pid): self.pid, self.returncode = pid, None
    def poll(self):
        if self.returncode is None:
            pid, status = os.waitpid(self.pid, os.WNOHANG)
            if pid: self.returncode = os.waitstatus_to_exitcode(status)
        return self.returncode

def _fork_notebook(job, log):
    """Run a notebook job in a child forked from this process, which has imported torch and nbdev already (saving
    each of the many notebook jobs two seconds of imports); the child starts from this process's clean state."""
    sys.stdout.flush(); sys.stderr.flush()
    pid = os.fork()
    if pid: return _Forked(pid)
    code = 1
    try:
        os.dup2(log.fileno(), 1); os.dup2(log.fileno(), 2)
        args = dict(zip(job.cmd[2::2], job.cmd[3::2]))
        m = job.info.get('mutant')
        res = run_notebook(Path(args['--notebook']), args['--flags'], package=None if m is None or m.module is None else mc_package(job))
        job.result.write_text(json.dumps(res))
        code = 0
    except BaseException:
        import traceback; traceback.print_exc()
    finally:
        sys.stdout.flush(); sys.stderr.flush()
        os._exit(code)

def mc_package(job) -> Path:
    import mutation_check as mc
    return mc.package_path(job.info['k'])

def _start(job):
    LOGS.mkdir(exist_ok=True)
    if job.result.exists(): job.result.unlink()
    if job.kind == 'mutant':
        import mutation_check as mc
        mc.write_mutant(job.info['mutant'], job.info['k'])
    log = open(LOGS / (job.result.stem + '.log'), 'w')
    job.info['log'] = log.name
    job.info['t0'] = time.time()
    if job.kind != 'pytest' and hasattr(os, 'fork'): return _fork_notebook(job, log)
    return subprocess.Popen(list(map(str, job.cmd)), cwd=ROOT, env=ENV, stdout=log, stderr=subprocess.STDOUT, text=True)

def _finish(job, proc) -> dict:
    "Counts and a one-line verdict for a finished job."
    s = time.time() - job.info['t0']
    job.info['s'] = s
    if job.kind == 'mutant':
        import mutation_check as mc, shutil
        mc.mutant_path(job.info['mutant'], job.info['k']).unlink(missing_ok=True)
        shutil.rmtree(mc.package_path(job.info['k']), ignore_errors=True)
    tail = Path(job.info['log']).read_text()[-3000:]
    if job.kind == 'pytest': return _pytest_counts(job, proc.returncode, tail, s)
    res = json.loads(job.result.read_text()) if job.result.exists() else None
    if job.kind == 'mutant':
        m = job.info['mutant']
        if res is None: return dict(passed=0, failed=1, skipped=0, line=f"FAIL  mutant {m.nb}: {m.what}: the runner broke ({s:.0f} s)\n{tail}")
        failed_at = [c for c in res['cells'] if not c['ok']]
        where = f"cell {failed_at[0]['idx']}: {failed_at[0]['error'].splitlines()[0][:90]}" if failed_at else ''
        caught = not res['ok']
        return dict(passed=int(caught), failed=int(not caught), skipped=0,
                    line=f"{'CAUGHT' if caught else 'MISSED'} {m.nb}: {m.what}  ({s:.0f} s) {where}")
    if res is None: return dict(passed=0, failed=1, skipped=0, line=f"FAIL  {job.name}: the notebook runner broke ({s:.0f} s)\n{tail}")
    ran = res['cells']
    bad = [c for c in ran if not c['ok']] + [c for c in ran if c.get('output_ok') is False]
    checked = [c for c in ran if 'output_ok' in c]
    passed = sum(c['ok'] for c in ran) + sum(c['output_ok'] for c in checked)
    failed = len(bad) + (0 if res['ok'] or bad else 1)
    skipped = res['n_code'] - len(ran)
    line = f"{'PASS' if not failed else 'FAIL'}  {job.name[3:]}: {len(ran)} cells ran, {len(checked)} outputs compared, {s:.0f} s"
    for c in bad:
        if not c['ok']: line += f"\n      cell {c['idx']} ({c['first_line']}): {c['error']}"
        else: line += (f"\n      cell {c['idx']} ({c['first_line']}): output differs from the committed one\n"
                       f"      committed:\n{c['output_diff']['committed']}\n      now:\n{c['output_diff']['now']}")
    if not res['ok'] and not bad: line += '\n' + tail
    return dict(passed=passed, failed=failed, skipped=skipped, line=line)

def _pytest_counts(job, rc, tail, s):
    if not job.result.exists(): return dict(passed=0, failed=1, skipped=0, line=f"FAIL  {job.name}: pytest broke ({s:.0f} s)\n{tail}")
    suites = ET.parse(job.result).getroot()
    suites = [suites] if suites.tag == 'testsuite' else list(suites)
    tot = {k: sum(int(x.get(k, 0)) for x in suites) for k in ('tests', 'failures', 'errors', 'skipped')}
    failed = tot['failures'] + tot['errors'] + (1 if rc not in (0, 1, 5) else 0)
    passed = tot['tests'] - tot['failures'] - tot['errors'] - tot['skipped']
    line = f"{'PASS' if not failed else 'FAIL'}  {job.name[7:]}: {passed} passed, {failed} failed, {tot['skipped']} skipped, {s:.0f} s"
    if failed: line += '\n' + tail
    return dict(passed=passed, failed=failed, skipped=tot['skipped'], line=line)

def workers() -> int:
    try: return max(1, len(os.sched_getaffinity(0)))
    except AttributeError: return max(1, os.cpu_count() or 1)

def run_jobs(jobs, n_workers):
    "Run jobs longest first, `n_workers` at a time; print each verdict as it comes; return the totals and times."
    times = json.loads(TIMES.read_text()) if TIMES.exists() else {}
    for j in jobs: j.est = times.get(j.name, times.get(f"nb:{j.info['mutant'].notebook}", UNKNOWN_S) if j.kind == 'mutant' else UNKNOWN_S)
    queue = sorted(jobs, key=lambda j: -j.est)
    running, tot = {}, dict(passed=0, failed=0, skipped=0)
    while queue or running:
        while queue and len(running) < n_workers:
            j = queue.pop(0)
            try: running[j.name] = (j, _start(j))
            except (Exception, SystemExit) as e:  # e.g. a mutant whose string no longer occurs once in its notebook
                print(f"FAIL  {j.name}: could not start: {e}", flush=True)
                tot['failed'] += 1; j.info['s'] = 0.0
        time.sleep(0.2)
        for name, (j, p) in list(running.items()):
            if p.poll() is None: continue
            del running[name]
            r = _finish(j, p)
            print(r['line'], flush=True)
            for k in tot: tot[k] += r[k]
    return tot, {j.name: round(j.info['s'], 1) for j in jobs}

# ---------------------------------------------------------------------------------------------------------
# 2c. what a change touches

def notebooks():
    return sorted(p for p in (ROOT / 'nbs').rglob('*.ipynb')
                  if '.ipynb_checkpoints' not in p.parts and not p.name.startswith('_'))

def _imports(src: str) -> set:
    "ddpm_lit modules that Python source (or a notebook's code) names: `ddpm_lit.m`, `from .m import`, `from ddpm_lit import m`."
    mods = set(re.findall(r'\bddpm_lit\.(\w+)', src)) | set(re.findall(r'^\s*from \.(\w+) import', src, re.M))
    for names in re.findall(r'^\s*from (?:ddpm_lit|\.) import \(?([\w, \n]+)\)?', src, re.M): mods |= {n.strip() for n in names.split(',')}
    return mods

def _uses(src: str) -> set:
    "The modules Python source uses: those it imports, and the command line where it runs `python -m ddpm_lit`."
    return _imports(src) | ({'cli'} if "'-m', 'ddpm_lit'" in src else set())

def _module_users() -> dict:
    "For each module of ddpm_lit, the modules that import it, directly or through others."
    pkg = ROOT / 'ddpm_lit'
    deps = {p.stem: _imports(p.read_text()) - {p.stem} for p in pkg.glob('*.py')}
    users = {m: set() for m in deps}
    for m in deps:
        todo = [m]
        while todo:
            x = todo.pop()
            for u, ds in deps.items():
                if x in ds and u not in users[m]: users[m].add(u); todo.append(u)
    return users

def _code_of(nb: Path) -> str:
    return '\n'.join(''.join(c['source']) for c in json.loads(nb.read_text())['cells'] if c['cell_type'] == 'code')

def changed_files(base: str) -> tuple:
    "Files that differ from `base` (committed, uncommitted or untracked), and the base that was used."
    git = lambda *a: subprocess.run(['git', *a], cwd=ROOT, capture_output=True, text=True)
    if base is None:
        branch = git('rev-parse', '--abbrev-ref', 'HEAD').stdout.strip()
        has_main = git('rev-parse', '--verify', '-q', 'main').returncode == 0
        base = git('merge-base', 'HEAD', 'main').stdout.strip() if branch != 'main' and has_main else 'HEAD'
    r = git('diff', '--name-only', base)
    if r.returncode != 0: sys.exit(f"--changed: git cannot compare with {base!r}: {r.stderr.strip()}")
    files = set(r.stdout.split()) | set(git('ls-files', '--others', '--exclude-standard').stdout.split())
    return sorted(files), base

# A change to one of these reruns everything: the test machinery or what every test depends on.
EVERYTHING = ('tools/run_tests.py', 'tools/test.sh', 'settings.ini', 'setup.py', 'pyproject.toml')

# What a test file reads besides the modules it imports (found by `_imports`) and the files it names.
TEST_INPUTS = {'tests/test_packaging.py': ('ddpm_lit/', 'MANIFEST.in'), 'tests/test_runner.py': ('tools/',)}

def touched(files) -> tuple:
    "The notebooks, test files and notebooks-with-mutants that `files` touch."
    import mutation_check as mc
    nbs, tests = notebooks(), sorted((ROOT / 'tests').glob('test_*.py'))
    if any(f in EVERYTHING for f in files): return nbs, tests, None
    mods = {Path(f).stem for f in files if f.startswith('ddpm_lit/') and f.endswith('.py') and not Path(f).stem.startswith('_')}
    users = _module_users()
    mods |= {u for m in mods for u in users.get(m, ())}
    exports = lambda nb: set(re.findall(r'#\|\s*default_exp\s+(\w+)', _code_of(nb)))
    nb_hit = [nb for nb in nbs if str(nb.relative_to(ROOT)) in files or (_uses(_code_of(nb)) | exports(nb)) & mods]
    bench_uses = set().union(*(_uses(p.read_text()) for p in (ROOT / 'bench').glob('*.py')))
    def test_hit(t):
        src, rel = t.read_text(), str(t.relative_to(ROOT))
        uses = _uses(src) | (bench_uses if 'bench' in src else set())
        named = {f for f in files if Path(f).stem in src and not f.startswith('nbs/')}  # tools/docs_prerender.py, bench/objectives.py ...
        reads_nbs = "'nbs'" in src or 'NBS' in src
        inputs = TEST_INPUTS.get(rel, ())
        return (rel in files or uses & mods or named or (inputs and any(f.startswith(inputs) for f in files))
                or (reads_nbs and any(f.startswith('nbs/') for f in files)))
    test_files = [t for t in tests if test_hit(t)]
    mutant_nbs = {m.nb for m in mc.MUTATIONS if m.notebook in {str(nb.relative_to(ROOT)) for nb in nb_hit}}
    if 'tools/mutation_check.py' in files: mutant_nbs = None  # every mutant
    return nb_hit, test_files, mutant_nbs

# ---------------------------------------------------------------------------------------------------------

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--flags', default='', help="space-separated test flags to run too (e.g. 'slow')")
    p.add_argument('--changed', nargs='?', const='', default=None, metavar='BASE',
                   help="the quick loop: only what a change against BASE touches (default: main's merge base, or HEAD on main)")
    p.add_argument('--mutants', nargs='*', default=None, metavar='NOTEBOOK',
                   help='only the mutation check (of these notebooks, e.g. 12_solvers; all when none is named)')
    p.add_argument('--no-mutants', action='store_true', help='skip the mutation check')
    p.add_argument('--workers', type=int, default=None, help='processes side by side (default: the cores this process may use)')
    p.add_argument('--record-times', action='store_true', help='write the measured seconds of every job to tools/test_times.json')
    p.add_argument('--notebook', type=Path, help=argparse.SUPPRESS)
    p.add_argument('--result', type=Path, help=argparse.SUPPRESS)
    args = p.parse_args(argv)
    if args.notebook:  # a child: one notebook
        res = run_notebook(args.notebook.resolve(), args.flags)
        args.result.write_text(json.dumps(res))
        return
    os.environ.update(ENV)  # before torch is imported: the forked notebook jobs inherit one intra-op thread
    import torch, nbdev.test, execnb.shell  # noqa: F401  (imported once here, inherited by every forked notebook job)
    t0 = time.time()
    tot = dict(passed=0, failed=0, skipped=0)
    n_workers = args.workers or workers()
    if args.mutants is not None:
        jobs = mutant_jobs(set(args.mutants) or None)
    else:
        print('== in-step checks', flush=True)
        for label, ok in check_in_step().items():
            print(f"{'PASS' if ok else 'FAIL'}: {label}")
            tot['passed' if ok else 'failed'] += 1
        if args.changed is not None:
            files, base = changed_files(args.changed or None)
            nbs, tests, mut = touched(files)
            print(f"\n== changed against {base[:12]}: {len(files)} files; touched: {len(nbs)} notebooks, {len(tests)} test files, "
                  f"mutants of {sorted(mut) if mut is not None else 'every notebook'}", flush=True)
            if args.no_mutants: mut = set()
        else:
            nbs, tests, mut = notebooks(), sorted((ROOT / 'tests').glob('test_*.py')), None if not args.no_mutants else set()
        jobs = [notebook_job(nb, args.flags) for nb in nbs] + [pytest_job(t) for t in tests] + mutant_jobs(mut)
    print(f"\n== {len(jobs)} jobs, {n_workers} at a time, longest first", flush=True)
    counts, times = run_jobs(jobs, n_workers)
    for k in tot: tot[k] += counts[k]
    if args.record_times:
        TIMES.write_text(json.dumps(dict(sorted({**(json.loads(TIMES.read_text()) if TIMES.exists() else {}), **times}.items())), indent=1) + '\n')
    slow = sorted(times.items(), key=lambda kv: -kv[1])[:10]
    print('\nslowest jobs: ' + ', '.join(f'{k} {v:.0f} s' for k, v in slow))
    print(f"all tests took {time.time() - t0:.0f} s")
    print(f"{tot['passed']} passed, {tot['failed']} failed, {tot['skipped']} skipped")
    sys.exit(1 if tot['failed'] else 0)

if __name__ == '__main__': main()
