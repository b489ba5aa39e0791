"""Helpers shared by the graph_vae tests."""

from __future__ import annotations

from typing import Any

import torch

from astrobio.components.graph_vae.config import GraphVAEConfig


def make_cfg(data: dict[str, Any] | None = None, model: dict[str, Any] | None = None) -> GraphVAEConfig:
    """A validated config with the given `data` / `model` fields."""
    return GraphVAEConfig.model_validate({"data": data or {}, "model": model or {}})


def pair_set(pairs: torch.Tensor) -> set[tuple[int, int]]:
    """Undirected pairs [2, k] as a set of (min, max) tuples."""
    return {(min(u, v), max(u, v)) for u, v in pairs.t().tolist()}
