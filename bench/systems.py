"""The three systems under test, each behind the same small interface.

A `System` builds one network for a `Size` and exposes
- `train_step()`: one full training step as the library's own training code does it
  (data batch, noise and timesteps, forward, loss, backward, gradient clipping, optimizer, EMA);
- `sample(n, nfe, generator)`: `n` images in [-1, 1] drawn with `nfe` network evaluations
  by the library's own sampler (`nfe=1000`: ancestral sampling over the full chain).

Peers are used the way their documentation trains them (see each class's docstring);
nothing here changes their code.
"""
from __future__ import annotations
import math, tempfile
from dataclasses import dataclass
import torch
import torch.nn.functional as F

@dataclass(frozen=True)
class Size:
    "A matched workload: image shape, batch sizes, and the network each system builds for it."
    name: str
    channels: int
    image_size: int
    train_batch: int   # images per training step (the same for every system)
    sample_batch: int  # images per sampling call (the same for every system)
    nfe: int           # network evaluations per sampling call
    ours: dict         # ddpm_lit: preset and overrides
    diffusers: dict    # UNet2DModel keywords
    lucidrains: dict   # denoising_diffusion_pytorch.Unet keywords

# The paper's CIFAR-10 network (35.7M) and diffusers' exact copy of it (google/ddpm-cifar10-32's config);
# lucidrains' default Unet(dim=64, dim_mults=(1, 2, 4, 8)) happens to have 35.7M parameters too.
_DDPM_CIFAR10_DIFFUSERS = dict(
    block_out_channels=(128, 256, 256, 256), layers_per_block=2,
    down_block_types=('DownBlock2D', 'AttnDownBlock2D', 'DownBlock2D', 'DownBlock2D'),
    up_block_types=('UpBlock2D', 'UpBlock2D', 'AttnUpBlock2D', 'UpBlock2D'),
    norm_eps=1e-6, norm_num_groups=32, downsample_padding=0, flip_sin_to_cos=False, freq_shift=1,
    resnet_time_scale_shift='default', add_attention=True, dropout=0.1)

SIZES = {
    'cifar10-35.7M': Size('cifar10-35.7M', 3, 32, train_batch=8, sample_batch=8, nfe=10,
                          ours=dict(preset='ddpm-cifar10'),
                          diffusers=_DDPM_CIFAR10_DIFFUSERS,
                          lucidrains=dict(dim=64, dim_mults=(1, 2, 4, 8))),
    '32px-small': Size('32px-small', 3, 32, train_batch=32, sample_batch=32, nfe=20,
                       ours=dict(preset='cifar10-small'),
                       diffusers={**_DDPM_CIFAR10_DIFFUSERS, 'block_out_channels': (48, 96, 96, 96), 'norm_num_groups': 12},
                       lucidrains=dict(dim=52, dim_mults=(1, 2, 2, 2))),
    'digits': Size('digits', 1, 8, train_batch=128, sample_batch=256, nfe=50,
                   ours=dict(preset='digits'),
                   diffusers=dict(block_out_channels=(32, 64, 64), layers_per_block=2,
                                  down_block_types=('DownBlock2D', 'AttnDownBlock2D', 'DownBlock2D'),
                                  up_block_types=('UpBlock2D', 'AttnUpBlock2D', 'UpBlock2D'),
                                  norm_eps=1e-6, norm_num_groups=8, downsample_padding=0, flip_sin_to_cos=False,
                                  freq_shift=1, dropout=0.1),
                   lucidrains=dict(dim=34, dim_mults=(1, 2, 2))),
}
SYSTEMS = ('ddpm_lit', 'diffusers', 'denoising-diffusion-pytorch')

from ddpm_lit.unet import count_params  # noqa: E402  (the same count for every system)

class _Data:
    "A fixed pool of training images in [-1, 1]; batches are drawn from it in a seeded order."
    def __init__(self, x: torch.Tensor, batch: int, seed: int = 0):
        self.x, self.batch, self.g = x, batch, torch.Generator().manual_seed(seed)
    def next(self) -> torch.Tensor: return self.x[torch.randint(0, len(self.x), (self.batch,), generator=self.g)]

