"""Spectra data: shapes, determinism, cache reuse, rank sharding, user files and bad input."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from pydantic import ValidationError

from astrobio.components.spectra import grid
from astrobio.components.spectra.config import SpectraConfig
from astrobio.components.spectra.data import build_data
from astrobio.errors import UsageError
from tests.components.spectra.conftest import tiny_cfg


def test_generated_shapes_splits_and_normalisation(cfg, tmp_path):
    data = build_data(cfg, 0, 1, tmp_path)
    assert {s: tuple(data.x[s].shape) for s in ("train", "val", "test")} == {
        "train": (64, 32), "val": (6, 32), "test": (6, 32)}
    assert data.cond["train"].shape == (64, 3) and data.x["train"].dtype == torch.float32
    # per-wavelength mean ~0 and one global std ~1 on the training split
    assert data.x["train"].mean(dim=0).abs().max() < 1e-4
    assert data.x["train"].std(unbiased=False).item() == pytest.approx(1.0, abs=1e-4)
    # depths are physical: (R_p/R_s)^2 for 1.2 R_J around a Sun-sized star is ~1.5 % = 15,000 ppm
    ppm = data.to_ppm(data.x["val"])
    assert 10_000 < float(ppm.mean()) < 25_000
    # held-out points are different draws, and inside the configured ranges
    train_p, val_p = data.raw["train"][0], data.raw["val"][0]
    assert not np.isin(val_p[:, 0], train_p[:, 0]).any()
    assert (val_p[:, 0] >= 300).all() and (val_p[:, 0] <= 3000).all()
    assert data.describe()["sizes"] == {"train": 64, "val": 6, "test": 6}


def test_same_seed_same_data_other_seed_other_data(cfg, tmp_path):
    a = build_data(cfg, 0, 1, None)
    b = build_data(cfg, 0, 1, None)
    c = build_data(tiny_cfg(data={"seed": 1}), 0, 1, None)
    for split in ("train", "val", "test"):
        assert torch.equal(a.x[split], b.x[split]) and torch.equal(a.cond[split], b.cond[split])
    assert not torch.equal(a.x["train"], c.x["train"])


def test_cache_is_reused_and_keyed_by_generator_settings(cfg, tmp_path, monkeypatch):
    first = build_data(cfg, 0, 1, tmp_path)
    assert first.describe()["cache_hit"] is False
    assert len(list(tmp_path.glob("spectra-*.npz"))) == 1

    def refuse(*args, **kwargs):
        raise AssertionError("regenerated although a cached copy exists")

    monkeypatch.setattr(grid, "generate", refuse)
    again = build_data(tiny_cfg(data={"batch_size": 8, "noise_ppm": 0.0}), 0, 1, tmp_path)  # batch size: same key
    assert again.describe()["cache_hit"] is True
    assert torch.equal(first.x["train"], again.x["train"])
    monkeypatch.undo()
    build_data(tiny_cfg(data={"bins": 16}), 0, 1, tmp_path)  # other settings: a second file
    assert len(list(tmp_path.glob("spectra-*.npz"))) == 2


def test_noise_only_on_training_split(cfg):
    clean = build_data(cfg, 0, 1, None)
    noisy = build_data(tiny_cfg(data={"noise_ppm": 50.0}), 0, 1, None)
    assert not np.allclose(clean.raw["train"][1], noisy.raw["train"][1])
    assert np.array_equal(clean.raw["val"][1], noisy.raw["val"][1])
    resid = noisy.raw["train"][1] - clean.raw["train"][1]
    assert resid.std() == pytest.approx(50.0, rel=0.1)


def test_batches_deterministic_per_epoch_and_sharded_by_rank(cfg):
    one = build_data(cfg, 0, 1, None)
    first = [b["x"] for b in one.batches(3)]
    assert all(torch.equal(x, y) for x, y in zip(first, [b["x"] for b in one.batches(3)]))
    assert not torch.equal(first[0], next(iter(one.batches(4)))["x"])
    assert first[0].shape == (16, 1, 32) and sum(len(x) for x in first) == 64
    r0, r1 = build_data(cfg, 0, 2, None), build_data(cfg, 1, 2, None)
    b0, b1 = list(r0.batches(0)), list(r1.batches(0))
    assert len(b0) == len(b1)  # DDP needs the same number of batches on every rank
    rows0 = {tuple(r.tolist()) for b in b0 for r in b["cond"]}
    rows1 = {tuple(r.tolist()) for b in b1 for r in b["cond"]}
    assert not rows0 & rows1 and len(rows0 | rows1) == 64


def _write(path: Path, **arrays: np.ndarray) -> Path:
    np.savez(path, **arrays)
    return path


def _user_params(n: int) -> np.ndarray:
    rng = np.random.default_rng(0)
    return np.stack([rng.uniform(500, 2000, n), rng.uniform(-1, 2, n), rng.uniform(0.3, 1.0, n)], axis=1)


def test_user_file_is_binned_and_split(tmp_path):
    spectra = np.random.default_rng(1).normal(15_000, 100, (40, 100))
    path = _write(tmp_path / "mine.npz", params=_user_params(40), spectra=spectra)
    data = build_data(tiny_cfg(data={"file": str(path), "n_val": 4, "n_test": 4}), 0, 1, None)
    assert data.x["train"].shape == (32, 32) and data.x["val"].shape == (4, 32)
    assert data.describe()["source"] == "file"


def test_missing_user_file_names_file_and_expected_shape(tmp_path):
    missing = tmp_path / "nope.npz"
    with pytest.raises(UsageError, match=r"nope\.npz.*params.*\[N,3\].*spectra.*\[N,L\]"):
        build_data(tiny_cfg(data={"file": str(missing)}), 0, 1, None)


@pytest.mark.parametrize("arrays", [
    {"params": np.zeros((40, 2)) + 1, "spectra": np.zeros((40, 64))},   # 2 parameters, not 3
    {"params": np.ones((40, 3)), "spectra": np.zeros((39, 64))},        # row counts differ
    {"params": np.ones((40, 3)), "spectra": np.zeros(64)},              # 1-D spectra
    {"params": np.ones((40, 3))},                                       # no spectra at all
])
def test_wrong_dims_name_file_and_expected_shape(tmp_path, arrays):
    path = _write(tmp_path / "bad.npz", **arrays)
    with pytest.raises(UsageError, match=r"bad\.npz.*\[N,3\]"):
        build_data(tiny_cfg(data={"file": str(path), "n_val": 4, "n_test": 4}), 0, 1, None)


def test_too_few_wavelengths_for_the_bins(tmp_path):
    path = _write(tmp_path / "short.npz", params=_user_params(40), spectra=np.ones((40, 10)))
    with pytest.raises(UsageError, match=r"short\.npz.*10 wavelengths.*bins=32"):
        build_data(tiny_cfg(data={"file": str(path), "n_val": 4, "n_test": 4}), 0, 1, None)


@pytest.mark.parametrize(("column", "value", "name"), [(0, -100.0, "temperature_k"), (2, 0.0, "c_to_o")])
def test_impossible_parameters_in_user_file(tmp_path, column, value, name):
    params = _user_params(40)
    params[5, column] = value
    path = _write(tmp_path / "p.npz", params=params, spectra=np.ones((40, 64)))
    with pytest.raises(UsageError, match=rf"p\.npz: {name} must be > 0, row 5"):
        build_data(tiny_cfg(data={"file": str(path), "n_val": 4, "n_test": 4}), 0, 1, None)


@pytest.mark.parametrize(("field", "value"), [("temperature_k", [-10, 1000]), ("c_to_o", [0.0, 0.8])])
def test_impossible_ranges_are_config_errors(field, value):
    with pytest.raises(ValidationError, match=rf"{field}[\s\S]*must be > 0"):
        tiny_cfg(data={field: value})


@pytest.mark.parametrize(("field", "value"), [
    ("temperature_k", [200.0, 1000.0]), ("log_metallicity", [-2.0, 1.0]), ("c_to_o", [0.5, 1.5]),
    ("wavelength_um", [0.2, 1.0]),
])
def test_ranges_outside_the_grid_are_usage_errors(field, value):
    with pytest.raises(UsageError, match=rf"components\.spectra\.data\.{field}: .* outside the lazuli-exo grid"):
        build_data(tiny_cfg(data={field: value}), 0, 1, None)


def test_bins_must_fit_the_unet_depth():
    with pytest.raises(ValidationError, match="data.bins=30 must be divisible by 4"):
        SpectraConfig.model_validate({"data": {"bins": 30}, "model": {"block_out_channels": [8, 16, 32]}})
