"""The fusion training data: joint planets as four observed modalities, split by planet, batched by rank.

Batches carry physical units (K, W/m^2, ppm, SCM units) and the model normalises them with buffers
fitted here on the training planets (or, for a frozen datacube, with that artifact's own channel
statistics, which its inverse expects). Keeping normalisation in the model makes its weights file
self-contained: the galactic phase rebuilds the exact model from the fusion artifact alone.

The observed spectrum is the noiseless one plus fixed white noise (`spectrum_noise_ppm`, or an
observatory's own level), minus its median over the covered bins: the median is the planet's
geometric transit depth, which says how big the planet and star are, not what the air holds.
"""

from __future__ import annotations

import hashlib
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch

from astrobio.components.fusion.config import MODALITIES, FusionConfig
from astrobio.components.fusion.encoders import Frozen, build_frozen, load_causal, load_datacube, load_graph_vae, load_spectra
from astrobio.components.fusion.networks import descriptor_table
from astrobio.components.fusion.planets import CLASS_NAMES, PARAM_NAMES, Layout, Planets, generate

SPLITS = ("train", "val", "test")
STAT_KEYS = ("climate_mean", "climate_std", "spectrum_mean", "spectrum_scale", "scm_mean", "scm_std", "network_table")


def split_indices(n: int, val_frac: float, test_frac: float, seed: int) -> dict[str, np.ndarray]:
    """Disjoint sorted planet indices per split; every split gets at least one planet."""
    order = np.random.default_rng(seed).permutation(n)
    n_val, n_test = max(1, round(val_frac * n)), max(1, round(test_frac * n))
    return {"train": np.sort(order[n_val + n_test:]), "val": np.sort(order[:n_val]),
            "test": np.sort(order[n_val:n_val + n_test])}


def batch_seed(tag: str, split_seed: int, epoch: int) -> int:
    digest = hashlib.sha256(f"{tag}:{split_seed}:{epoch}".encode()).digest()
    return int.from_bytes(digest[:8], "little") & (2**63 - 1)


def observe(planets: Planets, noise_ppm: np.ndarray, mask: np.ndarray, seed: int) -> dict[str, torch.Tensor]:
    """Per-planet modality tensors as an instrument sees them: `noise_ppm` [N] and coverage `mask` [N, L]."""
    rng = np.random.default_rng(seed)
    spec = planets.spectrum + rng.standard_normal(planets.spectrum.shape) * noise_ppm[:, None]
    covered = np.where(mask > 0, spec, np.nan)
    spec = (spec - np.nanmedian(covered, axis=1, keepdims=True)) * mask
    return {"fields": torch.from_numpy(planets.fields), "spectrum": torch.from_numpy(spec).float(),
            "mask": torch.from_numpy(mask).float(), "scm": torch.from_numpy(planets.scm).float(),
            "network": torch.from_numpy(planets.network), "label": torch.from_numpy(planets.labels)}


def take(obs: dict[str, torch.Tensor], rows: np.ndarray | torch.Tensor) -> dict[str, torch.Tensor]:
    idx = torch.as_tensor(rows, dtype=torch.long)
    return {k: v[idx] for k, v in obs.items()}


def fit_stats(obs: dict[str, torch.Tensor], rows: np.ndarray) -> dict[str, torch.Tensor]:
    """Normalisation of every modality from the training planets `rows` (network table left out)."""
    tr = take(obs, rows)
    f = tr["fields"].double()
    s = tr["spectrum"].double()
    covered = tr["mask"].double().sum(0).clamp(min=1)
    s_mean = s.sum(0) / covered
    return {"climate_mean": f.mean(dim=(0, 2, 3)).float(), "climate_std": f.std(dim=(0, 2, 3)).clamp(min=1e-6).float(),
            "spectrum_mean": s_mean.float(),
            "spectrum_scale": ((s - s_mean) * tr["mask"]).pow(2).sum().div(covered.sum()).sqrt().clamp(min=1e-6).float(),
            "scm_mean": tr["scm"].mean(0), "scm_std": tr["scm"].std(0).clamp(min=1e-6)}


@dataclass
class Upstream:
    """What the upstream artifacts decide: modality layout, frozen encoders and their specs."""

    layout: Layout
    specs: dict[str, dict[str, Any]]
    frozen: dict[str, Frozen] = field(default_factory=dict)
    climate_stats: tuple[list[float], list[float]] | None = None
    graph_vae: dict[str, Any] | None = None
    gcm: str | None = None


def resolve_upstream(cfg: FusionConfig, prefix: str = "components.fusion.inputs") -> Upstream:
    """Load the frozen encoders named in `cfg.inputs`; each modality without one gets a trainable encoder."""
    d = cfg.data
    channels, bins, wavelength = tuple(d.climate_fields), d.spectrum_bins, tuple(d.wavelength_um)
    specs: dict[str, dict[str, Any]] = {m: {"kind": "trainable"} for m in MODALITIES}
    up = Upstream(Layout(channels, bins, wavelength), specs)  # type: ignore[arg-type]
    if "datacube" in cfg.inputs:
        module, specs["climate"], extras = load_datacube(cfg.inputs["datacube"], f"{prefix}.datacube")
        up.frozen["climate"], channels, up.gcm = module, tuple(extras["channels"]), extras["gcm"]
        up.climate_stats = (extras["mean"], extras["std"])
    if "spectra" in cfg.inputs:
        module, specs["spectrum"], extras = load_spectra(cfg.inputs["spectra"], f"{prefix}.spectra", cfg.model.frozen_timestep)
        up.frozen["spectrum"], bins, wavelength = module, extras["bins"], extras["wavelength_um"]
    if "causal" in cfg.inputs:
        up.frozen["scm"], specs["scm"] = load_causal(cfg.inputs["causal"], f"{prefix}.causal")
    if "graph_vae" in cfg.inputs:
        up.graph_vae = load_graph_vae(cfg.inputs["graph_vae"], f"{prefix}.graph_vae")
    specs["network"] = {"kind": "graph_vae_table" if up.graph_vae else "stats_table"}
    up.layout = Layout(channels, bins, wavelength)  # type: ignore[arg-type]
    return up


