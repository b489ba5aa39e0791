"""Fixtures of the llm tests: one tiny model folder per session, a fresh fake fusion artifact per test."""

from __future__ import annotations

from pathlib import Path

import pytest

from tests.components.llm.helpers import write_fusion, write_tiny_model


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_model(tmp_path_factory.mktemp("tiny_llm"))


@pytest.fixture(scope="session")
def pretrained_tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_model(tmp_path_factory.mktemp("pretrained_tiny_llm"), pretrain_steps=400)


@pytest.fixture(scope="session")
def tiny_chat_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_model(tmp_path_factory.mktemp("tiny_chat_llm"), chat=True)


@pytest.fixture
def fusion_dir(tmp_path: Path) -> Path:
    return write_fusion(tmp_path / "fusion")
