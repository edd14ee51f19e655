"""ddpm_lit against huggingface diffusers and lucidrains' denoising-diffusion-pytorch, in one run on one machine.

    python bench/bench.py                 # everything: throughput at three sizes, then quality per compute
    python bench/bench.py --quick         # a smoke run: tiny batches and repeats, no quality section unless
                                          # --quality-minutes asks for one (a minute or two)

Every measurement runs in a fresh child process (so peak memory is that of one workload, and one library's
imports or compiled graphs cannot slow another), one at a time, with the same thread count. The figures are
medians over repeats with the range (min-max); each ratio is ddpm_lit's median over the faster peer's.
Results go to `--out` as `latest.json` (every number) and `latest.md` (the tables that are printed).
Run it on a quiet machine: on two cores a second busy process slows everything several times over.
"""
from __future__ import annotations
import argparse, json, math, os, platform, resource, statistics, subprocess, sys, tempfile, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))

# (label, system, options): the rows of each size; ddpm_lit's options are its own documented switches
VARIANTS = [('ddpm_lit', 'ddpm_lit', {}),
            ('ddpm_lit bf16', 'ddpm_lit', {'precision': 'bf16'}),
            ('ddpm_lit compile', 'ddpm_lit', {'compile': True}),
            ('diffusers', 'diffusers', {}),
            ('denoising-diffusion-pytorch', 'denoising-diffusion-pytorch', {})]
PEERS = ('diffusers', 'denoising-diffusion-pytorch')
# sizes where a peer cannot build the same network: its row is shown, but it is not matched work
NOT_MATCHED = {('cifar10-35.7M', 'denoising-diffusion-pytorch'):
               "its default Unet has the same parameter count but another layout (narrow at high resolution, wide at low), "
               "which costs {flops} fewer FLOPs per image; only diffusers can build the paper's network, so the ratio is "
               "taken against diffusers alone"}

# ---------------------------------------------------------------- children: one workload each
def _rss_bytes() -> int:
    with open('/proc/self/statm') as f: return int(f.read().split()[1]) * os.sysconf('SC_PAGE_SIZE')

def _peak_above(base: int) -> float:
    "Peak resident memory of this process above `base`, in MiB (Linux reports ru_maxrss in KiB)."
    return max(0.0, resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024 - base) / 2**20

def _sync(device):
    import torch
    if device.type == 'cuda': torch.cuda.synchronize(device)

def _make(spec):
    import torch
    from systems import SIZES, SYSTEM_CLASSES, synthetic_images
    torch.manual_seed(0)
    size = SIZES[spec['size']]
    if spec.get('tiny'): size = _tiny(size)
    return SYSTEM_CLASSES[spec['system']](size, synthetic_images(size), device=spec['device'], **spec['options'])

def _tiny(size):
    "The same size with small batches (for --quick)."
    import dataclasses
    return dataclasses.replace(size, train_batch=min(size.train_batch, 8), sample_batch=min(size.sample_batch, 8), nfe=min(size.nfe, 4))

def child_train(spec) -> dict:
    import torch
    from systems import count_flops
    s = _make(spec)
    base = _rss_bytes() if s.device.type == 'cpu' else 0
    if s.device.type == 'cuda': torch.cuda.reset_peak_memory_stats(s.device)
    flops_fb = count_flops(s, backward=True)
    t0 = time.perf_counter()
    for _ in range(spec['warmup']): s.train_step()
    _sync(s.device); first_s = time.perf_counter() - t0
    t0 = time.perf_counter(); s.train_step(); _sync(s.device); step_s = time.perf_counter() - t0
    k = max(1, math.ceil(spec['repeat_s'] / step_s))
    rates = []
    for _ in range(spec['repeats']):
        t0 = time.perf_counter()
        for _ in range(k): loss = s.train_step()
        float(loss); _sync(s.device)
        rates.append(k * s.data.batch / (time.perf_counter() - t0))
    peak = torch.cuda.max_memory_allocated(s.device) / 2**20 if s.device.type == 'cuda' else _peak_above(base)
    return dict(params=s.params, flops_fwd_bwd_per_image=flops_fb, batch=s.data.batch, steps_per_repeat=k,
                warmup_steps=spec['warmup'], warmup_s=first_s, images_per_s=rates, peak_mib=peak, last_loss=float(loss))

