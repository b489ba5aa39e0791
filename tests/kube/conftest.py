"""Shared fixtures of the cluster-side tests: configs at several scales and the upstream schemas."""

from __future__ import annotations

from pathlib import Path

import pytest

from astrobio.config import AstrobioConfig, load_config
from astrobio.kube.validate import default_schema_dir

ROOT = Path(__file__).resolve().parents[2]
DEFAULT = ROOT / "configs" / "default.yaml"
SCHEMAS = default_schema_dir()

VARIANTS: dict[str, list[str]] = {
    "gpu": [],
    "cpu": ["kube.gpu.per_node=0"],
    "elastic": ["kube.elastic.min_replicas=1", "kube.elastic.max_replicas=3"],
    "single-node": ["kube.workers=0"],
    "multi-gpu": ["kube.gpu.per_node=4", "kube.workers=3", "kube.gpu.node_selector.pool=a100",
                  "kube.resources.cpu=32", "kube.istio_sidecar=true"],
}


def variant(name: str, *extra: str) -> AstrobioConfig:
    """configs/default.yaml under one of VARIANTS plus `extra` overrides."""
    return load_config(DEFAULT, [*VARIANTS[name], *extra])
