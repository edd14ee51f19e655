"""Training throughput and model FLOPs utilisation (MFU) of ddpm_lit's own training step on one device.

    python bench/mfu.py --device cuda                      # the paper's 35.7M network at batch 128, bf16, compiled
    python bench/mfu.py --device cpu --tiny --peak-tflops 1  # a smoke run of the same code path

FLOPs are counted by `torch.utils.flop_counter` on one eager training step (forward and backward of the loss;
the optimizer and EMA are not counted, as is usual for MFU), then divided by the measured time per step of
the real `Trainer.train_step` (data, noise, forward, loss, backward, clipping, Adam, EMA) and by the device's
dense bf16 peak. `bench/gpu.sh` runs this within 8 minutes on one GPU.
"""
from __future__ import annotations
import argparse, json, tempfile, time
from pathlib import Path
import torch

# dense bf16 tensor-core peaks, TFLOP/s, from the vendors' data sheets (without sparsity)
PEAK_BF16_TFLOPS = {'H200': 989.4, 'H100 SXM': 989.4, 'H100 80GB HBM3': 989.4, 'H100 NVL': 835.0, 'H100 PCIe': 756.0,
                    'H100': 756.0, 'A100': 312.0, 'L40S': 362.0, 'L4': 121.0, 'A10G': 70.0, 'RTX 4090': 165.2}
PAPER_STEPS, PAPER_BATCH, PAPER_TPU_HOURS = 800_000, 128, 10.6  # Ho et al. 2020, CIFAR-10 (appendix B)

def peak_tflops(device: torch.device, given: float | None) -> tuple[float, str]:
    if given: return given, 'given with --peak-tflops'
    if device.type != 'cuda': raise SystemExit('on a CPU there is no known peak: pass --peak-tflops')
    name = torch.cuda.get_device_name(device)
    for key, v in PEAK_BF16_TFLOPS.items():  # most specific names first
        if key in name: return v, f"data-sheet dense bf16 peak of {key} ({name})"
    raise SystemExit(f"unknown GPU {name!r}: pass its dense bf16 peak with --peak-tflops")

def main(argv=None):
    p = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument('--device', default='cuda')
    p.add_argument('--preset', default='ddpm-cifar10')
    p.add_argument('--batch', type=int, default=128)
    p.add_argument('--steps', type=int, default=100, help='timed steps')
    p.add_argument('--warmup', type=int, default=15, help='untimed steps first (compilation happens here)')
    p.add_argument('--precision', default='bf16', choices=['fp32', 'bf16'])
    p.add_argument('--no-compile', action='store_true')
    p.add_argument('--no-channels-last', action='store_true')
    p.add_argument('--peak-tflops', type=float, default=None, help="the device's dense peak for --precision (default: known GPUs)")
    p.add_argument('--tiny', action='store_true', help='digits network, batch 8, 3 steps, no compile: a smoke run')
    p.add_argument('--out', default=None, help='write the figures to this JSON file')
    a = p.parse_args(argv)
    if a.tiny: a.preset, a.batch, a.steps, a.warmup, a.no_compile = 'digits', 8, 3, 1, True
    from ddpm_lit.train import TrainConfig, Trainer
    from ddpm_lit.data import InMemoryDataset
    from ddpm_lit.unet import PRESETS
    device = torch.device(a.device)
    peak, peak_src = peak_tflops(device, a.peak_tflops)
    spec = PRESETS[a.preset]
    g = torch.Generator().manual_seed(0)
    data = InMemoryDataset(torch.rand(4096, spec['in_channels'], spec['image_size'], spec['image_size'], generator=g) * 2 - 1, name='synthetic')
    cfg = TrainConfig(dataset='synthetic', preset=a.preset, batch_size=a.batch, steps=10**9, compile=not a.no_compile,
                      precision=a.precision, channels_last=not a.no_channels_last, device=a.device)
    with tempfile.TemporaryDirectory() as tmp:
        tr = Trainer(cfg, tmp, dataset=data, progress=False)
        flops = step_flops(tr)
        sync = (lambda: torch.cuda.synchronize(device)) if device.type == 'cuda' else (lambda: None)
        t0 = time.perf_counter()
        for _ in range(a.warmup): tr.train_step()
        sync(); warmup_s = time.perf_counter() - t0
        if device.type == 'cuda': torch.cuda.reset_peak_memory_stats(device)
        t0 = time.perf_counter()
        for _ in range(a.steps): loss = tr.train_step()
        loss = float(loss); sync(); dt = (time.perf_counter() - t0) / a.steps
    res = {'device': torch.cuda.get_device_name(device) if device.type == 'cuda' else 'cpu', 'preset': a.preset,
           'parameters': sum(q.numel() for q in tr.model.parameters()), 'batch': a.batch, 'precision': a.precision,
           'compile': not a.no_compile, 'channels_last': not a.no_channels_last, 'torch': torch.__version__,
           'warmup_steps': a.warmup, 'warmup_s': warmup_s, 'timed_steps': a.steps, 's_per_step': dt,
           'images_per_s': a.batch / dt, 'flops_per_step': flops, 'achieved_tflops': flops / dt / 1e12,
           'peak_tflops': peak, 'peak_source': peak_src, 'mfu': flops / dt / (peak * 1e12), 'last_loss': loss,
           'peak_memory_gib': torch.cuda.max_memory_allocated(device) / 2**30 if device.type == 'cuda' else None,
           'paper_schedule_hours': PAPER_STEPS * dt * PAPER_BATCH / a.batch / 3600}
    print(f"{res['device']}: {a.preset} ({res['parameters'] / 1e6:.1f}M parameters), batch {a.batch}, {a.precision}, "
          f"compile {res['compile']}, channels_last {res['channels_last']}")
    print(f"  {res['images_per_s']:.1f} images/s ({dt * 1000:.1f} ms/step over {a.steps} steps; first {a.warmup} steps took {warmup_s:.1f} s)")
    print(f"  {flops / 1e12:.3f} TFLOP per step (forward+backward) -> {res['achieved_tflops']:.1f} TFLOP/s = "
          f"{100 * res['mfu']:.1f}% MFU of {peak:.1f} TFLOP/s ({peak_src})")
    print(f"  the paper's {PAPER_STEPS:,} x {PAPER_BATCH} schedule at this speed: {res['paper_schedule_hours']:.2f} hours "
          f"(the paper: {PAPER_TPU_HOURS} hours on a TPU v3-8)")
    if not (loss == loss): raise SystemExit('the loss is not finite')
    if a.out: Path(a.out).write_text(json.dumps(res, indent=1) + '\n')
    return res

def step_flops(tr) -> int:
    "FLOPs of one training forward+backward at the run's batch, counted on the eager network."
    from torch.utils.flop_counter import FlopCounterMode
    from ddpm_lit.train import uses_bf16
    x0, t, noise = tr._batch(0)[:3]  # (an unconditional run: its labels are None)
    with FlopCounterMode(display=False) as fc:  # the autocast of Trainer.train_step (FLOPs do not depend on it)
        with torch.autocast(tr.dist.device.type, dtype=torch.bfloat16, enabled=uses_bf16(tr.cfg.precision, tr.dist.device)):
            loss = tr.diffusion.loss_simple(tr.model, x0, t=t, noise=noise)
        loss.backward()
    tr.model.zero_grad(set_to_none=True)
    return fc.get_total_flops()

if __name__ == '__main__':
    main()
