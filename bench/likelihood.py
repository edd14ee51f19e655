"""The digits network's test bits/dim two ways: the variational bound of its reverse chain and the exact likelihood of
its probability-flow ODE, on the same test images, with standard errors, network calls and seconds.

Both numbers are those `ddpm_lit eval --metrics bpd,bpd-ode` reports with its defaults (seed 0, one batch of up to
500 images): the bound's T terms with one x_t draw each; the ODE on uniformly dequantized images with 2 Rademacher
probes each, RK45 at rtol = atol = 1e-5. On the first --n-check images it also compares Hutchinson's estimator with
the exact divergence and the default tolerance with looser ones. Writes bench/results/likelihood.{json,md}; the
likelihood tutorial shows them.

    python bench/likelihood.py [--run runs/digits] [--n 300] [--n-check 8] [--out bench/results]
"""
import argparse, json, math, os, sys, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench import machine_info


def summary(per_image) -> dict:
    "Mean and standard error over images."
    n = len(per_image)
    return {'bpd': round(per_image.mean().item(), 4), 'se': round((per_image.std() / math.sqrt(n)).item(), 4) if n > 1 else None}


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--run', default=str(HERE.parent / 'runs' / 'digits'), help='the run (trained with TrainConfig() defaults if missing)')
    p.add_argument('--n', type=int, default=None, help='test images (default: the whole test split)')
    p.add_argument('--n-check', type=int, default=8, help='images for the estimator and tolerance comparisons')
    p.add_argument('--out', default=str(HERE / 'results'), help='folder for likelihood.json and likelihood.md')
    a = p.parse_args(argv)
    import torch
    from ddpm_lit.train import TrainConfig, ensure_run
    from ddpm_lit.data import get_dataset, items
    from ddpm_lit.likelihood import ode_nll, ODE_RTOL
    torch.set_num_threads(int(os.environ.get('OMP_NUM_THREADS', 1)))
    model, diffusion, cfg, info = ensure_run(TrainConfig(), a.run)
    x = items(get_dataset(cfg.dataset, 'test'))[:a.n]
    t0 = time.time()
    bound = diffusion.nll_bpd(model, x, generator=torch.Generator().manual_seed(0))
    bound_s = time.time() - t0
    print(f"bound of {len(x)} images: {bound['total'].mean().item():.4f} bits/dim in {bound_s:.0f} s", flush=True)
    ode = ode_nll(diffusion, model, x, seed=0)
    print(f"ODE of {len(x)} images: {ode['bpd']:.4f} bits/dim, {ode['nfe_per_image']:.0f} calls per image, {ode['seconds']:.0f} s", flush=True)
    terms, b = bound['terms'].double().mean(0), bound['total'].double()
    diff = b - ode['per_image']
    res = {'machine': machine_info(torch.get_num_threads(), 'cpu'), 'command': 'python bench/likelihood.py ' + ' '.join(argv if argv is not None else sys.argv[1:]),
           'run': {'path': str(Path(info['path']).relative_to(HERE.parent)) if Path(info['path']).is_relative_to(HERE.parent) else info['path'], 'step': info['step'],
                   'loss': cfg.loss, 'var_type': diffusion.var_type, 'T': diffusion.T},
           'n': len(x),
           'bound': {**summary(b), 'calls_per_image': diffusion.T, 'seconds': round(bound_s, 1),
                     'terms': {'decoder L_0': round(terms[0].item(), 4), 'KL t = 2..10': round(terms[1:10].sum().item(), 4),
                               'KL t = 11..100': round(terms[10:100].sum().item(), 4), 'KL t = 101..1000': round(terms[100:].sum().item(), 4),
                               'prior L_T': round(bound['prior'].double().mean().item(), 6)},
                     'per_image': [round(v, 4) for v in b.tolist()]},
           'ode': {'bpd': round(ode['bpd'], 4), 'se': round(ode['se'], 4), 'se_probes': round(ode['se_probes'], 4), 'probes': ode['probes'], 'probe': 'rademacher',
                   'method': 'RK45', 'rtol': ODE_RTOL, 'atol': ODE_RTOL, 'calls_per_image': ode['nfe_per_image'], 'backward_per_call': ode['backward_per_call'],
                   'seconds': round(ode['seconds'], 1), 'sigma_min': ode['sigma_min'], 'sigma_max': ode['sigma_max'],
                   'per_image': [round(v, 4) for v in ode['per_image'].tolist()]},
           'bound_minus_ode': summary(diff)}
    xc = x[:a.n_check]
    exact = ode_nll(diffusion, model, xc, probe=None, seed=0)
    hutch = ode_nll(diffusion, model, xc, probes=2, seed=0)
    print(f"{len(xc)} images: exact {exact['bpd']:.4f} ({exact['seconds']:.0f} s), 2 probes {hutch['bpd']:.4f} +- {hutch['se_probes']:.4f}", flush=True)
    res['check'] = {'n': len(xc), 'rows': [{'divergence': 'exact', 'rtol': ODE_RTOL, 'bpd': round(exact['bpd'], 4), 'se_probes': None,
                                            'calls_per_image': exact['nfe_per_image'], 'backward_per_call': exact['backward_per_call'], 'seconds': round(exact['seconds'], 1)}]}
    for tol in (ODE_RTOL, 1e-4, 1e-3):
        r = hutch if tol == ODE_RTOL else ode_nll(diffusion, model, xc, probes=2, seed=0, rtol=tol, atol=tol)
        res['check']['rows'].append({'divergence': '2 Rademacher probes', 'rtol': tol, 'bpd': round(r['bpd'], 4), 'se_probes': round(r['se_probes'], 4),
                                     'calls_per_image': r['nfe_per_image'], 'backward_per_call': r['backward_per_call'], 'seconds': round(r['seconds'], 1)})
        print(f"rtol = atol = {tol:g}: {r['bpd']:.4f} ({r['nfe_per_image']:.0f} calls)", flush=True)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    (out / 'likelihood.json').write_text(json.dumps(res, indent=1) + '\n')
    m, bd, od = res['machine'], res['bound'], res['ode']
    md = [f"# Bound and ODE bits/dim of {res['run']['path']} on {m['cpu']} ({m['threads']} thread)", '',
          f"`{res['command'].strip()}`, {m['date']}, torch {m['torch']}, ddpm_lit {m.get('ddpm_lit_commit', '')}: {res['n']} test images, seed 0.", '',
          '| | bits/dim | SE over images | SE over probes | network calls per image | seconds |', '|---|---|---|---|---|---|',
          f"| variational bound (reverse chain, T = {res['run']['T']}) | {bd['bpd']} | {bd['se']} | | {bd['calls_per_image']} | {bd['seconds']} |",
          f"| probability-flow ODE ({od['probes']} {od['probe']} probes, {od['method']} rtol = atol = {od['rtol']:g}) | {od['bpd']} | {od['se']} | {od['se_probes']} | {od['calls_per_image']:.0f} | {od['seconds']} |",
          '', f"Bound minus ODE on the same images: {res['bound_minus_ode']['bpd']} +- {res['bound_minus_ode']['se']} bits/dim.", '',
          f"On the first {res['check']['n']} images:", '', '| divergence | rtol = atol | bits/dim | SE over probes | calls per image | backward passes per call | seconds |', '|---|---|---|---|---|---|---|']
    md += [f"| {r['divergence']} | {r['rtol']:g} | {r['bpd']} | {'' if r['se_probes'] is None else r['se_probes']} | {r['calls_per_image']:.0f} | {r['backward_per_call']} | {r['seconds']} |" for r in res['check']['rows']]
    (out / 'likelihood.md').write_text('\n'.join(md) + '\n')
    return res


if __name__ == '__main__':
    main()
