"""Config of the `fusion` component: which joint planets, which fusion network, which baselines.

Imports only pydantic, the shared config sections and datacube's (equally pydantic-only) config for
clero's planet domain, so validating a config never pays for torch, clero or lazuli-exo. What needs
the physics tables or an upstream artifact (a wavelength range outside the lazuli grid, an artifact
folder without weights) is checked when the data is built, and is a usage error there too.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, field_validator, model_validator

from astrobio.components.datacube.config import DEFAULT_RANGES, FIELDS_2D, LOG_PARAMS, VALID_DOMAIN, check_planet
from astrobio.sections import DownstreamConfig, Strict

UPSTREAM: tuple[str, ...] = ("graph_vae", "datacube", "spectra", "causal")
MODALITIES: tuple[str, ...] = ("climate", "spectrum", "scm", "network")
# clero inputs sampled directly; F_star, CO2 and CH4 come from the planetary SCM instead.
SAMPLED_CLERO: tuple[str, ...] = ("T_star", "radius", "gravity", "P_rot", "P0")
# columns of a joint planet's `params`: clero's eight inputs, then the SCM's and the atmosphere's
PLANET_PARAMS: tuple[str, ...] = ("T_star", "F_star", "radius", "gravity", "P_rot", "P0", "CO2", "CH4",
                                  "albedo", "volcanism", "log_metallicity", "c_to_o", "log_cloud_top_bar")
BUNDLED_NETWORKS: tuple[str, ...] = ("textbook", "iJO1366", "salmonella")
# lazuli-exo's grid: [M/H] and C/O must stay inside it (it refuses to extrapolate those two).
LAZULI_LOG_MET: tuple[float, float] = (-1.0, 3.0)
LAZULI_C_TO_O: tuple[float, float] = (0.3, 1.0)


def _ordered(name: str, value: tuple[float, float]) -> None:
    if not (math.isfinite(value[0]) and math.isfinite(value[1]) and value[0] < value[1]):
        raise ValueError(f"{name}: needs finite [low, high] with low < high, got {list(value)}")


class FusionDataConfig(Strict):
    """How joint planets are generated: SCM -> clero climate, lazuli spectrum, metabolic network."""

    n_planets: int = Field(4000, ge=40, le=2_000_000, description="joint planet samples generated")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="seeds the planets, the SCM noise and the observation noise")
    planet_ranges: dict[str, tuple[float, float]] = Field(
        default_factory=dict, description=f"sampling range of {', '.join(SAMPLED_CLERO)} (defaults: clero's core "
                                          "domain); P_rot and P0 are log-uniform. F_star, CO2, CH4 come from the SCM")
    flux_ref_w_m2: float = Field(1000.0, gt=0, description="F_star = flux_ref * the SCM's stellar_flux (1 = reference)")
    scm_nonlinear: bool = Field(False, description="the planetary SCM's radiative / sigmoid mechanisms")
    scm_noise_scale: float = Field(1.0, gt=0, le=10, description="multiplies every SCM noise standard deviation")
    climate_fields: list[str] = Field(default_factory=lambda: ["surface_temperature", "olr", "asr"], min_length=1,
                                      max_length=3, description=f"clero 2-D fields of the climate modality: {', '.join(FIELDS_2D)} "
                                                                "(a datacube artifact's channels replace them)")
    gcm: Literal["um", "exocam", "exocam-pre2022", "exoplasim", "lfric"] = "um"
    generator_device: Literal["cpu", "cuda", "auto"] = Field("cpu", description="where clero runs while generating")
    log_metallicity: tuple[float, float] = Field((-1.0, 3.0), description="log10 [M/H] of the atmosphere, uniform")
    c_to_o: tuple[float, float] = Field((0.3, 1.0), description="C/O of the atmosphere, uniform")
    log_cloud_top_bar: tuple[float, float] = Field((-5.0, 1.0), description="log10 grey cloud-deck pressure [bar], uniform")
    spectrum_bins: int = Field(64, ge=8, le=4096, description="log-spaced bins of the spectrum modality (a spectra artifact's replace them)")
    wavelength_um: tuple[float, float] = Field((0.40, 1.70), description="binned range of the spectrum modality")
    spectrum_noise_ppm: float = Field(5.0, ge=0, le=1e5, description="white noise on the observed spectrum (fixed per planet)")
    networks: tuple[str, str] = Field(("textbook", "iJO1366"), description="(lean, rich) bundled metabolic models; "
                                                                           "with O2 reactions kept or removed: 4 archetypes")
    water_min_fraction: float = Field(0.2, gt=0, lt=1, description="'wet' if this area fraction has 273.15 K < T_s < 373.15 K")
    biosig_noise_ppm: float = Field(5.0, gt=0, le=1e5, description="per-bin noise of the reference instrument for the CH4 S/N")
    biosig_snr_min: float = Field(3.0, gt=0, le=1e4, description="'CH4 detectable' if the CH4 band S/N reaches this")
    val_frac: float = Field(0.15, gt=0, lt=0.5)
    test_frac: float = Field(0.15, gt=0, lt=0.5)
    split_seed: int = Field(0, ge=0, le=2**31 - 1, description="seeds the split and the batch order")
    batch_size: int = Field(128, ge=2, le=65_536)

    @field_validator("planet_ranges")
    @classmethod
    def _physical_ranges(cls, ranges: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        for name, (low, high) in ranges.items():
            if name not in SAMPLED_CLERO:
                raise ValueError(f"'{name}' cannot be set here; sampled parameters are {', '.join(SAMPLED_CLERO)} "
                                 "(F_star, CO2 and CH4 follow the planetary SCM)")
            check_planet(name, low, high)
            if low > high:
                raise ValueError(f"{name}: low {low:g} is above high {high:g}")
            if name in LOG_PARAMS and low <= 0:
                raise ValueError(f"{name}: sampled log-uniformly, so its low end must be > 0 (got {low:g})")
        return ranges

    @field_validator("climate_fields")
    @classmethod
    def _known_fields(cls, fields: list[str]) -> list[str]:
        for f in fields:
            if f not in FIELDS_2D:
                raise ValueError(f"unknown climate field '{f}'; expected one of {', '.join(FIELDS_2D)}")
        if len(set(fields)) != len(fields):
            raise ValueError("the same field is listed twice")
        return fields

    @field_validator("networks")
    @classmethod
    def _bundled(cls, networks: tuple[str, str]) -> tuple[str, str]:
        for n in networks:
            if n not in BUNDLED_NETWORKS:
                raise ValueError(f"unknown network '{n}'; expected bundled models {', '.join(BUNDLED_NETWORKS)}")
        return networks

    @model_validator(mode="after")
    def _consistent(self) -> FusionDataConfig:
        for name in ("log_metallicity", "c_to_o", "log_cloud_top_bar", "wavelength_um"):
            _ordered(name, getattr(self, name))
        for name, (glo, ghi) in (("log_metallicity", LAZULI_LOG_MET), ("c_to_o", LAZULI_C_TO_O)):
            lo, hi = getattr(self, name)
            if lo < glo or hi > ghi:
                raise ValueError(f"{name}: [{lo:g}, {hi:g}] lies outside the lazuli-exo grid [{glo:g}, {ghi:g}]")
        flo, fhi = VALID_DOMAIN["F_star"]
        if not flo <= self.flux_ref_w_m2 <= fhi:
            raise ValueError(f"flux_ref_w_m2={self.flux_ref_w_m2:g} W/m^2 is outside clero's F_star range [{flo:g}, {fhi:g}]")
        if self.val_frac + self.test_frac >= 0.8:
            raise ValueError(f"val_frac + test_frac = {self.val_frac + self.test_frac:g} leaves too few training planets")
        return self

    def sampling_ranges(self) -> dict[str, tuple[float, float]]:
        """The sampled clero parameters with the user's overrides."""
        return {n: tuple(self.planet_ranges.get(n, DEFAULT_RANGES[n])) for n in SAMPLED_CLERO}  # type: ignore[misc]


