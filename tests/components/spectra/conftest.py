"""Shared helpers: a tiny config (a few dozen spectra, a small UNet) so each test takes seconds."""

from __future__ import annotations

import os
from typing import Any

import pytest

os.environ.setdefault("HF_HUB_OFFLINE", "1")  # diffusers must never reach for the network

from astrobio.components.spectra.config import SpectraConfig  # noqa: E402


def merge(base: dict[str, Any], over: dict[str, Any]) -> dict[str, Any]:
    out = dict(base)
    for key, value in over.items():
        out[key] = merge(out[key], value) if isinstance(value, dict) and isinstance(out.get(key), dict) else value
    return out


TINY: dict[str, Any] = {
    "data": {"n_train": 64, "n_val": 6, "n_test": 6, "bins": 32, "batch_size": 16},
    "model": {"block_out_channels": [16, 32], "cond_channels": 4, "cond_hidden": 32, "num_train_timesteps": 100},
    "eval": {"steps": 5, "samples_per_point": 2, "max_points": 4},
}


def tiny_cfg(**over: Any) -> SpectraConfig:
    return SpectraConfig.model_validate(merge(TINY, over))


@pytest.fixture()
def cfg() -> SpectraConfig:
    return tiny_cfg()
