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


def k_on_validation(train_cond: torch.Tensor, train_x: torch.Tensor, val_cond: torch.Tensor,
                    val_x: torch.Tensor, choices: tuple[int, ...] = (1, 2, 4, 8, 16, 32)) -> int:
    """The neighbour count with the lowest validation RMSE: the baseline tuned the way the model
    is (on val, never on test), so a comparison on test is against the best k-NN, not a fixed k."""
    scores = {k: rmse(idw_interpolate(train_cond, train_x, val_cond, k), val_x) for k in choices}
    return min(scores, key=lambda k: (scores[k], k))


def rmse(pred: torch.Tensor, truth: torch.Tensor) -> float:
    return float(torch.sqrt(torch.mean((pred.double() - truth.double()) ** 2)))
