"""Every sampler on digits: offline FID against network calls (NFE) on the README's run, ddpm_lit's solvers chapter in numbers.

    python bench/samplers.py                                    # the published table (about 25 minutes on 2 CPU cores)
    python bench/samplers.py --n 100 --nfe 10,20 --out /tmp/s   # a quick look, not the published table

Each row is measured by one `ddpm_lit eval --metrics fid` command on `runs/digits` (trained first with the README's
command if it is missing): `--n` samples (seed 0, one batch: every sampler starts from the same x_T), scored as saved
(clamped, 256 levels) by the offline digits features against the train split, with the sampling seconds that eval
reports. Every sampler runs on its own default spacing and options unless the row says otherwise; two-call samplers
(heun, karras-stochastic) take K = (NFE + 1) // 2 steps, 2K - 1 calls. Besides the main grid: Karras et al.'s
S_churn swept, DPM-Solver++(2M) SDE on the other spacing, the ancestral sampler without clipping and with a second
seed (how much FID moves with the draw). `--jobs` commands run at once, each with one torch thread (OMP_NUM_THREADS=1),
so every row's seconds are one core's. Results: `--out`/samplers.json (every row with its command) and samplers.md; a row already there (same --run and --n) is
not measured again.

    python bench/samplers.py --confirm                          # the goals' rows again, on 2000 samples each (about 15 minutes)

FID on 500 samples moves a lot with the draw. `--confirm` draws `--confirm-n` samples (seed 0, batches of 500) for each
setting the goals compare, with `ddpm_lit sample --out x.npz` (exactly what eval scores), and reports the FID of all
of them and of each disjoint 500 (their mean and spread say how far apart two n = 500 figures can be by chance).
Results: `--out`/samplers-confirm.json and samplers-confirm.md (with `--seed N`: samplers-confirm-seedN.*, a second draw).
"""
from __future__ import annotations
import argparse, json, os, platform, re, statistics, subprocess, sys, tempfile, time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CPU = next((l.split(':', 1)[1].strip() for l in open('/proc/cpuinfo') if l.startswith('model name')), platform.machine()) if Path('/proc/cpuinfo').exists() else platform.machine()
TWO_CALLS = ('heun', 'karras-stochastic')
MAIN = ['ddpm', 'ddim', 'dpmpp-2m', 'heun', 'dpmpp-2m-sde', 'karras-stochastic']
NAMES = {'ddpm': 'ancestral (DDPM)', 'ddim': 'DDIM', 'dpmpp-2m': 'DPM-Solver++(2M)', 'heun': 'Heun',
         'dpmpp-2m-sde': 'DPM-Solver++(2M) SDE', 'karras-stochastic': 'Karras et al. stochastic'}


def steps_for(sampler: str, nfe: int) -> int:
    "Steps that spend at most `nfe` network calls."
    return (nfe + 1) // 2 if sampler in TWO_CALLS else nfe


def tasks(nfes: list[int], extras: bool) -> list[tuple[str, list[str], list[int]]]:
    "(label, flags, step counts): one eval command each; the long counts get commands of their own so two jobs share the work evenly."
    out, top = [], max(nfes)
    for s in MAIN:
        counts = [steps_for(s, k) for k in nfes]
        out += [(NAMES[s], ['--sampler', s], [c]) for c in counts if c >= 250] + [(NAMES[s], ['--sampler', s], [c for c in counts if c < 250])]
    if extras:
        for churn in [1, 2, 4, 8]:  # gamma = S_churn / K stays below its cap sqrt(2) - 1 at K = 10, 18, 25 for most of these
            out.append((f'Karras et al. stochastic, S_churn {churn}', ['--sampler', 'karras-stochastic', '--s-churn', str(churn)], [steps_for('heun', k) for k in (20, 35, 50)]))
        out.append(('DPM-Solver++(2M) SDE, karras spacing', ['--sampler', 'dpmpp-2m-sde', '--spacing', 'karras'], [10, 20, 50]))
        out.append(('ancestral (DDPM), no clipping', ['--sampler', 'ddpm', '--no-clip'], [top]))
        out.append(('ancestral (DDPM), seed 1', ['--sampler', 'ddpm', '--seed', '1'], [top]))
        out.append(('DPM-Solver++(2M) SDE, seed 1', ['--sampler', 'dpmpp-2m-sde', '--seed', '1'], [20, 50]))
    return [(l, f, [c for c in cs if c]) for l, f, cs in out if any(cs)]


