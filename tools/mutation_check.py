"""Mutation check: plant a known bug in a notebook (one at a time) and confirm that its checks fail.

Each entry names the notebook, a string that occurs in exactly one of its cells, what replaces it, and the bug. An
entry that also names a module of the package plants the bug there as well, in a copy of the package that the mutant
notebook and every process it starts import: for checks that run the package from a subprocess (the command line).
There the string must occur once in the module; in the notebook it may occur once or not at all.
`python tools/mutation_check.py` runs every mutant, `python tools/mutation_check.py 12_solvers` those of one
notebook; `bash tools/test.sh` runs them all too. Each mutant is written next to its notebook as
`_mut_<name>_<k>.ipynb` (without the export cell, so it never writes into ddpm_lit/; nbdev skips names starting
with `_`), executed once by nbdev's `test_nb` on its own core, and deleted. A mutant is caught when a cell fails.
"""
import json, sys
from pathlib import Path
from typing import NamedTuple
ROOT = Path(__file__).resolve().parents[1]

class Mutation(NamedTuple):
    nb: str    # notebook under nbs/, without .ipynb, whose checks must catch the bug
    old: str   # occurs in exactly one cell (or, with `module`, in the module once)
    new: str
    what: str  # the bug, in words
    module: str | None = None  # a module of ddpm_lit to plant the bug in too, for checks that run the package in subprocesses
    @property
    def notebook(self): return f'nbs/{self.nb}.ipynb'

