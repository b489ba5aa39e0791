"""Shared fixtures of the causal tests: configs and a small CSV writer (one torch thread: tests/components/conftest.py)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

from astrobio.components.causal.config import CausalConfig

# Physics tiers of the planetary SCM: star/geology, atmosphere, climate, hydrosphere, biosphere.
TIERS = [["stellar_flux", "albedo", "volcanism"], ["co2"], ["surface_temperature"], ["liquid_water"], ["o2", "ch4"]]


def make_cfg(**over) -> CausalConfig:
    """A CausalConfig from nested overrides, e.g. make_cfg(data={"n_samples": 500})."""
    return CausalConfig.model_validate(over)


def write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    path.write_text("\n".join([",".join(header)] + [",".join(str(v) for v in r) for r in rows]) + "\n")
    return path


def chain_rows(n: int = 200, seed: int = 0) -> list[list[float]]:
    """a -> b -> c, linear Gaussian."""
    rng = np.random.default_rng(seed)
    a = rng.standard_normal(n)
    b = 0.9 * a + 0.5 * rng.standard_normal(n)
    c = -0.8 * b + 0.5 * rng.standard_normal(n)
    return np.stack([a, b, c], axis=1).round(5).tolist()
