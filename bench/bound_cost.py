"""What the exact bound costs for the paper's CIFAR-10 network (35.7M parameters) on this machine.

The bound of one image takes T = 1000 network calls, and CIFAR-10's test set has 10,000 images. This times one call
of ddpm_lit's `ddpm-cifar10` network (random weights: the cost does not depend on them; the same network that
`google/ddpm-cifar10-32` holds, see the interop chapter) at a few batch sizes, with one thread and with every core,
and writes each rate and the hours the test set's bound would take at it to bench/results/bound_cost.{json,md}.

    python bench/bound_cost.py [--batches 1,25,100] [--repeats 3] [--out bench/results]
"""
import argparse, json, os, statistics, sys, time
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
from bench import machine_info

TEST_IMAGES, T = 10_000, 1000 # CIFAR-10's test split; the paper's number of steps


def seconds_per_call(net, batch: int, repeats: int) -> float:
    "Median wall time of one network call on a batch of random 32x32 images (after one warm-up call)."
    import torch
    x, t = torch.randn(batch, 3, 32, 32), torch.randint(0, T, (batch,))
    with torch.no_grad():
        net(x, t)
        times = []
        for _ in range(repeats):
            t0 = time.perf_counter(); net(x, t); times.append(time.perf_counter() - t0)
    return statistics.median(times)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    p.add_argument('--batches', default='1,25,100', help='batch sizes to time, comma-separated')
    p.add_argument('--repeats', type=int, default=3, help='timed calls per setting (the median is kept)')
    p.add_argument('--out', default=str(HERE / 'results'), help='folder for bound_cost.json and bound_cost.md')
    a = p.parse_args(argv)
    import torch
    from ddpm_lit.unet import build_model
    net = build_model('ddpm-cifar10').eval().requires_grad_(False)
    rows = []
    for threads in sorted({1, os.cpu_count() or 1}):
        torch.set_num_threads(threads)
        for b in map(int, a.batches.split(',')):
            s = seconds_per_call(net, b, a.repeats)
            rows.append({'threads': threads, 'batch': b, 'seconds_per_call': round(s, 4), 'images_per_s': round(b / s, 2),
                         'test_set_bound_hours': round(TEST_IMAGES * T / (b / s) / 3600, 1)})
            print(f"{threads} thread(s), batch {b:>4}: {s:.3f} s a call, {b / s:.1f} images/s: the test set's bound in {rows[-1]['test_set_bound_hours']} hours", flush=True)
    res = {'machine': machine_info(os.cpu_count() or 1, 'cpu'), 'command': 'python bench/bound_cost.py ' + ' '.join(argv if argv is not None else sys.argv[1:]),
           'what': f"one call of the ddpm-cifar10 network (35.7M parameters), median of {a.repeats}; the bound of the test set is {TEST_IMAGES} x {T} image-calls",
           'rows': rows}
    out = Path(a.out); out.mkdir(parents=True, exist_ok=True)
    (out / 'bound_cost.json').write_text(json.dumps(res, indent=1) + '\n')
    md = [f"# The exact bound's cost for the paper's network on {res['machine']['cpu']} ({res['machine']['cores']} cores)", '',
          f"`{res['command'].strip()}`, {res['machine']['date']}, torch {res['machine']['torch']}: {res['what']}.", '',
          '| threads | batch | s per call | images/s | test-set bound (hours) |', '|---|---|---|---|---|']
    md += [f"| {r['threads']} | {r['batch']} | {r['seconds_per_call']} | {r['images_per_s']} | {r['test_set_bound_hours']} |" for r in rows]
    (out / 'bound_cost.md').write_text('\n'.join(md) + '\n')
    return res


if __name__ == '__main__':
    main()
