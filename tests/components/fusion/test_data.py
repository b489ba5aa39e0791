"""Joint planets and the fusion data: shapes, physics of the labels, determinism, batches."""

from __future__ import annotations

import numpy as np
import torch

from astrobio.components.fusion.config import FusionDataConfig
from astrobio.components.fusion.data import FusionData, build_data
from astrobio.components.fusion.planets import PARAM_NAMES, Layout, generate, sample_joint
from tests.components.fusion.helpers import make_cfg


def test_shapes_splits_and_describe(small_data: FusionData):
    obs, n = small_data.obs, 100
    assert obs["fields"].shape == (n, 2, 32, 64) and obs["fields"].dtype == torch.float32
    assert obs["spectrum"].shape == (n, 32) and obs["mask"].shape == (n, 32)
    assert obs["scm"].shape == (n, 8)
    assert small_data.planets.params.shape == (n, len(PARAM_NAMES))
    assert set(obs["network"].tolist()) <= {0, 1, 2, 3} and set(obs["label"].tolist()) <= {0, 1, 2, 3}
    rows = np.concatenate([small_data.idx[s] for s in ("train", "val", "test")])
    assert sorted(rows.tolist()) == list(range(n))
    assert small_data.stats["network_table"].shape == (4, 6)  # network statistics, no graph_vae artifact
    info = small_data.describe()
    assert info["encoder_kind"] == {m: "trainable" for m in ("climate", "spectrum", "scm", "network")}
    assert info["layout"] == {"channels": ["surface_temperature", "olr"], "bins": 32, "wavelength_um": [0.4, 1.7], "gcm": "um"}
    assert sum(info["class_counts"]) == n and len(info["class_counts"]) == 4


def test_labels_follow_the_physics(small_data: FusionData):
    p, cfg = small_data.planets, small_data.cfg.data
    assert np.array_equal(p.labels // 2, (p.water_fraction >= cfg.water_min_fraction).astype(int))
    assert np.array_equal(p.labels % 2, (p.ch4_snr >= cfg.biosig_snr_min).astype(int))
    assert len(set(p.labels.tolist())) >= 3  # the default ranges give a mixed population
    f_star = p.params[:, PARAM_NAMES.index("F_star")]
    assert np.allclose(f_star, np.clip(cfg.flux_ref_w_m2 * p.scm[:, 0], 400, 3100))  # the SCM sets the flux


def test_sampling_is_a_pure_function_of_the_seed():
    a, b = sample_joint(FusionDataConfig(n_planets=50)), sample_joint(FusionDataConfig(n_planets=50))
    c = sample_joint(FusionDataConfig(n_planets=50, seed=1))
    assert np.array_equal(a[0], b[0]) and np.array_equal(a[1], b[1])
    assert not np.array_equal(a[0], c[0])


def test_generation_is_deterministic_and_cached(tmp_path, cache, small_data: FusionData):
    cfg = FusionDataConfig(n_planets=40, climate_fields=["olr"], spectrum_bins=16)
    layout = Layout(("olr",), 16, (0.4, 1.7))
    fresh, cached = generate(cfg, layout, tmp_path), generate(cfg, layout, None)
    for name in ("params", "scm", "fields", "spectrum", "ch4_snr", "labels", "network"):
        assert np.array_equal(getattr(fresh, name), getattr(cached, name)), name
    assert generate(cfg, layout, tmp_path).provenance["cache_hit"]
    again = build_data(make_cfg(), 0, 1, cache)
    assert again.provenance["cache_hit"] and torch.equal(again.obs["spectrum"], small_data.obs["spectrum"])


def test_batches_are_deterministic_and_sharded(small_data: FusionData):
    first = [b["label"] for b in small_data.batches(0)]
    assert all(torch.equal(x, y) for x, y in zip(first, [b["label"] for b in small_data.batches(0)]))
    assert not all(torch.equal(x, y) for x, y in zip(first, [b["label"] for b in small_data.batches(1)]))
    assert sum(len(x) for x in first) == len(small_data.idx["train"])
    shards = []
    for rank in range(2):
        view = FusionData(**{**small_data.__dict__, "rank": rank, "world_size": 2, "memo": {}})
        shards.append(torch.cat([b["scm"] for b in view.batches(0)]))
    assert len(shards[0]) == len(shards[1]) and not set(map(tuple, shards[0].tolist())) & set(map(tuple, shards[1].tolist()))