MUTATIONS = [Mutation(*m) for m in [
 ('00_core', 'coef.to(x.device)[t.to(x.device)]', 'coef.to(x.device)[t.to(x.device).flip(0)]', 'extract gathers in the wrong order'),
 ('01_schedules', '/ (1 + s) * math.pi / 2', '/ (1 + s) * math.pi / 2.2', 'cosine schedule angle'),
 ('02_forward', 'extract(self.betas.sqrt(), t, x_prev) * noise', 'extract(self.betas, t, x_prev) * noise', 'q_step noise scale beta instead of sqrt(beta)'),
 ('02_forward', 'return (1 - self.alpha_bar_prev) / (1 - self.alpha_bar) * self.betas', 'return (1 - self.alpha_bar_prev) / (1 - self.alpha_bar) * self.alpha', 'posterior variance uses alpha'),
 ('02_forward', 'return self.alpha.sqrt() * (1 - self.alpha_bar_prev) / (1 - self.alpha_bar)', 'return self.alpha * (1 - self.alpha_bar_prev) / (1 - self.alpha_bar)', 'posterior mean x_t coefficient'),
 ('03_losses', '+ (mean1 - mean2) ** 2 * torch.exp(-logvar2)', '- (mean1 - mean2) ** 2 * torch.exp(-logvar2)', 'KL sign of the mean term'),
 ('03_losses', '(x + PIXEL_BIN_HALF_WIDTH - means)', '(x + 2 * PIXEL_BIN_HALF_WIDTH - means)', 'decoder bin edge'),
 ('04_diffusion', "* eps) / extract(self.alpha.sqrt(), t, xt)", "* eps) / extract(self.alpha, t, xt)", 'eps-mean divides by alpha instead of sqrt(alpha)'),
 ('00_core', 'values=not isinstance(t, Tensor) or t.is_cpu)', 'values=True)', 'extract reads t on every device (a GPU sync per call)'),
 ('04_diffusion', "else self.betas[1:]", "else self.betas[:-1]", 'fixed_large variance off by one step'),
 ('04_diffusion', 'torch.cat([self.posterior_variance[1:2], rest])', 'torch.cat([self.posterior_variance[0:1], rest])', 'decoder variance 0 at index 0 (variance and log-variance disagree)'),
 ('04_diffusion', '- diff.shape[-1] / 2 * v.log()).softmax(1)', ').softmax(1)', 'mixture oracle drops the log-determinant of each component'),
 ('04_diffusion', 'for step in range(3000):', 'for step in range(800):', 'Algorithm 1 run too short to learn the two modes (the old run)'),
 ('05_samplers', 'if t_next < 0: return p.mean, p.pred_x0', 'if t_next < -1: return p.mean, p.pred_x0', 'noise added at the last step'),
 ('05_samplers', 'traj.xt.append(x.cpu())', 'traj.xt.append(x_next.cpu())', 'trajectory records each state one step late'),
 ('05_samplers', 'extract(diffusion.alpha_bar, torch.full_like(t, t_next), xt, torch.float64)', 'extract(diffusion.alpha_bar, t - 1, xt, torch.float64)', 'DDIM uses alpha_bar[t-1] instead of alpha_bar[t_next]'),
 ('05_samplers', 'c_eps = (1 - ab_next - sigma ** 2)', 'c_eps = (1 - ab_next)', 'DDIM noise coefficient ignores sigma_t(eta)'),
 ('05_samplers', '* (1 - ab_t / ab_next)).sqrt()', '* (1 - ab_t)).sqrt()', 'DDIM sigma_t(eta) uses 1 - alpha_bar_t'),
 ('05_samplers', "list(range(0, T, T // K))[::-1]", "list(range(0, T, T // K + 1))[::-1]", 'strided spacing with the wrong stride'),
 ('05_samplers', 'if t_next != next(expected, None):', 'if False:', 'ancestral step accepted on steps it was not built for'),
 ('05_samplers', 'betas = 1 - ab / torch.cat([ab.new_ones(1), ab[:-1]])', 'betas = 1 - ab / torch.cat([ab[:1], ab[:-1]])', 'respaced chain starts from alpha_bar_{tau_1} instead of 1'),
 ('05_samplers', '(b, *item_shape), generator=g, **settings, **options).cpu())', '(b, *item_shape), generator=torch.Generator().manual_seed(seed + i), **settings, **options).cpu())', 'draw_samples reseeds each batch'),
 ('16_likelihood', "return {'logp': log_prior[:, None] + delta,", "return {'logp': log_prior[:, None] - delta,", 'the divergence integral enters log p with the wrong sign'),
 ('16_likelihood', "return {'logp': log_prior[:, None] + delta,", "return {'logp': 0 * log_prior[:, None] + delta,", 'the prior term at sigma_max left out'),
 ('16_likelihood', "- 0.5).to(x0.device) * BIN_WIDTH", ").to(x0.device) * BIN_WIDTH", 'dequantization noise on [0, w) instead of centred on the bin'),
 ('16_likelihood', "+ math.log2(255 / 2)", "+ math.log2(256 / 2)", 'the Jacobian of the [-1, 1] scaling for bins of width 2/256 instead of the grid spacing 2/255'),
 ('16_likelihood', "sigma * div.reshape(-1)", "div.reshape(-1)", 'sigma and log sigma mixed up: the divergence integrated in log sigma without d sigma = sigma ds'),
 ('16_likelihood', "net(x, step_of_sigma(diffusion, sigma).to(x.device))", "net(x, sigma.to(x.device))", 'sigma and t mixed up: the network asked at the noise level sigma instead of its step tau(sigma)'),
 ('16_likelihood', "    v = 1 + sigma ** 2\n", "    v = sigma ** 2\n", "DDPM's prior in x_bar with variance sigma_T^2 instead of 1 + sigma_T^2 (the x_T ~ N(0, I) it stands for forgotten)"),
 ('16_likelihood', "        x = a * xbar\n", "        x = xbar\n", 'the network asked at x_bar instead of x_t = x_bar / sqrt(1 + sigma^2)'),
 ('16_likelihood', "torch.randint(0, 2, shape, generator=generator).to(dtype) * 2 - 1", "torch.randint(0, 2, shape, generator=generator).to(dtype)", 'Rademacher probes in {0, 1} instead of {-1, +1} (E[z z^T] is not I)'),
 ('12_solvers', 'return _x_of(xbar + (sigma_next - sigma) * d, sigma_next, xt.dtype)', 'return _x_of(xbar + (sigma_next - sigma) * d, sigma, xt.dtype)', 'Euler step maps x_bar back to x with the current sigma'),
 ('12_solvers', 'd2 = _slope(diffusion, model(x_euler, t2), x_euler, t2, clip_x0)[2]', 'd2 = _slope(diffusion, model(x_euler, t), x_euler, t2, clip_x0)[2]', "Heun's correction asks the network at the wrong sigma (t, not t_next)"),
 ('12_solvers', "r = (lam - prev['lam']) / h", 'r = 1.0', 'DPM-Solver++(2M) with the ratio r = 1 (the equal-step formula on unequal steps)'),
 ('12_solvers', "D = (1 + 1 / (2 * r)) * x0 - 1 / (2 * r) * prev['x0']", "D = (1 + 1 / r) * x0 - 1 / r * prev['x0']", 'DPM-Solver++(2M) extrapolates x_0 a whole step ahead instead of half'),
 ('12_solvers', 'KARRAS_RHO = 7.0', 'KARRAS_RHO = 3.0', 'Karras spacing with rho = 3'),
 ('12_solvers', "r = (lam - prev['lam']) / h", "r = h / (lam - prev['lam'])", 'DPM-Solver++(2M) with the step ratio inverted (h / h_prev): globally second order, locally first'),
 ('12_solvers', 'i = int((log_s - target).abs().argmin())', 'i = int((log_s.exp() - target.exp()).abs().argmin())', 'spacings map targets to the nearest sigma instead of the nearest log sigma'),
 ('12_solvers', 'return _x_of(xbar + (sigma_next - sigma) * (d + d2) / 2, sigma_next, xt.dtype), x0.to(xt.dtype)', 'return _x_of(xbar + (sigma_next - sigma) * d2, sigma_next, xt.dtype), x0.to(xt.dtype)', "Heun steps with the end slope only (no trapezoid)"),
 ('12_solvers', "HEUN = Sampler('heun', heun_step, calls=lambda timesteps: 2 * len(timesteps) - 1", "HEUN = Sampler('heun', heun_step, calls=lambda timesteps: 2 * len(timesteps)", "Heun's network calls miscounted (the progress bar's total)"),
 ('12_solvers', '* (-torch.expm1(-2 * eta * h)).sqrt() *', '* (-torch.expm1(-2 * eta * h)) *', '2M SDE noise: the variance 1 - e^{-2 eta h} used as the standard deviation'),
 ('12_solvers', 'out = out + s_noise * sigma_next *', 'out = out + s_noise * sigma *', '2M SDE noise scaled by sigma_t (the current level) instead of sigma_s (the next)'),
 ('12_solvers', 'out = sigma_next / sigma * torch.exp(-eta * h) * xbar', 'out = sigma_next / sigma * xbar', "2M SDE keeps the ODE's x_bar coefficient (no e^{-eta h})"),
 ('12_solvers', 'if prev else x0  # 1/(2r) = h / (2 h_prev)', 'if False else x0  # 1/(2r) = h / (2 h_prev)', '2M SDE without its multistep correction (first order)'),
 ('12_solvers', 'gamma = min(s_churn / N, math.sqrt(2) - 1)', 'gamma = min(s_churn, math.sqrt(2) - 1)', 'churn factor gamma not divided by the number of steps N'),
 ('12_solvers', 'math.sqrt(levels[j] ** 2 - levels[i] ** 2) * z', '(levels[j] - levels[i]) * z', 'churn noise sd sigma_hat - sigma instead of sqrt(sigma_hat^2 - sigma^2)'),
 ('12_solvers', 'return (xbar / math.sqrt(1 + levels[j] ** 2)).to(x.dtype), torch.full_like(t, j)', 'return (xbar / math.sqrt(1 + levels[j] ** 2)).to(x.dtype), t', 'sigma index: the network is asked at the planned level, not the churned one'),
 ('12_solvers', 'int((log_s - math.log(levels[i] * (1 + gamma))).abs().argmin()))', 'int((log_s - math.log(levels[i] * (1 + gamma))).abs().argmin()) + 1)', 'churn rounds to the level above the nearest'),
 ('12_solvers', 'if gamma == 0 or not s_tmin <= levels[i] <= s_tmax: return x, t', 'if gamma == 0: return x, t', 'churn ignores S_tmin and S_tmax'),
 ('12_solvers', 'KARRAS_STOCHASTIC = Sampler(\'karras-stochastic\', karras_stochastic_step, calls=lambda timesteps: 2 * len(timesteps) - 1', 'KARRAS_STOCHASTIC = Sampler(\'karras-stochastic\', karras_stochastic_step, calls=lambda timesteps: len(timesteps)', "Karras et al.'s stochastic sampler's network calls miscounted"),
 ('12_solvers', 'spacing=logsnr_timesteps) # Lu et al. (2022), DPM-Solver++(2M): one call a step', ') # Lu et al. (2022), DPM-Solver++(2M): one call a step', 'DPM-Solver++(2M) back on the even spacing by default'),
 ('12_solvers', 'if churn is not None: x, t = churn(x, t, generator)', 'if churn is not None: churn(x, t, generator)', "the loop drops the churn's result (noise drawn, state unchanged)", 'samplers'),
 ('13_guidance', 'eps = (1 + w) * cond - w * uncond', 'eps = uncond + w * (cond - uncond)', "guidance weight in the other convention (s = w), so w = 0 is unconditional"),
 ('13_guidance', 'torch.cat([y, torch.full_like(y, null)])', 'torch.cat([y, y])', 'the second half of the doubled call keeps the labels instead of the null label'),
 ('13_guidance', 'drop = torch.rand(y.shape, generator=generator, device=y.device) < p', 'drop = torch.rand(y.shape, generator=generator, device=y.device) > p', 'label dropout keeps a fraction p instead of dropping it'),
 ('13_guidance', 'if m.any(): out[m] = per_class[c](xt[m], t[m])', 'if m.any(): out[m] = per_class[(c + 1) % C](xt[m], t[m])', "the class oracle answers with the next class's component"),
 ('07_unet', 'temb = self.temb(t.to(x.device)) + _class_vector(self.class_emb, y, x.shape[0], x.device)', 'temb = self.temb(t.to(x.device))', 'the U-Net ignores its class label'),
 ('06_data', "return GAUSSIANS_RADIUS * np.stack([np.cos(a), np.sin(a)], 1) + GAUSSIANS_STD * rs.randn(n, 2), k.astype(np.int64)", "return GAUSSIANS_RADIUS * np.stack([np.cos(a), np.sin(a)], 1) + GAUSSIANS_STD * rs.randn(n, 2), ((k + 1) % 8).astype(np.int64)", "8gaussians labels name the neighbouring mode"),
 ('05_samplers', 'net if labels is None else given(net, labels[i:i + b])', 'net if labels is None else given(net, labels[:b])', "every batch gets the first batch's labels"),
 ('08_train', "y = drop_labels(self.data.labels[idx], cfg.p_uncond, len(self.classes), generator=g) if self.classes else None", "y = self.data.labels[idx] if self.classes else None", 'label dropout never applied in training (no unconditional model)'),
 ('14_objectives', 'return a * eps - s * x0', 'return a * eps + s * x0', 'v target with the wrong sign on x0'),
 ('14_objectives', 'return s * xt + a * out', 'return a * xt + s * out', 'eps from v with the coefficients swapped'),
 ('14_objectives', "'v': 1 + 1 / fp.snr", "'v': 1 / fp.snr", "v's implicit weight taken to be x0's"),
 ('14_objectives', 'return fp.snr.clamp(max=gamma) / fp.snr', 'return fp.snr.clamp(min=gamma) / fp.snr', 'min-SNR clips from below'),
 ('14_objectives', 'frac = (v + 1) / 2', 'frac = v', 'learned variance interpolates with v instead of (v + 1) / 2'),
 ('14_objectives', "if obj.loss == 'hybrid': eps = eps.detach()", "if False: eps = eps.detach()", 'L_hybrid without the stop-gradient (L_vlb trains the mean)'),
 ('14_objectives', 'return mse + HYBRID_LAMBDA * vb if', 'return mse + vb if', 'L_hybrid without lambda'),
 ('14_objectives', 'w = self.losses.pow(2).mean(1).sqrt()', 'w = self.losses.mean(1)', 'importance weights from E[L] instead of sqrt(E[L^2])'),
 ('14_objectives', 'return 1 / (self.T * self.probs().to(t.device)[t])', 'return 1 / self.probs().to(t.device)[t]', 'importance weights without the 1/T (a biased bound)'),
 ('14_objectives', 'self.losses[i] = torch.roll(self.losses[i], -1)', 'self.losses[i] = torch.roll(self.losses[i], 1)', 'importance history forgets the newest loss instead of the oldest'),
 ('14_objectives', 'var = lam2 + c ** 2 * (1 - gamma.to(ab))', 'var = lam2 + c ** 2 * gamma.to(ab)', 'analytic variance with Gamma instead of 1 - Gamma'),
 ('14_objectives', 'upper = lam2 + c ** 2 * ab / (1 - ab) * DATA_HALF_RANGE ** 2', 'upper = lam2 + c ** 2 * (1 - ab) / ab * DATA_HALF_RANGE ** 2', 'analytic upper bound with 1/SNR instead of SNR'),
 ('14_objectives', 'return torch.minimum(torch.maximum(var, fp.posterior_log_variance_clipped.exp()), upper)', 'return torch.maximum(var, fp.posterior_log_variance_clipped.exp())', 'analytic variance without its upper clip'),
 ('14_objectives', 'upper = lam2 + c ** 2 * ab / (1 - ab) * DATA_HALF_RANGE ** 2', 'upper = lam2 + c ** 2 * ab / (1 - ab) * (2 * DATA_HALF_RANGE) ** 2', 'analytic upper clip with (b - a)^2 instead of ((b - a) / 2)^2'),
 ('14_objectives', 'torch.minimum(torch.maximum(var, fp.posterior_log_variance_clipped.exp()), upper)', 'torch.minimum(torch.maximum(var, fp.posterior_variance), upper)', 'analytic lower clip 0 at t = 1 (the unclipped beta_tilde)'),
 ('14_objectives', 't = torch.full((len(x),), i, dtype=torch.long, device=x.device)', 't = torch.full((len(x),), min(i + 1, fp.T - 1), dtype=torch.long, device=x.device)', 'estimate_gamma asks the network one step off'),
 ('14_objectives', 'gamma[i] += mean_flat(eps.double() ** 2).sum().cpu()', 'gamma[i] += mean_flat(eps.double()).pow(2).sum().cpu()', 'Gamma_t from the squared mean of eps instead of its mean square'),
 ('14_objectives', 'eps = eps_from_pred(self.fp, self.pred, p, x, t)', "eps = eps_from_pred(self.fp, 'eps', p, x, t)", 'AsEps passes an x0 or v prediction off as eps'),
 ('15_interop', "return torch.cat([theirs[f'{n}.{p}'] for n in names])", "return torch.cat([theirs[f'{n}.{p}'].mT if len(names) == 3 and p == 'weight' else theirs[f'{n}.{p}'] for n in names])", 'diffusers: the q, k, v projections read transposed'),
 ('15_interop', "QKV = ('to_q', 'to_k', 'to_v')", "QKV = ('to_k', 'to_q', 'to_v')", 'diffusers: the query and key projections swapped'),
 ('15_interop', "norm_eps=float(c['norm_eps']), norm_groups=c['norm_num_groups'])", "norm_eps=1e-5, norm_groups=c['norm_num_groups'])", "diffusers: GroupNorm epsilon taken as diffusers' default 1e-5, not the folder's"),
 ('15_interop', 'torch.cat([angle.sin(), angle.cos()], dim=1)', 'torch.cat([angle.cos(), angle.sin()], dim=1)', "the time embedding's cosines before its sines (diffusers' flip_sin_to_cos)", 'unet'),
 ('15_interop', 'betas = torch.linspace(start, end, T, dtype=torch.float64)', 'betas = torch.linspace(LINEAR_BETA_START, LINEAR_BETA_END, T, dtype=torch.float64)', "diffusers: the scheduler's beta range misread (the paper's, whatever the folder says)"),
 ('15_interop', 'beta_start=scale * LINEAR_BETA_START, beta_end=scale * LINEAR_BETA_END,', 'beta_start=LINEAR_BETA_START, beta_end=LINEAR_BETA_END,', "diffusers export: the beta range not scaled by 1000 / T"),
 ('08_train', "if self.t_sampler: self.t_sampler.load_state_dict(state['t_sampler'])", 'pass', 'a resumed run forgets the importance sampler'),
 ('10_cli', '    if lock and self.dist.main:', '    if False and self.dist.main:', 'train without the run folder lock: two writers mix one folder', 'train'),
 ('09_metrics', 'logp = (counts / counts.sum(1, keepdim=True)).log2()', 'logp = (counts / len(train)).log2()', 'categorical baseline forgets the smoothing in its normaliser'),
]]

