"nbdev's docs build executes every cell that imports: move the imports of check cells into an import-only cell before them."
import json, re, secrets
f = 'nbs/10_cli.ipynb'; nb = json.load(open(f))
for i, c in enumerate(nb['cells']):
    if c['cell_type'] != 'code' or c.get('id') != '53e31c26': continue
    lines = ''.join(c['source']).splitlines(keepends=True)
    imps = [l for l in lines if re.match(r'(from \S+ import |import )', l)]
    if not imps: break
    c['source'] = [l for l in lines if l not in imps]
    c['source'][-1] = c['source'][-1].rstrip('\n')
    imps[-1] = imps[-1].rstrip('\n')
    nb['cells'].insert(i, {"cell_type": "code", "execution_count": None, "id": secrets.token_hex(4), "metadata": {}, "outputs": [], "source": imps})
    json.dump(nb, open(f, 'w'), indent=1, ensure_ascii=False); print('imports moved out of', c['id'])
    break
