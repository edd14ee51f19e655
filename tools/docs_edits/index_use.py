"The README's command list with each comment on the line above its command, so no line wraps in the docs column."
import json, re
f = 'nbs/index.ipynb'; nb = json.load(open(f)); n = 0
for c in nb['cells']:
    if c['cell_type'] != 'markdown': continue
    s = ''.join(c['source'])
    def block(m):
        lines = m.group(1).split('\n')
        if not any(re.search(r'\S\s{2,}# ', l) for l in lines): return m.group(0)
        out = []
        for l in lines:
            cm = re.match(r'^(.*?\S)\s{2,}# (.*)$', l)
            out += [f'# {cm.group(2)}', cm.group(1)] if cm else [l]
        return '```sh\n' + '\n'.join(out) + '```'
    t = re.sub(r'```sh\n(.*?)```', block, s, flags=re.S)
    if t != s: c['source'] = t.splitlines(keepends=True); n += 1
if n: json.dump(nb, open(f, 'w'), indent=1, ensure_ascii=False); print('index: comments moved above', n)
