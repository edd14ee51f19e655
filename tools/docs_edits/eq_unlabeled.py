"Unlabelled wide display equations, broken by hand (idempotent)."
import json
EDITS = {
 'nbs/02_forward.ipynb': [(
  "\\right)}_{1/\\tilde\\beta_t} x_{t-1}^2\n - 2\\underbrace",
  "\\right)}_{1/\\tilde\\beta_t} x_{t-1}^2 \\\\\n&\\qquad - 2\\underbrace")],
}
for f, pairs in EDITS.items():
    nb = json.load(open(f)); n = 0
    for c in nb['cells']:
        if c['cell_type'] != 'markdown': continue
        s = ''.join(c['source']); t = s
        for a, b in pairs:
            if b not in t: t = t.replace(a, b)
        if t != s: c['source'] = t.splitlines(keepends=True); n += 1
    if n: json.dump(nb, open(f, 'w'), indent=1, ensure_ascii=False); print(f, n)