def measure(label: str, flags: list[str], counts: list[int], a) -> list[dict]:
    "One `ddpm_lit eval` command: a row per step count."
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ['eval', '--ckpt', str(a.run), '--metrics', 'fid', '--n', str(a.n), '--steps', ','.join(map(str, counts)), *flags]
        t0 = time.time()
        subprocess.run([sys.executable, '-m', 'ddpm_lit', *cmd, '--no-progress', '--out', f'{tmp}/r.json'], check=True, cwd=ROOT,
                       env={**os.environ, 'OMP_NUM_THREADS': '1'}, stdout=subprocess.DEVNULL)
        fids = json.loads(Path(f'{tmp}/r.json').read_text())['fid']
    fids = fids if isinstance(fids, list) else [fids]
    print(f"{time.time() - t0:7.1f} s  {label}: " + ', '.join(f"{f['sampler']['nfe']} NFE {f['value']:.3f}" for f in fids), flush=True)
    return [{'label': label, **{k: f['sampler'][k] for k in ('sampler', 'spacing', 'steps', 'nfe', 'options', 'clip_x0', 'seed')},
             'fid': round(f['value'], 3), 'n': f['n'], 'sampling_seconds': f['sampling_seconds'],
             'command': 'ddpm_lit ' + ' '.join(cmd[:7] + ['--steps', str(f['sampler']['steps'])] + flags)} for f in fids]


def table(rows: list[dict]) -> str:
    "The rows as a markdown table, grouped by label, in NFE order."
    lines = ['| sampler | spacing | options | steps | NFE | FID | sampling s |', '|---|---|---|---|---|---|---|']
    for r in sorted(rows, key=lambda r: (r['label'], r['nfe'])):
        opts = ', '.join(f"{k} {v:g}" for k, v in r['options'].items()) + (', clip' if r['clip_x0'] else '') + (f", seed {r['seed']}" if r['seed'] else '')
        lines.append(f"| {r['label']} | {r['spacing']} | {opts} | {r['steps']} | {r['nfe']} | {r['fid']:.3f} | {r['sampling_seconds']:.1f} |")
    return '\n'.join(lines) + '\n'


def goals(rows: list[dict], top: int) -> list[str]:
    "The issue's two goals, as measured: against the ancestral sampler and DPM-Solver++(2M) at `top` steps (1000: all of them)."
    fid = lambda label, nfe: next(r['fid'] for r in rows if r['label'] == label and r['nfe'] == nfe)
    ref, out = fid(NAMES['ddpm'], top), []
    best = min((r for r in rows if r['sampler'] in ('dpmpp-2m-sde', 'karras-stochastic') and r['nfe'] <= 50 and r['seed'] == 0), key=lambda r: r['fid'])
    out.append(f"best stochastic solver at <= 50 NFE: {best['label']} at {best['nfe']} NFE, FID {best['fid']:.3f} = {best['fid'] / ref:.3f} x "
               f"DDPM-{top}'s {ref:.3f} (within 10% on this one draw of n: {'yes' if best['fid'] <= 1.1 * ref else 'no'})")
    limit, at10 = fid(NAMES['dpmpp-2m'], top), fid(NAMES['dpmpp-2m'], 10)
    out.append(f"DPM-Solver++(2M), default spacing, 10 NFE: FID {at10:.3f} = {at10 / limit:.3f} x its own {top}-step limit {limit:.3f} "
               f"(within 10% on this one draw of n: {'yes' if abs(at10 / limit - 1) <= 0.1 else 'no'})")
    return out


CONFIRM = [('ancestral (DDPM)', 'ddpm', 1000), ('DPM-Solver++(2M)', 'dpmpp-2m', 10), ('DPM-Solver++(2M)', 'dpmpp-2m', 100),
           ('DPM-Solver++(2M) SDE', 'dpmpp-2m-sde', 20), ('DPM-Solver++(2M) SDE', 'dpmpp-2m-sde', 35), ('DPM-Solver++(2M) SDE', 'dpmpp-2m-sde', 50),
           ('DPM-Solver++(2M) SDE', 'dpmpp-2m-sde', 100), ('Karras et al. stochastic', 'karras-stochastic', 18),
           ('Karras et al. stochastic', 'karras-stochastic', 25), ('Karras et al. stochastic', 'karras-stochastic', 50)] # (label, sampler, steps)


