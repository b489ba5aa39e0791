"""Shared fixtures: one small clero dataset per session (clero costs ~10 ms a planet)."""

from __future__ import annotations

from pathlib import Path

import pytest

from astrobio.components.datacube.data import DatacubeData, build_data
from tests.components.datacube.helpers import make_cfg


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("datacube-cache")


@pytest.fixture(scope="session")
def small_data(cache_dir: Path) -> DatacubeData:
    """48 clero planets, two channels, built once and cached in `cache_dir`."""
    return build_data(make_cfg(), 0, 1, cache_dir)
