"""Config of the `spectra` component: which spectra, which diffusion model, how it is judged.

Imports only pydantic (and the shared config sections) so that loading or validating a config file
never pays for torch, diffusers or lazuli-exo. Checks that need the physics grid itself (a range
outside the grid) run when the data is built, in `grid.py`, and are usage errors there too.
"""

from __future__ import annotations

from typing import Literal

from pydantic import Field, field_validator, model_validator

from astrobio.sections import ComponentConfig, Strict

# The conditioning parameters, in the order they appear in `params` arrays and user files.
PARAM_NAMES: tuple[str, ...] = ("temperature_k", "log_metallicity", "c_to_o")


class SpectraDataConfig(Strict):
    """Where spectra come from (the lazuli-exo grid, or a user's .npz) and how they are shaped."""

    file: str | None = Field(
        None, description="a user's .npz with `params` [N,3] (T [K], log10 metallicity, C/O) and "
                          "`spectra` [N,L]; None = generate from the lazuli-exo grid",
    )
    n_train: int = Field(2048, ge=8, le=1_000_000, description="generated training spectra")
    n_val: int = Field(32, ge=1, le=100_000, description="held-out parameter points for validation")
    n_test: int = Field(32, ge=1, le=100_000, description="held-out parameter points for test")
    seed: int = Field(0, ge=0, le=2**31 - 1, description="seeds the parameter draws, noise and splits")
    bins: int = Field(64, ge=8, le=4096, description="wavelength bins (log-spaced) after binning")
    wavelength_um: tuple[float, float] = Field((0.40, 1.70), description="binned range, inside 0.35-1.85 um")
    temperature_k: tuple[float, float] = Field((300.0, 3000.0), description="T_eq range, drawn log-uniform")
    log_metallicity: tuple[float, float] = Field((-1.0, 3.0), description="log10 [M/H] range, drawn uniform")
    c_to_o: tuple[float, float] = Field((0.3, 1.0), description="C/O range, drawn uniform")
    planet_radius_rj: float = Field(1.2, gt=0, le=10, description="band-median transit radius [R_Jup]")
    planet_mass_mj: float = Field(0.7, gt=0, le=100, description="planet mass [M_Jup] (sets gravity, scale height)")
    star_radius_rsun: float = Field(1.0, gt=0, le=100, description="stellar radius [R_Sun]")
    noise_ppm: float = Field(0.0, ge=0, le=1e5, description="white Gaussian noise added to TRAINING spectra "
                                                            "(instrument-like; a user file's own units); "
                                                            "val/test stay noiseless")
    batch_size: int = Field(64, ge=1, le=65_536, description="spectra per batch on each rank")

    @field_validator("temperature_k", "c_to_o")
    @classmethod
    def _positive(cls, value: tuple[float, float]) -> tuple[float, float]:
        """Temperature and C/O are physical amounts: a zero or negative one is no planet."""
        if min(value) <= 0:
            raise ValueError(f"must be > 0 (a physical temperature / C/O ratio), got {list(value)}")
        return value

    @field_validator("wavelength_um", "temperature_k", "log_metallicity", "c_to_o")
    @classmethod
    def _ordered(cls, value: tuple[float, float]) -> tuple[float, float]:
        if not value[0] < value[1]:
            raise ValueError(f"needs [low, high] with low < high, got {list(value)}")
        return value


class SpectraModelConfig(Strict):
    """diffusers UNet1DModel with the parameters fed as extra channels, trained as a DDPM."""

    block_out_channels: tuple[int, ...] = Field((32, 64, 128), min_length=2, max_length=6)
    layers_per_block: int = Field(1, ge=1, le=8)
    norm_num_groups: int = Field(8, ge=1, le=64)
    cond_embedding: Literal["profile", "broadcast"] = Field(
        "profile", description="profile: an MLP maps the parameters to `cond_channels` learned curves along "
                               "wavelength; broadcast: to `cond_channels` constants repeated along wavelength",
    )
    cond_channels: int = Field(8, ge=1, le=512, description="input channels the parameter embedding fills")
    cond_hidden: int = Field(128, ge=1, le=4096, description="width of the parameter-embedding MLP")
    position_channel: bool = Field(True, description="feed the (normalised) wavelength as an input channel: "
                                                     "convolutions alone do not know where a band sits")
    num_train_timesteps: int = Field(1000, ge=10, le=10_000, description="DDPM noise levels in training")
    beta_schedule: Literal["linear", "scaled_linear", "squaredcos_cap_v2"] = "squaredcos_cap_v2"
    sample_clip: float | None = Field(
        8.0, gt=0, description="while sampling, clip each predicted clean spectrum to +-this (normalised units; "
                               "the data lie within ~+-6). The cosine schedule's last step has alpha_bar ~ 2e-9, "
                               "so unclipped ancestral DDPM amplifies epsilon errors ~1e4x and diverges; None = off",
    )

    @field_validator("block_out_channels")
    @classmethod
    def _groups_fit(cls, value: tuple[int, ...]) -> tuple[int, ...]:
        if min(value) < 1:
            raise ValueError(f"channels must be >= 1, got {list(value)}")
        return value

    @model_validator(mode="after")
    def _norm_groups_divide(self) -> SpectraModelConfig:
        bad = [c for c in self.block_out_channels if c % self.norm_num_groups]
        if bad:
            raise ValueError(f"norm_num_groups={self.norm_num_groups} must divide every block_out_channels entry (not {bad})")
        return self


class SpectraEvalConfig(Strict):
    """How held-out points are scored: K conditional samples each, a few sampler steps on CPU."""

    sampler: Literal["ddim", "ddpm"] = Field("ddim", description="ddim: `steps` steps; ddpm: every train timestep")
    steps: int = Field(50, ge=1, le=10_000, description="DDIM steps (ignored for ddpm)")
    samples_per_point: int = Field(4, ge=2, le=1024, description="K samples per held-out point (>= 2 for diversity)")
    max_points: int = Field(32, ge=1, le=100_000, description="score at most this many held-out points per split")
    baseline_k: int = Field(8, ge=1, le=1024, description="neighbours of the inverse-distance interpolation baseline")
    seed: int = Field(1234, ge=0, le=2**31 - 1, description="seeds the sampler's own generator (not the global RNG)")


class SpectraConfig(ComponentConfig):
    """`components.spectra`: conditional diffusion over transmission spectra (T, [M/H], C/O)."""

    data: SpectraDataConfig = SpectraDataConfig()
    model: SpectraModelConfig = SpectraModelConfig()
    eval: SpectraEvalConfig = SpectraEvalConfig()

    @model_validator(mode="after")
    def _bins_fit_unet(self) -> SpectraConfig:
        """Each UNet level but the last halves the length; the skips only line up if it divides."""
        factor = 2 ** (len(self.model.block_out_channels) - 1)
        if self.data.bins % factor:
            raise ValueError(f"data.bins={self.data.bins} must be divisible by {factor} "
                             f"(2 ** (len(model.block_out_channels) - 1))")
        return self
