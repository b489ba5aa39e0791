"""Phase-1 artifacts as frozen encoders of their modality.

The phase-1 models are generators or graph learners, not encoders of an observation, so each is
turned into one in the way that keeps its physics:
- datacube (parameters -> climate cube): its linearisation at the mean planet, inverted (ridge
  least squares), maps an observed cube to the 8 standardised parameters that would explain it;
- spectra (conditional DDPM): the UNet's mid-block activations on the observed spectrum at a small
  diffusion timestep with the mean-parameter condition (denoising features), pooled to 4 positions;
- causal (NOTEARS SEM over the planetary SCM): each observation with its abducted noise x - f(x);
- graph_vae: the encoder's mean node embedding of each metabolic archetype (networks.py).
Frozen modules live inside the fusion model (parameters with requires_grad=False, saved in its
weights), so a downstream phase rebuilds them from `spec` dicts alone, without the phase-1 folders.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import torch
import yaml
from pydantic import ValidationError
from torch import nn

from astrobio.errors import UsageError
from astrobio.store.artifacts import sha256_file


def read_artifact(where: str, folder: str, config_cls: type) -> tuple[Any, dict[str, torch.Tensor], dict[str, Any], str]:
    """(validated config, weights, model card or {}, weights sha256) of an artifact folder, or a
    one-line UsageError naming the field and the missing or unreadable file."""
    from safetensors.torch import load_file

    root = Path(folder).expanduser()
    if not root.is_dir():
        raise UsageError(f"{where}: {root} is not a folder (expected an artifact folder with model.safetensors and config.yaml)")
    weights, config = root / "model.safetensors", root / "config.yaml"
    for f in (weights, config):
        if not f.is_file():
            raise UsageError(f"{where}: {root} has no {f.name} (expected an artifact folder with model.safetensors and config.yaml)")
    try:
        cfg = config_cls.model_validate(yaml.safe_load(config.read_text()) or {})
    except (yaml.YAMLError, ValidationError) as exc:
        raise UsageError(f"{where}: {config} is not a valid config of this component ({str(exc).splitlines()[0]})") from None
    try:
        state = load_file(str(weights))
    except Exception as exc:  # safetensors raises its own error types for a bad header
        raise UsageError(f"{where}: {weights} is not a readable safetensors file ({exc.__class__.__name__})") from None
    card_path = root / "model_card.json"
    card = json.loads(card_path.read_text()) if card_path.is_file() else {}
    return cfg, state, card, sha256_file(weights)


def load_into(where: str, module: nn.Module, state: dict[str, torch.Tensor]) -> None:
    try:
        module.load_state_dict(state, strict=True)
    except RuntimeError as exc:
        raise UsageError(f"{where}: the weights do not fit the architecture in its config.yaml ({str(exc).splitlines()[0]})") from None


class Frozen(nn.Module):
    """Base of the frozen encoders: no gradients, always in eval mode (no dropout, fixed statistics)."""

    def freeze(self) -> Frozen:
        for p in self.parameters():
            p.requires_grad_(False)
        return self.train(False)

    def train(self, mode: bool = True) -> Frozen:
        return super().train(False)


class ClimateInverse(Frozen):
    """Standardised cube [B, C, H, W] -> the 8 standardised planet parameters of the datacube surrogate."""

    def __init__(self, channels: int, height: int, width: int, num_params: int = 8) -> None:
        super().__init__()
        self.register_buffer("inverse", torch.zeros(num_params, channels * height * width))
        self.register_buffer("offset", torch.zeros(channels * height * width))
        self.out_dim = num_params

    @torch.no_grad()
    def fit(self, surrogate: nn.Module, eps: float = 0.05, ridge: float = 1e-3) -> None:
        """Central-difference Jacobian J [P, CHW] at the mean planet, then (J J^T + l I)^-1 J."""
        p = self.inverse.shape[0]
        probe = torch.cat([eps * torch.eye(p), -eps * torch.eye(p), torch.zeros(1, p)])
        out = surrogate.predict(probe).float().flatten(1)
        jac = (out[:p] - out[p:2 * p]) / (2 * eps)
        gram = jac @ jac.T
        gram += ridge * gram.diagonal().mean() * torch.eye(p)
        self.inverse.copy_(torch.linalg.solve(gram, jac))
        self.offset.copy_(out[-1])

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return (x.flatten(1).float() - self.offset) @ self.inverse.T


class SpectrumUNetFeatures(Frozen):
    """Normalised spectrum [B, L] -> pooled mid-block activations of the frozen spectra UNet."""

    POOL = 4

    def __init__(self, model_cfg: dict[str, Any], bins: int, timestep: int) -> None:
        super().__init__()
        from astrobio.components.spectra.config import SpectraModelConfig
        from astrobio.components.spectra.model import SpectraDiffusion

        self.net = SpectraDiffusion(SpectraModelConfig.model_validate(model_cfg), bins)
        self.timestep = min(timestep, self.net.cfg.num_train_timesteps - 1)
        self.out_dim = int(self.net.cfg.block_out_channels[-1]) * self.POOL

    def forward(self, s: torch.Tensor) -> torch.Tensor:
        captured: list[torch.Tensor] = []
        hook = self.net.unet.mid_block.register_forward_hook(lambda m, i, o: captured.append(o))
        try:  # a hook per call: a persistent one would follow deep copies back to this instance
            with torch.no_grad():
                b = s.shape[0]
                t = torch.full((b,), self.timestep, device=s.device, dtype=torch.long)
                self.net.denoise(s.unsqueeze(1), t, torch.zeros(b, 3, device=s.device, dtype=s.dtype))
        finally:
            hook.remove()
        return nn.functional.adaptive_avg_pool1d(captured[0].float(), self.POOL).flatten(1)


class SEMAbduction(Frozen):
    """Standardised SCM observation [B, 8] -> [observation, abducted noise x - f(x)] of the frozen SEM."""

    def __init__(self, model_cfg: dict[str, Any], d: int = 8) -> None:
        super().__init__()
        from astrobio.components.causal.config import CausalModelConfig
        from astrobio.components.causal.model import build_notears

        self.sem = build_notears(d, CausalModelConfig.model_validate(model_cfg), torch.ones(d, d), torch.zeros(d, d))
        self.out_dim = 2 * d

    def forward(self, z: torch.Tensor) -> torch.Tensor:
        with torch.no_grad():
            return torch.cat([z, z - self.sem.predict(z.float())], dim=1)


def build_frozen(spec: dict[str, Any]) -> Frozen:
    """An empty frozen encoder of the right shapes, to be filled by a fusion weights file."""
    kind = spec["kind"]
    if kind == "datacube_inverse":
        return ClimateInverse(spec["channels"], spec["height"], spec["width"]).freeze()
    if kind == "spectra_unet":
        return SpectrumUNetFeatures(spec["model"], spec["bins"], spec["timestep"]).freeze()
    if kind == "causal_abduction":
        return SEMAbduction(spec["model"]).freeze()
    raise ValueError(f"unknown frozen encoder kind '{kind}'")


def load_datacube(folder: str, where: str) -> tuple[Frozen, dict[str, Any], dict[str, Any]]:
    """(ClimateInverse, spec, extras: channels and the artifact's channel mean/std) from a datacube folder."""
    from astrobio.components.datacube.config import DatacubeConfig
    from astrobio.components.datacube.model import DatacubeSurrogate

    cfg, state, card, sha = read_artifact(where, folder, DatacubeConfig)
    data = card.get("data", {})
    channels = cfg.data.channels()
    if len(data.get("channel_mean", [])) != len(channels) or len(data.get("channel_std", [])) != len(channels):
        raise UsageError(f"{where}: {folder}/model_card.json lacks data.channel_mean/channel_std for {len(channels)} "
                         "channels (the surrogate's field normalisation)")
    if data.get("grid", [32, 64]) != [32, 64]:
        raise UsageError(f"{where}: the datacube was trained on a {data.get('grid')} grid; fusion generates clero's 32x64")
    surrogate = DatacubeSurrogate(8, (len(channels), 32, 64), cfg.model)
    load_into(where, surrogate, state)
    surrogate.eval()
    spec = {"kind": "datacube_inverse", "channels": len(channels), "height": 32, "width": 64, "weights_sha256": sha}
    module = build_frozen(spec)
    module.fit(surrogate)  # type: ignore[operator]
    extras = {"channels": channels, "gcm": cfg.data.gcm, "mean": data["channel_mean"], "std": data["channel_std"]}
    return module, spec, extras


def load_spectra(folder: str, where: str, timestep: int) -> tuple[Frozen, dict[str, Any], dict[str, Any]]:
    from astrobio.components.spectra.config import SpectraConfig

    cfg, state, _, sha = read_artifact(where, folder, SpectraConfig)
    spec = {"kind": "spectra_unet", "model": cfg.model.model_dump(mode="json"), "bins": cfg.data.bins,
            "timestep": timestep, "weights_sha256": sha}
    module = build_frozen(spec)
    load_into(where, module.net, state)  # type: ignore[arg-type]
    return module, spec, {"bins": cfg.data.bins, "wavelength_um": tuple(cfg.data.wavelength_um)}


def load_causal(folder: str, where: str) -> tuple[Frozen, dict[str, Any]]:
    from astrobio.components.causal.config import CausalConfig

    cfg, state, _, sha = read_artifact(where, folder, CausalConfig)
    if cfg.data.source != "planetary_scm" or cfg.data.transform != "none":
        raise UsageError(f"{where}: the causal artifact was trained on '{cfg.data.source}' (transform "
                         f"{cfg.data.transform}); fusion needs one trained on planetary_scm without a transform")
    spec = {"kind": "causal_abduction", "model": cfg.model.model_dump(mode="json"), "weights_sha256": sha}
    module = build_frozen(spec)
    load_into(where, module.sem, state)  # type: ignore[arg-type]
    return module, spec


def load_graph_vae(folder: str, where: str) -> dict[str, Any]:
    """The frozen graph_vae encoder with its graph settings (its descriptors go into networks.py)."""
    from astrobio.components.graph_vae.config import GraphVAEConfig
    from astrobio.components.graph_vae.features import CHEMISTRY_DIM
    from astrobio.components.graph_vae.model import GraphVAE

    cfg, state, _, sha = read_artifact(where, folder, GraphVAEConfig)
    if cfg.data.features != "chemistry":
        raise UsageError(f"{where}: the graph_vae artifact uses '{cfg.data.features}' node features, which do not "
                         "transfer to other networks; fusion needs features: chemistry")
    model = GraphVAE(CHEMISTRY_DIM, cfg.model)
    load_into(where, model, state)
    return {"config": cfg, "model": model.eval(), "sha256": sha}
