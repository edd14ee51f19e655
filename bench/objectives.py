"""Objectives on digits with the same budget per row: what the network predicts, how its loss is weighted, and
which reverse variance it samples with, against test bits/dim and offline FID (ddpm_lit's objectives chapter).

    python bench/objectives.py                 # everything: trains what is missing, then measures (about 2 hours on 2 CPU cores)
    python bench/objectives.py --train-only    # only the training runs
    python bench/objectives.py --steps 200 --n 100 --out /tmp/obj   # a quick look, not the published table

Every training run has the same settings (digits, batch 128, `--steps` optimizer steps, seed 0) but its objective;
the row 'L_simple + analytic variance' reuses the L_simple network (Analytic-DPM needs no retraining). Each row is
measured by `ddpm_lit eval` on the EMA weights: bits/dim of the whole test split (full T-step bound, +- its standard
error), and FID of `--n` samples (offline digits features, against the train split) with the row's variance at
DDPM-1000 and respaced to 100 and 50 steps, and for DDIM-50 (which uses no variance). Results go to
`--out`/objectives.json (each row, with its commands) and objectives.md (the table). A row already measured in
objectives.json is not measured again.
"""
from __future__ import annotations
import argparse, json, os, subprocess, sys, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# name -> (training flags, eval --var, what the row is)
RUNS = {'simple': [], 'hybrid': ['--loss', 'hybrid', '--var-type', 'learned'],
        'vlb-is': ['--loss', 'vlb', '--var-type', 'learned', '--t-sampling', 'importance'],
        'v-minsnr': ['--pred', 'v', '--weighting', 'min-snr']}
ROWS = [('L_simple, eps, fixed beta (Ho et al.)', 'simple', 'fixed_large'),
        ('L_simple, eps, analytic variance (Bao et al.)', 'simple', 'analytic'),
        ('L_hybrid, eps, learned variance (Nichol & Dhariwal)', 'hybrid', 'learned'),
        ('L_vlb, importance-sampled t, learned variance', 'vlb-is', 'learned'),
        ('v-prediction, min-SNR-5, fixed beta (Salimans & Ho; Hang et al.)', 'v-minsnr', 'fixed_large')]
CATEGORICAL_BPD = 2.44  # per-pixel categorical baseline on digits (metrics chapter, `categorical_bpd`)


def run(cmd: list[str]) -> float:
    "Run a command (ddpm_lit through this Python), stop on failure; returns its seconds."
    print('$', ' '.join(cmd), flush=True)
    t0 = time.time()
    subprocess.run([sys.executable, '-m', 'ddpm_lit', *cmd], check=True)
    return time.time() - t0


def train(name: str, a) -> dict:
    "Train run `name` to `--steps` (resuming a partial run); its training seconds from metrics.jsonl."
    out = Path(a.runs) / name
    run(['train', '--dataset', 'digits', '--steps', str(a.steps), '--T', str(a.T), '--out', str(out), '--resume', '--no-progress',
         '--n-samples', str(a.n_samples), *RUNS[name]])
    rows = [json.loads(l) for l in (out / 'metrics.jsonl').read_text().splitlines() if l.strip()]
    return {'steps': rows[-1]['step'], 'train_seconds': round(rows[-1]['elapsed_s'], 1), 'flags': RUNS[name]}


def measure(name: str, var: str, a) -> dict:
    "bits/dim and FID of run `name` sampled with variance `var`."
    ckpt, tmp = str(Path(a.runs) / name), Path(a.runs) / f"eval-{name}-{var}"
    res = {}
    base = ['eval', '--ckpt', ckpt, '--var', var, '--no-progress', '--n', str(a.n), *(['--n-bpd', str(a.n_bpd)] if a.n_bpd else []),
            *(['--analytic-n', str(a.analytic_n)] if var == 'analytic' else [])]
    for key, extra in [('bpd', ['--metrics', 'bpd']), ('ddpm', ['--metrics', 'fid', '--sampler', 'ddpm', '--steps', f'{a.T},100,50']),
                       ('ddim', ['--metrics', 'fid', '--sampler', 'ddim', '--steps', '50'])]:
        if key == 'ddim' and var == 'analytic': continue  # DDIM uses no variance: once per network, on the row of its own variance
        res[key + '_seconds'] = run(base + extra + ['--out', f"{tmp}-{key}.json"])
        res[key] = json.loads(Path(f"{tmp}-{key}.json").read_text())
        res[key + '_command'] = 'ddpm_lit ' + ' '.join(base + extra)
    return res


