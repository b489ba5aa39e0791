"""Paths and configs shared by the pipeline tests."""

from __future__ import annotations

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
DEFAULT_CONFIG = ROOT / "configs" / "default.yaml"
FAKE_TRAIN = Path(__file__).with_name("fake_train.py")

GPU_OVERRIDES = [
    "kube.gpu.node_selector={nvidia.com/gpu.product: NVIDIA-A100-SXM4-80GB}",
    "kube.gpu.per_node=2",
    "kube.storage_secret=my-minio-creds",
    "store.uri=s3://astrobio-bucket/team",
]
"""A non-default GPU profile, secret and s3 store, to see each one reach the compiled YAML."""


def fake_train_command() -> str:
    """ASTROBIO_TRAIN_COMMAND value that runs the stub with this interpreter."""
    return f"{sys.executable} {FAKE_TRAIN}"