class FusionModelConfig(Strict):
    """Per-modality encoders -> latent_dim each -> concatenation MLP -> planet embedding -> classifier."""

    latent_dim: int = Field(128, ge=4, le=4096, description="planet embedding width (the old Optuna script searched 64-256)")
    hidden: int = Field(256, ge=4, le=16_384, description="width of every MLP")
    cnn_width: int = Field(32, ge=2, le=1024, description="channels of the first climate conv (doubling after)")
    dropout: float = Field(0.1, ge=0, lt=1)
    modality_dropout: float = Field(0.0, ge=0, lt=1, description="training: drop a whole modality's latent per planet")
    frozen_timestep: int = Field(10, ge=0, le=10_000, description="diffusion timestep at which a frozen spectra UNet reads a spectrum")


class FusionEvalConfig(Strict):
    """The single-modality baselines are trained once, at the first evaluation (see baselines.py)."""

    baselines: bool = Field(True, description="train the single-modality baselines (off: only majority class)")
    baseline_steps: int | None = Field(None, ge=1, le=100_000_000, description="None = the run's trainer.max_steps")


class FusionConfig(DownstreamConfig):
    """`components.fusion`: multimodal fusion of the phase-1 encoders into one planet embedding."""

    data: FusionDataConfig = FusionDataConfig()
    model: FusionModelConfig = FusionModelConfig()
    eval: FusionEvalConfig = FusionEvalConfig()

    @field_validator("inputs")
    @classmethod
    def _known_inputs(cls, inputs: dict[str, str]) -> dict[str, str]:
        for name in inputs:
            if name not in UPSTREAM:
                raise ValueError(f"unknown upstream '{name}'; fusion reads {', '.join(UPSTREAM)}")
        return inputs


__all__ = ["FusionConfig", "FusionDataConfig", "FusionEvalConfig", "FusionModelConfig", "MODALITIES"]