def child_sample(spec) -> dict:
    import torch
    from systems import count_flops
    s = _make(spec)
    base = _rss_bytes() if s.device.type == 'cpu' else 0
    if s.device.type == 'cuda': torch.cuda.reset_peak_memory_stats(s.device)
    flops_f = count_flops(s, backward=False)
    n, nfe = s.size.sample_batch, s.size.nfe
    t0 = time.perf_counter(); s.sample(n, min(nfe, 2), torch.Generator().manual_seed(0)); _sync(s.device)
    first_s = time.perf_counter() - t0
    rates = []
    for r in range(spec['repeats']):
        t0 = time.perf_counter(); x = s.sample(n, nfe, torch.Generator().manual_seed(r)); _sync(s.device)
        rates.append(n / (time.perf_counter() - t0))
    assert x.shape == (n, s.size.channels, s.size.image_size, s.size.image_size), x.shape
    peak = torch.cuda.max_memory_allocated(s.device) / 2**20 if s.device.type == 'cuda' else _peak_above(base)
    return dict(params=s.params, flops_fwd_per_image=flops_f, batch=n, nfe=nfe, warmup_s=first_s, images_per_s=rates, peak_mib=peak)

def child_quality(spec) -> dict:
    "Train on the digits training split for a wall-clock budget, then draw samples with 1000 ancestral steps and score them."
    import torch
    from systems import SIZES, SYSTEM_CLASSES
    from ddpm_lit.data import get_dataset, save_grid
    from ddpm_lit import metrics
    train = get_dataset('digits', 'train')
    size = SIZES['digits']
    opts = dict(spec['options'])
    batch = opts.pop('train_batch', None)  # None: the system's documented default
    torch.manual_seed(0)
    t_build = time.perf_counter()
    s = SYSTEM_CLASSES[spec['system']](size, train.data, train_batch=batch or DEFAULT_BATCH[spec['system']], device=spec['device'],
                                       **({'dataset_name': 'digits'} if spec['system'] == 'ddpm_lit' else {}), **opts)
    budget, steps, losses = spec['budget_s'], 0, []
    t0 = time.perf_counter()
    while time.perf_counter() - t0 < budget and not (s.max_steps and steps >= s.max_steps):
        losses.append(float(s.train_step())); steps += 1
    train_s = time.perf_counter() - t0
    t1 = time.perf_counter()
    x = torch.cat([s.sample(b, 1000, torch.Generator().manual_seed(i)).cpu()
                   for i, b in enumerate(_chunks(spec['n'], spec['sample_batch']))]).clamp(-1, 1)
    sample_s = time.perf_counter() - t1
    net, info = metrics.feature_net('digits')
    fid = metrics.fid_from_features(metrics.features(net, x), metrics.features(net, train.data))
    grid = Path(spec['out']) / f"samples-{spec['label'].replace(' ', '_')}.png"
    save_grid(x[:100], grid, scale=4)
    tail = losses[-50:] or [float('nan')]
    return dict(steps=steps, max_steps=s.max_steps, batch=s.data.batch, train_s=train_s, build_s=t0 - t_build, sample_s=sample_s, n=len(x), fid=fid,
                final_loss_mean_last_50=sum(tail) / len(tail), grid=grid.name, extractor=info['extractor'],
                reference=f"digits train split ({len(train)} images)")

DEFAULT_BATCH = {'ddpm_lit': 128, 'diffusers': 16, 'denoising-diffusion-pytorch': 16}  # each one's documented default

def _chunks(n, b): return [min(b, n - i) for i in range(0, n, b)]

CHILDREN = {'train': child_train, 'sample': child_sample, 'quality': child_quality}

