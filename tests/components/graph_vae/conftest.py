"""Shared fixtures: cobra models are read once per session (iJO1366 takes ~2 s)."""

from __future__ import annotations

from pathlib import Path

import pytest

from astrobio.components.graph_vae.data import GraphVAEData, data_from_models
from astrobio.components.graph_vae.sbml import LoadedModel, bundled_path, read_sbml
from tests.components.graph_vae.helpers import make_cfg


@pytest.fixture(scope="session")
def textbook() -> LoadedModel:
    return read_sbml("textbook")


@pytest.fixture(scope="session")
def ijo() -> LoadedModel:
    return read_sbml("iJO1366")


@pytest.fixture(scope="session")
def mini_path() -> Path:
    """cobra's small SBML test model, standing in for a user's own file."""
    return bundled_path("textbook").parent / "mini_cobra.xml"


@pytest.fixture(scope="session")
def mini(mini_path: Path) -> LoadedModel:
    return read_sbml(str(mini_path))


@pytest.fixture()
def ijo_data(ijo: LoadedModel) -> GraphVAEData:
    return data_from_models(make_cfg({"sources": ["iJO1366"]}), [ijo])


@pytest.fixture()
def textbook_data(textbook: LoadedModel) -> GraphVAEData:
    return data_from_models(make_cfg({"sources": ["textbook"]}), [textbook])