def synthetic_images(size: Size, n: int = 512, seed: int = 0) -> torch.Tensor:
    "Smooth random images in [-1, 1] (throughput does not depend on their content)."
    g = torch.Generator().manual_seed(seed)
    low = torch.rand(n, size.channels, 4, 4, generator=g) * 2 - 1
    return F.interpolate(low, size=size.image_size, mode='bilinear', align_corners=False).clamp(-1, 1)

class System:
    name = ''
    def __init__(self, size: Size, data: torch.Tensor, train_batch: int | None = None, device: str = 'cpu', **kw):
        self.size, self.device = size, torch.device(device)
        self.data = _Data(data, train_batch or size.train_batch)
    max_steps = None  # a documented end of training, if the recipe has one
    @property
    def params(self) -> int: return count_params(self.model)
    def train_step(self): raise NotImplementedError
    def sample(self, n: int, nfe: int, generator: torch.Generator) -> torch.Tensor: raise NotImplementedError

class Ours(System):
    """ddpm_lit's own `Trainer.train_step` (Algorithm 1 with Adam, warmup, clipping at 1, EMA) and `sample`
    (DDIM for fewer steps than T, Algorithm 2's ancestral sampler for all of them)."""
    name = 'ddpm_lit'
    def __init__(self, size, data, train_batch=None, device='cpu', compile=False, precision='auto', dataset_name='bench', **kw):
        super().__init__(size, data, train_batch, device)
        from ddpm_lit.train import TrainConfig, Trainer
        from ddpm_lit.data import InMemoryDataset
        self._tmp = tempfile.TemporaryDirectory()
        o = dict(size.ours)
        cfg = TrainConfig(dataset=dataset_name, preset=o.pop('preset'), model=o, batch_size=self.data.batch, steps=10**9, precision=precision,
                          compile=compile, device=str(self.device), **kw)
        self.trainer = Trainer(cfg, self._tmp.name, dataset=InMemoryDataset(data, name=dataset_name), progress=False)
        self.precision = 'bf16' if precision == 'bf16' else 'fp32'
        self.model = self.trainer.model
    def train_step(self): return self.trainer.train_step()
    def sample(self, n, nfe, generator):
        from ddpm_lit.samplers import sample, DDPM, DDIM
        t = self.trainer
        return sample(t.diffusion, t.ema.eval(), (n, *t.shape), DDPM if nfe == t.cfg.T else DDIM, steps=nfe,
                      clip_x0=True, generator=generator, device=self.device, precision=self.precision)

class Diffusers(System):
    """huggingface diffusers: `UNet2DModel` trained as in its `examples/unconditional_image_generation/train_unconditional.py`
    with that script's defaults (DDPMScheduler with 1000 linear steps, epsilon prediction, MSE; AdamW lr 1e-4,
    betas (0.95, 0.999), weight decay 1e-6; cosine schedule with 500 warmup steps over 100 epochs; gradient
    clipping at 1; `EMAModel` with warmup, inv_gamma 1, power 3/4, max decay 0.9999); sampled with `DDPMPipeline`."""
    name = 'diffusers'
    def __init__(self, size, data, train_batch=None, device='cpu', epochs: int = 100, **kw):
        super().__init__(size, data, train_batch, device)
        self.max_steps = epochs * math.ceil(len(data) / self.data.batch)  # the script's 100 epochs; its cosine schedule ends there
        from diffusers import UNet2DModel, DDPMScheduler
        from diffusers.optimization import get_scheduler
        from diffusers.training_utils import EMAModel
        torch.manual_seed(0)
        self.model = UNet2DModel(sample_size=size.image_size, in_channels=size.channels, out_channels=size.channels,
                                 **size.diffusers).to(self.device)
        self.scheduler = DDPMScheduler(num_train_timesteps=1000, beta_schedule='linear', prediction_type='epsilon')
        self.opt = torch.optim.AdamW(self.model.parameters(), lr=1e-4, betas=(0.95, 0.999), weight_decay=1e-6, eps=1e-8)
        self.lr_sched = get_scheduler('cosine', optimizer=self.opt, num_warmup_steps=500, num_training_steps=self.max_steps)
        self.ema = EMAModel(self.model.parameters(), decay=0.9999, use_ema_warmup=True, inv_gamma=1.0, power=3 / 4,
                            model_cls=UNet2DModel, model_config=self.model.config)
        self.ema.to(self.device)
    def train_step(self):
        self.model.train()
        clean = self.data.next().to(self.device)
        noise = torch.randn(clean.shape, device=self.device)
        t = torch.randint(0, self.scheduler.config.num_train_timesteps, (clean.shape[0],), device=self.device).long()
        noisy = self.scheduler.add_noise(clean, noise, t)
        loss = F.mse_loss(self.model(noisy, t).sample.float(), noise.float())
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.model.parameters(), 1.0)
        self.opt.step(); self.lr_sched.step(); self.opt.zero_grad()
        self.ema.step(self.model.parameters())
        return loss.detach()
    def sample(self, n, nfe, generator):
        from diffusers import DDPMPipeline, UNet2DModel
        ema = UNet2DModel.from_config(self.model.config).to(self.device)
        self.ema.copy_to(ema.parameters())
        pipe = DDPMPipeline(unet=ema.eval(), scheduler=self.scheduler)
        pipe.set_progress_bar_config(disable=True)
        img = pipe(batch_size=n, generator=generator, num_inference_steps=nfe, output_type='np').images
        return torch.from_numpy(img).permute(0, 3, 1, 2) * 2 - 1