def table(rows: list[dict], T: int) -> str:
    head = (f'| objective | test bits/dim | FID DDPM-{T} | FID DDPM-100 | FID DDPM-50 | FID DDIM-50 | training s |\n'
            '|---|---|---|---|---|---|---|\n')
    ddim = {r['run']: r['ddim']['fid']['value'] for r in rows if 'ddim' in r}
    body = ''
    for r in rows:
        b, f = r['bpd']['bpd'], {x['sampler']['steps']: x['value'] for x in r['ddpm']['fid']}
        body += (f"| {r['row']} | {b['value']:.3f} +- {b['se']:.3f} | {f[T]:.2f} | {f[100]:.2f} | {f[50]:.2f} | "
                 f"{ddim[r['run']]:.2f} | {r['train_seconds']:.0f} |\n")
    return head + body


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--steps', type=int, default=2000, help='optimizer steps of every run')
    p.add_argument('--n', type=int, default=500, help='samples per FID')
    p.add_argument('--T', type=int, default=1000, help='diffusion steps of every run')
    p.add_argument('--n-samples', type=int, default=64, help='images in the grid each training run draws when it ends')
    p.add_argument('--n-bpd', type=int, default=None, help='test images for bits/dim; default: the whole test split')
    p.add_argument('--analytic-n', type=int, default=200, help='training images behind the analytic variance')
    p.add_argument('--runs', default='runs/objectives', help='where the runs are trained')
    p.add_argument('--out', default=str(HERE / 'results'), help='where objectives.json and objectives.md go')
    p.add_argument('--train-only', action='store_true')
    p.add_argument('--only', default=None, help='comma-separated run names (of simple, hybrid, vlb-is, v-minsnr): train and measure only these')
    a = p.parse_args()
    only = set(a.only.split(',')) if a.only else set(RUNS)
    if only - set(RUNS): p.error(f"--only takes names from {', '.join(RUNS)}; got {a.only}")
    Path(a.out).mkdir(parents=True, exist_ok=True)
    trained = {name: train(name, a) for name in RUNS if name in only}
    if a.train_only: return
    path = Path(a.out) / 'objectives.json'
    done = {(r['run'], r['var']): r for r in json.loads(path.read_text())['rows']} if path.exists() else {}
    for label, name, var in ROWS:  # each row is kept in its own file as soon as it is measured (runs may be measured in parallel)
        row_file = Path(a.runs) / f"row-{name}-{var}.json"
        if row_file.exists(): done[(name, var)] = json.loads(row_file.read_text())
        elif name in only and (name, var) not in done:
            done[(name, var)] = {'row': label, 'run': name, 'var': var, **trained[name], **measure(name, var, a)}
            row_file.write_text(json.dumps(done[(name, var)], indent=1) + '\n')
    rows = [done[(name, var)] for _, name, var in ROWS if (name, var) in done]
    path.write_text(json.dumps({'rows': rows, 'steps': a.steps, 'T': a.T, 'n': a.n, 'categorical_bpd': CATEGORICAL_BPD,
                                'machine': f"{os.cpu_count()} CPU cores", 'command': 'python bench/objectives.py'}, indent=1) + '\n')
    if all(r['run'] in {x['run'] for x in rows if 'ddim' in x} for r in rows):
        (Path(a.out) / 'objectives.md').write_text(table(rows, a.T))
        print(table(rows, a.T))


if __name__ == '__main__':
    main()