def confirm_one(label: str, sampler: str, steps: int, a) -> dict:
    "`ddpm_lit sample` of --confirm-n samples, scored whole and in disjoint 500s, as eval scores them."
    import numpy as np, torch
    from ddpm_lit import metrics
    from ddpm_lit.data import from_uint8, get_dataset, items
    with tempfile.TemporaryDirectory() as tmp:
        cmd = ['sample', '--ckpt', str(a.run), '--n', str(a.confirm_n), '--sampler', sampler, '--steps', str(steps), '--seed', str(a.seed)]
        out = subprocess.run([sys.executable, '-m', 'ddpm_lit', *cmd, '--out', f'{tmp}/x.npz', '--no-progress'], check=True, cwd=ROOT,
                             env={**os.environ, 'OMP_NUM_THREADS': '1'}, capture_output=True, text=True).stdout
        x = from_uint8(torch.from_numpy(np.load(f'{tmp}/x.npz')['arr_0']).permute(0, 3, 1, 2))
    net, _ = metrics.feature_net('digits')
    ref = metrics.features(net, items(get_dataset('digits', 'train')))
    f = metrics.features(net, x)
    parts = [metrics.fid_from_features(f[i:i + 500], ref) for i in range(0, len(f) - 499, 500)]
    nfe = re.search(r'(\d+) network calls each', out).group(1)
    row = {'label': label, 'sampler': sampler, 'steps': steps, 'nfe': int(nfe), 'n': len(x), 'fid': round(metrics.fid_from_features(f, ref), 3),
           'fid_500': [round(p, 3) for p in parts], 'fid_500_mean': round(statistics.mean(parts), 3), 'fid_500_sd': round(statistics.stdev(parts), 3),
           'command': 'ddpm_lit ' + ' '.join(cmd) + ' --out x.npz'}
    print(f"{label} {row['nfe']} NFE: FID {row['fid']:.3f} (n = {len(x)}); n = 500 parts {row['fid_500']}", flush=True)
    return row


def confirm(a):
    "The goals' settings on --confirm-n samples each: samplers-confirm.json and .md."
    T = json.loads((ROOT / a.run / 'config.json').read_text())['config']['T']
    settings = sorted({(l, s, min(k, T)) for l, s, k in CONFIRM})  # a run of fewer steps (the tests' toy run): its own T in place of 1000
    t0 = time.time()
    with ThreadPoolExecutor(a.jobs) as pool:
        rows = list(pool.map(lambda c: confirm_one(*c, a), sorted(settings, key=lambda c: -c[2] * (2 if c[1] in TWO_CALLS else 1))))
    rows.sort(key=lambda r: (MAIN.index(r['sampler']), r['nfe']))
    res = {'what': f"The goals' settings on {a.confirm_n} samples each (seed {a.seed}), scored whole and in disjoint 500s", 'run': a.run, 'jobs': a.jobs, 'seed': a.seed,
           'machine': f"{CPU}, {os.cpu_count()} CPUs", 'wall_seconds': round(time.time() - t0),
           'command': 'python bench/samplers.py --confirm' + (f' --seed {a.seed}' if a.seed else ''), 'rows': rows}
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    name = 'samplers-confirm' + (f'-seed{a.seed}' if a.seed else '')
    (out / f'{name}.json').write_text(json.dumps(res, indent=1) + '\n')
    (out / f'{name}.md').write_text(confirm_md(res))
    print(confirm_md(res))


