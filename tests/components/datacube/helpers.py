"""Helpers shared by the datacube tests: small configs that build in about a second."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from astrobio.components.datacube.config import PARAM_NAMES, DatacubeConfig
from astrobio.components.datacube.generate import sample_planets

# A surrogate small enough to train a few steps in well under a second on one core.
TINY_MODEL: dict[str, Any] = {"hidden": 32, "latent_channels": 8, "embed_dim": 16, "depth": 1, "heads": 2,
                              "upsample_steps": 2, "dropout": 0.1}


def make_cfg(data: dict[str, Any] | None = None, model: dict[str, Any] | None = None, **top: Any) -> DatacubeConfig:
    """A validated config: 48 clero planets, surface temperature + OLR, the tiny model."""
    return DatacubeConfig.model_validate({
        "data": {"n_samples": 48, "fields": ["surface_temperature", "olr"], "batch_size": 8, **(data or {})},
        "model": {**TINY_MODEL, **(model or {})}, **top,
    })


def write_user_file(path: Path, n: int = 40, num_channels: int = 2, grid: tuple[int, int] = (16, 32),
                    params: np.ndarray | None = None, **extra: np.ndarray) -> Path:
    """A user's own .npz: planets inside clero's core domain and smooth synthetic fields."""
    cfg = DatacubeConfig()
    p = sample_planets(cfg.data.sampling_ranges(), n, seed=5) if params is None else params
    lat = np.linspace(-1, 1, grid[0])[:, None]
    lon = np.linspace(0, 2 * np.pi, grid[1], endpoint=False)[None, :]
    base = np.cos(lat) * np.cos(lon)
    t = p[:, PARAM_NAMES.index("F_star")] / 1000.0
    fields = np.stack([np.stack([(c + 1) * t[i] * base + c for c in range(num_channels)]) for i in range(len(p))])
    arrays = {"params": p, "fields": fields.astype(np.float32), **extra}
    with open(path, "wb") as fh:
        np.savez(fh, **arrays)
    return path
