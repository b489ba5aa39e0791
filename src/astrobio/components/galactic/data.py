"""Observatory shards of the fusion planets: non-IID by sky region and by instrument.

Each planet belongs to one observatory: the sky region is a quantile slice of `region_param`
(with `iid_fraction` of the planets dealt to a random observatory instead), and the planet is seen
through that observatory's instrument: its own white-noise level on the spectrum and its own
wavelength window (bins outside it are masked to zero and flagged in the mask). The fusion split
(train/val/test by planet) is kept, so an observatory's training shard is its training planets and
the held-out sets pool every observatory's planets as their own instrument sees them.

Batches: one optimizer step = one local batch per observatory, `{"clients": [batch_0, ...]}`.
Observatories hold different numbers of planets; an epoch lasts as long as the largest shard
takes, and a smaller shard runs through further seeded permutations of itself meanwhile, so every
step has a batch from every client and everything is a pure function of the epoch.
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterator

import numpy as np
import torch
import yaml
from pydantic import ValidationError

from astrobio.components.fusion.config import FusionConfig
from astrobio.components.fusion.data import (
    FusionData, Upstream, batch_seed, build_data as build_fusion_data, fit_stats, observe, take, upstream_from_specs,
)
from astrobio.components.fusion.planets import PARAM_NAMES
from astrobio.components.galactic.config import GalacticConfig
from astrobio.errors import UsageError

WHERE = "components.galactic"


def read_fusion_artifact(folder: str) -> tuple[FusionConfig, dict[str, Any], Path]:
    """(fusion config, its model card's data section, weights path) of a fusion artifact folder."""
    root, where = Path(folder).expanduser(), f"{WHERE}.inputs.fusion"
    for name in ("model.safetensors", "config.yaml", "model_card.json"):
        if not (root / name).is_file():
            raise UsageError(f"{where}: {root} has no {name} (expected a fusion artifact folder)")
    try:
        cfg = FusionConfig.model_validate(yaml.safe_load((root / "config.yaml").read_text()) or {})
        data = json.loads((root / "model_card.json").read_text())["data"]
        data["layout"], data["encoders"]  # noqa: B018  (present, or KeyError below)
    except (yaml.YAMLError, ValidationError, json.JSONDecodeError, KeyError, TypeError) as exc:
        raise UsageError(f"{where}: {root} is not a readable fusion artifact ({str(exc).splitlines()[0]})") from None
    return cfg.model_copy(update={"inputs": {}}), data, root / "model.safetensors"


def assign_observatories(params: np.ndarray, cfg: GalacticConfig) -> np.ndarray:
    """Observatory index [N]: quantile slices of the region parameter, plus a random iid share."""
    fed = cfg.federated
    value = params[:, PARAM_NAMES.index(fed.region_param)]
    rank = np.argsort(np.argsort(value, kind="stable"), kind="stable")
    owner = rank * fed.observatories // len(value)
    rng = np.random.default_rng([cfg.data.seed, 77])
    mixed = rng.random(len(value)) < fed.iid_fraction
    owner[mixed] = rng.integers(0, fed.observatories, int(mixed.sum()))
    return owner.astype(np.int64)


def coverage_masks(cfg: GalacticConfig, bins: int, wavelength_um: tuple[float, float]) -> np.ndarray:
    """[K, L] 0/1: which spectrum bins (log-spaced, as generated) each observatory's window covers."""
    edges = np.geomspace(wavelength_um[0], wavelength_um[1], bins + 1)
    centres = np.sqrt(edges[1:] * edges[:-1])
    masks = []
    for k, (lo, hi) in enumerate(cfg.federated.windows()):
        m = (centres >= lo) & (centres <= hi)
        if m.sum() < 2:
            raise UsageError(f"{WHERE}.federated.coverage_um[{k}]: [{lo:g}, {hi:g}] um covers {int(m.sum())} of the "
                             f"spectrum's bins over {list(wavelength_um)} um; it must cover at least 2")
        masks.append(m.astype(np.float64))
    return np.stack(masks)


@dataclass
class GalacticData:
    """Implements `TrainData` (client batches) and carries what evaluate and the baselines need."""

    cfg: GalacticConfig
    fusion: FusionData            # the planets, split and network table (its `obs` are not used)
    obs: dict[str, torch.Tensor]  # every planet as its own observatory sees it
    owner: np.ndarray             # [N] observatory of each planet
    stats: dict[str, torch.Tensor]
    init_weights: Path | None     # fusion weights to start from
    provenance: dict[str, Any]
    memo: dict[str, Any] = field(default_factory=dict)

    @property
    def upstream(self) -> Upstream:
        return self.fusion.upstream

    @property
    def idx(self) -> dict[str, np.ndarray]:
        return self.fusion.idx

    def shard(self, k: int) -> np.ndarray:
        """Training planets of observatory k."""
        train = self.idx["train"]
        return train[self.owner[train] == k]

    def shard_sizes(self) -> list[int]:
        return [len(self.shard(k)) for k in range(self.cfg.federated.observatories)]

    def batches(self, epoch: int) -> Iterator[dict[str, list[dict[str, torch.Tensor]]]]:
        size, shards = self.cfg.federated.batch_size, [self.shard(k) for k in range(self.cfg.federated.observatories)]
        steps = -(-max(len(s) for s in shards) // size)
        streams = []
        for k, rows in enumerate(shards):
            perms, total, r = [], 0, 0
            while total < steps * size:
                g = torch.Generator().manual_seed(batch_seed(f"galactic:{k}:{r}", self.cfg.data.split_seed, epoch))
                perms.append(torch.from_numpy(rows)[torch.randperm(len(rows), generator=g)])
                total, r = total + len(rows), r + 1
            streams.append(torch.cat(perms))
        for i in range(steps):
            yield {"clients": [take(self.obs, s[i * size:(i + 1) * size]) for s in streams]}

    def split(self, name: str, observatory: int | None = None) -> dict[str, torch.Tensor]:
        rows = self.idx[name]
        return take(self.obs, rows if observatory is None else rows[self.owner[rows] == observatory])

    def describe(self) -> dict[str, Any]:
        fed = self.cfg.federated
        return {**self.provenance, "observatories": fed.observatories, "region_param": fed.region_param,
                "iid_fraction": fed.iid_fraction, "windows_um": [list(w) for w in fed.windows()],
                "noise_ppm": self.noise_ppm().tolist(), "shard_sizes": self.shard_sizes(),
                "held_out": {s: np.bincount(self.owner[self.idx[s]], minlength=fed.observatories).tolist() for s in ("val", "test")},
                "statistics": "pooled over every observatory's training planets (a federated mean in practice)"}

    def noise_ppm(self) -> np.ndarray:
        lo, hi = self.cfg.federated.noise_range_ppm
        return np.geomspace(lo, hi, self.cfg.federated.observatories)


class PooledView:
    """The same steps with every client's batch concatenated: centralised training on pooled data."""

    def __init__(self, data: GalacticData) -> None:
        self.data = data

    def batches(self, epoch: int) -> Iterator[dict[str, torch.Tensor]]:
        for batch in self.data.batches(epoch):
            yield {k: torch.cat([b[k] for b in batch["clients"]]) for k in batch["clients"][0]}

    def describe(self) -> dict[str, Any]:
        return self.data.describe()


def build_data(cfg: GalacticConfig, rank: int = 0, world_size: int = 1, cache_dir: Path | None = None) -> GalacticData:
    """The fusion planets (the fusion artifact's settings when given, else this config's), sharded
    over observatories and re-observed through each one's instrument."""
    del rank, world_size  # simulated clients in one process (supports_ddp=False)
    init, source = None, "generated from components.galactic.data (no fusion artifact)"
    if "fusion" in cfg.inputs:
        fcfg, card_data, init = read_fusion_artifact(cfg.inputs["fusion"])
        upstream: Upstream | None = upstream_from_specs(card_data["layout"], card_data["encoders"])
        source = f"planets and model of the fusion artifact {cfg.inputs['fusion']}"
    else:
        fcfg, upstream = FusionConfig(data=cfg.data, model=cfg.model, trainer=cfg.trainer, optim=cfg.optim), None
    fusion = build_fusion_data(fcfg, 0, 1, cache_dir, upstream=upstream)
    cfg = cfg.model_copy(update={"data": fcfg.data, "model": fcfg.model})
    owner = assign_observatories(fusion.planets.params, cfg)
    masks = coverage_masks(cfg, fusion.upstream.layout.bins, fusion.upstream.layout.wavelength_um)
    lo, hi = cfg.federated.noise_range_ppm
    noise = np.geomspace(lo, hi, cfg.federated.observatories)
    obs = observe(fusion.planets, noise[owner], masks[owner], batch_seed("galactic-noise", fcfg.data.seed, 0))
    stats = {**fit_stats(obs, fusion.idx["train"]), "network_table": fusion.stats["network_table"]}
    if fusion.upstream.climate_stats is not None:
        stats["climate_mean"], stats["climate_std"] = fusion.stats["climate_mean"], fusion.stats["climate_std"]
    data = GalacticData(cfg, fusion, obs, owner, stats, init, {"source": source, "fusion_data": fusion.describe()})
    if min(data.shard_sizes()) == 0:
        raise UsageError(f"{WHERE}.federated.observatories: {cfg.federated.observatories} observatories over "
                         f"{len(fusion.idx['train'])} training planets leave one without planets; use fewer")
    return data