def upstream_from_specs(layout: dict[str, Any], specs: dict[str, dict[str, Any]]) -> Upstream:
    """Empty frozen encoders rebuilt from a fusion model card (weights come from its weights file)."""
    lay = Layout(tuple(layout["channels"]), int(layout["bins"]), tuple(layout["wavelength_um"]))  # type: ignore[arg-type]
    frozen = {m: build_frozen(s) for m, s in specs.items() if s["kind"] not in ("trainable", "graph_vae_table", "stats_table")}
    return Upstream(lay, {m: dict(s) for m, s in specs.items()}, frozen, gcm=layout.get("gcm"))


@dataclass
class FusionData:
    """Implements the trainer's `TrainData` protocol, plus what `evaluate` and the baselines need."""

    cfg: FusionConfig
    upstream: Upstream
    planets: Planets
    obs: dict[str, torch.Tensor]
    idx: dict[str, np.ndarray]
    stats: dict[str, torch.Tensor]
    provenance: dict[str, Any]
    rank: int = 0
    world_size: int = 1
    memo: dict[str, Any] = field(default_factory=dict)  # baseline results, computed once

    def batches(self, epoch: int) -> Iterator[dict[str, torch.Tensor]]:
        """A seeded shuffle of the training planets, cut to a multiple of world_size, then rank::world."""
        rows = torch.from_numpy(self.idx["train"])
        g = torch.Generator().manual_seed(batch_seed("fusion", self.cfg.data.split_seed, epoch))
        order = rows[torch.randperm(len(rows), generator=g)]
        order = order[: len(order) - len(order) % self.world_size][self.rank::self.world_size]
        size = self.cfg.data.batch_size
        for start in range(0, len(order), size):
            yield take(self.obs, order[start:start + size])

    def split(self, name: str) -> dict[str, torch.Tensor]:
        return take(self.obs, self.idx[name])

    def describe(self) -> dict[str, Any]:
        counts = np.bincount(self.planets.labels, minlength=len(CLASS_NAMES))
        layout = {**self.upstream.layout.to_dict(), "gcm": self.upstream.gcm or self.cfg.data.gcm}
        return {**self.provenance, "layout": layout, "encoders": self.upstream.specs,
                "encoder_kind": {m: ("frozen " + s["kind"] if s["kind"] not in ("trainable", "stats_table") else
                                     "trainable") for m, s in self.upstream.specs.items()},
                "param_names": list(PARAM_NAMES), "class_names": list(CLASS_NAMES),
                "class_counts": counts.tolist(), **{f"n_{s}": int(len(self.idx[s])) for s in SPLITS},
                "target": "2 * wet (liquid-water surface fraction) + ch4 (CH4 band S/N detectable)"}


def build_data(cfg: FusionConfig, rank: int = 0, world_size: int = 1, cache_dir: Path | None = None,
               upstream: Upstream | None = None) -> FusionData:
    """Joint planets for `cfg` (cached under `cache_dir`); `upstream` given = layout and frozen
    encoders already known (a downstream phase rebuilding the fusion model from its card)."""
    up = upstream or resolve_upstream(cfg)
    dcfg = cfg.data.model_copy(update={"gcm": up.gcm}) if up.gcm else cfg.data
    planets = generate(dcfg, up.layout, Path(cache_dir) if cache_dir is not None else None)
    n, bins = len(planets), up.layout.bins
    obs = observe(planets, np.full(n, cfg.data.spectrum_noise_ppm), np.ones((n, bins)), batch_seed("noise", cfg.data.seed, 0))
    idx = split_indices(n, cfg.data.val_frac, cfg.data.test_frac, cfg.data.split_seed)
    stats = fit_stats(obs, idx["train"])
    if up.climate_stats is not None:
        stats["climate_mean"] = torch.tensor(up.climate_stats[0], dtype=torch.float32)
        stats["climate_std"] = torch.tensor(up.climate_stats[1], dtype=torch.float32)
    if up.specs["network"]["kind"] == "graph_vae_table" and up.graph_vae is None:  # rebuilt from a card:
        table, net_info = torch.zeros(4, int(up.specs["network"]["dim"])), {"from": "the fusion weights file"}
    else:
        table, net_info = descriptor_table(dcfg, up.graph_vae, Path(cache_dir) if cache_dir is not None else None)
    stats["network_table"] = table
    up.specs["network"]["dim"] = int(table.shape[1])
    prov = {**planets.provenance, "networks": net_info}
    return FusionData(cfg, up, planets, obs, idx, stats, prov, rank, world_size)