# ---------------------------------------------------------------- parent: schedule, collect, print
def run_child(spec, threads: int, timeout: float) -> dict:
    env = {**os.environ, 'OMP_NUM_THREADS': str(threads), 'MKL_NUM_THREADS': str(threads), 'TQDM_DISABLE': '1',
           'PYTHONWARNINGS': 'ignore'}
    try:
        p = subprocess.run([sys.executable, __file__, '--child', json.dumps(spec)], capture_output=True, text=True,
                           env=env, timeout=timeout or None)
    except subprocess.TimeoutExpired:
        return {'error': f'timed out after {timeout:.0f} s'}
    lines = [l for l in p.stdout.splitlines() if l.startswith('RESULT ')]
    if p.returncode or not lines:
        return {'error': (p.stderr.strip().splitlines() or ['no output'])[-1][:300]}
    return json.loads(lines[-1][7:])

def med(v): return statistics.median(v)

def fmt_rate(r):
    v = r['images_per_s']
    return f"{med(v):.1f} [{min(v):.1f}-{max(v):.1f}]" if v else '-'

def ratios(rows: dict, size: str, key: str) -> dict:
    "ddpm_lit rows' median over the faster matched peer's median."
    peers = [med(rows[p][key]['images_per_s']) for p in PEERS
             if p in rows and 'error' not in rows[p].get(key, {'error': 1}) and (size, p) not in NOT_MATCHED]
    best = max(peers) if peers else None
    return {lab: med(r[key]['images_per_s']) / best for lab, r in rows.items()
            if best and lab.startswith('ddpm_lit') and key in r and 'error' not in r[key]}

def throughput_tables(res: dict) -> str:
    out = []
    for size, rows in res['throughput'].items():
        from systems import SIZES
        S = SIZES[size]
        out.append(f"\n### {size}: {S.channels}x{S.image_size}x{S.image_size}, training batch {rows_batch(rows, 'train')}, "
                   f"sampling batch {rows_batch(rows, 'sample')} at {rows_batch(rows, 'sample', 'nfe')} network evaluations\n")
        rt, rs = ratios(rows, size, 'train'), ratios(rows, size, 'sample')
        out.append('| system | params | GFLOP/img (fwd+bwd) | train img/s, median [range] | x faster peer | train peak MiB | '
                   'sample img/s, median [range] | x faster peer | sample peak MiB |')
        out.append('|---|---|---|---|---|---|---|---|---|')
        for lab, r in rows.items():
            tr, sa = r.get('train', {}), r.get('sample', {})
            note = ' (*)' if (size, lab) in NOT_MATCHED else ''
            params = tr.get('params') or sa.get('params')
            cells = [lab + note, f"{params / 1e6:.2f}M" if params else '-',
                     f"{tr['flops_fwd_bwd_per_image'] / 1e9:.2f}" if 'flops_fwd_bwd_per_image' in tr else '-',
                     tr.get('error') or fmt_rate(tr), f"{rt[lab]:.2f}" if lab in rt else '',
                     f"{tr['peak_mib']:.0f}" if 'peak_mib' in tr else '-',
                     sa.get('error') or (fmt_rate(sa) if sa else 'not measured'), f"{rs[lab]:.2f}" if lab in rs else '',
                     f"{sa['peak_mib']:.0f}" if 'peak_mib' in sa else '-']
            out.append('| ' + ' | '.join(cells) + ' |')
        for (sz, p), why in NOT_MATCHED.items():
            if sz == size and p in rows:
                f = [r.get('train', {}).get('flops_fwd_bwd_per_image') for r in (rows.get('ddpm_lit', {}), rows[p])]
                out.append(f"\n(*) {p}: {why.format(flops=f'{f[0] / f[1]:.1f}x' if all(f) else 'far')}.")
        comp = rows.get('ddpm_lit compile', {}).get('train', {})
        if 'warmup_s' in comp:
            out.append(f"\nddpm_lit compile: the first {comp['warmup_steps']} steps, compilation included, took {comp['warmup_s']:.0f} s.")
    return '\n'.join(out)

def rows_batch(rows, key, field='batch'):
    "The batch sizes (or network evaluations, `field='nfe'`) the rows were measured at."
    b = {r[key][field] for r in rows.values() if key in r and field in r[key]}
    return '/'.join(map(str, sorted(b))) or '-'

