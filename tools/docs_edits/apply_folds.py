"Add `#| code-fold: true` and `#| code-summary: \"Check: ...\"` to the check cells named in folds.py (idempotent)."
import json, sys, glob, re
sys.path.insert(0, __import__('os').path.dirname(__file__)); from folds import FOLDS
seen = set()
for f in sorted(glob.glob('nbs/**/*.ipynb', recursive=True)):
    nb = json.load(open(f)); changed = False
    for c in nb['cells']:
        cid = c.get('id')
        if c['cell_type'] != 'code' or cid not in FOLDS: continue
        seen.add(cid)
        src = ''.join(c['source'])
        if re.search(r'^#\|\s*code-fold:', src, re.M): continue
        summ = FOLDS[cid].replace('"', "'")
        lines = src.splitlines(keepends=True)
        # keep nbdev/Quarto directives first, then ours
        k = 0
        while k < len(lines) and re.match(r'\s*#\|', lines[k]): k += 1
        new = lines[:k] + [f'#| code-fold: true\n', f'#| code-summary: "Check: {summ}"\n'] + lines[k:]
        c['source'] = new; changed = True
    if changed:
        json.dump(nb, open(f, 'w'), indent=1, ensure_ascii=False); print('folded in', f)
missing = set(FOLDS) - seen
if missing: print('cells not found (changed or removed):', sorted(missing))
