"""Fixtures shared by every component's tests."""

from __future__ import annotations

from collections.abc import Iterator

import pytest
import torch


@pytest.fixture(autouse=True)
def one_torch_thread() -> Iterator[None]:
    """Component tests train tiny models: on a shared 2-core machine intra-op threads cost more in
    hand-off than they save (measured 5-10x slower with two threads for datacube, causal, llm,
    fusion), so every component test runs on one thread and restores the setting afterwards."""
    before = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(before)
