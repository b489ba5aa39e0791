"""Shared fixtures: one small planet set per session."""

from __future__ import annotations

from pathlib import Path

import pytest

from astrobio.components.fusion.data import FusionData, build_data
from tests.components.fusion.helpers import make_cfg, planet_cache


@pytest.fixture(scope="session")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return planet_cache(tmp_path_factory)


@pytest.fixture(scope="session")
def small_data(cache: Path) -> FusionData:
    return build_data(make_cfg(), 0, 1, cache)