def mutant_path(m: Mutation, k: int) -> Path:
    nb = ROOT / m.notebook
    return nb.parent / f'_mut_{nb.stem}_{k}.ipynb'

def package_path(k: int) -> Path:
    "Where mutant `k`'s copy of the package goes (a folder to put first on the import path)."
    return ROOT / '.test-logs' / f'_mut_pkg_{k}'

def write_package(m: Mutation, k: int) -> Path:
    "A copy of the package with `m.old` replaced in module `m.module`; returns the folder that holds it."
    import shutil
    root = package_path(k)
    if root.exists(): shutil.rmtree(root)
    shutil.copytree(ROOT / 'ddpm_lit', root / 'ddpm_lit', ignore=shutil.ignore_patterns('__pycache__'))
    f = root / 'ddpm_lit' / f'{m.module}.py'
    src = f.read_text()
    if src.count(m.old) != 1: raise SystemExit(f"mutation_check: {m.what!r}: the string to replace occurs {src.count(m.old)} times in ddpm_lit/{m.module}.py, not once: {m.old!r}")
    f.write_text(src.replace(m.old, m.new))
    return root

def write_mutant(m: Mutation, k: int) -> Path:
    "Write mutant `k` beside its notebook: `m.old` replaced in its one cell, the export cell dropped."
    d = json.loads((ROOT / m.notebook).read_text())
    hits = 0
    for c in d['cells']:
        s = ''.join(c['source'])
        if m.old in s: c['source'] = s.replace(m.old, m.new); hits += 1
    if hits != 1 and not (m.module and hits == 0):
        raise SystemExit(f"mutation_check: {m.what!r}: the string to replace occurs in {hits} cells of {m.notebook}, not in one: {m.old!r}")
    if m.module: write_package(m, k)
    d['cells'] = [c for c in d['cells'] if 'nbdev_export(' not in ''.join(c['source'])]
    p = mutant_path(m, k)
    p.write_text(json.dumps(d))
    return p

if __name__ == '__main__':
    sys.path.insert(0, str(ROOT / 'tools'))
    import run_tests
    names = sys.argv[1:]
    unknown = set(names) - {m.nb for m in MUTATIONS}
    if unknown: sys.exit(f"mutation_check: no mutants for {sorted(unknown)}; notebooks with mutants: {sorted({m.nb for m in MUTATIONS})}")
    run_tests.main(['--mutants', *names])
