"""Helpers shared by the fusion and galactic tests: tiny configs, a session-wide planet cache, fake
phase-1 artifact folders (random weights in the real formats: no phase-1 training needed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
import torch

from astrobio.components.fusion.config import FusionConfig
from astrobio.config.load import to_yaml
from astrobio.trainer.checkpoint import save_weights

TINY_MODEL: dict[str, Any] = {"latent_dim": 16, "hidden": 32, "cnn_width": 4, "dropout": 0.0}
# 100 planets with a two-channel climate and a 32-bin spectrum: a few seconds of clero + lazuli, once
# per session; textbook as both networks because iJO1366 takes seconds to parse
SMALL_DATA: dict[str, Any] = {"n_planets": 100, "climate_fields": ["surface_temperature", "olr"],
                              "spectrum_bins": 32, "batch_size": 16, "networks": ["textbook", "textbook"]}


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for k, v in over.items():
        out[k] = merge(out[k], v) if isinstance(v, dict) and isinstance(out.get(k), dict) else v
    return out


def make_cfg(**over: Any) -> FusionConfig:
    base = {"data": SMALL_DATA, "model": TINY_MODEL, "optim": {"lr": 0.003}, "eval": {"baseline_steps": 5},
            "trainer": {"max_steps": 20, "eval_every": 10, "log_every": 10, "checkpoint": {"every": 10, "keep_last": 2}}}
    return FusionConfig.model_validate(merge(base, over))


def planet_cache(factory: pytest.TempPathFactory) -> Path:
    """One cache folder for the whole session (fusion and galactic tests share generated planets)."""
    path = factory.getbasetemp() / "fusion-planet-cache"
    path.mkdir(exist_ok=True)
    return path


def link_cache(out: Path, cache: Path) -> None:
    """Make the trainer's `<output_dir>/cache` the session cache, so a training test generates nothing."""
    out.mkdir(parents=True, exist_ok=True)
    if not (out / "cache").exists():
        (out / "cache").symlink_to(cache, target_is_directory=True)


def _write(folder: Path, cfg: Any, state: dict[str, torch.Tensor], card_data: dict[str, Any] | None = None) -> str:
    folder.mkdir(parents=True, exist_ok=True)
    save_weights(folder / "model.safetensors", state)
    (folder / "config.yaml").write_text(to_yaml(cfg))
    (folder / "model_card.json").write_text(json.dumps({"data": card_data or {}}))
    return str(folder)


def fake_artifacts(root: Path) -> dict[str, str]:
    """Phase-1 artifact folders whose layout matches SMALL_DATA (so their planets are cached too)."""
    from astrobio.components.causal.config import CausalConfig
    from astrobio.components.causal.model import build_notears
    from astrobio.components.datacube.config import DatacubeConfig
    from astrobio.components.datacube.model import DatacubeSurrogate
    from astrobio.components.graph_vae.config import GraphVAEConfig
    from astrobio.components.graph_vae.features import CHEMISTRY_DIM
    from astrobio.components.graph_vae.model import GraphVAE
    from astrobio.components.spectra.config import SpectraConfig
    from astrobio.components.spectra.model import SpectraDiffusion

    torch.manual_seed(0)
    dc = DatacubeConfig.model_validate({"data": {"fields": ["surface_temperature", "olr"]},
                                        "model": {"hidden": 16, "latent_channels": 8, "embed_dim": 8, "depth": 1, "heads": 2}})
    sp = SpectraConfig.model_validate({"data": {"bins": 32}, "model": {"block_out_channels": [8, 16], "cond_hidden": 8,
                                                                       "cond_channels": 2}})
    ca = CausalConfig()
    gv = GraphVAEConfig.model_validate({"data": {"sources": ["textbook"]}, "model": {"hidden_dim": 8, "latent_dim": 4}})
    card = {"channel_mean": [250.0, 230.0], "channel_std": [30.0, 40.0], "grid": [32, 64]}
    return {
        "datacube": _write(root / "datacube", dc, DatacubeSurrogate(8, (2, 32, 64), dc.model).state_dict(), card),
        "spectra": _write(root / "spectra", sp, SpectraDiffusion(sp.model, 32).state_dict()),
        "causal": _write(root / "causal", ca, build_notears(8, ca.model, torch.ones(8, 8), torch.zeros(8, 8)).state_dict()),
        "graph_vae": _write(root / "graph_vae", gv, GraphVAE(CHEMISTRY_DIM, gv.model).state_dict()),
    }
