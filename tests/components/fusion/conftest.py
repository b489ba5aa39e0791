"""Shared fixtures: one small planet set per session, one torch thread."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from astrobio.components.fusion.data import FusionData, build_data
from tests.components.fusion.helpers import make_cfg, planet_cache


@pytest.fixture(scope="session")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return planet_cache(tmp_path_factory)


@pytest.fixture(scope="session")
def small_data(cache: Path) -> FusionData:
    return build_data(make_cfg(), 0, 1, cache)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """Tiny models on a shared 2-core machine: extra intra-op threads cost more than they save."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
