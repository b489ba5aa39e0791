"""Config of the `galactic` component: the observatories, the federated algorithm, the baselines.

Imports only pydantic, the shared config sections and fusion's (pydantic-only) config: the planets
and the network are the fusion component's, so the same settings mean the same thing in both.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, field_validator, model_validator

from astrobio.components.fusion.config import PLANET_PARAMS, FusionDataConfig, FusionModelConfig
from astrobio.sections import DownstreamConfig, Strict

# Instrument wavelength coverage [um] cycled over observatories when `coverage_um` is empty.
DEFAULT_COVERAGE: tuple[tuple[float, float], ...] = ((0.40, 1.70), (0.40, 1.25), (0.80, 1.70), (0.55, 1.45))


class FederatedConfig(Strict):
    """Observatories (clients) and how their models are combined."""

    observatories: int = Field(4, ge=2, le=64, description="simulated clients, each with its own shard and instrument")
    algorithm: Literal["fedavg", "fedprox"] = "fedavg"
    mu: float = Field(0.01, ge=0, le=1e4, description="FedProx proximal weight: + mu/2 ||w_k - w_global||^2 per client")
    local_steps: int = Field(5, ge=1, le=1_000_000, description="local optimizer steps between averaging rounds")
    region_param: str = Field("F_star", description="sky region = a quantile slice of this planet parameter")
    iid_fraction: float = Field(0.1, ge=0, le=1, description="share of planets dealt to a random observatory instead")
    noise_range_ppm: tuple[float, float] = Field((3.0, 30.0), description="instrument noise, geometric from best to worst")
    coverage_um: list[tuple[float, float]] = Field(default_factory=list, max_length=64,
                                                   description="wavelength window per observatory; empty = cycle a default set")
    batch_size: int = Field(64, ge=2, le=65_536, description="planets per local step on each observatory")

    @field_validator("region_param")
    @classmethod
    def _known_param(cls, name: str) -> str:
        if name not in PLANET_PARAMS:
            raise ValueError(f"unknown planet parameter '{name}'; expected one of {', '.join(PLANET_PARAMS)}")
        return name

    @field_validator("noise_range_ppm")
    @classmethod
    def _noise(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not (math.isfinite(value[0]) and math.isfinite(value[1]) and 0 < value[0] <= value[1]):
            raise ValueError(f"needs 0 < low <= high (ppm), got {list(value)}")
        return value

    @field_validator("coverage_um")
    @classmethod
    def _windows(cls, windows: list[tuple[float, float]]) -> list[tuple[float, float]]:
        for k, (lo, hi) in enumerate(windows):
            if not (math.isfinite(lo) and math.isfinite(hi) and 0 < lo < hi):
                raise ValueError(f"window {k}: needs 0 < low < high (um), got {[lo, hi]}")
        return windows

    @model_validator(mode="after")
    def _one_window_each(self) -> FederatedConfig:
        if self.coverage_um and len(self.coverage_um) != self.observatories:
            raise ValueError(f"coverage_um has {len(self.coverage_um)} windows for {self.observatories} observatories")
        return self

    def windows(self) -> list[tuple[float, float]]:
        return list(self.coverage_um) or [DEFAULT_COVERAGE[k % len(DEFAULT_COVERAGE)] for k in range(self.observatories)]


class GalacticEvalConfig(Strict):
    """Local-only and centralised baselines, trained once at the first evaluation (baselines.py)."""

    baselines: bool = Field(True, description="train the local-only and centralised baselines")
    baseline_steps: int | None = Field(None, ge=1, le=100_000_000, description="None = the run's trainer.max_steps")


class GalacticConfig(DownstreamConfig):
    """`components.galactic`. With `inputs.fusion` set, the planets and the network are the fusion
    artifact's (its config.yaml and model card) and training starts from its weights; `data` and
    `model` here apply only when training from scratch."""

    data: FusionDataConfig = FusionDataConfig()
    model: FusionModelConfig = FusionModelConfig()
    federated: FederatedConfig = FederatedConfig()
    eval: GalacticEvalConfig = GalacticEvalConfig()

    @field_validator("inputs")
    @classmethod
    def _known_inputs(cls, inputs: dict[str, str]) -> dict[str, str]:
        for name in inputs:
            if name != "fusion":
                raise ValueError(f"unknown upstream '{name}'; galactic reads only fusion")
        return inputs