class Lucidrains(System):
    """lucidrains' denoising-diffusion-pytorch: `Unet` in `GaussianDiffusion` with its defaults (1000 steps,
    sigmoid schedule, v-prediction; DDIM when sampling with fewer steps) trained as its `Trainer.train` does
    (Adam lr 1e-4, betas (0.9, 0.99); gradient clipping at 1; `ema_pytorch.EMA`, decay 0.995, updated every
    10 steps). Its `Trainer` itself needs an image folder and Inception weights, so its loop is followed here."""
    name = 'denoising-diffusion-pytorch'
    def __init__(self, size, data, train_batch=None, device='cpu', nfe: int | None = None, **kw):
        super().__init__(size, data, train_batch, device)
        from denoising_diffusion_pytorch import Unet, GaussianDiffusion
        from ema_pytorch import EMA
        torch.manual_seed(0)
        self.model = Unet(channels=size.channels, **size.lucidrains)
        self.make = lambda nfe: GaussianDiffusion(self.model, image_size=size.image_size, timesteps=1000,
                                                  sampling_timesteps=nfe).to(self.device)
        self.diffusion = self.make(None)
        self.opt = torch.optim.Adam(self.diffusion.parameters(), lr=1e-4, betas=(0.9, 0.99))
        self.ema = EMA(self.diffusion, beta=0.995, update_every=10).to(self.device)
    def train_step(self):
        self.diffusion.train()
        loss = self.diffusion((self.data.next().to(self.device) + 1) / 2)  # it takes [0, 1] images and normalises them
        loss.backward()
        torch.nn.utils.clip_grad_norm_(self.diffusion.parameters(), 1.0)
        self.opt.step(); self.opt.zero_grad()
        self.ema.update()
        return loss.detach()
    def sample(self, n, nfe, generator):
        from denoising_diffusion_pytorch import GaussianDiffusion
        ema = self.ema.ema_model
        d = GaussianDiffusion(ema.model, image_size=self.size.image_size, timesteps=1000, sampling_timesteps=nfe).to(self.device).eval()
        torch.manual_seed(generator.initial_seed())  # it draws from the global generator
        return d.sample(batch_size=n) * 2 - 1

SYSTEM_CLASSES = {'ddpm_lit': Ours, 'diffusers': Diffusers, 'denoising-diffusion-pytorch': Lucidrains}

def forward_fn(system: System):
    "The bare network as a function (x, t) -> eps-shaped output, for counting FLOPs."
    m = system.model
    if isinstance(system, Diffusers): return lambda x, t: m(x, t).sample
    return lambda x, t: m(x, t)

def count_flops(system: System, backward: bool) -> int:
    "FLOPs of one image through the network (forward, or forward and backward), counted by torch.utils.flop_counter."
    from torch.utils.flop_counter import FlopCounterMode
    s = system.size
    x = torch.randn(1, s.channels, s.image_size, s.image_size, device=system.device)
    t = torch.tensor([500], device=system.device)
    was = system.model.training
    system.model.eval()
    with FlopCounterMode(display=False) as fc:
        if backward:
            forward_fn(system)(x, t).sum().backward()
        else:
            with torch.no_grad(): forward_fn(system)(x, t)
    system.model.train(was)
    system.model.zero_grad(set_to_none=True)
    return fc.get_total_flops()
