"""Mutation check: plant a known bug in a notebook (one at a time) and confirm its tests fail.

Run from the repository root with the dev environment: `python tools/mutation_check.py`. Each mutant is
written next to its notebook as nbs/_mut_*.ipynb (without the export cell) and deleted after its run.
"""
import json, subprocess, sys, os, shutil
from pathlib import Path
ROOT = Path(__file__).resolve().parents[1]
MUTATIONS = [
 ('00_core', 'coef.to(x.device)[t.to(x.device)]', 'coef.to(x.device)[t.to(x.device).flip(0)]', 'extract gathers in the wrong order'),
 ('01_schedules', '/ (1 + s) * math.pi / 2', '/ (1 + s) * math.pi / 2.2', 'cosine schedule angle'),
 ('02_forward', 'extract(self.betas.sqrt(), t, x_prev) * noise', 'extract(self.betas, t, x_prev) * noise', 'q_step noise scale beta instead of sqrt(beta)'),
 ('02_forward', 'return (1 - self.alpha_bar_prev) / (1 - self.alpha_bar) * self.betas', 'return (1 - self.alpha_bar_prev) / (1 - self.alpha_bar) * self.alpha', 'posterior variance uses alpha'),
 ('02_forward', 'return self.alpha.sqrt() * (1 - self.alpha_bar_prev) / (1 - self.alpha_bar)', 'return self.alpha * (1 - self.alpha_bar_prev) / (1 - self.alpha_bar)', 'posterior mean x_t coefficient'),
 ('03_losses', '+ (mean1 - mean2) ** 2 * torch.exp(-logvar2)', '- (mean1 - mean2) ** 2 * torch.exp(-logvar2)', 'KL sign of the mean term'),
 ('03_losses', '(x + PIXEL_BIN_HALF_WIDTH - means)', '(x + 2 * PIXEL_BIN_HALF_WIDTH - means)', 'decoder bin edge'),
 ('04_diffusion', "* eps) / extract(self.alpha.sqrt(), t, xt)", "* eps) / extract(self.alpha, t, xt)", 'eps-mean divides by alpha instead of sqrt(alpha)'),
 ('04_diffusion', 'torch.cat([self.posterior_variance[1:2], self.betas[1:]])', 'torch.cat([self.posterior_variance[1:2], self.betas[:-1]])', 'fixed_large variance off by one step'),
 ('05_samplers', 'if t_next < 0: return p.mean, p.pred_x0', 'if t_next < -1: return p.mean, p.pred_x0', 'noise added at the last step'),
]
env = {**os.environ, 'OMP_NUM_THREADS': '1', 'PATH': f"{Path(sys.executable).parent}{os.pathsep}{os.environ['PATH']}"}
caught = 0
for nb, old, new, what in MUTATIONS:
    src = ROOT / 'nbs' / f'{nb}.ipynb'
    d = json.loads(src.read_text())
    hits = 0
    for c in d['cells']:
        s = ''.join(c['source'])
        if old in s: c['source'] = s.replace(old, new); hits += 1
    assert hits == 1, (nb, old, hits)
    tmp = ROOT / 'nbs' / f'_mut_{nb}.ipynb'
    # drop the export cell so the mutant never writes into ddpm_lit/
    d['cells'] = [c for c in d['cells'] if 'nbdev_export(' not in ''.join(c['source'])]
    tmp.write_text(json.dumps(d))
    try:
        r = subprocess.run(['nbdev_test', '--path', str(tmp)], cwd=ROOT, env=env, capture_output=True, text=True)
    finally: tmp.unlink()
    ok = r.returncode != 0
    caught += ok
    err = [l for l in (r.stderr + r.stdout).splitlines() if 'Error' in l][:1]
    print(f"{'CAUGHT' if ok else 'MISSED'}: {nb}: {what}  {err[0][:90] if err else ''}", flush=True)
print(f"{caught}/{len(MUTATIONS)} mutations caught")
