"""ddpm_lit's modules import one way, by meaning: the process (schedules, forward, posterior, bound) at the bottom,
what a network predicts above it, the samplers and the ODE solvers above that, guidance as a wrapper above the
samplers and the ODE's exact likelihood beside it, then training, metrics (and the diffusers format, beside them) and the command line. Data, networks, checkpoint files and CPU threads are used
by training and above and import none of the mathematics. Every import between the package's modules, at any
depth of the source (a function's body too), must go to a module of a lower rank."""
import ast, sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RANK = {  # a module may import only modules of a lower rank
    'core': 0,
    'schedules': 1, 'forward': 2, 'losses': 3, 'diffusion': 4,  # the process
    'objectives': 5,                                             # what a network predicts: its targets, variance, losses
    'samplers': 6, 'solvers': 7,                                 # the samplers; the ODE solvers and the table of every sampler
    'guidance': 8,                                               # a wrapper of any sampler's network
    'likelihood': 8,                                             # the probability-flow ODE's exact likelihood
    'data': 1, 'unet': 1, 'checkpoints': 1, 'threads': 1,        # data, networks, files, threads: no mathematics
    'train': 9, 'metrics': 10, 'interop': 10, 'cli': 11, '__main__': 12,  # interop: diffusers folders in and out (safetensors and JSON)
}


def imports(path: Path, package: str = 'ddpm_lit') -> set:
    "The package's modules that a module's source imports, at any depth (relative or absolute imports, and import_module strings)."
    out = set()
    for n in ast.walk(ast.parse(path.read_text())):
        if isinstance(n, ast.ImportFrom):
            if n.level == 1: out |= {n.module.split('.')[0]} if n.module else {a.name for a in n.names}
            elif n.module == package: out |= {a.name for a in n.names}
            elif n.module and n.module.startswith(package + '.'): out.add(n.module.split('.')[1])
        elif isinstance(n, ast.Import):
            out |= {a.name.split('.')[1] for a in n.names if a.name.startswith(package + '.')}
        elif isinstance(n, ast.Constant) and isinstance(n.value, str) and n.value.startswith(package + '.') and n.value.count('.') == 1:
            out.add(n.value.split('.')[1])  # importlib.import_module('ddpm_lit.x') and the like
    return out


def upward(pkg: Path, rank: dict) -> list:
    "Every import of a module that does not sit lower, and every module that has no rank."
    problems = []
    for p in sorted(pkg.glob('*.py')):
        if p.stem in ('__init__', '_modidx'): continue
        if p.stem not in rank: problems.append(f"{p.stem}: not placed in the layering (add it to RANK)"); continue
        for m in sorted(imports(p)):
            if m in rank and rank[m] >= rank[p.stem]: problems.append(f"{p.stem} (rank {rank[p.stem]}) imports {m} (rank {rank[m]})")
    return problems


def test_every_import_goes_down():
    assert upward(ROOT / 'ddpm_lit', RANK) == []


def test_an_upward_import_is_found(tmp_path):
    "The check itself: an upward import, at module level or inside a function, and an unplaced module are reported."
    pkg = tmp_path / 'ddpm_lit'; pkg.mkdir()
    (pkg / 'samplers.py').write_text("from .diffusion import GaussianDiffusion\ndef f():\n    from ddpm_lit.solvers import SAMPLERS\n")
    (pkg / 'diffusion.py').write_text("import importlib\nM = importlib.import_module('ddpm_lit.objectives')\n")
    (pkg / 'extra.py').write_text("")
    assert upward(pkg, RANK) == ['diffusion (rank 4) imports objectives (rank 5)', 'extra: not placed in the layering (add it to RANK)',
                                 'samplers (rank 6) imports solvers (rank 7)']