def quality_table(res: dict) -> str:
    q = res.get('quality')
    if not q: return ''
    out = [f"\n### Quality per compute: digits, {q['budget_s'] / 60:g} minutes of training each, then {q['n']} samples "
           f"with 1000 ancestral steps\n",
           '| system | batch | steps | training s | images seen | sampling s | FID (offline, lower is better) | x better peer |',
           '|---|---|---|---|---|---|---|---|']
    peers = [r['fid'] for lab, r in q['rows'].items() if lab in PEERS and 'fid' in r]
    for lab, r in q['rows'].items():
        if 'error' in r: out.append(f"| {lab} | failed: {r['error']} | | | | | | |"); continue
        ratio = f"{r['fid'] / min(peers):.2f}" if peers and lab.startswith('ddpm_lit') else ''
        cap = ' (its schedule\'s end)' if r.get('max_steps') and r['steps'] >= r['max_steps'] else ''
        out.append(f"| {lab} | {r['batch']} | {r['steps']}{cap} | {r['train_s']:.0f} | {r['steps'] * r['batch']} | {r['sample_s']:.0f} | {r['fid']:.2f} | {ratio} |")
    first = next((r for r in q['rows'].values() if 'extractor' in r), None)
    if first: out.append(f"\nFID features: {first['extractor']}; reference: {first['reference']}; the same n for every system.")
    return '\n'.join(out)

def machine_info(threads: int, device: str) -> dict:
    import torch
    info = {'python': platform.python_version(), 'torch': torch.__version__, 'threads': threads, 'device': device,
            'cpu': _cpu_name(), 'cores': os.cpu_count(), 'date': time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}
    from importlib.metadata import version, PackageNotFoundError
    for dist in ('ddpm_lit', 'diffusers', 'denoising_diffusion_pytorch'):
        try: info[dist] = version(dist.replace('_', '-') if dist != 'ddpm_lit' else dist)
        except PackageNotFoundError: info[dist] = 'not installed'
    try: info['ddpm_lit_commit'] = subprocess.run(['git', 'rev-parse', '--short', 'HEAD'], cwd=HERE, capture_output=True, text=True).stdout.strip()
    except Exception: pass
    if device.startswith('cuda'): info['gpu'] = torch.cuda.get_device_name(0)
    return info

def _cpu_name() -> str:
    try:
        for line in open('/proc/cpuinfo'):
            if line.startswith('model name'): return line.split(':', 1)[1].strip()
    except OSError: pass
    return platform.processor() or 'unknown'

def installed(system: str) -> bool:
    import importlib.util
    mod = {'ddpm_lit': 'ddpm_lit', 'diffusers': 'diffusers', 'denoising-diffusion-pytorch': 'denoising_diffusion_pytorch'}[system]
    return importlib.util.find_spec(mod) is not None

