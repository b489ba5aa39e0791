"""Conditional DDPM over binned spectra: a diffusers UNet1DModel that sees the noisy spectrum, the
embedded physical parameters as extra input channels, and the wavelength itself.

Conditioning by extra input channels keeps the diffusers UNet unmodified (its time embedding is
internal to its forward). The default "profile" embedding maps the parameters to a few learned
curves along wavelength, so the parameters can say directly where absorption bands deepen; a
constant-per-channel ("broadcast") embedding left that to the convolutions and learned more slowly
on CPU budgets. The wavelength channel tells the translation-equivariant convolutions where each
band sits. Training draws timesteps and noise from torch's global RNG inside
`forward`, so DDP sees every parameter in one call and the trainer's RNG checkpointing makes a
resumed run draw exactly the same noise.
"""

from __future__ import annotations

import torch
from diffusers import DDIMScheduler, DDPMScheduler, UNet1DModel
from torch import nn

from astrobio.components.spectra.config import SpectraModelConfig

N_PARAMS = 3


def unet_kwargs(cfg: SpectraModelConfig, in_channels: int) -> dict:
    """The UNet1DModel config (see docs/DEPENDENCIES.md 3g): resnet blocks with a learned
    positional timestep embedding; one fewer up block than down blocks, as diffusers expects."""
    depth = len(cfg.block_out_channels)
    return dict(
        in_channels=in_channels, out_channels=1, extra_in_channels=0, block_out_channels=tuple(cfg.block_out_channels),
        layers_per_block=cfg.layers_per_block, norm_num_groups=cfg.norm_num_groups, use_timestep_embedding=True,
        time_embedding_type="positional", flip_sin_to_cos=False, freq_shift=1, act_fn="mish",
        down_block_types=("DownResnetBlock1D",) * depth, up_block_types=("UpResnetBlock1D",) * (depth - 1),
        mid_block_type="MidResTemporalBlock1D", out_block_type="OutConv1DBlock",
    )


class SpectraDiffusion(nn.Module):
    """epsilon-prediction DDPM; `forward(batch)` returns (predicted noise, true noise)."""

    def __init__(self, cfg: SpectraModelConfig, bins: int) -> None:
        super().__init__()
        self.cfg, self.bins = cfg, bins
        per_channel = bins if cfg.cond_embedding == "profile" else 1
        self.cond_mlp = nn.Sequential(nn.Linear(N_PARAMS, cfg.cond_hidden), nn.SiLU(),
                                      nn.Linear(cfg.cond_hidden, cfg.cond_hidden), nn.SiLU(),
                                      nn.Linear(cfg.cond_hidden, cfg.cond_channels * per_channel))
        extra = cfg.cond_channels + (1 if cfg.position_channel else 0)
        self.unet = UNet1DModel(**unet_kwargs(cfg, 1 + extra))
        self.register_buffer("position", torch.linspace(-1.0, 1.0, bins).view(1, 1, bins), persistent=False)
        # No clipping in training; sampling clips to +-sample_clip, not to [-1, 1] as for images:
        # the data are standardised.
        self.noise_scheduler = DDPMScheduler(num_train_timesteps=cfg.num_train_timesteps,
                                             beta_schedule=cfg.beta_schedule, prediction_type="epsilon",
                                             clip_sample=False)

    def denoise(self, x_t: torch.Tensor, t: torch.Tensor, cond: torch.Tensor) -> torch.Tensor:
        """Predicted noise for noisy spectra x_t [B,1,L] at timesteps t [B] given parameters [B,3]."""
        b, _, length = x_t.shape
        emb = self.cond_mlp(cond).view(b, self.cfg.cond_channels, -1)  # [B, C, L] or [B, C, 1]
        parts = [x_t, emb.expand(-1, -1, length)]
        if self.cfg.position_channel:
            parts.append(self.position.expand(b, -1, -1).to(x_t.dtype))
        return self.unet(torch.cat(parts, dim=1), t).sample

    def forward(self, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, torch.Tensor]:
        x0, cond = batch["x"], batch["cond"]
        noise = torch.randn_like(x0)
        t = torch.randint(0, self.cfg.num_train_timesteps, (x0.shape[0],), device=x0.device)
        x_t = self.noise_scheduler.add_noise(x0, noise, t)
        return self.denoise(x_t, t, cond), noise

    def sampler(self, kind: str, steps: int) -> DDPMScheduler | DDIMScheduler:
        """A fresh scheduler per call (set_timesteps mutates it): DDIM with `steps` steps (eta=0,
        deterministic given x_T) or ancestral DDPM over every training timestep."""
        clip = {"clip_sample": self.cfg.sample_clip is not None, "clip_sample_range": self.cfg.sample_clip or 1.0}
        if kind == "ddpm":
            sched = DDPMScheduler.from_config(self.noise_scheduler.config, **clip)
            sched.set_timesteps(self.cfg.num_train_timesteps)
        elif kind == "ddim":
            sched = DDIMScheduler.from_config(self.noise_scheduler.config, **clip)
            sched.set_timesteps(min(steps, self.cfg.num_train_timesteps))
        else:
            raise ValueError(f"unknown sampler '{kind}' (ddim | ddpm)")
        return sched

    @torch.no_grad()
    def sample(self, cond: torch.Tensor, kind: str = "ddim", steps: int = 50,
               generator: torch.Generator | None = None) -> torch.Tensor:
        """Spectra [B, L] (normalised units) for parameters [B,3]. Draws only from `generator`
        (a CPU generator: the same numbers on every device), never from the global RNG."""
        sched = self.sampler(kind, steps)
        device = cond.device
        x = torch.randn((cond.shape[0], 1, self.bins), generator=generator).to(device)
        for t in sched.timesteps:
            eps = self.denoise(x, t.expand(x.shape[0]).to(device), cond)
            if kind == "ddpm":  # a CPU generator: diffusers draws on the CPU and moves the noise
                x = sched.step(eps, t, x, generator=generator).prev_sample
            else:
                x = sched.step(eps, t, x, eta=0.0).prev_sample
        return x.squeeze(1)


def generate_samples(net: SpectraDiffusion, cond: torch.Tensor, k: int, kind: str, steps: int, seed: int) -> torch.Tensor:
    """[P, K, L] samples: every point repeated K times, one batch, one seeded CPU generator."""
    device = next(net.parameters()).device
    gen = torch.Generator().manual_seed(seed)
    flat = net.sample(cond.repeat_interleave(k, dim=0).to(device), kind, steps, gen)
    return flat.float().cpu().view(cond.shape[0], k, -1)
