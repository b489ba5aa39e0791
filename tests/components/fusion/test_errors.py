"""Bad inputs fail early with one line that names the field or file."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from astrobio.components.fusion.config import FusionConfig
from astrobio.components.fusion.data import build_data
from astrobio.errors import UsageError
from tests.components.fusion.helpers import fake_artifacts, make_cfg


def test_input_folder_without_weights(tmp_path, cache):
    arts = fake_artifacts(tmp_path / "arts")
    folder = tmp_path / "half"
    folder.mkdir()
    (folder / "config.yaml").write_text("{}\n")
    with pytest.raises(UsageError, match=r"components\.fusion\.inputs\.datacube: .*half has no model\.safetensors"):
        build_data(make_cfg(inputs={**arts, "datacube": str(folder)}), 0, 1, cache)
    with pytest.raises(UsageError, match=r"inputs\.spectra: .*nowhere is not a folder"):
        build_data(make_cfg(inputs={"spectra": str(tmp_path / "nowhere")}), 0, 1, cache)


def test_unreadable_or_mismatched_weights(tmp_path, cache):
    arts = fake_artifacts(tmp_path)
    (tmp_path / "causal" / "model.safetensors").write_bytes(b"not safetensors")
    with pytest.raises(UsageError, match=r"inputs\.causal: .*not a readable safetensors file"):
        build_data(make_cfg(inputs={"causal": arts["causal"]}), 0, 1, cache)
    (tmp_path / "graph_vae" / "config.yaml").write_text("model: {hidden_dim: 9, latent_dim: 4}\n")
    with pytest.raises(UsageError, match=r"inputs\.graph_vae: the weights do not fit"):
        build_data(make_cfg(inputs={"graph_vae": arts["graph_vae"]}), 0, 1, cache)
    (tmp_path / "datacube" / "model_card.json").write_text('{"data": {}}')
    with pytest.raises(UsageError, match=r"inputs\.datacube: .*channel_mean"):
        build_data(make_cfg(inputs={"datacube": arts["datacube"]}), 0, 1, cache)


@pytest.mark.parametrize("data, message", [
    ({"planet_ranges": {"radius": [-1.0, 1.0]}}, "negative, which is physically impossible"),
    ({"planet_ranges": {"gravity": [5.0, 40.0]}}, "outside clero's valid range"),
    ({"planet_ranges": {"F_star": [500.0, 900.0]}}, "follow the planetary SCM"),
    ({"flux_ref_w_m2": 5000.0}, "outside clero's F_star range"),
    ({"log_metallicity": [-2.0, 1.0]}, "outside the lazuli-exo grid"),
    ({"c_to_o": [0.8, 0.5]}, "low < high"),
    ({"climate_fields": ["temperature"]}, "unknown climate field"),
])
def test_impossible_parameters_are_config_errors(data, message):
    with pytest.raises(ValidationError, match=message):
        FusionConfig.model_validate({"data": data})


def test_unknown_upstream_and_wavelength_outside_the_grid(cache):
    with pytest.raises(ValidationError, match="unknown upstream 'llm'"):
        FusionConfig.model_validate({"inputs": {"llm": "/tmp"}})
    with pytest.raises(UsageError, match=r"components\.fusion\.data\.wavelength_um: \[0\.2, 1\.7\] lies outside"):
        build_data(make_cfg(data={"wavelength_um": [0.2, 1.7]}), 0, 1, cache)
