"""The spectra data set: (parameters, spectrum) pairs split into train and held-out points.

Normalisation (fitted on the training split only, so held-out points leak nothing):
- spectra: minus the per-wavelength training mean, divided by ONE global training std. A single
  scale keeps the relative size of features across wavelengths (a per-bin std would blow up bins
  that barely vary), keeps the transform invertible (ppm = x * scale + mean), and makes RMSE in
  normalised units a fixed multiple of RMSE in ppm (`describe()["scale_ppm"]`). Per-sample
  standardisation was rejected: it discards the amplitude, which the parameters determine.
- parameters: (log10 T, log [M/H], C/O), each standardised; log T because chemistry changes per
  decade of temperature. The interpolation baseline measures distance in this same space.
"""

from __future__ import annotations

import hashlib
import json
import os
import tempfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import numpy as np
import torch

from astrobio.components.npz_input import read_npz
from astrobio.components.spectra import grid
from astrobio.components.spectra.config import SpectraConfig, SpectraDataConfig, SpectraEvalConfig
from astrobio.errors import UsageError

SPLITS = ("train", "val", "test")


class SpectraData:
    """Normalised train/val/test tensors plus the statistics to undo the normalisation. It also
    carries the evaluation settings, because `evaluate(model, data, split)` receives only the data."""

    def __init__(self, cfg: SpectraDataConfig, raw: dict[str, tuple[np.ndarray, np.ndarray]],
                 provenance: dict[str, Any], rank: int = 0, world_size: int = 1,
                 eval_cfg: SpectraEvalConfig | None = None) -> None:
        self.cfg, self.rank, self.world_size = cfg, rank, world_size
        self.eval_cfg = eval_cfg or SpectraEvalConfig()
        train_params, train_spectra = raw["train"]
        self.param_mean, self.param_std = _stats(param_features(train_params))
        self.spec_mean = train_spectra.mean(axis=0)
        self.scale = float((train_spectra - self.spec_mean).std()) or 1.0
        self.raw = raw
        self.cond: dict[str, torch.Tensor] = {}
        self.x: dict[str, torch.Tensor] = {}
        for split, (params, spectra) in raw.items():
            self.cond[split] = torch.from_numpy((param_features(params) - self.param_mean) / self.param_std).float()
            self.x[split] = torch.from_numpy((spectra - self.spec_mean) / self.scale).float()
        self.provenance = provenance
        self.memo: dict[str, Any] = {}  # split -> baseline metrics (they depend on the data only)

    @property
    def bins(self) -> int:
        return int(self.x["train"].shape[1])

    def batches(self, epoch: int) -> Iterator[dict[str, torch.Tensor]]:
        """Shuffled training batches of `epoch` for this rank; a pure function of (seed, epoch,
        rank). The permutation is cut to a multiple of world_size so every rank yields the same
        number of batches (DDP would hang on a rank with one batch more)."""
        n = len(self.x["train"])
        g = torch.Generator().manual_seed(self.cfg.seed * 1_000_003 + epoch)
        order = torch.randperm(n, generator=g)
        order = order[: n - n % self.world_size][self.rank:: self.world_size]
        for i in range(0, len(order), self.cfg.batch_size):
            idx = order[i: i + self.cfg.batch_size]
            yield {"x": self.x["train"][idx].unsqueeze(1), "cond": self.cond["train"][idx]}

    def to_ppm(self, x: torch.Tensor) -> torch.Tensor:
        """Inverse of the spectrum normalisation (for plots and reports)."""
        return x * self.scale + torch.from_numpy(self.spec_mean).to(x)

    def describe(self) -> dict[str, Any]:
        return {**self.provenance, "sizes": {s: int(len(self.x[s])) for s in SPLITS}, "bins": self.bins,
                "normalisation": "per-wavelength train mean, one global train std", "scale_ppm": self.scale,
                "noise_ppm_train": self.cfg.noise_ppm, "param_features": ["log10_T", "log_met", "c_to_o"]}


def param_features(params: np.ndarray) -> np.ndarray:
    """(T, log [M/H], C/O) -> (log10 T, log [M/H], C/O)."""
    out = np.array(params, dtype=np.float64, copy=True)
    out[:, 0] = np.log10(out[:, 0])
    return out


