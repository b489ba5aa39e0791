"""Fixtures of the llm tests: one tiny model folder per session, a fresh fake fusion artifact per test."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch

from tests.components.llm.helpers import write_fusion, write_tiny_model


@pytest.fixture(autouse=True)
def one_thread():
    """The tiny model's ops are microseconds of work: with two OpenMP threads on a busy shared
    2-core box each op waits on thread hand-off (measured 10x slower), so the tests pin one thread."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)


@pytest.fixture(scope="session")
def tiny_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_model(tmp_path_factory.mktemp("tiny_llm"))


@pytest.fixture(scope="session")
def tiny_chat_model(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return write_tiny_model(tmp_path_factory.mktemp("tiny_chat_llm"), chat=True)


@pytest.fixture
def fusion_dir(tmp_path: Path) -> Path:
    return write_fusion(tmp_path / "fusion")
