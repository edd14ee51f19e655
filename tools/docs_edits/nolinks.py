"Preset names written as the strings they are, so nbdev does not autolink them to the data functions of the same name."
import json, glob
REPL = {
 'nbs/07_unet.ipynb': [('`digits` preset', "`'digits'` preset")] +
     [(f'| `{n}` |', f"| `'{n}'` |") for n in ('ddpm-cifar10', 'cifar10-small', 'mnist', 'digits', 'toy-mlp')],
 'nbs/tutorials/digits.ipynb': [('the U-Net preset `digits`', "the U-Net preset `'digits'`")],
 'nbs/08_train.ipynb': [('the 1.6M `digits` network', "the 1.6M `'digits'` network")],
}
for f, pairs in REPL.items():
    nb = json.load(open(f)); n = 0
    for c in nb['cells']:
        if c['cell_type'] != 'markdown': continue
        s = ''.join(c['source']); t = s
        for a, b in pairs: t = t.replace(a, b)
        if t != s: c['source'] = t.splitlines(keepends=True); n += 1
    if n: json.dump(nb, open(f, 'w'), indent=1, ensure_ascii=False); print(f, n, 'cells')
