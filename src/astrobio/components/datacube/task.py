"""The datacube component as the trainer sees it: build, step, evaluate, and its `SPEC`.

Units of the reported errors. The headline `<split>_rmse` and the baselines' figures are RMSEs in
standardised units: each channel's error divided by that channel's training-set std, pooled over
channels, planets and grid cells. Channels with different physical units (K, W/m^2, m/s) can only
be pooled that way, and 1.0 is what predicting the training mean scores. Next to it, every channel's
RMSE of the surrogate in physical units is reported as `<split>_rmse_<channel>` (e.g.
`val_rmse_surface_temperature` in K), which is the figure to quote for a single field.

The surrogate starts from the linear baseline (its trend is initialised with the same least-squares
fit), so the nearest-neighbour baseline is beaten from step 0 and the linear one is the bar that
measures what the CNN-ViT residual network has learned.
"""

from __future__ import annotations

import math
import re

import torch
import torch.nn.functional as F
from torch import nn

from astrobio.components.datacube.baselines import channel_sse, linear_weights, nearest_indices, predict_linear
from astrobio.components.datacube.config import DatacubeConfig
from astrobio.components.datacube.data import DatacubeData, build_data
from astrobio.components.datacube.model import DatacubeSurrogate
from astrobio.components.datacube import figure
from astrobio.catalog import component
from astrobio.spec import ComponentSpec


def build_model(cfg: DatacubeConfig, data: DatacubeData) -> DatacubeSurrogate:
    """A fresh surrogate sized to the data (parameter count, (C, H, W) cube), its linear trend
    started at the training-set least-squares fit. Deterministic given the seed and the data."""
    model = DatacubeSurrogate(data.num_params, data.grid, cfg.model)
    model.set_trend(linear_weights(data))
    return model


def step(model: nn.Module, batch: dict[str, torch.Tensor]) -> tuple[torch.Tensor, dict[str, float]]:
    """Mean squared error over every channel and cell, in standardised units (float32 under AMP)."""
    pred = model(batch)
    loss = F.mse_loss(pred.float(), batch["fields"].float())
    return loss, {"mse": float(loss.detach())}


def metric_keys(split: str, channels: list[str]) -> list[str]:
    """Exactly the names `evaluate` returns, in order (tests and docs rely on this list)."""
    return ([f"{split}_rmse", f"{split}_skill", f"baseline_nn_{split}_rmse", f"baseline_linear_{split}_rmse"]
            + [f"{split}_rmse_{_safe(c)}" for c in channels])


def _safe(name: str) -> str:
    """A channel name usable in a Katib metric name (letters, digits, underscore)."""
    return re.sub(r"[^A-Za-z0-9_]", "_", name)


def _pooled_rmse(sse: torch.Tensor, n: int, cells: int) -> float:
    return math.sqrt(float(sse.sum()) / (n * cells * len(sse)))


def _baseline_metrics(data: DatacubeData, split: str) -> dict[str, float]:
    """Nearest-neighbour and linear baselines on `split`; they depend only on the data, so once."""
    key = f"baselines_{split}"
    if key not in data.memo:
        train, held = data.splits["train"], data.splits[split]
        _, h, w = data.grid
        nn_idx = nearest_indices(train.x, held.x)
        nn_sse = channel_sse(lambda xb, rows: train.y[nn_idx[rows]], held.x, held.y)
        weights = linear_weights(data)
        lin_sse = channel_sse(lambda xb, rows: predict_linear(weights, xb, data.grid), held.x, held.y)
        data.memo[key] = {f"baseline_nn_{split}_rmse": _pooled_rmse(nn_sse, len(held), h * w),
                          f"baseline_linear_{split}_rmse": _pooled_rmse(lin_sse, len(held), h * w)}
    return dict(data.memo[key])


def evaluate(model: nn.Module, data: DatacubeData, split: str) -> dict[str, float]:
    """Metrics of the surrogate on `split` ("train", "val" or "test"), with names `metric_keys`:

    - `<split>_rmse`: standardised RMSE pooled over channels (see the module docstring);
    - `<split>_skill`: 1 - rmse / baseline_nn rmse (> 0 means better than the lookup table);
    - `baseline_nn_<split>_rmse`, `baseline_linear_<split>_rmse`: the baselines, same units;
    - `<split>_rmse_<channel>`: the surrogate's RMSE of one channel in physical units.
    """
    held = data.splits[split]
    net: DatacubeSurrogate = getattr(model, "module", model)  # unwrap DDP
    device = next(net.parameters()).device
    was_training = net.training
    net.eval()
    try:
        with torch.no_grad():
            sse = channel_sse(lambda xb, rows: net.predict(xb.to(device)), held.x, held.y)
    finally:
        net.train(was_training)
    _, h, w = data.grid
    metrics = {f"{split}_rmse": _pooled_rmse(sse, len(held), h * w)}
    base = _baseline_metrics(data, split)
    nn_rmse = base[f"baseline_nn_{split}_rmse"]
    metrics[f"{split}_skill"] = 1.0 - metrics[f"{split}_rmse"] / nn_rmse if nn_rmse > 0 else float("nan")
    metrics.update(base)
    per_channel = (sse / (len(held) * h * w)).sqrt() * data.y_std.double()
    for name, value in zip(data.channels, per_channel.tolist()):
        metrics[f"{split}_rmse_{_safe(name)}"] = value
    return metrics


_ROW = component("datacube")

SPEC = ComponentSpec(
    name="datacube",
    phase="pretrain",
    config_cls=DatacubeConfig,
    build_data=build_data,
    build_model=build_model,
    step=step,
    evaluate=evaluate,
    image=_ROW.image,
    description=_ROW.description,
    figure_data=figure.save,
    figure=figure.draw,
)
