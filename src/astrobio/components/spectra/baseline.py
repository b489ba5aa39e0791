"""The baseline a spectrum model must beat: interpolation over the TRAINING spectra.

k-nearest-neighbour inverse-distance weighting in the standardised parameter space
(log10 T, log [M/H], C/O): a held-out spectrum is the distance-weighted mean of the k training
spectra whose parameters are closest. This is what one does with a precomputed grid of forward
models and no learned emulator. It sees exactly the training set the diffusion model sees (noise
included), never the physics grid itself, which would be the generator and therefore exact.
"""

from __future__ import annotations

import torch


def idw_interpolate(train_cond: torch.Tensor, train_x: torch.Tensor, query: torch.Tensor, k: int,
                    power: float = 2.0, eps: float = 1e-12) -> torch.Tensor:
    """Spectra [Q, L] at `query` [Q, P] from training points `train_cond` [N, P] / `train_x` [N, L]."""
    k = min(k, train_cond.shape[0])
    dist = torch.cdist(query.double(), train_cond.double())
    near, idx = dist.topk(k, dim=1, largest=False)
    weight = 1.0 / (near + eps) ** power
    weight = weight / weight.sum(dim=1, keepdim=True)
    return (weight.unsqueeze(-1) * train_x.double()[idx]).sum(dim=1).to(train_x.dtype)


def rmse(pred: torch.Tensor, truth: torch.Tensor) -> float:
    return float(torch.sqrt(torch.mean((pred.double() - truth.double()) ** 2)))
