"""The spectra component as the trainer sees it: build, step, evaluate, and its `SPEC`.

`evaluate` draws K conditional samples at each held-out parameter point with the configured
sampler and a generator of its own (the global RNG, which the trainer checkpoints, is untouched),
and scores, in normalised units (x `describe()["scale_ppm"]` for ppm):
- `<split>_rmse`: RMSE of the mean of the K samples against the true spectrum;
- `<split>_diversity`: std across the K samples, averaged over wavelengths and points (the data
  are deterministic up to training noise, so this should approach `noise_ppm / scale_ppm`);
- `baseline_interp_<split>_rmse`: k-NN inverse-distance interpolation over the training spectra.
"""

from __future__ import annotations

import torch
from torch import nn

from astrobio.components.spectra.baseline import idw_interpolate, rmse
from astrobio.components.spectra.config import SpectraConfig
from astrobio.components.spectra.data import SpectraData, build_data
from astrobio.components.spectra.model import SpectraDiffusion, generate_samples
from astrobio.components.spectra import figure
from astrobio.catalog import component
from astrobio.spec import ComponentSpec


def build_model(cfg: SpectraConfig, data: SpectraData) -> SpectraDiffusion:
    """A fresh model sized to the data's number of wavelength bins."""
    return SpectraDiffusion(cfg.model, data.bins)


def step(model: nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
    """Epsilon-prediction MSE (the simple DDPM loss); timesteps and noise come from model(batch)."""
    pred, noise = model(batch)
    mse = torch.mean((pred.float() - noise.float()) ** 2)
    return mse, {"mse": float(mse.detach())}


def baseline_metrics(data: SpectraData, split: str, k: int, points: int) -> dict[str, float]:
    """Interpolation baseline on the same held-out points; memoised, it depends on the data only."""
    key = (split, k, points)
    if key not in data.memo:
        pred = idw_interpolate(data.cond["train"], data.x["train"], data.cond[split][:points], k)
        data.memo[key] = {f"baseline_interp_{split}_rmse": rmse(pred, data.x[split][:points])}
    return dict(data.memo[key])


def evaluate(model: nn.Module, data: SpectraData, split: str) -> dict[str, float]:
    """`<split>_rmse`, `<split>_diversity` and `baseline_interp_<split>_rmse` (see module doc)."""
    ecfg = data.eval_cfg
    net: SpectraDiffusion = getattr(model, "module", model)  # unwrap DDP
    points = min(ecfg.max_points, len(data.x[split]))
    cond, truth = data.cond[split][:points], data.x[split][:points]
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            samples = generate_samples(net, cond, ecfg.samples_per_point, ecfg.sampler, ecfg.steps, ecfg.seed)
    finally:
        net.train(was_training)
    metrics = {f"{split}_rmse": rmse(samples.mean(dim=1), truth),
               f"{split}_diversity": float(samples.std(dim=1).mean())}
    metrics.update(baseline_metrics(data, split, ecfg.baseline_k, points))
    return metrics


_ROW = component("spectra")

SPEC = ComponentSpec(
    name="spectra",
    phase="pretrain",
    config_cls=SpectraConfig,
    build_data=build_data,
    build_model=build_model,
    step=step,
    evaluate=evaluate,
    image=_ROW.image,
    description=_ROW.description,
    figure_data=figure.save,
    figure=figure.draw,
)
