"""The simple predictors the surrogate must beat, and the error sums every score is built from.

- nearest neighbour: the climate of the closest training planet in standardised parameter space
  (what a lookup table over pre-computed GCM runs would return);
- linear: a least-squares map from standardised parameters (plus intercept) to every grid cell
  (clero itself carries such a linear trend, so this is a demanding baseline).

Both see only the training planets. Errors are accumulated chunk by chunk as per-channel sums of
squares in standardised units, so no full prediction of a large split is ever held in memory.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import torch

CHUNK = 512


def channel_sse(predict: Callable[[torch.Tensor, slice], torch.Tensor], x: torch.Tensor, y: torch.Tensor) -> torch.Tensor:
    """Per-channel sum of squared errors [C] (float64) of `predict(x_chunk, rows)` against `y`."""
    total = torch.zeros(y.shape[1], dtype=torch.float64)
    for start in range(0, len(x), CHUNK):
        rows = slice(start, start + CHUNK)
        err = predict(x[rows], rows).float().cpu() - y[rows]
        total += err.double().pow(2).sum(dim=(0, 2, 3))
    return total


def nearest_indices(train_x: torch.Tensor, x: torch.Tensor) -> torch.Tensor:
    """Index of the nearest training planet (Euclidean, standardised parameters) for each row of `x`."""
    return torch.cat([torch.cdist(x[s:s + CHUNK].double(), train_x.double()).argmin(dim=1)
                      for s in range(0, len(x), CHUNK)])


def fit_linear(train_x: torch.Tensor, train_y: torch.Tensor) -> torch.Tensor:
    """Least-squares weights [P + 1, C*H*W] from the normal equations, accumulated in float64 so
    the full [N, C*H*W] target never needs a second copy; a tiny ridge keeps a constant column
    (a parameter fixed in a user's file) solvable."""
    p = train_x.shape[1] + 1
    xtx = torch.zeros(p, p, dtype=torch.float64)
    xty = torch.zeros(p, train_y[0].numel(), dtype=torch.float64)
    for s in range(0, len(train_x), CHUNK):
        xa = _with_intercept(train_x[s:s + CHUNK])
        xtx += xa.T @ xa
        xty += xa.T @ train_y[s:s + CHUNK].flatten(1).double()
    return torch.linalg.solve(xtx + 1e-8 * torch.eye(p, dtype=torch.float64), xty).float()


def predict_linear(weights: torch.Tensor, x: torch.Tensor, shape: tuple[int, int, int]) -> torch.Tensor:
    """Linear-baseline fields [n, C, H, W] for standardised parameters `x`."""
    return (_with_intercept(x).float() @ weights).view(len(x), *shape)


def _with_intercept(x: torch.Tensor) -> torch.Tensor:
    return torch.cat([x.double(), torch.ones(len(x), 1, dtype=torch.float64)], dim=1)


def linear_weights(data: Any) -> torch.Tensor:
    """Least-squares map from standardised parameters to fields, fitted once on the training planets
    (the linear baseline, and the starting point of the surrogate's linear trend)."""
    if "linear_weights" not in data.memo:
        train = data.splits["train"]
        data.memo["linear_weights"] = fit_linear(train.x, train.y)
    return data.memo["linear_weights"]
