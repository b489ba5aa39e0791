"""Counterfactuals by abduction, action, prediction (Pearl's three steps) on a learned additive-noise SEM.

Given an observed sample x and the learned mechanisms f (restricted to the read-out DAG):
1. abduction: the sample's noise is u = x - f(x) (exact for additive noise);
2. action: set x_k = value, cutting k off from its parents;
3. prediction: recompute every other variable as f(x') + u. On a DAG, d passes of that update
   reach every descendant along every path, so no topological sort is needed.
"""

from __future__ import annotations

import torch

from astrobio.components.causal.model import NotearsBase


@torch.no_grad()
def counterfactual(model: NotearsBase, factual: torch.Tensor, target: int, value: torch.Tensor,
                   edge_mask: torch.Tensor) -> torch.Tensor:
    """x' under do(x_target = value) for each row of `factual`, sharing each row's own noise."""
    noise = factual - model.predict(factual, edge_mask)
    x = factual.clone()
    x[:, target] = value
    for _ in range(factual.shape[1]):
        x = model.predict(x, edge_mask) + noise
        x[:, target] = value
    return x


def squared_error_off_target(pred: torch.Tensor, truth: torch.Tensor, target: int) -> tuple[float, int]:
    """(sum of squared errors, count) over every column except the intervened one, which is set
    exactly by do() and would only dilute the error."""
    keep = torch.ones(truth.shape[1], dtype=torch.bool)
    keep[target] = False
    err = (pred[:, keep] - truth[:, keep]).double().pow(2)
    return float(err.sum()), err.numel()
