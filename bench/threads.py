"""CPU threads on a shared machine: one training step of the digits network (batch 128), with torch's default
thread count and with the count ddpm_lit's command line chooses (`ddpm_lit.cli.set_cpu_threads`), on an otherwise
machine as it was found (run it idle) and beside other work (a process that keeps one core busy).

    python bench/threads.py                  # about 3 minutes on 2 cores; run it on an idle machine
    python bench/threads.py --steps 5        # a quicker look

Each measurement runs in a fresh child process: warm-up steps, then `--steps` timed steps; the table gives the
median milliseconds per step with the range (min-max). Results go to `--out` as threads.json and threads.md.
"""
from __future__ import annotations
import argparse, json, os, platform, statistics, subprocess, sys, tempfile, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
# (label, OMP_NUM_THREADS for the child, or None: let ddpm_lit choose)
SETTINGS = [('torch default (all cores)', str(os.cpu_count())), ('1 thread', '1'), ('ddpm_lit chooses', None)]
BUSY = 'while True: pass'  # the other work: one core kept busy


def child(steps: int, warmup: int) -> dict:
    "Time `steps` training steps after `warmup` untimed ones, in this process."
    import torch
    from ddpm_lit.cli import set_cpu_threads
    from ddpm_lit.train import Trainer, TrainConfig
    chose = set_cpu_threads()
    with tempfile.TemporaryDirectory() as tmp:
        tr = Trainer(TrainConfig(dataset='digits', steps=10**6, ckpt_minutes=0), Path(tmp) / 'run', progress=False)
        for _ in range(warmup): tr.train_step()
        ms = []
        for _ in range(steps):
            t0 = time.perf_counter(); tr.train_step(); ms.append(1000 * (time.perf_counter() - t0))
    return {'threads': torch.get_num_threads(), 'how': chose['text'], 'ms': ms}


def measure(omp: str | None, busy: bool, steps: int, warmup: int) -> dict:
    "Run `child` in a fresh process, beside a busy process if `busy`."
    env = {k: v for k, v in os.environ.items() if k != 'OMP_NUM_THREADS'} | ({'OMP_NUM_THREADS': omp} if omp else {})
    other = subprocess.Popen([sys.executable, '-c', BUSY]) if busy else None
    try:
        if other: time.sleep(1.0)  # the other work is running before ddpm_lit starts, as on a shared machine
        p = subprocess.run([sys.executable, __file__, '--child', str(steps), str(warmup)], capture_output=True, text=True, env=env)
    finally:
        if other: other.kill(); other.wait()
    line = [l for l in p.stdout.splitlines() if l.startswith('RESULT ')]
    if p.returncode or not line: raise SystemExit(f"child failed: {p.stderr[-2000:]}")
    return json.loads(line[0][7:])


def table(rows: list[dict]) -> str:
    out = ['| other work | threads setting | threads used | ms per step, median [min-max] | speed-up over torch default |', '|---|---|---|---|---|']
    for r in rows:
        base = next(b for b in rows if b['busy'] == r['busy'] and b['label'].startswith('torch default'))
        m, b = statistics.median(r['ms']), statistics.median(base['ms'])
        out.append(f"| {'the machine as found, plus one busy core' if r['busy'] else 'the machine as found'} | {r['label']} | {r['threads']} | "
                   f"{m:,.0f} [{min(r['ms']):,.0f}-{max(r['ms']):,.0f}] | {b / m:.2f}x |")
    found = [r['how'] for r in rows if r['label'] == 'ddpm_lit chooses']
    return '\n'.join(out) + '\n\nWhat ddpm_lit measured when it chose: ' + '; '.join(f"{'plus one busy core' if i else 'as found'}: {h}" for i, h in enumerate(found))


def main():
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--steps', type=int, default=15, help='timed steps per measurement')
    p.add_argument('--warmup', type=int, default=3, help='untimed steps first')
    p.add_argument('--out', default=str(HERE / 'results'))
    a = p.parse_args()
    rows = []
    for busy in (False, True):
        for label, omp in SETTINGS:
            r = measure(omp, busy, a.steps, a.warmup) | {'label': label, 'busy': busy}
            print(f"{'plus one busy core' if busy else 'as found'}: {label}: {r['threads']} thread(s), median {statistics.median(r['ms']):,.0f} ms/step ({r['how']})",
                  flush=True)
            rows.append(r)
    md = (f"Training step of the digits network (1.62M parameters, batch 128) on {os.cpu_count()} cores "
          f"({platform.processor() or platform.machine()}); `python bench/threads.py --steps {a.steps}`, "
          f"{time.strftime('%Y-%m-%d %H:%M UTC', time.gmtime())}.\n\n" + table(rows) + '\n')
    print('\n' + md)
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    (out / 'threads.json').write_text(json.dumps({'steps': a.steps, 'warmup': a.warmup, 'cores': os.cpu_count(), 'rows': rows}, indent=1) + '\n')
    (out / 'threads.md').write_text(md)


if __name__ == '__main__':
    if sys.argv[1:2] == ['--child']: print('RESULT ' + json.dumps(child(int(sys.argv[2]), int(sys.argv[3]))))
    else: main()
