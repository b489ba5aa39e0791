"""The fusion network: one branch per modality -> latent_dim each -> concatenation MLP -> planet
embedding (LayerNorm) -> four-class head.

A branch is a feature extractor (a frozen phase-1 encoder, or a small trainable one) followed by a
trainable projector. Late fusion by concatenation keeps every modality's evidence separable, which
is what the target needs (wet comes from the climate, ch4 from the spectrum), and lets the same
class with a single branch serve as the single-modality baseline. Normalisation statistics are
buffers, so the weights file alone reproduces the model (see data.py).
"""

from __future__ import annotations

import copy
from typing import Any

import torch
from torch import nn

from astrobio.components.fusion.config import MODALITIES, FusionModelConfig
from astrobio.components.fusion.data import STAT_KEYS
from astrobio.components.fusion.encoders import Frozen
from astrobio.components.fusion.planets import CLASS_NAMES, Layout


def mlp(dims_in: int, hidden: int, dims_out: int, dropout: float) -> nn.Sequential:
    return nn.Sequential(nn.Linear(dims_in, hidden), nn.GELU(), nn.Dropout(dropout), nn.Linear(hidden, dims_out))


class ClimateCNN(nn.Module):
    """Strided convs, then an average over longitude in four latitude bands: the liquid-water
    fraction is an area average of a per-cell test, and latitude sets each cell's area."""

    BANDS = 4

    def __init__(self, channels: int, width: int) -> None:
        super().__init__()
        self.net = nn.Sequential(
            nn.Conv2d(channels, width, 3, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(width, 2 * width, 3, stride=2, padding=1), nn.GELU(),
            nn.Conv2d(2 * width, 2 * width, 3, stride=2, padding=1), nn.GELU(),
        )
        self.out_dim = 2 * width * self.BANDS

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return nn.functional.adaptive_avg_pool2d(self.net(x), (self.BANDS, 1)).flatten(1)


class FusionNet(nn.Module):
    """`forward(batch)` -> class logits [B, 4]; `embed(batch)` -> planet embeddings [B, latent_dim]."""

    def __init__(self, layout: Layout, mcfg: FusionModelConfig, stats: dict[str, torch.Tensor],
                 frozen: dict[str, Frozen], modalities: tuple[str, ...] = MODALITIES) -> None:
        super().__init__()
        unknown = set(modalities) - set(MODALITIES)
        if unknown or not modalities:
            raise ValueError(f"modalities must be a non-empty subset of {MODALITIES}, got {modalities}")
        self.modalities, self.modality_dropout = tuple(modalities), mcfg.modality_dropout
        for key in STAT_KEYS:
            self.register_buffer(key, stats[key].detach().clone().float())
        extractors, dims = nn.ModuleDict(), {}
        for m in self.modalities:
            if m in frozen:
                extractors[m] = copy.deepcopy(frozen[m])  # each model owns (and saves) its frozen encoder
                dims[m] = frozen[m].out_dim
            elif m == "climate":
                extractors[m] = ClimateCNN(len(layout.channels), mcfg.cnn_width)
                dims[m] = extractors[m].out_dim
            else:
                extractors[m] = nn.Identity()
                dims[m] = {"spectrum": 2 * layout.bins, "scm": self.scm_mean.numel(),
                           "network": self.network_table.shape[1]}[m]
        self.extractors = extractors
        self.proj = nn.ModuleDict({m: mlp(dims[m], mcfg.hidden, mcfg.latent_dim, mcfg.dropout) for m in self.modalities})
        self.fuse = mlp(len(self.modalities) * mcfg.latent_dim, mcfg.hidden, mcfg.latent_dim, mcfg.dropout)
        self.norm = nn.LayerNorm(mcfg.latent_dim)
        self.head = nn.Linear(mcfg.latent_dim, len(CLASS_NAMES))

    def features(self, m: str, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Normalised modality input -> its extractor's features."""
        ext = self.extractors[m]
        if m == "climate":
            x = (batch["fields"].float() - self.climate_mean[:, None, None]) / self.climate_std[:, None, None]
            return ext(x)
        if m == "spectrum":
            mask = batch["mask"].float()
            s = (batch["spectrum"].float() - self.spectrum_mean) / self.spectrum_scale * mask
            return ext(s) if isinstance(ext, Frozen) else torch.cat([s, mask], dim=1)
        if m == "scm":
            return ext((batch["scm"].float() - self.scm_mean) / self.scm_std)
        return self.network_table[batch["network"]]

    def embed(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        latents = torch.stack([self.proj[m](self.features(m, batch)) for m in self.modalities], dim=1)  # [B, M, D]
        if self.training and self.modality_dropout > 0 and len(self.modalities) > 1:
            keep = (torch.rand(latents.shape[:2], device=latents.device) >= self.modality_dropout).to(latents.dtype)
            latents = latents * keep.unsqueeze(-1)
        return self.norm(self.fuse(latents.flatten(1)))

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        return self.head(self.embed(batch))


def trainable_bytes(model: nn.Module) -> int:
    """Bytes of the trainable parameters: what a federated round has to send each way."""
    return sum(p.numel() * p.element_size() for p in model.parameters() if p.requires_grad)


def build_fusion_net(data: Any, mcfg: FusionModelConfig, modalities: tuple[str, ...] = MODALITIES) -> FusionNet:
    """A FusionNet sized and normalised for `data` (a FusionData or anything with upstream/stats)."""
    return FusionNet(data.upstream.layout, mcfg, data.stats, data.upstream.frozen, modalities)
