"""datacube data: clero generation, caching, splits, normalisation, rank sharding, user files."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
import torch

from astrobio.components.datacube.config import PARAM_NAMES
from astrobio.components.datacube.data import DatacubeData, build_data
from astrobio.components.datacube.generate import generate, generator_device, sample_planets
from astrobio.errors import UsageError
from tests.components.datacube.helpers import make_cfg, write_user_file


def test_shapes_splits_and_normalisation(small_data: DatacubeData):
    assert small_data.grid == (2, 32, 64)
    assert small_data.channels == ["surface_temperature", "olr"]
    sizes = {k: len(v) for k, v in small_data.splits.items()}
    assert sizes == {"train": 38, "val": 5, "test": 5}
    train = small_data.splits["train"]
    assert train.x.shape == (38, len(PARAM_NAMES)) and train.y.dtype == torch.float32
    # training statistics standardise the training split exactly
    assert torch.allclose(train.y.mean(dim=(0, 2, 3)), torch.zeros(2), atol=1e-4)
    assert torch.allclose(train.y.std(dim=(0, 2, 3), correction=0), torch.ones(2), atol=1e-3)
    assert torch.allclose(train.x.mean(0), torch.zeros(len(PARAM_NAMES)), atol=1e-5)
    # physical units come back: surface temperatures of habitable-zone planets, in K
    temps = small_data.denormalise(train.y)[:, 0]
    assert 150 < float(temps.mean()) < 350
    all_params = np.concatenate([s.params for s in small_data.splits.values()])
    assert len(np.unique(all_params[:, 0])) == 48  # the splits are disjoint planets
    assert small_data.describe()["n_train"] == 38


def test_same_seed_same_planets_and_cache_is_reused(small_data: DatacubeData, cache_dir: Path):
    again = build_data(make_cfg(), 0, 1, cache_dir)
    assert small_data.describe()["cache_hit"] is False and again.describe()["cache_hit"] is True
    assert len(list(cache_dir.glob("datacube-clero-*.npz"))) == 1
    for name in ("train", "val", "test"):
        assert torch.equal(small_data.splits[name].y, again.splits[name].y)
    cfg = make_cfg().data
    assert np.array_equal(sample_planets(cfg.sampling_ranges(), 20, 3), sample_planets(cfg.sampling_ranges(), 20, 3))
    assert not np.array_equal(sample_planets(cfg.sampling_ranges(), 20, 3), sample_planets(cfg.sampling_ranges(), 20, 4))


def test_generation_is_deterministic_without_cache_and_in_range():
    cfg = make_cfg({"n_samples": 16, "fields": ["asr"]}).data
    a, b = generate(cfg, None), generate(cfg, None)
    assert np.array_equal(a.params, b.params) and np.array_equal(a.fields, b.fields)
    assert a.fields.shape == (16, 1, 32, 64) and "cache_file" not in a.provenance
    for i, name in enumerate(PARAM_NAMES):
        low, high = cfg.sampling_ranges()[name]
        assert (a.params[:, i] >= low).all() and (a.params[:, i] <= high).all(), name


def test_other_settings_use_another_cache_file(cache_dir: Path):
    build_data(make_cfg({"n_samples": 16, "seed": 9}), 0, 1, cache_dir)
    assert len(list(cache_dir.glob("datacube-clero-*.npz"))) >= 2


def test_batches_deterministic_and_sharded(small_data: DatacubeData):
    def rows(data: DatacubeData, epoch: int) -> list[tuple[float, ...]]:
        return [tuple(r.tolist()) for b in data.batches(epoch) for r in b["params"]]

    assert rows(small_data, 0) == rows(small_data, 0)
    assert rows(small_data, 0) != rows(small_data, 1)
    shards = [DatacubeData(**{**small_data.__dict__, "rank": r, "world_size": 3, "memo": {}}) for r in range(3)]
    parts = [rows(s, 2) for s in shards]
    assert len({len(p) for p in parts}) == 1  # equal work per rank, so DDP ranks stay in step
    flat = [r for p in parts for r in p]
    assert len(set(flat)) == len(flat) == 36  # disjoint; 38 cut to a multiple of 3
    batch = next(iter(small_data.batches(0)))
    assert batch["params"].shape == (8, len(PARAM_NAMES)) and batch["fields"].shape == (8, 2, 32, 64)


def test_user_file_is_used(tmp_path: Path):
    path = write_user_file(tmp_path / "mine.npz", n=40, num_channels=3)
    data = build_data(make_cfg({"path": str(path)}), 0, 1, None)
    assert data.grid == (3, 16, 32) and data.describe()["source"] == "file"
    assert data.channels == ["channel_0", "channel_1", "channel_2"]
    named = write_user_file(tmp_path / "named.npz", n=40, num_channels=2, channels=np.array(["ts", "olr"]))
    assert build_data(make_cfg({"path": str(named)}), 0, 1, None).channels == ["ts", "olr"]
    wrong = write_user_file(tmp_path / "wrong.npz", n=40, num_channels=2, channels=np.array(["ts"]))
    with pytest.raises(UsageError, match="`channels` names 1 channels, `fields` has 2"):
        build_data(make_cfg({"path": str(wrong)}), 0, 1, None)


def _params(**set_values: float) -> np.ndarray:
    p = sample_planets(make_cfg().data.sampling_ranges(), 40, seed=1)
    for name, value in set_values.items():
        p[7, PARAM_NAMES.index(name)] = value
    return p


@pytest.mark.parametrize(("kwargs", "needle"), [
    ({"params": _params(F_star=-50.0)}, re.escape("planet 7: F_star=-50 W/m^2 is negative")),
    ({"params": _params(radius=-0.5)}, "planet 7: radius=-0.5 Earth radii is negative"),
    ({"params": _params(radius=9.0)}, "planet 7: radius=9 Earth radii is outside clero's valid range"),
    ({"params": _params(T_star=20000.0)}, "planet 7: T_star=20000 K is outside"),
    ({"params": _params(P0=float("nan"))}, "planet 7: P0: values must be finite"),
    ({"params": _params(CO2=0.99, CH4=0.04)}, "planet 7: CO2 \\+ CH4"),
    ({"params": _params()[:, :5]}, "`params` has shape \\[40, 5\\], expected \\[N, 8\\]"),
])
def test_bad_user_file_is_a_usage_error_naming_the_file(tmp_path: Path, kwargs, needle):
    path = write_user_file(tmp_path / "bad.npz", **kwargs)
    with pytest.raises(UsageError, match=f"data.path {re.escape(str(path))}: .*{needle}"):
        build_data(make_cfg({"path": str(path)}), 0, 1, None)


def test_missing_or_unreadable_user_file(tmp_path: Path):
    missing = tmp_path / "nope.npz"
    with pytest.raises(UsageError, match=f"data.path {re.escape(str(missing))}: file not found; expected `params` \\[N, 8\\]"):
        build_data(make_cfg({"path": str(missing)}), 0, 1, None)
    junk = tmp_path / "junk.npz"
    junk.write_text("not a zip")
    with pytest.raises(UsageError, match="not a readable .npz"):
        build_data(make_cfg({"path": str(junk)}), 0, 1, None)
    only = tmp_path / "only.npz"
    with open(only, "wb") as fh:
        np.savez(fh, params=_params())
    with pytest.raises(UsageError, match="no array 'fields' \\(has: params\\)"):
        build_data(make_cfg({"path": str(only)}), 0, 1, None)
    flat = tmp_path / "flat.npz"
    with open(flat, "wb") as fh:
        np.savez(fh, params=_params(), fields=np.zeros((40, 32, 64), dtype=np.float32))
    with pytest.raises(UsageError, match=f"data.path {re.escape(str(flat))}: `fields` has shape \\[40, 32, 64\\], expected \\[N=40, C, H, W\\]"):
        build_data(make_cfg({"path": str(flat)}), 0, 1, None)
    short = tmp_path / "rows.npz"
    with open(short, "wb") as fh:
        np.savez(fh, params=_params(), fields=np.zeros((39, 1, 8, 8), dtype=np.float32))
    with pytest.raises(UsageError, match="expected \\[N=40, C, H, W\\]"):
        build_data(make_cfg({"path": str(short)}), 0, 1, None)


@pytest.mark.skipif(torch.cuda.is_available(), reason="checks the CPU-only refusal")
def test_cuda_generation_without_a_gpu_is_a_usage_error():
    with pytest.raises(UsageError, match="data.generator_device: 'cuda' requested"):
        generate(make_cfg({"n_samples": 16, "generator_device": "cuda"}).data, None)
    assert generator_device("auto") == "cpu"  # and so shares the CPU cache key
