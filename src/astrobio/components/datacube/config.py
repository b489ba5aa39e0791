"""Config of the `datacube` component: which planets, which climate fields, which surrogate.

Imports only pydantic (and the shared config sections) so that validating a config never pays for
torch or clero. clero's input domain is copied here for the same reason; a test checks that the copy
still matches the installed clero.
"""

from __future__ import annotations

import math
from typing import Literal

from pydantic import Field, field_validator, model_validator

from astrobio.sections import ComponentConfig, Strict

# clero's planet inputs, in the order of its manifest (and of the columns of a user's `params`).
PARAM_NAMES: tuple[str, ...] = ("T_star", "F_star", "radius", "gravity", "P_rot", "P0", "CO2", "CH4")
PARAM_UNITS: dict[str, str] = {
    "T_star": "K", "F_star": "W/m^2", "radius": "Earth radii", "gravity": "m/s^2",
    "P_rot": "days", "P0": "bar", "CO2": "volume fraction", "CH4": "volume fraction",
}
# clero.inputs.EXTENDED_DOMAIN: the full extent of its GCM training set. Outside it the emulator
# extrapolates, so a range or a user's planet beyond it is refused rather than silently trusted.
VALID_DOMAIN: dict[str, tuple[float, float]] = {
    "T_star": (2500.0, 5800.0), "F_star": (400.0, 3100.0), "radius": (0.26, 2.76),
    "gravity": (4.7, 20.0), "P_rot": (0.25, 220.0), "P0": (0.1, 12.0), "CO2": (0.0, 1.0), "CH4": (0.0, 0.05),
}
# Sampled log-uniformly: they span decades and the climate responds to their logarithm.
LOG_PARAMS: frozenset[str] = frozenset({"P_rot", "P0", "CO2", "CH4"})
# Default sampling box: clero's CORE_DOMAIN (densest training simulations), with the trace gases
# given positive lower bounds so they can be sampled in log space.
DEFAULT_RANGES: dict[str, tuple[float, float]] = {
    "T_star": (2500.0, 5800.0), "F_star": (500.0, 1500.0), "radius": (0.7, 1.75), "gravity": (6.0, 17.0),
    "P_rot": (1.0, 200.0), "P0": (0.5, 5.0), "CO2": (1e-6, 0.1), "CH4": (1e-8, 0.01),
}
FIELDS_2D: tuple[str, ...] = ("surface_temperature", "asr", "olr")
FIELDS_3D: tuple[str, ...] = ("temperature", "specific_humidity", "cloud_fraction", "u", "v")
NUM_LEVELS = 10
GCMS: tuple[str, ...] = ("um", "exocam", "exocam-pre2022", "exoplasim", "lfric")


def check_planet(name: str, low: float, high: float) -> None:
    """Raise ValueError naming `name` unless [low, high] is physically possible and inside clero's
    domain; shared by config validation and by `data.py` for a user's own planets."""
    if name not in VALID_DOMAIN:
        raise ValueError(f"unknown planet parameter '{name}'; expected one of {', '.join(PARAM_NAMES)}")
    unit = PARAM_UNITS[name]
    if not (math.isfinite(low) and math.isfinite(high)):
        raise ValueError(f"{name}: values must be finite")
    if low < 0:
        raise ValueError(f"{name}={low:g} {unit} is negative, which is physically impossible")
    lo, hi = VALID_DOMAIN[name]
    if low < lo or high > hi:
        shown = f"{low:g}" if low < lo else f"{high:g}"
        raise ValueError(f"{name}={shown} {unit} is outside clero's valid range [{lo:g}, {hi:g}] {unit}")


def channel_names(fields: list[str], levels: list[int]) -> list[str]:
    """clero output names of the target cube: 2-D fields as they are, 3-D fields once per level."""
    out: list[str] = []
    for f in fields:
        out.extend([f] if f in FIELDS_2D else [f"{f}_{k}" for k in levels])
    return out


