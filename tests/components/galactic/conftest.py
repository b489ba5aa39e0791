"""Shared fixtures: the fusion tests' planet cache, one small galactic data set."""

from __future__ import annotations

from pathlib import Path

import pytest

from astrobio.components.galactic.data import GalacticData, build_data
from tests.components.fusion.helpers import planet_cache
from tests.components.galactic.helpers import make_cfg


@pytest.fixture(scope="session")
def cache(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return planet_cache(tmp_path_factory)


@pytest.fixture(scope="session")
def gdata(cache: Path) -> GalacticData:
    return build_data(make_cfg(), 0, 1, cache)
