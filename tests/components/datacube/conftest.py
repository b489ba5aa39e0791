"""Shared fixtures: one small clero dataset per session (clero costs ~10 ms a planet)."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from astrobio.components.datacube.data import DatacubeData, build_data
from tests.components.datacube.helpers import make_cfg


@pytest.fixture(scope="session")
def cache_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("datacube-cache")


@pytest.fixture(scope="session")
def small_data(cache_dir: Path) -> DatacubeData:
    """48 clero planets, two channels, built once and cached in `cache_dir`."""
    return build_data(make_cfg(), 0, 1, cache_dir)


@pytest.fixture(autouse=True)
def one_torch_thread():
    """These models are tiny: on a shared 2-core machine, intra-op threads cost more in start-up and
    contention than they save (a first step took 3 s with two threads, 0.2 s with one)."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
