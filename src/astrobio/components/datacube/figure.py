"""datacube's report figure: one held-out planet's climate fields, true vs surrogate vs linear baseline."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from astrobio.report.arrays import load_arrays, save_arrays

if TYPE_CHECKING:  # draw() runs in a report or KFP step process, which must not pay for torch
    import torch


def save(model: torch.nn.Module, data: Any, folder: Path) -> None:
    """The first test planet's fields [C, H, W] in physical units: truth, surrogate, linear baseline."""
    import torch

    from astrobio.components.datacube.baselines import predict_linear
    from astrobio.components.datacube.baselines import linear_weights

    held = data.splits["test"]
    net = getattr(model, "module", model)
    device = next(net.parameters()).device
    net.eval()
    with torch.no_grad():
        pred = net.predict(held.x[:1].to(device)).float().cpu()
    linear = predict_linear(linear_weights(data), held.x[:1], data.grid).float()
    scale, shift = data.y_std.view(-1, 1, 1).float(), data.y_mean.view(-1, 1, 1).float()
    physical = lambda t: (t[0] * scale + shift).numpy().astype(np.float32)  # noqa: E731
    save_arrays(folder, truth=physical(held.y[:1].float()), model=physical(pred), linear=physical(linear),
                channels=np.array(data.channels))


def draw(folder: Path) -> Any:
    """A row per field: truth, surrogate, linear baseline (shared colour scale), surrogate error."""
    arrays = load_arrays(folder)
    if arrays is None:
        return None
    import matplotlib.pyplot as plt

    channels = [str(c) for c in arrays["channels"]]
    fig, axes = plt.subplots(len(channels), 4, figsize=(12, 2.2 * len(channels)), squeeze=False)
    for row, name in enumerate(channels):
        truth = arrays["truth"][row]
        lo, hi = float(truth.min()), float(truth.max())
        for col, (title, field) in enumerate((("true", truth), ("surrogate", arrays["model"][row]),
                                              ("linear baseline", arrays["linear"][row]))):
            image = axes[row, col].imshow(field, vmin=lo, vmax=hi, cmap="viridis", aspect="auto")
            axes[row, col].set_title(f"{name}: {title}", fontsize=8)
        fig.colorbar(image, ax=axes[row, :3], fraction=0.02)
        err = axes[row, 3].imshow(arrays["model"][row] - truth, cmap="RdBu_r", aspect="auto")
        axes[row, 3].set_title(f"{name}: surrogate - true", fontsize=8)
        fig.colorbar(err, ax=axes[row, 3], fraction=0.05)
    for ax in axes.flat:
        ax.set_xticks([])
        ax.set_yticks([])
    fig.suptitle("held-out planet: predicted vs true fields")
    return fig
