"""The benchmark scripts run from a checkout and their figures mean what they say.

The peers (diffusers, denoising-diffusion-pytorch) are installed only by `bash bench/run.sh`; here ddpm_lit's
own rows run for real, and the peers' adapters are checked when those packages are importable."""
import importlib.util, json, statistics, subprocess, sys
from pathlib import Path
import pytest, torch

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / 'bench'))
import bench, systems  # noqa: E402

def run(*args):
    "Run a script to its end: no wall-clock limit, since a test may not depend on how fast or busy the machine is."
    p = subprocess.run([sys.executable, *map(str, args)], capture_output=True, text=True, cwd=ROOT,
                       env={'OMP_NUM_THREADS': '1', 'PATH': '/usr/bin:/bin', 'HOME': str(Path.home())})
    assert p.returncode == 0, p.stdout[-2000:] + p.stderr[-3000:]
    return p.stdout

def test_bench_end_to_end(tmp_path):
    "Every kind of child runs (train, sample, quality) and the tables carry what the JSON holds (--quick: small batches)."
    run(ROOT / 'bench/bench.py', '--sizes', 'digits', '--systems', 'ddpm_lit', '--variants', 'ddpm_lit,ddpm_lit bf16', '--quick',
              '--threads', '1', '--quality-minutes', '0.05', '--quality-n', '4', '--timeout', 0, '--out', tmp_path)
    res = json.loads((tmp_path / 'latest.json').read_text())
    rows = res['throughput']['digits']
    from ddpm_lit.unet import build_model
    n_params = sum(p.numel() for p in build_model('digits').parameters())
    quick = bench._tiny(systems.SIZES['digits'])
    for lab in ('ddpm_lit', 'ddpm_lit bf16'):
        tr, sa = rows[lab]['train'], rows[lab]['sample']
        assert tr['params'] == sa['params'] == n_params
        assert len(tr['images_per_s']) == 2 and all(r > 0 for r in tr['images_per_s'] + sa['images_per_s'])
        assert (tr['batch'], sa['batch'], sa['nfe']) == (quick.train_batch, quick.sample_batch, quick.nfe) == (8, 8, 4)
        assert tr['peak_mib'] > 0 and torch.isfinite(torch.tensor(tr['last_loss']))
        # forward+backward costs about 3x a forward pass (backward = gradients of inputs and of weights)
        assert 2.5 < tr['flops_fwd_bwd_per_image'] / sa['flops_fwd_per_image'] < 3.5
    q = res['quality']['rows']['ddpm_lit']
    assert q['steps'] >= 1 and q['n'] == 4 and q['fid'] > 0 and (tmp_path / q['grid']).exists()
    md = (tmp_path / 'latest.md').read_text()
    assert '| ddpm_lit bf16 | 1.62M |' in md and 'Quality per compute' in md and f"{q['fid']:.2f}" in md
    assert 'training batch 8, sampling batch 8 at 4 network evaluations' in md

def test_ratios_take_the_faster_matched_peer():
    r = lambda v: {'images_per_s': v}
    rows = {'ddpm_lit': {'train': r([10, 12, 11])}, 'ddpm_lit bf16': {'train': r([22])},
            'diffusers': {'train': r([8, 8])}, 'denoising-diffusion-pytorch': {'train': r([5])}}
    assert bench.ratios(rows, 'digits', 'train') == {'ddpm_lit': 11 / 8, 'ddpm_lit bf16': 22 / 8}
    rows['denoising-diffusion-pytorch']['train'] = r([20])
    assert bench.ratios(rows, 'digits', 'train')['ddpm_lit'] == 11 / 20
    # a peer whose network is not the same work is shown but not compared
    assert bench.ratios(rows, 'cifar10-35.7M', 'train')['ddpm_lit'] == 11 / 8
    rows['diffusers']['train'] = {'error': 'boom'}
    assert bench.ratios(rows, 'cifar10-35.7M', 'train') == {}

def test_matched_sizes():
    "ddpm_lit's networks in the benchmark are its presets, and every size trains and samples at the stated shapes."
    for s in systems.SIZES.values():
        assert s.ours['preset'] in __import__('ddpm_lit.unet', fromlist=['PRESETS']).PRESETS
        x = systems.synthetic_images(s, n=4)
        assert x.shape == (4, s.channels, s.image_size, s.image_size) and x.abs().max() <= 1

def test_mfu_tiny(tmp_path):
    "The GPU script's code path on the CPU: FLOPs are counted for the whole batch and MFU is achieved/peak."
    run(ROOT / 'bench/mfu.py', '--device', 'cpu', '--tiny', '--peak-tflops', '2', '--out', tmp_path / 'mfu.json')
    res = json.loads((tmp_path / 'mfu.json').read_text())
    s = systems.SIZES['digits']
    per_image = systems.count_flops(systems.Ours(s, systems.synthetic_images(s, 16), train_batch=8), backward=True)
    assert abs(res['flops_per_step'] / (8 * per_image) - 1) < 0.01, (res['flops_per_step'], per_image)
    assert abs(res['mfu'] - res['flops_per_step'] / res['s_per_step'] / 2e12) < 1e-12
    assert res['images_per_s'] == pytest.approx(8 / res['s_per_step'])

