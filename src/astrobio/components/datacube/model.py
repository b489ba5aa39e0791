"""The CNN-ViT hybrid climate surrogate: planet parameters -> full climate cube in one forward pass.

parameters -> MLP -> coarse latent grid -> conv stem (local structure) -> patch tokens ->
transformer encoder (global structure: a day-night contrast on a tidally locked planet couples
cells half a planet apart, which convolutions alone reach only through many layers) -> tokens back
to a grid -> transposed-conv upsampling with conv blocks -> one output channel per field, plus
(optionally) a linear trend straight from the parameters, so the network learns the residual.

Convolutions pad longitude circularly (the grid wraps around the planet) and latitude with zeros
(the poles do not wrap), so there is no artificial seam at the date line.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn

from astrobio.components.datacube.config import DatacubeModelConfig
from astrobio.errors import UsageError


def _groups(channels: int) -> int:
    """GroupNorm groups: 8 where they divide the width, else one (layer-norm over the map)."""
    return 8 if channels % 8 == 0 else 1


class LonConv(nn.Module):
    """k x k convolution, circular in longitude and zero-padded in latitude."""

    def __init__(self, cin: int, cout: int, k: int = 3) -> None:
        super().__init__()
        self.pad = k // 2
        self.conv = nn.Conv2d(cin, cout, k, padding=(self.pad, 0))  # zeros in latitude, inside the conv

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        p = self.pad
        if p:  # one concatenation: cheaper on CPU than F.pad(mode="circular") plus a second pad
            x = torch.cat([x[..., -p:], x, x[..., :p]], dim=-1)
        return self.conv(x)


class ConvBlock(nn.Module):
    """Residual pair of LonConvs with GroupNorm and GELU (a 1x1 projection when widths differ)."""

    def __init__(self, cin: int, cout: int) -> None:
        super().__init__()
        self.body = nn.Sequential(
            LonConv(cin, cout), nn.GroupNorm(_groups(cout), cout), nn.GELU(),
            LonConv(cout, cout), nn.GroupNorm(_groups(cout), cout),
        )
        self.skip = nn.Identity() if cin == cout else nn.Conv2d(cin, cout, 1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return F.gelu(self.body(x) + self.skip(x))


class DatacubeSurrogate(nn.Module):
    """Maps standardised planet parameters [B, P] to standardised fields [B, C, H, W]."""

    def __init__(self, num_params: int, grid: tuple[int, int, int], cfg: DatacubeModelConfig) -> None:
        super().__init__()
        channels, height, width = grid
        scale = 2 ** cfg.upsample_steps
        if height % (scale * cfg.patch) or width % (scale * cfg.patch):
            raise UsageError(
                f"model.upsample_steps={cfg.upsample_steps} and model.patch={cfg.patch}: the {height}x{width} grid "
                f"must be divisible by 2**upsample_steps * patch = {scale * cfg.patch} in both directions"
            )
        c0, dim = cfg.latent_channels, cfg.embed_dim
        self.coarse = (height // scale, width // scale)
        self.tokens_hw = (self.coarse[0] // cfg.patch, self.coarse[1] // cfg.patch)
        self.mlp = nn.Sequential(
            nn.Linear(num_params, cfg.hidden), nn.GELU(),
            nn.Linear(cfg.hidden, cfg.hidden), nn.GELU(),
            nn.Linear(cfg.hidden, c0 * self.coarse[0] * self.coarse[1]),
        )
        self.stem = ConvBlock(c0, c0)
        self.patchify = nn.Conv2d(c0, dim, cfg.patch, stride=cfg.patch)
        self.pos = nn.Parameter(torch.zeros(1, self.tokens_hw[0] * self.tokens_hw[1], dim))
        nn.init.trunc_normal_(self.pos, std=0.02)
        layer = nn.TransformerEncoderLayer(dim, cfg.heads, int(dim * cfg.mlp_ratio), cfg.dropout,
                                           activation="gelu", batch_first=True, norm_first=True)
        self.encoder = nn.TransformerEncoder(layer, cfg.depth, enable_nested_tensor=False)
        self.norm = nn.LayerNorm(dim)
        self.unpatchify = nn.ConvTranspose2d(dim, c0, cfg.patch, stride=cfg.patch)
        ups, blocks, width_c = [], [], c0
        for _ in range(cfg.upsample_steps):
            nxt = max(width_c // 2, 16)
            ups.append(nn.ConvTranspose2d(width_c, nxt, 2, stride=2))
            blocks.append(ConvBlock(nxt, nxt))
            width_c = nxt
        self.ups, self.blocks = nn.ModuleList(ups), nn.ModuleList(blocks)
        self.head = LonConv(width_c, channels)
        # The climate's first-order response to the parameters is smooth and nearly linear. Adam moves
        # each weight by ~lr a step, so learning that map from scratch takes hundreds of steps; instead
        # `set_trend` starts it at the least-squares fit and the network learns the residual.
        self.trend = nn.Linear(num_params, channels * height * width) if cfg.linear_trend else None
        self.grid = grid

    def set_trend(self, weights: torch.Tensor) -> None:
        """Start the linear trend at `weights` [P + 1, C*H*W] (last row: intercept) and the conv
        head at zero, so the untrained surrogate predicts exactly the least-squares fit."""
        if self.trend is None:
            return
        with torch.no_grad():
            self.trend.weight.copy_(weights[:-1].T)
            self.trend.bias.copy_(weights[-1])
            self.head.conv.weight.zero_()
            self.head.conv.bias.zero_()

    def forward(self, batch: dict[str, torch.Tensor]) -> torch.Tensor:
        """Prediction for `batch["params"]`: everything the loss needs, in one call (DDP-friendly)."""
        return self.predict(batch["params"])

    def predict(self, params: torch.Tensor) -> torch.Tensor:
        b = params.shape[0]
        z = self.stem(self.mlp(params).view(b, -1, *self.coarse))
        tokens = self.patchify(z).flatten(2).transpose(1, 2) + self.pos
        tokens = self.norm(self.encoder(tokens))
        grid = tokens.transpose(1, 2).reshape(b, -1, *self.tokens_hw)
        z = z + self.unpatchify(grid)
        for up, block in zip(self.ups, self.blocks):
            z = block(up(z))
        out = self.head(z)
        if self.trend is None:
            return out
        # float32 even under bf16 autocast: the trend carries most of the signal, and bf16's 8-bit
        # mantissa would cost more accuracy than the whole residual network adds.
        with torch.autocast(params.device.type, enabled=False):
            trend = self.trend(params.float()).view(b, *self.grid)
        return out.float() + trend