class DatacubeDataConfig(Strict):
    """Where planets and climates come from, what the target cube holds, and how it is split."""

    path: str | None = Field(
        None, description="your own .npz with `params` [N, 8] (columns T_star, F_star, radius, gravity, "
                          "P_rot, P0, CO2, CH4) and `fields` [N, C, H, W]; None = generate with clero",
    )
    n_samples: int = Field(2000, ge=16, le=1_000_000, description="planets generated with clero")
    fields: list[str] = Field(
        default_factory=lambda: ["surface_temperature", "olr", "asr"], min_length=1, max_length=8,
        description=f"clero fields: 2-D {', '.join(FIELDS_2D)}; 3-D {', '.join(FIELDS_3D)} (taken at `levels`)",
    )
    levels: list[int] = Field(default_factory=lambda: [0, 5, 9], max_length=NUM_LEVELS,
                              description="model levels taken from each 3-D field: relative isobars from "
                                          "0 (lowest, 0.925 P0) to 9 (top, ~10 mbar)")
    ranges: dict[str, tuple[float, float]] = Field(
        default_factory=dict,
        description="sampling range per planet parameter, overriding the defaults (clero's core domain); "
                    "P_rot, P0, CO2 and CH4 are sampled log-uniformly",
    )
    gcm: Literal["um", "exocam", "exocam-pre2022", "exoplasim", "lfric"] = Field(
        "um", description="which GCM's climate clero emulates")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="seeds the sampled planets")
    generator_device: Literal["cpu", "cuda", "auto"] = Field(
        "cpu", description="where clero runs while generating; auto = cuda when available. GPU float32 "
                           "results differ from CPU in the 4th digit, so the device is part of the cache key")
    val_frac: float = Field(0.1, gt=0, lt=0.5)
    test_frac: float = Field(0.1, gt=0, lt=0.5)
    split_seed: int = Field(0, ge=0, le=2**31 - 1, description="seeds the split and the batch order")
    batch_size: int = Field(32, ge=1, le=65_536)

    @field_validator("fields")
    @classmethod
    def _known_fields(cls, fields: list[str]) -> list[str]:
        for f in fields:
            if f not in FIELDS_2D + FIELDS_3D:
                raise ValueError(f"unknown field '{f}'; expected one of {', '.join(FIELDS_2D + FIELDS_3D)}")
        if len(set(fields)) != len(fields):
            raise ValueError("the same field is listed twice")
        return fields

    @field_validator("levels")
    @classmethod
    def _known_levels(cls, levels: list[int]) -> list[int]:
        if any(not 0 <= k < NUM_LEVELS for k in levels) or len(set(levels)) != len(levels):
            raise ValueError(f"levels must be distinct integers in 0..{NUM_LEVELS - 1}, got {levels}")
        return levels

    @field_validator("ranges")
    @classmethod
    def _physical_ranges(cls, ranges: dict[str, tuple[float, float]]) -> dict[str, tuple[float, float]]:
        for name, (low, high) in ranges.items():
            check_planet(name, low, high)
            if low > high:
                raise ValueError(f"{name}: low {low:g} is above high {high:g}")
            if name in LOG_PARAMS and low <= 0:
                raise ValueError(f"{name}: sampled log-uniformly, so its low end must be > 0 (got {low:g})")
        return ranges

    @model_validator(mode="after")
    def _consistent(self) -> DatacubeDataConfig:
        if self.val_frac + self.test_frac >= 0.8:
            raise ValueError(f"val_frac + test_frac = {self.val_frac + self.test_frac:g} leaves too few training planets")
        if any(f in FIELDS_3D for f in self.fields) and not self.levels:
            raise ValueError("a 3-D field is selected but `levels` is empty")
        co2, ch4 = self.sampling_ranges()["CO2"][1], self.sampling_ranges()["CH4"][1]
        if co2 + ch4 > 1:
            raise ValueError(f"CO2 + CH4 can reach {co2 + ch4:g} > 1 (volume fractions); lower ranges.CO2")
        return self

    def sampling_ranges(self) -> dict[str, tuple[float, float]]:
        """The defaults with the user's overrides, in clero's parameter order."""
        return {name: tuple(self.ranges.get(name, DEFAULT_RANGES[name])) for name in PARAM_NAMES}  # type: ignore[misc]

    def channels(self) -> list[str]:
        """Names of the generated cube's channels."""
        return channel_names(self.fields, self.levels)


class DatacubeModelConfig(Strict):
    """The CNN-ViT hybrid: MLP -> coarse grid -> conv stem -> transformer over patches -> conv decoder."""

    hidden: int = Field(256, ge=8, le=8192, description="width of the parameter MLP")
    latent_channels: int = Field(64, ge=4, le=2048, description="channels of the coarse latent grid")
    upsample_steps: int = Field(2, ge=0, le=5, description="coarse grid = full grid / 2**upsample_steps")
    patch: int = Field(1, ge=1, le=8, description="patch size (in coarse cells) of the transformer tokens")
    embed_dim: int = Field(128, ge=8, le=4096)
    depth: int = Field(2, ge=1, le=48, description="transformer encoder blocks")
    heads: int = Field(4, ge=1, le=64)
    mlp_ratio: float = Field(2.0, gt=0, le=16)
    dropout: float = Field(0.0, ge=0, lt=1)
    linear_trend: bool = Field(True, description="add a linear map params -> every cell, initialised with the "
                                                 "least-squares fit on the training planets, so the network learns "
                                                 "the residual (clero itself carries such a trend)")

    @model_validator(mode="after")
    def _heads_divide(self) -> DatacubeModelConfig:
        if self.embed_dim % self.heads:
            raise ValueError(f"embed_dim={self.embed_dim} is not divisible by heads={self.heads}")
        return self


class DatacubeConfig(ComponentConfig):
    """`components.datacube`: a CNN-ViT surrogate of clero's climate fields from planet parameters."""

    data: DatacubeDataConfig = DatacubeDataConfig()
    model: DatacubeModelConfig = DatacubeModelConfig()