def test_mfu_needs_a_peak_on_cpu():
    p = subprocess.run([sys.executable, ROOT / 'bench/mfu.py', '--device', 'cpu', '--tiny'], capture_output=True, text=True, cwd=ROOT)
    assert p.returncode != 0 and 'pass --peak-tflops' in p.stderr

@pytest.mark.skipif(not (importlib.util.find_spec('diffusers') and importlib.util.find_spec('denoising_diffusion_pytorch')),
                    reason='the peers are installed by bash bench/run.sh')
def test_peer_adapters():
    "Each peer trains (finite loss) and samples images of the right shape in [-1, 1]; diffusers builds the paper's network exactly."
    s = systems.SIZES['digits']
    for cls in (systems.Diffusers, systems.Lucidrains):
        m = cls(s, systems.synthetic_images(s, 32), train_batch=4)
        assert torch.isfinite(m.train_step())
        x = m.sample(3, 4, torch.Generator().manual_seed(0))
        assert x.shape == (3, 1, 8, 8) and x.min() >= -1 and x.max() <= 1
    from diffusers import UNet2DModel
    d = UNet2DModel(sample_size=32, in_channels=3, out_channels=3, **systems.SIZES['cifar10-35.7M'].diffusers)
    assert systems.count_params(d) == 35_746_307

def test_threads_bench_tiny(tmp_path):
    "bench/threads.py runs every setting, alone and beside a busy core, and its table says what the JSON holds."
    import statistics, threads
    run(ROOT / 'bench/threads.py', '--steps', 1, '--warmup', 0, '--out', tmp_path)
    res = json.loads((tmp_path / 'threads.json').read_text())
    rows = {(r['label'], r['busy']): r for r in res['rows']}
    assert len(rows) == 2 * len(threads.SETTINGS) and all(len(r['ms']) == 1 and r['ms'][0] > 0 for r in rows.values())
    assert rows[('1 thread', False)]['threads'] == rows[('1 thread', True)]['threads'] == 1
    # beside a process that keeps one core busy, ddpm_lit leaves that core to it (on a machine with more than one core)
    assert rows[('ddpm_lit chooses', True)]['threads'] <= max(1, res['cores'] - 1)
    md = (tmp_path / 'threads.md').read_text()
    assert md.count('\n| the machine as found') == 2 * len(threads.SETTINGS)
    r = rows[('1 thread', True)]
    assert f"{statistics.median(r['ms']):,.0f} [" in md

def objectives_bench(tmp_path, *only):
    "Run bench/objectives.py at toy scale (3 steps, T = 200) on `only` runs (all when none); check its rows and table."
    import objectives
    args = ['--steps', '3', '--T', '200', '--n', '8', '--n-samples', '4', '--runs', tmp_path / 'runs', '--out', tmp_path / 'out',
            *(['--only', ','.join(only)] if only else [])]
    run(ROOT / 'bench/objectives.py', *args, '--n-bpd', '4', '--analytic-n', '4')
    res = json.loads((tmp_path / 'out' / 'objectives.json').read_text())
    rows = res['rows']
    expect = [(name, var) for _, name, var in objectives.ROWS if not only or name in only]
    assert [(r['run'], r['var']) for r in rows] == expect
    for r in rows:
        assert r['steps'] == 3 and r['bpd']['bpd']['var_type'] == r['var'] and r['bpd']['bpd']['n'] == 4
        assert [(f['sampler']['sampler'], f['sampler']['steps'], f['sampler']['var_type']) for f in r['ddpm']['fid']] == [('ddpm', k, r['var']) for k in (200, 100, 50)]
        assert ('ddim' in r) == (r['var'] != 'analytic')
        assert r['flags'] == objectives.RUNS[r['run']]
    md = (tmp_path / 'out' / 'objectives.md').read_text()
    assert md.count('\n') == 2 + len(rows) and 'FID DDPM-200' in md
    learned = next(i for i, r in enumerate(rows) if r['var'] == 'learned')
    assert f"{rows[learned]['bpd']['bpd']['value']:.3f}" in md.splitlines()[2 + learned]
    # a second run measures nothing again: every row is read back from its file
    before = {p.name: p.stat().st_mtime for p in (tmp_path / 'runs').glob('row-*.json')}
    run(ROOT / 'bench/objectives.py', *args)
    assert before == {p.name: p.stat().st_mtime for p in (tmp_path / 'runs').glob('row-*.json')} and len(before) == len(rows)

def test_objectives_bench_end_to_end(tmp_path):
    "The L_simple network (fixed and analytic variance) and the learned-variance one: every kind of row, its variance, the table."
    objectives_bench(tmp_path, 'simple', 'hybrid')

