"""spectra's report figure: generated vs true transmission spectra, with the k-NN baseline."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Any

import numpy as np

from astrobio.report.arrays import load_arrays, save_arrays

if TYPE_CHECKING:  # draw() runs in a report or KFP step process, which must not pay for torch
    import torch

POINTS = 4


def save(model: torch.nn.Module, data: Any, folder: Path) -> None:
    """For the first POINTS test planets (normalised units): truth, K samples, k-NN interpolation."""
    import torch

    from astrobio.components.spectra.baseline import idw_interpolate
    from astrobio.components.spectra.model import generate_samples

    ecfg = data.eval_cfg
    net = getattr(model, "module", model)
    cond, truth = data.cond["test"][:POINTS], data.x["test"][:POINTS]
    net.eval()
    with torch.no_grad():
        samples = generate_samples(net, cond, ecfg.samples_per_point, ecfg.sampler, ecfg.steps, ecfg.seed)
    knn = idw_interpolate(data.cond["train"], data.x["train"], cond, ecfg.baseline_k)
    save_arrays(folder, truth=truth.numpy().astype(np.float32), samples=samples.numpy().astype(np.float32),
                knn=knn.float().numpy().astype(np.float32))


def draw(folder: Path) -> Any:
    """One panel per held-out planet: true spectrum, generated samples and their mean, k-NN baseline."""
    arrays = load_arrays(folder)
    if arrays is None:
        return None
    import matplotlib.pyplot as plt

    n = len(arrays["truth"])
    fig, axes = plt.subplots(1, n, figsize=(3.2 * n, 3), squeeze=False, sharey=True)
    for i, ax in enumerate(axes[0]):
        bins = np.arange(arrays["truth"].shape[1])
        for k, sample in enumerate(arrays["samples"][i]):
            ax.plot(bins, sample, color="#f4a582", linewidth=0.7, label="samples" if k == 0 else None)
        ax.plot(bins, arrays["samples"][i].mean(axis=0), color="#d62728", label="generated mean")
        ax.plot(bins, arrays["knn"][i], color="#777", linestyle="--", label="k-NN baseline")
        ax.plot(bins, arrays["truth"][i], color="black", label="true")
        ax.set(title=f"test planet {i}", xlabel="wavelength bin")
    axes[0, 0].set_ylabel("normalised depth")
    axes[0, 0].legend(fontsize=7)
    fig.tight_layout()
    return fig
