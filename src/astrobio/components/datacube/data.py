"""The datacube training data: planets -> climate cubes, split by planet, normalised, batched by rank.

Parameters enter the model through clero's own input transforms (log for rotation period and
pressure, arcsinh for trace gases that may be exactly zero) and are then standardised; each field
channel is standardised by its training-set mean and std, so temperature in K and fluxes in W/m^2
weigh alike in the loss. Statistics come from the training planets only, so nothing about the
held-out planets leaks into training or into the baselines.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from astrobio.components.datacube.config import PARAM_NAMES, DatacubeConfig
from astrobio.components.datacube.generate import Cube, generate, load_user_file

SPLITS = ("train", "val", "test")
# clero's input transforms: arcsinh(x / s) behaves like log(x) above s and stays finite at 0.
ARCSINH_SCALE: dict[str, float] = {"CO2": 1e-6, "CH4": 1e-8}
LOG_INPUTS: frozenset[str] = frozenset({"P_rot", "P0"})


def planet_features(params: np.ndarray) -> np.ndarray:
    """Planet parameters [N, 8] -> model inputs [N, 8] before standardisation."""
    out = params.astype(np.float64, copy=True)
    for i, name in enumerate(PARAM_NAMES):
        if name in LOG_INPUTS:
            out[:, i] = np.log(out[:, i])
        elif name in ARCSINH_SCALE:
            out[:, i] = np.arcsinh(out[:, i] / ARCSINH_SCALE[name])
    return out


def batch_seed(split_seed: int, epoch: int) -> int:
    """A 63-bit seed per (split_seed, epoch), stable across runs, machines and ranks."""
    digest = hashlib.sha256(f"datacube:{split_seed}:{epoch}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


def split_indices(n: int, val_frac: float, test_frac: float, seed: int) -> dict[str, np.ndarray]:
    """Disjoint train/val/test planet indices; every split gets at least one planet."""
    order = np.random.default_rng(seed).permutation(n)
    n_val, n_test = max(1, round(val_frac * n)), max(1, round(test_frac * n))
    return {"val": np.sort(order[:n_val]), "test": np.sort(order[n_val:n_val + n_test]),
            "train": np.sort(order[n_val + n_test:])}


@dataclass
class Split:
    """One split, normalised: `x` [n, P] standardised features, `y` [n, C, H, W] standardised fields."""

    x: torch.Tensor
    y: torch.Tensor
    params: np.ndarray  # physical planet parameters, for provenance and the benchmark

    def __len__(self) -> int:
        return int(self.x.shape[0])


@dataclass
class DatacubeData:
    """Implements the trainer's `TrainData` protocol, plus what `evaluate` needs."""

    cfg: DatacubeConfig
    channels: list[str]
    splits: dict[str, Split]
    x_mean: torch.Tensor   # [P]
    x_std: torch.Tensor    # [P]
    y_mean: torch.Tensor   # [C] physical units
    y_std: torch.Tensor    # [C] physical units
    provenance: dict[str, Any]
    rank: int = 0
    world_size: int = 1
    memo: dict[str, Any] = field(default_factory=dict)  # baseline predictions, computed once

    @property
    def num_params(self) -> int:
        return int(self.x_mean.shape[0])

    @property
    def grid(self) -> tuple[int, int, int]:
        """(C, H, W) of one climate cube."""
        c, h, w = self.splits["train"].y.shape[1:]
        return int(c), int(h), int(w)

    def normalise_params(self, params: np.ndarray) -> torch.Tensor:
        """Physical planet parameters -> the model's standardised inputs."""
        x = torch.from_numpy(planet_features(params)).float()
        return (x - self.x_mean) / self.x_std

    def denormalise(self, y: torch.Tensor) -> torch.Tensor:
        """Standardised fields [..., C, H, W] -> physical units."""
        std, mean = self.y_std.to(y.device), self.y_mean.to(y.device)
        return y * std[:, None, None] + mean[:, None, None]

    def batches(self, epoch: int) -> Iterator[dict[str, torch.Tensor]]:
        """This rank's batches of `epoch`: a seeded shuffle of the training planets, cut to a
        multiple of world_size so every rank runs the same number of steps, then rank::world."""
        train = self.splits["train"]
        g = torch.Generator().manual_seed(batch_seed(self.cfg.data.split_seed, epoch))
        order = torch.randperm(len(train), generator=g)
        order = order[: len(order) - len(order) % self.world_size][self.rank:: self.world_size]
        size = self.cfg.data.batch_size
        for start in range(0, len(order), size):
            idx = order[start:start + size]
            yield {"params": train.x[idx], "fields": train.y[idx]}

    def describe(self) -> dict[str, Any]:
        c, h, w = self.grid
        return {**self.provenance, "channels": self.channels, "grid": [h, w], "num_channels": c,
                "param_names": list(PARAM_NAMES), **{f"n_{s}": len(self.splits[s]) for s in SPLITS},
                "normalisation": "per-channel mean/std of the training planets",
                "channel_mean": self.y_mean.tolist(), "channel_std": self.y_std.tolist()}


def from_cube(cube: Cube, cfg: DatacubeConfig, rank: int, world_size: int) -> DatacubeData:
    """Split `cube` by planet and standardise it with training-set statistics."""
    idx = split_indices(len(cube.params), cfg.data.val_frac, cfg.data.test_frac, cfg.data.split_seed)
    feats = planet_features(cube.params)
    tr_x = feats[idx["train"]]
    x_mean, x_std = tr_x.mean(0), tr_x.std(0)
    # one channel at a time, accumulated in float64: no float64 copy of the whole cube (GBs at scale)
    chans = [cube.fields[idx["train"], c] for c in range(cube.fields.shape[1])]
    y_mean = np.array([ch.mean(dtype=np.float64) for ch in chans])
    y_std = np.array([ch.std(dtype=np.float64) for ch in chans])
    del chans
    x_std[x_std < 1e-8] = 1.0  # a parameter held fixed in a user's file: centre it, don't blow it up
    y_std[y_std < 1e-8] = 1.0
    xm, xs = torch.tensor(x_mean, dtype=torch.float32), torch.tensor(x_std, dtype=torch.float32)
    ym, ys = torch.tensor(y_mean, dtype=torch.float32), torch.tensor(y_std, dtype=torch.float32)
    splits = {}
    for name, rows in idx.items():
        x = (torch.from_numpy(feats[rows]).float() - xm) / xs
        y = (torch.from_numpy(cube.fields[rows]).float() - ym[:, None, None]) / ys[:, None, None]
        splits[name] = Split(x.contiguous(), y.contiguous(), cube.params[rows])
    return DatacubeData(cfg, list(cube.channels), splits, xm, xs, ym, ys, cube.provenance, rank, world_size)


def build_data(cfg: DatacubeConfig, rank: int, world_size: int, cache_dir: Path | None) -> DatacubeData:
    """The user's file when `data.path` is set, else clero planets (cached under `cache_dir`).

    Every rank builds the same data (same seeds) and reads its own shard in `batches`; with a
    shared cache folder the first rank to finish writes the file and the others reuse it.
    """
    cube = load_user_file(cfg.data.path) if cfg.data.path else generate(cfg.data, cache_dir)
    return from_cube(cube, cfg, rank, world_size)