@pytest.mark.slow
def test_objectives_bench_every_row(tmp_path):
    "All five rows, as `python bench/objectives.py` makes them."
    objectives_bench(tmp_path)

@pytest.fixture(scope='module')
def tiny_run(tmp_path_factory):
    "A 3-step run of a tiny network with T = 60 on the digits, for the samplers benchmark."
    out = tmp_path_factory.mktemp('samplers') / 'run'
    run('-m', 'ddpm_lit', 'train', '--dataset', 'digits', '--steps', '3', '--T', '60', '--n-samples', '4', '--ch', '8', '--ch-mult', '1,2',
        '--num-res-blocks', '1', '--attn', '', '--out', out, '--no-progress')
    return out

def test_samplers_bench_tiny(tiny_run, tmp_path):
    "bench/samplers.py on the tiny run: every row of the grid and of the extras, with its command, in the JSON and the table."
    import samplers
    run(ROOT / 'bench/samplers.py', '--run', tiny_run, '--n', '8', '--nfe', '10,20,60', '--jobs', '1', '--out', tmp_path / 'out')
    res = json.loads((tmp_path / 'out' / 'samplers.json').read_text())
    rows = res['rows']
    want = sorted((label, k) for label, flags, ks in samplers.tasks([10, 20, 60], True) for k in ks)
    assert sorted((r['label'], r['steps']) for r in rows) == want
    for r in rows:
        assert r['n'] == 8 and r['nfe'] == (2 * r['steps'] - 1 if r['sampler'] in samplers.TWO_CALLS else r['steps'])
        assert r['command'].startswith(f"ddpm_lit eval --ckpt {tiny_run} --metrics fid --n 8 --steps {r['steps']}")
    main = {r['sampler']: r['spacing'] for r in rows if r['label'] in samplers.NAMES.values()}
    assert main == {'ddpm': 'even', 'ddim': 'even', 'dpmpp-2m': 'logsnr', 'heun': 'karras', 'dpmpp-2m-sde': 'logsnr', 'karras-stochastic': 'karras'}
    assert sorted({r['options']['s_churn'] for r in rows if r['sampler'] == 'karras-stochastic'}) == [1, 2, 4, 8, 80]
    md = (tmp_path / 'out' / 'samplers.md').read_text()
    assert md.count('\n| ') == 1 + len(rows) and len(res['goals']) == 2 and all(g in md for g in res['goals'])

def test_samplers_bench_confirm_tiny(tiny_run, tmp_path):
    "--confirm on the tiny run: each setting sampled by `ddpm_lit sample` (T = 60 in place of 1000), scored whole and in disjoint 500s."
    import samplers
    run(ROOT / 'bench/samplers.py', '--run', tiny_run, '--confirm', '--confirm-n', '1000', '--jobs', '1', '--out', tmp_path / 'out')
    res = json.loads((tmp_path / 'out' / 'samplers-confirm.json').read_text())
    assert sorted((r['sampler'], r['steps']) for r in res['rows']) == sorted({(s, min(k, 60)) for _, s, k in samplers.CONFIRM})
    for r in res['rows']:
        assert r['n'] == 1000 and len(r['fid_500']) == 2 and r['fid'] > 0
        summary = (statistics.mean(r['fid_500']), statistics.stdev(r['fid_500']))  # of the parts as stored (rounded to 0.001)
        assert (r['fid_500_mean'], r['fid_500_sd']) == pytest.approx(summary, abs=2e-3)
        assert r['nfe'] == (2 * r['steps'] - 1 if r['sampler'] in samplers.TWO_CALLS else r['steps'])
    assert (tmp_path / 'out' / 'samplers-confirm.md').read_text().count('\n| ') == 1 + len(res['rows'])

def test_bound_cost(tmp_path):
    "bench/bound_cost.py: each row's rate and hours follow from its seconds per call, and the table shows the JSON's rows."
    run(ROOT / 'bench/bound_cost.py', '--batches', '1,2', '--repeats', '1', '--out', tmp_path)
    res = json.loads((tmp_path / 'bound_cost.json').read_text())
    assert [(r['threads'], r['batch']) for r in res['rows']] == [(t, b) for t in sorted({1, res['machine']['cores']}) for b in (1, 2)]
    for r in res['rows']:
        assert r['seconds_per_call'] > 0
        assert abs(r['images_per_s'] - r['batch'] / r['seconds_per_call']) <= 0.01 * r['images_per_s'] + 0.01  # both rounded
        assert abs(r['test_set_bound_hours'] - 10_000 * 1000 / r['images_per_s'] / 3600) <= 0.01 * r['test_set_bound_hours'] + 0.1
    md = (tmp_path / 'bound_cost.md').read_text()
    assert res['machine']['cpu'] in md and all(f"| {r['threads']} | {r['batch']} | {r['seconds_per_call']} |" in md for r in res['rows'])