def _stats(values: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    std = values.std(axis=0)
    return values.mean(axis=0), np.where(std > 0, std, 1.0)


def settings_hash(settings: dict[str, Any]) -> str:
    return hashlib.sha256(json.dumps(settings, sort_keys=True).encode()).hexdigest()[:16]


def generated(cfg: SpectraDataConfig, cache_dir: Path | str | None) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, Any]]:
    """Noiseless spectra from the grid, read from `cache_dir` when the same settings made them before."""
    grid.check_ranges(cfg)
    settings = grid.generator_settings(cfg)
    key = settings_hash(settings)
    path = Path(cache_dir) / f"spectra-{key}.npz" if cache_dir is not None else None
    provenance = {"source": "lazuli-exo", "generator": settings, "cache_key": key, "cache_file": str(path) if path else None}
    if path is not None and path.is_file():
        with np.load(path) as f:
            raw = {s: (f[f"{s}_params"], f[f"{s}_spectra"]) for s in SPLITS}
        return raw, {**provenance, "cache_hit": True}
    sizes = {"train": cfg.n_train, "val": cfg.n_val, "test": cfg.n_test}
    raw = {}
    for stream, split in enumerate(SPLITS):
        params = grid.sample_params(cfg, sizes[split], stream)
        raw[split] = (params, grid.generate(cfg, params))
    if path is not None:
        _save_atomic(path, {f"{s}_{k}": v for s, (p, x) in raw.items() for k, v in (("params", p), ("spectra", x))})
    return raw, {**provenance, "cache_hit": False}


def _save_atomic(path: Path, arrays: dict[str, np.ndarray]) -> None:
    """Temp name then rename, so ranks racing on one cache never read half a file."""
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=".spectra-", suffix=".npz")
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, **arrays)
        os.replace(tmp, path)
    finally:
        if os.path.exists(tmp):
            os.unlink(tmp)


def user_file(cfg: SpectraDataConfig) -> tuple[dict[str, tuple[np.ndarray, np.ndarray]], dict[str, Any]]:
    """A user's .npz (`params` [N,3], `spectra` [N,L]); L >= bins is averaged down to `bins` equal
    index-width bins; held-out rows are a seeded permutation's first n_val + n_test."""
    path = Path(cfg.file or "")
    expected = "`params` [N,3] (T [K], log10 metallicity, C/O) and `spectra` [N,L]"
    where = f"components.spectra.data.file {path}"
    arrays = read_npz(path, where, f"expected an .npz with {expected}", ("params", "spectra"))
    try:
        params, spectra = np.asarray(arrays["params"], float), np.asarray(arrays["spectra"], float)
    except (ValueError, TypeError) as err:
        raise UsageError(f"{where}: arrays are not numeric ({str(err).splitlines()[0][:120]}); "
                         f"expected {expected}") from None
    n = params.shape[0] if params.ndim else 0
    if params.ndim != 2 or params.shape[1] != 3 or spectra.ndim != 2 or spectra.shape[0] != n:
        raise UsageError(f"{path}: params {list(params.shape)} / spectra {list(spectra.shape)}; expected {expected}")
    if spectra.shape[1] < cfg.bins:
        raise UsageError(f"{path}: spectra has {spectra.shape[1]} wavelengths, fewer than data.bins={cfg.bins}")
    if not np.isfinite(spectra).all():
        raise UsageError(f"{path}: spectra has non-finite values")
    grid.check_physical(params, str(path))
    if n < cfg.n_val + cfg.n_test + 8:
        raise UsageError(f"{path}: {n} rows leave fewer than 8 for training after n_val={cfg.n_val} + n_test={cfg.n_test}")
    edges = np.linspace(0, spectra.shape[1], cfg.bins + 1).round().astype(int)
    binned = np.add.reduceat(spectra, edges[:-1], axis=1) / np.diff(edges)
    order = np.random.default_rng([cfg.seed, 99]).permutation(n)
    parts = np.split(order, [cfg.n_val, cfg.n_val + cfg.n_test])
    raw = {s: (params[idx], binned[idx]) for s, idx in zip(("val", "test", "train"), parts)}
    return raw, {"source": "file", "file": str(path), "rows": n, "native_length": int(spectra.shape[1])}


def build_data(cfg: SpectraConfig, rank: int = 0, world_size: int = 1, cache_dir: Path | str | None = None) -> SpectraData:
    """Generated (or user) spectra, with optional fixed white noise on the training split."""
    dcfg = cfg.data
    raw, provenance = user_file(dcfg) if dcfg.file else generated(dcfg, cache_dir)
    if dcfg.noise_ppm > 0:
        params, spectra = raw["train"]
        rng = np.random.default_rng([dcfg.seed, 7])
        raw = {**raw, "train": (params, spectra + rng.normal(0.0, dcfg.noise_ppm, spectra.shape))}
    return SpectraData(dcfg, {s: raw[s] for s in SPLITS}, provenance, rank, world_size, cfg.eval)
