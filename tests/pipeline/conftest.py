"""Fixtures for the pipeline tests: configs and one compiled pipeline per session."""

from __future__ import annotations

from typing import Any

import pytest
import yaml

import astrobio.config  # noqa: F401 - first: importing astrobio.config.kube first is a circular import
from astrobio.config import AstrobioConfig, load_config
from tests.pipeline.helpers import DEFAULT_CONFIG, GPU_OVERRIDES


@pytest.fixture(scope="session")
def default_cfg() -> AstrobioConfig:
    return load_config(DEFAULT_CONFIG)


@pytest.fixture(scope="session")
def gpu_cfg() -> AstrobioConfig:
    return load_config(DEFAULT_CONFIG, GPU_OVERRIDES)


@pytest.fixture(scope="session")
def compiled(gpu_cfg: AstrobioConfig, tmp_path_factory: pytest.TempPathFactory) -> dict[str, Any]:
    """`render_pipeline(gpu_cfg)` once per session: the paths and the two YAML documents."""
    from astrobio.pipeline.compile import render_pipeline

    root = tmp_path_factory.mktemp("render")
    paths = render_pipeline(gpu_cfg, root)
    docs = list(yaml.safe_load_all(paths[0].read_text(encoding="utf-8")))
    return {"root": root, "paths": paths, "pipeline": docs[0], "platform": docs[1]}