def confirm_md(res: dict) -> str:
    "The --confirm table as markdown."
    n = res['rows'][0]['n']
    lines = [f'| sampler | steps | NFE | FID, n = {n} | FID of each 500 | mean +- sd |', '|---|---|---|---|---|---|']
    lines += [f"| {r['label']} | {r['steps']} | {r['nfe']} | {r['fid']:.3f} | {', '.join(f'{p:.1f}' for p in r['fid_500'])} | {r['fid_500_mean']:.1f} +- {r['fid_500_sd']:.1f} |" for r in res['rows']]
    return (f"# {res['what']}\n\n`{res['command']}` on {res['machine']}, {res['jobs']} jobs of one thread, {res['wall_seconds']} s in all "
            "(sampling seconds: see samplers.md; these ran beside other work).\n\n" + '\n'.join(lines) + '\n')


def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--run', default='runs/digits', help="the trained run (the README's, trained if missing); relative to the repository")
    p.add_argument('--n', type=int, default=500, help='samples per FID')
    p.add_argument('--nfe', default='10,20,35,50,100,1000', help='network-call budgets of the main grid')
    p.add_argument('--no-extras', action='store_true', help='only the main grid')
    p.add_argument('--jobs', type=int, default=2, help='eval commands at once, one thread each')
    p.add_argument('--out', default=str(ROOT / 'bench' / 'results'), help='folder for samplers.json and samplers.md')
    p.add_argument('--confirm', action='store_true', help="only the goals' settings again, on --confirm-n samples each")
    p.add_argument('--confirm-n', type=int, default=2000, help='samples per setting with --confirm (a multiple of 500)')
    p.add_argument('--seed', type=int, default=0, help='with --confirm: the seed of every draw (another seed: another file, samplers-confirm-seedN)')
    a = p.parse_args(argv)
    if not (ROOT / a.run / 'config.json').exists():  # (an absolute --run stays itself under ROOT /)
        subprocess.run([sys.executable, '-m', 'ddpm_lit', 'train', '--dataset', 'digits', '--out', a.run, '--no-progress'], check=True, cwd=ROOT)
    if a.confirm: return confirm(a)
    nfes = [int(k) for k in a.nfe.split(',')]
    todo = sorted(tasks(nfes, not a.no_extras), key=lambda t: -sum(t[2]) * (2 if any(s in t[1] for s in TWO_CALLS) else 1))  # longest first
    done, history = {}, []  # rows of an earlier run with the same settings, by (label, steps): not measured again
    if (old := Path(a.out) / 'samplers.json').exists() and (prev := json.loads(old.read_text()))['n'] == a.n and prev['run'] == a.run:
        done, history = {(r['label'], r['steps']): r for r in prev['rows']}, prev.get('history', [])
    kept = [done[l, c] for l, _, cs in todo for c in cs if (l, c) in done]
    todo = [(l, f, [c for c in cs if (l, c) not in done]) for l, f, cs in todo]
    t0 = time.time()
    with ThreadPoolExecutor(a.jobs) as pool:
        rows = kept + [r for rs in pool.map(lambda t: measure(*t, a), [t for t in todo if t[2]]) for r in rs]
    res = {'what': __doc__.split('\n\n')[0], 'run': a.run, 'n': a.n, 'jobs': a.jobs, 'threads_per_job': 1,
           'machine': f"{CPU}, {os.cpu_count()} CPUs", 'history': history + ([{'date': time.strftime('%Y-%m-%d %H:%M'), 'wall_seconds': round(time.time() - t0), 'rows_measured': len(rows) - len(kept)}] if len(rows) > len(kept) else []),
           'command': 'python bench/samplers.py ' + ' '.join(argv if argv is not None else sys.argv[1:]), 'rows': rows}
    res['goals'] = goals(rows, max(nfes)) if 10 in nfes else []
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    (out / 'samplers.json').write_text(json.dumps(res, indent=1) + '\n')
    runs = '; '.join(f"{h['date']}: {h['rows_measured']} rows in {h['wall_seconds']} s" for h in res['history'])
    (out / 'samplers.md').write_text(f"# {res['what']}\n\n`{res['command'].strip()}` on {res['machine']}, {a.jobs} jobs of one thread; n = {a.n}. "
                                     f"Measured in {len(res['history'])} invocations, each measuring only the rows not yet in the table ({runs}). "
                                     "Sampling seconds: one core's, for the n samples of the row.\n\n" + table(rows) + '\n' + '\n'.join(f"- {g}" for g in res['goals']) + '\n')
    print(table(rows)); print('\n'.join(res['goals']))


if __name__ == '__main__':
    main()
