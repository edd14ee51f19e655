"Break display equations wider than the text column (idempotent: a label whose equation already has an environment is skipped)."
import json, re, glob
def gathered(body):
    b = body.strip()
    b = re.sub(r'^\\begin\{gathered\}\s*|\s*\\end\{gathered\}$', '', b)  # an earlier run's wrapper without a break
    b = re.sub(r'\s*\n\\qquad\s*|\s*\\qquad\s*\n\s*', r' \\\\\n', b)
    b = b.replace(r',\quad' + '\n', r', \quad ')
    if '\\\\' not in b: b = b.replace(r' \qquad ', ' \\\\\n', 1)  # one line: break at its first \qquad
    return '\n\\begin{gathered}\n' + b + '\n\\end{gathered}\n'
SPECIAL = {
'eq-bound-decomposed': r'''
\begin{aligned}
L = \mathbb E_q\Big[&\underbrace{D_{\mathrm{KL}}\!\big(q(x_T\mid x_0)\,\|\,p(x_T)\big)}_{L_T}
+ \sum_{t>1} \underbrace{D_{\mathrm{KL}}\!\big(q(x_{t-1}\mid x_t, x_0)\,\|\,p_\theta(x_{t-1}\mid x_t)\big)}_{L_{t-1}} \\
&\underbrace{-\ \log p_\theta(x_0\mid x_1)}_{L_0}\Big].
\end{aligned}
''',
'eq-normal-kl': r'''
\begin{aligned}
&D_{\mathrm{KL}}\!\big(\mathcal N(\mu_1, e^{\ell_1})\,\|\,\mathcal N(\mu_2, e^{\ell_2})\big) \\
&\qquad = \tfrac12\left(-1 + \ell_2 - \ell_1 + e^{\ell_1-\ell_2} + (\mu_1-\mu_2)^2 e^{-\ell_2}\right).
\end{aligned}
''',
}
LABELS = {'eq-eps-weight', 'eq-simple-loss', 'eq-forward-step', 'eq-reverse-chain', 'eq-decoder', 'eq-log-ndtr-diff',
          'eq-ancestral-step', 'eq-ddim-step', 'eq-mixture-oracle', 'eq-temb', 'eq-attn'} | set(SPECIAL)
for f in sorted(glob.glob('nbs/**/*.ipynb', recursive=True)):
    nb = json.load(open(f)); changed = False
    for c in nb['cells']:
        if c['cell_type'] != 'markdown': continue
        s = ''.join(c['source'])
        def sub(m):
            body, label = m.group(1), m.group(2)
            if label not in LABELS or ('\\\\' in body and re.search(r'\\begin\{(gathered|aligned)\}', body)): return m.group(0)
            new = SPECIAL.get(label) or gathered(body)
            return f'$${new}$$ {{#{label}}}'
        new = re.sub(r'\$\$(.*?)\$\$ *\{#(eq-[\w-]+)\}', sub, s, flags=re.S)
        if new != s: c['source'] = new.splitlines(keepends=True); changed = True
    if changed: json.dump(nb, open(f, 'w'), indent=1, ensure_ascii=False); print('equations broken in', f)
