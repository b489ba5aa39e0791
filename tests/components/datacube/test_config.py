"""datacube config: defaults, channel naming, and refusal of impossible or out-of-domain planets."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from astrobio.components.datacube.config import (
    DEFAULT_RANGES, PARAM_NAMES, VALID_DOMAIN, DatacubeConfig, DatacubeModelConfig,
)


def test_defaults_validate_and_name_channels():
    cfg = DatacubeConfig()
    assert cfg.data.channels() == ["surface_temperature", "olr", "asr"]
    cfg = DatacubeConfig.model_validate({"data": {"fields": ["surface_temperature", "u"], "levels": [0, 9]}})
    assert cfg.data.channels() == ["surface_temperature", "u_0", "u_9"]
    assert list(cfg.data.sampling_ranges()) == list(PARAM_NAMES)


def test_domain_copy_matches_installed_clero():
    """config.py copies clero's domain so that it never imports clero; the copy must not drift."""
    import clero

    assert list(clero.EXTENDED_DOMAIN) and {k: tuple(v) for k, v in clero.EXTENDED_DOMAIN.items()} == VALID_DOMAIN
    assert clero.Emulator()._bundle.input_names == list(PARAM_NAMES)
    for name, (low, high) in DEFAULT_RANGES.items():
        core = clero.CORE_DOMAIN[name]
        assert core[0] <= low < high <= core[1], name


@pytest.mark.parametrize(("ranges", "needle"), [
    ({"F_star": (-100.0, 900.0)}, "F_star=-100 W/m^2 is negative"),
    ({"radius": (-1.0, 1.0)}, "radius=-1 Earth radii is negative"),
    ({"radius": (0.5, 5.0)}, "radius=5 Earth radii is outside clero's valid range"),
    ({"T_star": (1000.0, 3000.0)}, "T_star=1000 K is outside"),
    ({"CO2": (0.0, 0.1)}, "CO2: sampled log-uniformly"),
    ({"P0": (3.0, 1.0)}, "P0: low 3 is above high 1"),
    ({"albedo": (0.1, 0.2)}, "unknown planet parameter 'albedo'"),
])
def test_impossible_ranges_name_the_parameter(ranges, needle):
    with pytest.raises(ValidationError, match=re.escape(needle)):
        DatacubeConfig.model_validate({"data": {"ranges": ranges}})


@pytest.mark.parametrize(("data", "needle"), [
    ({"fields": ["precipitation"]}, "unknown field 'precipitation'"),
    ({"fields": ["u"], "levels": []}, "levels` is empty"),
    ({"levels": [10]}, "levels must be distinct integers in 0..9"),
    ({"val_frac": 0.45, "test_frac": 0.4}, "too few training planets"),
    ({"ranges": {"CO2": (0.5, 1.0), "CH4": (0.01, 0.05)}}, "CO2 + CH4 can reach"),
    ({"n_sample": 10}, "n_sample"),
])
def test_bad_data_settings(data, needle):
    with pytest.raises(ValidationError, match=re.escape(needle)):
        DatacubeConfig.model_validate({"data": data})


def test_heads_must_divide_embed_dim():
    with pytest.raises(ValidationError, match="embed_dim=30 is not divisible by heads=4"):
        DatacubeModelConfig(embed_dim=30, heads=4)