def main(argv=None):
    from systems import SIZES, SYSTEMS
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--sizes', default=','.join(SIZES), help=f"comma-separated, from {', '.join(SIZES)}")
    p.add_argument('--systems', default=','.join(SYSTEMS), help='comma-separated; peers need `pip install "ddpm_lit[bench]"`')
    p.add_argument('--variants', default=','.join(v[0] for v in VARIANTS), help='row labels to run')
    p.add_argument('--compile-sizes', default='digits,32px-small', help="sizes at which 'ddpm_lit compile' runs (compiling costs minutes)")
    p.add_argument('--repeats', type=int, default=5)
    p.add_argument('--repeat-s', type=float, default=3.0, help='seconds of work per repeat (steps per repeat are set from one timed step)')
    p.add_argument('--threads', type=int, default=os.cpu_count(), help='intra-op threads of every child (default: all cores)')
    p.add_argument('--device', default='cpu')
    p.add_argument('--quality-minutes', type=float, default=None, help='training budget of the quality section (default: 5; 0: skip it, as --quick does unless this is given)')
    p.add_argument('--quality-n', type=int, default=500)
    p.add_argument('--quick', action='store_true', help='smoke run: small batches, 2 repeats, no quality section')
    p.add_argument('--out', default=str(HERE / 'results'))
    p.add_argument('--timeout', type=float, default=1800, help='seconds before a child is stopped (0: never; the tests use 0, so that a busy machine cannot fail them)')
    a = p.parse_args(argv)
    sizes, systems, variants = a.sizes.split(','), a.systems.split(','), a.variants.split(',')
    bad = [s for s in sizes if s not in SIZES] + [s for s in systems if s not in SYSTEMS] + [v for v in variants if v not in [x[0] for x in VARIANTS]]
    if bad: p.error(f"unknown size, system or variant: {', '.join(bad)}")
    missing = [s for s in systems if not installed(s)]
    if missing:
        print(f"not installed, skipped: {', '.join(missing)} (pip install \"ddpm_lit[bench]\" installs the peers)", flush=True)
        systems = [s for s in systems if s not in missing]
    if a.quick: a.repeats, a.repeat_s = 2, 0.5
    if a.quality_minutes is None: a.quality_minutes = 0 if a.quick else 5.0
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    res = {'machine': machine_info(a.threads, a.device), 'command': 'python bench/bench.py ' + ' '.join(argv if argv is not None else sys.argv[1:]),
           'throughput': {}, 'quality': None}
    print(json.dumps(res['machine']), flush=True)
    common = dict(device=a.device, repeats=a.repeats, repeat_s=a.repeat_s, tiny=a.quick)
    failed = 0
    t_start = time.time()
    for size in sizes:
        rows = res['throughput'].setdefault(size, {})
        for label, system, opts in VARIANTS:
            if label not in variants or system not in systems: continue
            if opts.get('compile') and size not in a.compile_sizes.split(','): continue
            for kind in (('train',) if opts.get('compile') else ('train', 'sample')):
                spec = dict(common, kind=kind, size=size, system=system, options=opts,
                            warmup=3 if opts.get('compile') else 2)
                t0 = time.time()
                r = run_child(spec, a.threads, a.timeout)
                failed += 'error' in r
                rows.setdefault(label, {})[kind] = r
                print(f"[{time.time() - t_start:6.0f} s] {size:14s} {label:28s} {kind:6s} "
                      f"{r.get('error') or fmt_rate(r) + ' img/s'}  ({time.time() - t0:.0f} s)", flush=True)
    if a.quality_minutes > 0:
        q = res['quality'] = {'budget_s': a.quality_minutes * 60, 'n': a.quality_n, 'rows': {}}
        for label, system, opts in VARIANTS:
            if system not in systems or label not in ('ddpm_lit', 'diffusers', 'denoising-diffusion-pytorch'): continue
            spec = dict(kind='quality', system=system, options={}, device=a.device, budget_s=q['budget_s'], n=a.quality_n,
                        sample_batch=a.quality_n, out=str(out), label=label)
            t0 = time.time()
            r = run_child(spec, a.threads, (a.timeout + q['budget_s']) if a.timeout else 0)
            failed += 'error' in r
            q['rows'][label] = r
            said = r.get('error') or f"{r['steps']} steps, FID {r['fid']:.2f}"
            print(f"[{time.time() - t_start:6.0f} s] quality {label:28s} {said}  ({time.time() - t0:.0f} s)", flush=True)
    res['seconds'] = time.time() - t_start
    text = (f"Machine: {res['machine']['cpu']} ({res['machine']['cores']} cores, {a.threads} threads), device {a.device}; "
            f"torch {res['machine']['torch']}, ddpm_lit {res['machine']['ddpm_lit']} ({res['machine'].get('ddpm_lit_commit', '?')}), "
            f"diffusers {res['machine']['diffusers']}, denoising-diffusion-pytorch {res['machine']['denoising_diffusion_pytorch']}; "
            f"{res['machine']['date']}, {res['seconds'] / 60:.0f} minutes.\n\nCommand: `{res['command'].strip()}`\n"
            + throughput_tables(res) + '\n' + quality_table(res) + '\n')
    (out / 'latest.json').write_text(json.dumps(res, indent=1) + '\n')
    (out / 'latest.md').write_text(text)
    print('\n' + text)
    return 1 if failed else 0

if __name__ == '__main__':
    if len(sys.argv) == 3 and sys.argv[1] == '--child':
        spec = json.loads(sys.argv[2])
        import torch
        torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', '1')))
        print('RESULT ' + json.dumps(CHILDREN[spec['kind']](spec)), flush=True)
    else:
        sys.exit(main())
